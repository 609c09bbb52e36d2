import Foundation
import TernaryCore

/// `ternevo sample MODEL --prompt TEXT --length N [--temperature T] [--seed S]`: text from a model.
enum SampleCommand {
    static let spec = CommandSpec(
        name: "sample", abstract: "Generate text from a text model (.tern with token inputs).",
        usage: "ternevo sample MODEL [--prompt TEXT] [--length N] [--temperature T] [--seed S]",
        details: """
            Prints the prompt and N generated characters (default 200). Each next character is
            drawn from softmax(logits / (T_model x T)), where T_model is the temperature stored in
            the model (fitted on the training split) and T is --temperature (default 1: the
            model's own distribution; 0: always the most likely character). The same model,
            prompt, settings and --seed (default 1) print the same text. A prompt shorter than the
            model's context is padded on the left with newlines (the start of a line).
            """
    ) { arguments, console, _ in
        var reader = ArgumentReader(arguments, command: "sample")
        let prompt = try reader.string("--prompt") ?? ""
        let length = try reader.integer("--length", in: 0...1_000_000) ?? 200
        let temperature = try reader.number("--temperature", in: 0...100) ?? 1
        let seed = try reader.integer("--seed", in: 0...Int(Int32.max)) ?? 1
        let modelPath = try reader.positionals(expected: "one model file", count: 1...1)[0]
        let network: TernaryNetwork
        do { network = try TernaryNetwork(contentsOfFile: modelPath) } catch { throw CommandError.data("\(error)") }
        guard network.tokens != nil else {
            throw CommandError.data(
                "\(modelPath): is not a text model (its inputs are byte features, not tokens); sample needs a model trained on a 'text' dataset"
            )
        }
        let text = TextSampler(network: network).generate(
            prompt: prompt, length: length, temperature: temperature, seed: UInt64(seed))
        console.out(prompt + text)
    }
}
