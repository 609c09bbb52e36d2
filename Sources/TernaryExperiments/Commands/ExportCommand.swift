import Foundation
import TernaryCore

/// `ternevo export MODEL --out FILE.safetensors`: a model for Python users.
enum ExportCommand {
    static let spec = CommandSpec(
        name: "export",
        abstract: "Write a .tern model as safetensors (int8 trits, int32 thresholds, the quantiser in the metadata).",
        usage: "ternevo export MODEL --out FILE.safetensors",
        details: """
            Writes the safetensors format (an 8-byte header length, a JSON header, raw little-endian
            tensors) that the Hugging Face and PyTorch ecosystem reads without our code: per layer l,
            layers.l.weight (int8, [outputs, inputs]) and for hidden layers layers.l.threshold
            (int32); the metadata holds the activation, the input quantiser and the forward pass in
            one line. scripts/load_tern.py loads it with numpy, runs the integer forward pass and
            checks its predictions against 'ternevo eval --predictions'.
            """
    ) { arguments, console, _ in
        var reader = ArgumentReader(arguments, command: "export")
        guard let out = try reader.string("--out") else {
            throw CommandError.usage("export needs --out FILE.safetensors; see 'ternevo help export'")
        }
        let modelPath = try reader.positionals(expected: "one model file", count: 1...1)[0]
        let network: TernaryNetwork
        do { network = try TernaryNetwork(contentsOfFile: modelPath) } catch { throw CommandError.data("\(error)") }
        let bytes = network.safetensorsBytes()
        do { try AtomicFile.write(bytes, to: out) } catch {
            throw CommandError(message: "\(out): cannot be written (\(reason(error)))", exitCode: 74)
        }
        console.out("wrote \(out): \(network.weights.count) weight layers, \(bytes.count) bytes")
    }
}
