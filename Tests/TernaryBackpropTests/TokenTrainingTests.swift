import Foundation
import Testing
import TernaryBackprop
import TernaryCore

/// STE and float on one-hot token inputs (the TernaryCore article Semantics) against the dense path on the
/// same inputs materialised as one-hot bytes.
@Suite("Token inputs in backprop")
struct TokenTrainingTests {
    func data(context: Int, vocabulary: Int, count: Int, seed: UInt64) -> (tokens: QuantizedDataset, dense: QuantizedDataset) {
        var rng = Xoshiro256(seed: seed)
        let stream = (0..<(count + context)).map { _ in UInt16(rng.uniformBelow(vocabulary)) }
        let tokens = QuantizedDataset(windows: TokenWindows(stream: stream, context: context, vocabulary: vocabulary))
        var features = [UInt8]()
        for b in 0..<tokens.count { features += tokens.all.features(of: b) }
        return (tokens, QuantizedDataset(features: features, featureCount: tokens.featureCount, labels: tokens.labels, classCount: vocabulary))
    }

    @Test("an epoch on windows equals an epoch on their one-hot bytes (STE and float), and the STE export is exact",
          arguments: [(BackpropArm.ste, 3, 11, [33]), (.float, 5, 7, [20]), (.ste, 2, 65, [Int]())])
    func equalsDense(arm: BackpropArm, context: Int, vocabulary: Int, hidden: [Int]) {
        let (tokens, dense) = data(context: context, vocabulary: vocabulary, count: 300, seed: UInt64(vocabulary))
        let sizes = [context * vocabulary] + hidden + [vocabulary]
        let configuration = BackpropConfiguration(layerSizes: sizes, arm: arm, learningRate: 0.01, batchSize: 16, seed: 5, threads: 1)
        let a = BackpropTrainer(configuration: configuration, train: tokens, levels: 1)
        let b = BackpropTrainer(configuration: configuration, train: dense, levels: 1)
        for _ in 0..<2 { a.trainEpoch(); b.trainEpoch() }
        var worst: Float = 0
        for (x, y) in zip(a.weights.joined(), b.weights.joined()) { worst = max(worst, abs(x - y)) }
        #expect(worst < 1e-4, "largest weight difference \(worst)")
        #expect(abs(a.score(tokens).loss - b.score(dense).loss) < 1e-4)
        if arm == .ste {
            let quantizer = InputQuantizer(tokens: TokenInput(context: context, symbols: (0..<vocabulary).map { "\(UnicodeScalar(UInt8(40 + $0)))" }))
            let exported = a.exportTernary(quantizer: quantizer)!
            let logits = PopulationEvaluator(layerSizes: sizes, threads: 1).logits(of: [exported], on: tokens.all)[0]
            let predicted = (0..<tokens.count).map { b in
                (0..<vocabulary).max { logits[b * vocabulary + $0] < logits[b * vocabulary + $1] || (logits[b * vocabulary + $0] == logits[b * vocabulary + $1] && $0 > $1) }!
            }
            #expect(predicted == a.predictions(tokens))
            // STE's learned scale as a temperature of the integer logits gives its own loss.
            let bits = TextEvaluation.score(exported, on: tokens, temperature: a.outputTemperature!,
                                            evaluator: PopulationEvaluator(layerSizes: sizes, threads: 1)).bits
            #expect(abs(bits * log(2) - a.score(tokens).loss) < 1e-3, "\(bits * log(2)) vs \(a.score(tokens).loss)")
        }
    }

    @Test("the fitted temperature minimises the loss on its sample")
    func temperature() {
        var rng = Xoshiro256(seed: 8)
        let C = 5, B = 400
        var logits = [Int32](), labels = [Int]()
        for _ in 0..<B {
            let label = rng.uniformBelow(C)
            labels.append(label)
            for c in 0..<C { logits.append(Int32(rng.uniformBelow(20)) + (c == label ? 12 : 0)) }
        }
        let fitted = TextEvaluation.fitTemperature(logits: logits, labels: ArraySlice(labels), classes: C)
        let best = TextEvaluation.nats(logits, labels: ArraySlice(labels), classes: C, temperature: fitted).nats
        for factor in [0.8, 0.95, 1.05, 1.25] {
            #expect(TextEvaluation.nats(logits, labels: ArraySlice(labels), classes: C, temperature: fitted * factor).nats > best)
        }
    }
}
