import Foundation
import TernaryCore

/// `ternevo eval MODEL --data FILE`: accuracy and a confusion matrix of a saved model.
enum EvalCommand {
    static let spec = CommandSpec(
        name: "eval", abstract: "Score a saved model on a dataset: accuracy and confusion matrix.",
        usage: "ternevo eval MODEL --data FILE [--predictions FILE.csv]",
        details: """
            FILE is a CSV file (header, numeric features, 'label' column), a folder holding an IDX
            pair (*images*idx3* and *labels*idx1*), or an IDX images file whose labels file has the
            same name with labels-idx1 for images-idx3. The inputs are quantised with the quantiser
            stored in the model (as in training) and scored by the multiplication-free evaluator on
            all cores. Rows of the confusion matrix are true classes, columns predictions.
            For a text model, FILE is UTF-8 text: bits per character at the model's temperature
            and next-character accuracy over every window of it.

              --predictions FILE   also write 'index,label,predicted' per example (for checks
                                   such as scripts/load_tern.py)
            """
    ) { arguments, console, _ in
        var reader = ArgumentReader(arguments, command: "eval")
        let predictionsPath = try reader.string("--predictions")
        guard let dataPath = try reader.string("--data") else {
            throw CommandError.usage("eval needs --data FILE (a CSV file or an IDX pair); see 'ternevo help eval'")
        }
        let modelPath = try reader.positionals(expected: "one model file", count: 1...1)[0]
        let network: TernaryNetwork
        do { network = try TernaryNetwork(contentsOfFile: modelPath) } catch { throw CommandError.data("\(error)") }
        if let tokens = network.tokens {
            // A text model: bits per character and next-character accuracy on the whole file.
            guard let contents = FileManager.default.contents(atPath: dataPath),
                let text = String(data: contents, encoding: .utf8)
            else {
                throw CommandError.data(
                    "\(dataPath): cannot be read as UTF-8 text (the model \(modelPath) is a text model)")
            }
            let stream = tokens.encode(text)
            let data = QuantizedDataset(
                windows: TokenWindows(stream: stream, context: tokens.context, vocabulary: tokens.vocabulary))
            guard data.count > 0 else {
                throw CommandError.data(
                    "\(dataPath): has \(stream.count) characters; the model needs more than its context of \(tokens.context)"
                )
            }
            let temperature = network.temperature ?? 1
            let score = TextEvaluation.score(
                network, on: data, temperature: temperature,
                evaluator: PopulationEvaluator(layerSizes: network.layerSizes))
            console.out(
                String(
                    format:
                        "%.4f bits per character, next-character accuracy %.2f%% (%d windows) of %@ on %@ at temperature %.4g%@",
                    score.bits, 100 * score.accuracy, data.count, modelPath, dataPath, temperature,
                    network.temperature == nil ? " (none stored; 1 used)" : ""))
            return
        }
        let data: LabeledData
        do { data = try DatasetFile.load(dataPath) } catch { throw CommandError.data("\(error)") }
        guard data.featureCount == network.inputCount else {
            throw CommandError.data(
                "\(dataPath): examples have \(data.featureCount) features; the model \(modelPath) takes \(network.inputCount)"
            )
        }
        guard data.classCount <= network.classCount else {
            throw CommandError.data(
                "\(dataPath): labels go up to \(data.classCount - 1); the model \(modelPath) has \(network.classCount) classes"
            )
        }
        let quantized = data.quantized(with: network.quantizer)
        let logits = PopulationEvaluator(layerSizes: network.layerSizes).logits(of: [network], on: quantized.all)[0]
        let classes = network.classCount
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var correct = 0
        var predictions = ["index,label,predicted"]
        for b in 0..<quantized.count {
            let row = logits[(b * classes)..<((b + 1) * classes)]
            let predicted = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - b * classes
            if predictionsPath != nil { predictions.append("\(b),\(quantized.labels[b]),\(predicted)") }
            confusion[quantized.labels[b]][predicted] += 1
            if predicted == quantized.labels[b] { correct += 1 }
        }
        let width = max(5, String(confusion.flatMap { $0 }.max() ?? 0).count + 1)
        func cell(_ text: String) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = [
            String(
                format: "accuracy %.2f%% (%d of %d) of %@ on %@",
                100 * Double(correct) / Double(max(1, quantized.count)),
                correct, quantized.count, modelPath, dataPath),
            "", "confusion (rows: true class, columns: predicted):",
            cell("") + (0..<classes).map { cell("\($0)") }.joined(),
        ]
        for (label, row) in confusion.enumerated() {
            lines.append(cell("\(label)") + row.map { cell("\($0)") }.joined())
        }
        if let predictionsPath {
            do {
                try AtomicFile.write(Array((predictions.joined(separator: "\n") + "\n").utf8), to: predictionsPath)
            } catch {
                throw CommandError(message: "\(predictionsPath): cannot be written (\(reason(error)))", exitCode: 74)
            }
        }
        console.out(lines.joined(separator: "\n"))
    }
}
