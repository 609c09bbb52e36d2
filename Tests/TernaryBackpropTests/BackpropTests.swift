import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryBackprop

/// The shipped digits set, quantised, split 80/20 (stratified, seed 1), read without the
/// experiments module: plain CSV with a header and the label last.
func digits() throws -> (train: QuantizedDataset, test: QuantizedDataset, quantizer: InputQuantizer) {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("experiments/data/digits.csv")
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
    var features = [[Float]](), labels = [Int]()
    for line in lines {
        let values = line.split(separator: ",").map { Float($0)! }
        features.append(Array(values.dropLast()))
        labels.append(Int(values.last!))
    }
    let quantizer = InputQuantizer(fitting: features.flatMap { $0 }, bits: 8)
    let test = labels.indices.filter { $0 % 5 == 0 }, train = labels.indices.filter { $0 % 5 != 0 }
    func make(_ indices: [Int]) -> QuantizedDataset {
        QuantizedDataset(
            features: indices.flatMap { features[$0].map(quantizer.quantize) }, featureCount: 64,
            labels: indices.map { labels[$0] }, classCount: 10)
    }
    return (make(train), make(test), quantizer)
}

func tinyData(count: Int, features: Int, classes: Int, seed: UInt64) -> QuantizedDataset {
    var rng = Xoshiro256(seed: seed)
    let data = randomExamples(count: count, features: features, classes: classes, using: &rng)
    return QuantizedDataset(features: data.features, featureCount: features, labels: data.labels, classCount: classes)
}

/// The [1, 1, 2] STE network of the hand-worked tests after one forward and backward pass on
/// q = 255, label 0: W1 = 0.5, b1 = `bias`, W2 = (0.3, -0.6), log scale 0 (the published
/// recipe's fixed window, sqrt(fanIn) = 1, as the hand-worked values assume).
func tinySTE(bias: Float) -> (BackpropTrainer, Double) {
    let data = QuantizedDataset(features: [255], featureCount: 1, labels: [0], classCount: 2)
    let trainer = BackpropTrainer(
        configuration: BackpropConfiguration(layerSizes: [1, 1, 2], arm: .ste, batchSize: 1, window: .fixed),
        train: data, levels: 255)
    trainer.weights = [[0.5], [0.3, -0.6]]
    trainer.biases = [[bias]]
    trainer.logScale = 0
    trainer.loadInputs([0], from: data)
    return (trainer, trainer.forward(B: 1, backward: true))
}

