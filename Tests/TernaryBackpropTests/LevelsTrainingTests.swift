import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryBackprop

/// The STE arm with K-bit hidden levels (the TernaryCore article Semantics): its forward pass is
/// the exported integer network's, example by example; its backward pass on a hand-worked
/// example; the start of its steps.
@Suite("STE with K-bit levels")
struct LevelsTrainingTests {
    /// 200 examples, byte inputs (30 features, Q = 255) or token windows (context 4 over 20 symbols).
    func data(tokens: Bool) -> (train: QuantizedDataset, levels: Int, quantizer: InputQuantizer) {
        if tokens {
            let symbols = (0..<20).map { "\(UnicodeScalar(UInt8(65 + $0)))" }
            return (
                tokenData(context: 4, vocabulary: 20, count: 200, seed: 11), 1,
                InputQuantizer(tokens: TokenInput(context: 4, symbols: symbols))
            )
        }
        return (tinyData(count: 200, features: 30, classes: 4, seed: 11), 255, InputQuantizer(low: 0, high: 255))
    }

    @Test(
        "after training, the exported network's integer logits are the STE forward's sums on every example (evaluator and reference)",
        arguments: [false, true], [2, 4, 8])
    func exportExact(tokens: Bool, bits: Int) throws {
        let (train, levels, quantizer) = data(tokens: tokens)
        for hidden in [[24], [24, 16]] {
            let sizes = [train.featureCount] + hidden + [train.classCount]
            let configuration = BackpropConfiguration(
                layerSizes: sizes, arm: .ste, learningRate: 0.01, batchSize: 32, seed: 2,
                threads: 1, activation: .levels(bits: bits))
            let trainer = BackpropTrainer(configuration: configuration, train: train, levels: levels)
            _ = trainer.trainEpoch(until: CountingStop(after: 1).signal)
            let started = (steps: trainer.logSteps, biases: trainer.biases)
            for _ in 0..<3 { trainer.trainEpoch() }
            #expect(trainer.biases != started.biases)
            if !tokens { #expect(trainer.logSteps != started.steps, "the steps learn (\(hidden), K = \(bits))") }
            let network = try #require(trainer.exportTernary(quantizer: quantizer))
            #expect(network.activation == .levels(bits: bits) && network.steps == trainer.levelSteps)
            let logits = PopulationEvaluator(layerSizes: sizes, threads: 1).logits(of: [network], on: train.all)[0]
            let C = train.classCount
            var forward = [Int32]()
            var start = 0
            while start < train.count {
                let indices = start..<min(train.count, start + 32)
                trainer.loadInputs(indices, from: train)
                _ = trainer.forward(B: indices.count, backward: false)
                forward += trainer.work.dots[hidden.count].prefix(indices.count * C).map { Int32(exactly: $0)! }
                start += 32
            }
            #expect(forward == logits, "\(hidden), K = \(bits), tokens: \(tokens)")
            var differ = 0
            for b in 0..<train.count
            where ReferenceNetwork.logits(network, features: train.all.features(of: b)).map(Int32.init)
                != Array(logits[(b * C)..<((b + 1) * C)])
            { differ += 1 }
            #expect(differ == 0, "\(differ) examples differ from the reference")
            let predicted = (0..<train.count).map { b in
                ReferenceNetwork.argmax(logits[(b * C)..<((b + 1) * C)].map(Int.init))
            }
            #expect(trainer.predictions(train) == predicted)
            // The sums spread over the levels: some units at 0, some at the top, some between.
            let h = trainer.work.hiddenLevels[0].prefix(8 * hidden[0])
            #expect(h.contains(0) && h.contains { $0 > 0 && $0 < Float(network.activation.maxLevel) }, "\(Array(h))")
        }
    }

    /// [1, 1, 2] with 2-bit levels on q = 255: W1 = 0.5 (gamma 0.5, Wq 1), so the sum is 255;
    /// b1 = -0.19 gives theta = ceil(255 * 0.19 / 0.5) = 97; W2 = (0.3, -0.6) (gamma 0.45, Wq (1, -1)).
    func handWorked(step: Float) -> BackpropTrainer {
        let data = QuantizedDataset(features: [255], featureCount: 1, labels: [0], classCount: 2)
        let trainer = BackpropTrainer(
            configuration: BackpropConfiguration(
                layerSizes: [1, 1, 2], arm: .ste, batchSize: 1,
                activation: .levels(bits: 2)),
            train: data, levels: 255)
        trainer.weights = [[0.5], [0.3, -0.6]]
        trainer.biases = [[-0.19]]
        trainer.logSteps = [log(step)]
        trainer.loadInputs([0], from: data)
        _ = trainer.forward(B: 1, backward: true)
        return trainer
    }

    /// The output's gradient `g = d loss / d a` of the hand-worked network when the hidden
    /// unit sits at the top level 3 with step `delta`: `a = unit h` with `unit = delta / (Q
    /// sqrt(fan-in 1))`, the output layer's scale `Q / delta`, so `z2 = 0.45 (3, -3) unit`, label 0.
    func outputGradient(step delta: Double) -> (g: Double, unit: Double) {
        let unit = delta / 255, z = 0.45 * 3 * unit
        let p0 = 1 / (1 + exp(-2 * z))
        return (0.45 * (p0 - 1) - 0.45 * (1 - p0), unit)
    }

    @Test("backward on a hand-worked example: straight through inside the range, LSQ's h - u to the step")
    func handWorkedInside() {
        // delta = 50: u = (255 - 97) / 50 = 3.16, inside 0 ..< 4: h = 3 (the top).
        // d z1 = g / (gamma1 sqrt(1)) = 2 g = dW1 (input q / Q = 1) = db1; d logStep = delta unit g (h - u).
        let trainer = handWorked(step: 50)
        let w = trainer.work
        let (g, unit) = outputGradient(step: 50)
        #expect(w.hiddenLevels[0] == [3] && w.dots[1] == [3, -3] && abs(Double(w.activations[1][0]) - 3 * unit) < 1e-7)
        #expect(
            abs(Double(w.biasGradients[0][0]) - 2 * g) < 1e-6 && abs(Double(w.weightGradients[0][0]) - 2 * g) < 1e-6)
        #expect(abs(Double(w.stepGradients[0]) - 50 * unit * g * (3 - 3.16)) < 1e-6)
        let network = trainer.exportTernary(quantizer: InputQuantizer(low: 0, high: 255))!
        #expect(network.thresholds == [[97]] && network.steps == [50] && network.activation == .levels(bits: 2))
        #expect(abs(trainer.outputTemperature! - 255.0 / 50 / 0.45) < 1e-4)
    }

