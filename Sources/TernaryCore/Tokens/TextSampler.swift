import Foundation

/// Generates text from a token model (<doc:Semantics>): each next symbol is drawn from
/// `softmax(z / (T_model x t))` of the network's integer logits on the last `context` symbols,
/// with a seeded generator, so the same model, prompt, settings and seed give the same text.
public struct TextSampler {
    public let network: TernaryNetwork
    let evaluator: PopulationEvaluator

    public init(network: TernaryNetwork) {
        precondition(network.tokens != nil, "sampling needs a token model")
        self.network = network
        evaluator = PopulationEvaluator(layerSizes: network.layerSizes, threads: 1)
    }

    /// `length` symbols following `prompt`. `temperature` multiplies the model's fitted one
    /// (1: the model's own distribution; 0: always the most likely symbol). A prompt shorter
    /// than the context is padded on the left with newlines (spaces when the vocabulary has no
    /// newline): the start of a line.
    public func generate(prompt: String, length: Int, temperature: Double = 1, seed: UInt64 = 1) -> String {
        let tokens = network.tokens!
        let K = tokens.context, V = tokens.vocabulary
        let pad = tokens.symbols.firstIndex(of: "\n") ?? tokens.symbols.firstIndex(of: " ") ?? 0
        var history = [UInt16](repeating: UInt16(pad), count: K) + tokens.encode(prompt).map { $0 }
        // Prompt characters outside the vocabulary are kept as written in the output.
        var rng = Xoshiro256(seed: seed, stream: StreamPath.sampling)
        let scale = network.temperature ?? 1
        var out = ""
        for _ in 0..<length {
            let window = Array(history.suffix(K))
            let columns = (0..<K).map { Int32($0 * V + Int(window[$0])) }
            let batch = ExampleBatch(tokenColumns: columns, context: K, featureCount: K * V, labels: [0])
            let z = evaluator.logits(of: [network], on: batch)[0]
            var next = 0
            if temperature <= 0 {
                for c in 1..<z.count where z[c] > z[next] { next = c }
            } else {
                let top = z.max()!
                let weights = z.map { exp(Double($0 - top) / (scale * temperature)) }
                var u = rng.uniformDouble() * weights.reduce(0, +)
                next = weights.count - 1
                for (c, w) in weights.enumerated() {
                    if u < w {
                        next = c
                        break
                    }
                    u -= w
                }
            }
            history.append(UInt16(next))
            out += tokens.symbols[next]
        }
        return out
    }
}
