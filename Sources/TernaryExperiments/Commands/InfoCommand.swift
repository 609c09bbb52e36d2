import Foundation
import TernaryCore

/// `ternevo info MODEL`: what a saved model holds, without the code that trained it.
enum InfoCommand {
    static let spec = CommandSpec(
        name: "info", abstract: "Print what a saved model (.tern) holds.", usage: "ternevo info MODEL",
        details:
            "Shows the layer sizes, activation, input quantiser, weight counts per layer with the\nfraction of zeros, threshold ranges, and the bits per weight on disk."
    ) { arguments, console, _ in
        let path = try ArgumentReader(arguments, command: "info").positionals(expected: "one model file", count: 1...1)[
            0]
        let network: TernaryNetwork
        do {
            network = try TernaryNetwork(contentsOfFile: path)
        } catch let error as ModelFileError {
            throw CommandError.data(error.description)
        }
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        console.out(describe(network, path: path, fileBytes: fileBytes))
    }

    static func describe(_ network: TernaryNetwork, path: String, fileBytes: Int) -> String {
        func percent(_ part: Int, _ whole: Int) -> String {
            String(format: "%.1f%%", whole == 0 ? 0 : 100 * Double(part) / Double(whole))
        }
        let q = network.quantizer
        var lines = [
            "model:       \(path)",
            "format:      TernEvo model version \(network.modelFileFormat), \(grouped(fileBytes)) bytes",
            "layers:      \(network.layerSizes.map(String.init).joined(separator: "-")) (\(network.activation.name) activation)",
            q.tokens.map {
                "input:       one-hot tokens: context \($0.context) x vocabulary \($0.vocabulary) = \(network.inputCount) inputs (vocabulary \(($0.symbols.map { $0.debugDescription.dropFirst().dropLast() }).joined(separator: " ")))"
            }
                ?? (q.isPerFeature
                    ? "input:       \(network.inputCount) features quantised to \(q.bits) bits, each with its own range (lo \(q.low) ... hi \(q.high) overall, Q = \(q.levels))"
                    : "input:       \(network.inputCount) features quantised to \(q.bits) bits (lo \(q.low), hi \(q.high), Q = \(q.levels))"),
            "weights:     \(grouped(network.weightCount)), zeros \(percent(network.zeroWeightCount, network.weightCount))",
            String(
                format: "on disk:     %.3f bits per weight (base-3, 5 trits per byte, plus header and thresholds)",
                8 * Double(fileBytes) / Double(max(1, network.weightCount))),
            String(format: "in memory:   %@ bytes (two bit planes, rows padded to 64)", grouped(network.byteCount)),
        ]
        if let temperature = network.temperature {
            lines.append(
                String(format: "temperature: %.6g (p = softmax(logits / T), fitted on the training split)", temperature)
            )
        }
        for (l, matrix) in network.weights.enumerated() {
            var line =
                "layer \(l + 1):     \(matrix.rowCount) x \(matrix.columnCount): +1 \(percent(matrix.plusCount, matrix.count)), 0 \(percent(matrix.zeroCount, matrix.count)), -1 \(percent(matrix.minusCount, matrix.count))"
            if l < network.thresholds.count, let low = network.thresholds[l].min(),
                let high = network.thresholds[l].max()
            {
                line += ", thresholds \(low) ... \(high)"
                if network.activation.isLevels {
                    line += ", step \(network.steps[l]) (levels 0 ... \(network.activation.maxLevel))"
                }
            } else {
                line += ", output logits"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