    @Test("a clamped level passes no gradient to the weights or the bias; the step gets LSQ's maxLevel")
    func handWorkedAbove() {
        // delta = 20: u = 7.9, above the range: h = 3; d logStep = delta unit g 3.
        let trainer = handWorked(step: 20)
        let (g, unit) = outputGradient(step: 20)
        #expect(trainer.work.hiddenLevels[0] == [3])
        #expect(trainer.work.weightGradients[0] == [0] && trainer.work.biasGradients[0] == [0])
        #expect(abs(Double(trainer.work.stepGradients[0]) - 20 * unit * g * 3) < 1e-6)
    }

    @Test(
        "the first minibatch sets the steps: about half the values at level 0, every level used", arguments: [2, 4, 8])
    func calibration(bits: Int) {
        let train = tinyData(count: 256, features: 100, classes: 4, seed: 5)
        let configuration = BackpropConfiguration(
            layerSizes: [100, 64, 64, 4], arm: .ste, batchSize: 256, threads: 1,
            activation: .levels(bits: bits))
        let trainer = BackpropTrainer(configuration: configuration, train: train, levels: 255)
        trainer.loadInputs(0..<256, from: train)
        _ = trainer.forward(B: 256, backward: false, calibrate: true)
        let top = Float((1 << bits) - 1)
        for l in 0..<2 {
            let h = trainer.work.hiddenLevels[l]
            let zero = Double(h.filter { $0 == 0 }.count) / Double(h.count),
                high = Double(h.filter { $0 == top }.count) / Double(h.count)
            #expect(zero > 0.4 && zero < 0.6, "layer \(l): \(zero) at level 0")
            #expect(high > 0.01 && high < 0.2, "layer \(l): \(high) at the top level")
            #expect(Set(h).count == Int(top) + 1, "layer \(l): levels used \(Set(h).count)")
        }
    }

    @Test("settings name the activation only when it is not sign")
    func settings() {
        let train = tinyData(count: 10, features: 3, classes: 2, seed: 1)
        func text(_ activation: Activation, _ arm: BackpropArm) -> String {
            BackpropTrainer(
                configuration: BackpropConfiguration(layerSizes: [3, 4, 2], arm: arm, activation: activation),
                train: train, levels: 255
            ).settingsDescription
        }
        #expect(!text(.sign, .ste).contains("activation"))
        #expect(text(.levels(bits: 4), .ste) == text(.sign, .ste) + " activation=relu4")
        #expect(text(.levels(bits: 2), .float).hasSuffix(" activation=relu2"))
    }
}
