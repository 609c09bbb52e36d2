import TernaryCore

/// Float32 networks of one shape evaluated population-batched, as the ternary evaluator is:
/// the in-process float reference of `ternevo bench` (the numpy script is the external one).
/// Per genome and layer one matrix product `[B][I] x [I][O]` through the SIMD float kernels,
/// a bias add and a ReLU in place (cheap activations, as in the numpy reference).
public final class FloatPopulation: Sendable {
    public let layerSizes: [Int]
    let weights: [[[Float]]]
    let biases: [[Float]]

    /// `count` genomes with weights uniform in +-1/sqrt(fanIn), biases zero, from `seed`.
    public init(layerSizes: [Int], count: Int, seed: UInt64) {
        self.layerSizes = layerSizes
        var rng = Xoshiro256(seed: seed)
        weights = (0..<count).map { _ in
            zip(layerSizes.dropFirst(), layerSizes).map { outputs, inputs in
                let bound = 1 / Float(inputs).squareRoot()
                return (0..<(outputs * inputs)).map { _ in Float(rng.uniformDouble() * 2 - 1) * bound }
            }
        }
        biases = layerSizes.dropFirst().map { [Float](repeating: 0, count: $0) }
    }

    /// Logit sums of every genome on `inputs` (`[B][n0]` floats), computed on `threads` workers;
    /// returns one checksum per genome (the sum of its logits) so the work cannot be skipped.
    public func forward(inputs: [Float], batchSize B: Int, threads: Int) -> [Float] {
        precondition(inputs.count == B * layerSizes[0])
        let widest = layerSizes.max()!
        return Parallel.map(count: weights.count, workers: threads) { genome, _ in
            var current = inputs + [Float](repeating: 0, count: B * (widest - layerSizes[0]))
            var next = [Float](repeating: 0, count: B * widest)
            for l in 0..<(layerSizes.count - 1) {
                let I = layerSizes[l], O = layerSizes[l + 1]
                FloatKernels.forward(current, weights[genome][l], into: &next, B: B, I: I, O: O)
                let hidden = l < layerSizes.count - 2
                for k in 0..<(B * O) {
                    let z = next[k] + biases[l][k % O]
                    next[k] = hidden ? max(0, z) : z
                }
                swap(&current, &next)
            }
            return current.prefix(B * layerSizes.last!).reduce(0, +)
        }
    }
}