@Suite("Backprop baselines")
struct BackpropTests {
    @Test(
        "the scaled STE window is scale-free: scaling a hidden layer's weights and biases by c scales its gradient by 1/c; the fixed window's is not"
    )
    func scaleFreeWindow() throws {
        let data = tinyData(count: 40, features: 30, classes: 3, seed: 8)
        /// The first layer's weight gradient and how many of its pre-activations lie in the window.
        func firstLayer(window: STEWindow, scale: Float) -> (gradient: [Float], inWindow: Int) {
            let trainer = BackpropTrainer(
                configuration: BackpropConfiguration(
                    layerSizes: [30, 16, 3], arm: .ste, batchSize: 40, window: window),
                train: data, levels: 255)
            trainer.biases[0] = (0..<16).map { Float($0 % 5) * 0.05 - 0.1 }
            trainer.weights[0] = trainer.weights[0].map { $0 * scale }
            trainer.biases[0] = trainer.biases[0].map { $0 * scale }
            trainer.loadInputs(0..<40, from: data)
            _ = trainer.forward(B: 40, backward: true)
            let width = Float(30).squareRoot() * (window == .scaled ? trainer.work.gamma[0] : 1)
            return (
                trainer.work.weightGradients[0],
                trainer.work.preactivations[0].prefix(40 * 16).filter { abs($0) <= width }.count
            )
        }
        let plain = firstLayer(window: .scaled, scale: 1), grown = firstLayer(window: .scaled, scale: 64)
        #expect(plain.gradient.contains { $0 != 0 } && plain.inWindow == grown.inWindow)
        // Powers of two scale exactly, so the gradients agree to rounding.
        let worst = zip(plain.gradient, grown.gradient).map { abs($0 - 64 * $1) }.max()!,
            size = plain.gradient.map(abs).max()!
        #expect(worst <= 1e-5 * size, "scaled window: \(worst) against \(size)")
        // The published window: latent weights 64x larger push most pre-activations out of it.
        let fixedPlain = firstLayer(window: .fixed, scale: 1), fixedGrown = firstLayer(window: .fixed, scale: 64)
        #expect(fixedPlain.inWindow == 40 * 16)
        #expect(
            fixedGrown.inWindow < fixedPlain.inWindow / 2,
            "\(fixedGrown.inWindow) of \(fixedPlain.inWindow) still in the window")
    }

    @Test("export is exact: the multiplication-free evaluator predicts what the STE forward predicts")
    func exportExact() throws {
        let (train, test, quantizer) = try digits()
        let trainer = BackpropTrainer(
            configuration: BackpropConfiguration(layerSizes: [64, 128, 10], arm: .ste),
            train: train, levels: quantizer.levels)
        for _ in 0..<3 { trainer.trainEpoch() }
        let network = try #require(trainer.exportTernary(quantizer: quantizer))
        let steve = trainer.predictions(test)
        let logits = PopulationEvaluator(layerSizes: [64, 128, 10], threads: 2).logits(of: [network], on: test.all)[0]
        var compared = 0, ties = 0
        for b in 0..<test.count {
            let z = Array(logits[(b * 10)..<((b + 1) * 10)])
            let sorted = z.sorted(by: >)
            if sorted[0] == sorted[1] {
                ties += 1
                continue
            }
            compared += 1
            #expect(z.firstIndex(of: sorted[0])! == steve[b], "example \(b)")
        }
        #expect(compared + ties == test.count)
        #expect(ties < test.count / 10, "\(ties) exact logit ties")
        let accuracy = trainer.score(test).accuracy
        #expect(accuracy > 0.85, "test accuracy after 3 epochs \(accuracy)")
    }

    @Test(
        "float arm gradients match finite differences (tanh units for sign, ReLU for reluK)",
        arguments: [Activation.sign, .levels(bits: 4)])
    func floatGradients(activation: Activation) {
        let data = tinyData(count: 6, features: 5, classes: 3, seed: 1)
        let trainer = BackpropTrainer(
            configuration: BackpropConfiguration(
                layerSizes: [5, 4, 3], arm: .float, batchSize: 6,
                activation: activation),
            train: data, levels: 255)
        // ReLU: biases that keep every pre-activation at least 0.04 from its kink (a step of 1e-2
        // moves it by at most 0.01), every unit alive for some examples, three dead for others.
        trainer.biases[0] = activation == .sign ? [0.1, -0.2, 0.3, 0.05] : [0.4, 0.25, 0.35, 0.25]
        trainer.logScale = 0.3
        let indices = Array(0..<6)
        func loss() -> Double {
            trainer.loadInputs(indices, from: data)
            return trainer.forward(B: 6, backward: false)
        }
        trainer.loadInputs(indices, from: data)
        _ = trainer.forward(B: 6, backward: true)
        let analytic = trainer.work
        var largest = 0.0
        // Central differences in Float: a step of 1e-2 keeps rounding error below 1e-4, and
        // the curvature error is O(step^2); 2e-3 absolute covers both for this tiny network.
        let step: Float = 1e-2
        for l in 0..<2 {
            for k in trainer.weights[l].indices {
                let saved = trainer.weights[l][k]
                trainer.weights[l][k] = saved + step
                let up = loss()
                trainer.weights[l][k] = saved - step
                let down = loss()
                trainer.weights[l][k] = saved
                let numeric = (up - down) / Double(2 * step)
                largest = max(largest, abs(numeric - Double(analytic.weightGradients[l][k])))
            }
        }
        for k in trainer.biases[0].indices {
            let saved = trainer.biases[0][k]
            trainer.biases[0][k] = saved + step
            let up = loss()
            trainer.biases[0][k] = saved - step
            let down = loss()
            trainer.biases[0][k] = saved
            largest = max(largest, abs((up - down) / Double(2 * step) - Double(analytic.biasGradients[0][k])))
        }
        trainer.logScale = 0.3 + step
        let up = loss()
        trainer.logScale = 0.3 - step
        let down = loss()
        trainer.logScale = 0.3
        largest = max(largest, abs((up - down) / Double(2 * step) - Double(analytic.logScaleGradient)))
        #expect(largest < 2e-3, "largest gradient error \(largest)")
    }

    @Test("STE backward on a hand-worked example")
    func steHandWorked() {
        // [1, 1, 2]: one input q = 255 (x = 1), W1 = 0.5 (gamma 0.5, Wq 1), b1 = 0.1, so
        // z1 = 0.6 and h = +1 (theta = ceil(-255 * 0.1 / 0.5) = -51 <= 255); W2 = (0.3, -0.6):
        // gamma 0.45, Wq (1, -1), z2 = (0.45, -0.45), s = 1, label 0.
        // p0 = 1 / (1 + e^-0.9) = 0.7109495, so d logits = (-0.2890505, 0.2890505) = delta2;
        // dW2 = delta2 * h; d logScale = sum(g * s * z) = -0.2601454;
        // da1 = delta2 . (gamma Wq) = -0.2601454; u = 0.6 is inside the window (fan-in 1), so
        // delta1 = dW1 = db1 = -0.2601454.
        let (trainer, loss) = tinySTE(bias: 0.1)
        let w = trainer.work
        #expect(abs(loss - log(1 + exp(-0.9))) < 1e-6)
        #expect(w.activations[1] == [1])
        #expect(abs(w.weightGradients[1][0] + 0.2890505) < 1e-6 && abs(w.weightGradients[1][1] - 0.2890505) < 1e-6)
        #expect(abs(w.logScaleGradient + 0.2601454) < 1e-6)
        #expect(abs(w.weightGradients[0][0] + 0.2601454) < 1e-6)
        #expect(abs(w.biasGradients[0][0] + 0.2601454) < 1e-6)
        let network = trainer.exportTernary(quantizer: InputQuantizer(low: 0, high: 255))!
        #expect(network.thresholds == [[-51]])
        #expect(network.weights[1].trits == [1, -1])
    }

    @Test("the STE window blocks gradients of saturated neurons")
    func steWindow() {
        // Same network with b1 = 3: z1 = 3.5, outside [-1, 1] (fan-in 1), so nothing reaches W1.
        let (trainer, _) = tinySTE(bias: 3)
        #expect(trainer.work.weightGradients[0] == [0])
        #expect(trainer.work.biasGradients[0] == [0])
    }

    @Test("1 thread and 2 threads train identical weights")
    func threadsAgree() {
        // 64 x 300 x 64 multiply-adds per product: above the size where the kernels go parallel.
        let data = tinyData(count: 128, features: 300, classes: 4, seed: 3)
        func run(threads: Int) -> ([[Float]], [[Float]]) {
            let trainer = BackpropTrainer(
                configuration: BackpropConfiguration(layerSizes: [300, 64, 4], arm: .ste, threads: threads),
                train: data, levels: 255)
            for _ in 0..<2 { trainer.trainEpoch() }
            return (trainer.weights, trainer.biases)
        }
        let (oneWeights, oneBiases) = run(threads: 1), (twoWeights, twoBiases) = run(threads: 2)
        #expect(oneWeights == twoWeights)
        #expect(oneBiases == twoBiases)
    }

    @Test("2 epochs, save the state, restore, 2 more equals 4 straight; truncated states are refused")
    func checkpoint() throws {
        let data = tinyData(count: 100, features: 12, classes: 3, seed: 4)
        let configuration = BackpropConfiguration(
            layerSizes: [12, 16, 3], arm: .ste, batchSize: 16, schedule: .cosine, epochs: 4)
        let straight = BackpropTrainer(configuration: configuration, train: data, levels: 255)
        for _ in 0..<4 { straight.trainEpoch() }
        let first = BackpropTrainer(configuration: configuration, train: data, levels: 255)
        for _ in 0..<2 { first.trainEpoch() }
        var writer = BinaryWriter()
        first.encodeState(into: &writer)
        let resumed = BackpropTrainer(configuration: configuration, train: data, levels: 255)
        var reader = BinaryReader(bytes: writer.bytes, path: "state")
        try resumed.restoreState(from: &reader)
        #expect(reader.isAtEnd)
        #expect(resumed.epoch == 2)
        for _ in 0..<2 { resumed.trainEpoch() }
        #expect(
            resumed.weights == straight.weights && resumed.biases == straight.biases
                && resumed.logScale == straight.logScale)
        for cut in stride(from: 0, to: writer.bytes.count, by: 97) {
            var truncated = BinaryReader(bytes: Array(writer.bytes[0..<cut]), path: "state")
            #expect(throws: FileFormatError.self) { try resumed.restoreState(from: &truncated) }
        }
        let wider = BackpropTrainer(
            configuration: BackpropConfiguration(layerSizes: [12, 17, 3], arm: .ste, batchSize: 16),
            train: data, levels: 255)
        var mismatched = BinaryReader(bytes: writer.bytes, path: "state")
        #expect(throws: FileFormatError.self) { try wider.restoreState(from: &mismatched) }
    }

    @Test("a NaN loss stops the session with a message that names the learning rate")
    func nanLoss() {
        let data = tinyData(count: 100, features: 12, classes: 3, seed: 5)
        let trainer = BackpropTrainer(
            configuration: BackpropConfiguration(layerSizes: [12, 16, 3], arm: .float, batchSize: 16),
            train: data, levels: 255)
        let session = BackpropSession(trainer: trainer, quantizer: InputQuantizer(low: 0, high: 255))
        #expect(throws: Never.self) { _ = try session.advance() }
        trainer.weights[0][0] = .nan  // as a diverged run leaves them
        var failure: SessionError?
        do { _ = try session.advance() } catch { failure = error }
        #expect(failure?.problem.contains("lower the learning rate") == true)
    }

    @Test("training is repeatable from the seed")
    func repeatable() {
        let data = tinyData(count: 100, features: 12, classes: 3, seed: 2)
        func run() -> [[Float]] {
            let trainer = BackpropTrainer(
                configuration: BackpropConfiguration(layerSizes: [12, 16, 3], arm: .ste, batchSize: 16),
                train: data, levels: 255)
            for _ in 0..<3 { trainer.trainEpoch() }
            return trainer.weights
        }
        #expect(run() == run())
    }
}
