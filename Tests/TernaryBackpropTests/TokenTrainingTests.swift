import Foundation
import TernaryCore
import Testing

@testable import TernaryBackprop

/// `count` windows of `context` random symbols of `vocabulary` and the symbol after each.
func tokenData(context: Int, vocabulary: Int, count: Int, seed: UInt64) -> QuantizedDataset {
    var rng = Xoshiro256(seed: seed)
    let stream = (0..<(count + context)).map { _ in UInt16(rng.uniformBelow(vocabulary)) }
    return QuantizedDataset(windows: TokenWindows(stream: stream, context: context, vocabulary: vocabulary))
}

/// STE and float on one-hot token inputs (the TernaryCore article Semantics) against the dense path on the
/// same inputs materialised as one-hot bytes.
@Suite("Token inputs in backprop")
struct TokenTrainingTests {
    func data(
        context: Int, vocabulary: Int, count: Int, seed: UInt64
    ) -> (tokens: QuantizedDataset, dense: QuantizedDataset) {
        let tokens = tokenData(context: context, vocabulary: vocabulary, count: count, seed: seed)
        var features = [UInt8]()
        for b in 0..<tokens.count { features += tokens.all.features(of: b) }
        return (
            tokens,
            QuantizedDataset(
                features: features, featureCount: tokens.featureCount, labels: tokens.labels, classCount: vocabulary)
        )
    }

    @Test(
        "an epoch on windows equals an epoch on their one-hot bytes (STE and float), and the STE export is exact",
        arguments: [(BackpropArm.ste, 3, 11, [33]), (.float, 5, 7, [20]), (.ste, 2, 65, [Int]())])
    func equalsDense(arm: BackpropArm, context: Int, vocabulary: Int, hidden: [Int]) {
        let (tokens, dense) = data(context: context, vocabulary: vocabulary, count: 300, seed: UInt64(vocabulary))
        let sizes = [context * vocabulary] + hidden + [vocabulary]
        let configuration = BackpropConfiguration(
            layerSizes: sizes, arm: arm, learningRate: 0.01, batchSize: 16, seed: 5, threads: 1)
        let a = BackpropTrainer(configuration: configuration, train: tokens, levels: 1)
        let b = BackpropTrainer(configuration: configuration, train: dense, levels: 1)
        b.inputFanIn = context  // the one-hot bytes have the windows' active fan-in
        for _ in 0..<2 {
            a.trainEpoch()
            b.trainEpoch()
        }
        var worst: Float = 0
        for (x, y) in zip(a.weights.joined(), b.weights.joined()) { worst = max(worst, abs(x - y)) }
        #expect(worst < 1e-4, "largest weight difference \(worst)")
        #expect(abs(a.score(tokens).loss - b.score(dense).loss) < 1e-4)
        if arm == .ste {
            let quantizer = InputQuantizer(
                tokens: TokenInput(
                    context: context, symbols: (0..<vocabulary).map { "\(UnicodeScalar(UInt8(40 + $0)))" }))
            let exported = a.exportTernary(quantizer: quantizer)!
            let logits = PopulationEvaluator(layerSizes: sizes, threads: 1).logits(of: [exported], on: tokens.all)[0]
            let predicted = (0..<tokens.count).map { b in
                (0..<vocabulary).max {
                    logits[b * vocabulary + $0] < logits[b * vocabulary + $1]
                        || (logits[b * vocabulary + $0] == logits[b * vocabulary + $1] && $0 > $1)
                }!
            }
            #expect(predicted == a.predictions(tokens))
            // STE's learned scale as a temperature of the integer logits gives its own loss.
            let bits = TextEvaluation.score(
                exported, on: tokens, temperature: a.outputTemperature!,
                evaluator: PopulationEvaluator(layerSizes: sizes, threads: 1)
            ).bits
            #expect(abs(bits * log(2) - a.score(tokens).loss) < 1e-3, "\(bits * log(2)) vs \(a.score(tokens).loss)")
        }
    }

    @Test(
        "a token first layer's STE window is measured over its active inputs: sqrt(context), times gamma when scaled",
        arguments: [STEWindow.scaled, .fixed])
    func activeFanInWindow(window: STEWindow) {
        let context = 8, vocabulary = 64, B = 200, H = 32
        let tokens = data(context: context, vocabulary: vocabulary, count: B, seed: 9).tokens
        let configuration = BackpropConfiguration(
            layerSizes: [context * vocabulary, H, vocabulary], arm: .ste, batchSize: B,
            window: window, threads: 1)
        let trainer = BackpropTrainer(configuration: configuration, train: tokens, levels: 1)
        if window == .fixed {
            // gamma near 1, so the integer-valued sums (|sum| <= context) can leave sqrt(context).
            let gamma = trainer.weights[0].map(abs).reduce(0, +) / Float(trainer.weights[0].count)
            trainer.weights[0] = trainer.weights[0].map { $0 / gamma }
        }
        trainer.loadInputs(0..<B, from: tokens)
        _ = trainer.forward(B: B, backward: true)
        let w = trainer.work
        // The window of sqrt(context x V) = 22.6 (times gamma) would hold every sum of 8 trits.
        var width = Float(context).squareRoot()
        if window == .scaled { width *= w.gamma[0] }
        var outside = 0, wrong = 0
        for k in 0..<(B * H) {
            let inside = abs(w.preactivations[0][k] / width) <= 1
            if !inside { outside += 1 }
            if w.deltas[0][k] != (inside ? w.inputGradients[k] / width : 0) { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) of \(B * H) gradients differ from hardtanh's in a window of \(width)")
        #expect(outside > B * H / 10, "\(outside) of \(B * H) pre-activations outside the window")
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
            #expect(
                TextEvaluation.nats(logits, labels: ArraySlice(labels), classes: C, temperature: fitted * factor).nats
                    > best)
        }
    }
}
