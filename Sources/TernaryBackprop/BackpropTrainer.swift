import Foundation
import TernaryCore

/// Which network the backprop baseline trains.
public enum BackpropArm: String, Hashable, Sendable, CaseIterable {
    /// The ternary network of TernaryCore (`Sources/TernaryCore/TernaryCore.docc/Semantics.md`), trained through straight-through estimators.
    case ste
    /// The same shapes in full precision: the float reference, with `tanh` hidden units for a
    /// `sign` network and unquantised ReLU units for a `reluK` one.
    case float
}

/// Learning rate over training.
public enum LearningRateSchedule: String, Hashable, Sendable {
    case constant
    /// `lr * (1 + cos(pi * epoch / epochs)) / 2`, per step.
    case cosine
}

/// The straight-through window of the STE arm's hidden `sign`: gradients pass where the
/// pre-activation `z` lies within `+-window`.
public enum STEWindow: String, Hashable, Sendable {
    /// `sqrt(fanIn)`, the published recipe. Not scale-free: the forward pass depends on the
    /// latent weights only through `W / gamma` and `b / gamma`, but `z` grows with `gamma`, and
    /// Adam at a constant rate lets `gamma` grow without bound, so on long runs every `z`
    /// leaves the window and the hidden layer stops learning.
    case fixed
    /// `gamma * sqrt(fanIn)`: the same window measured in trit units, so the backward pass is
    /// as scale-free as the forward pass.
    case scaled
}

/// Settings of a backprop run.
public struct BackpropConfiguration: Hashable, Sendable {
    public var layerSizes: [Int]
    public var arm: BackpropArm
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    /// Decoupled (AdamW) weight decay per step, times the learning rate.
    public var weightDecay: Double
    public var batchSize: Int
    public var schedule: LearningRateSchedule
    public var window: STEWindow
    /// The hidden activation: `sign`, or K-bit levels (STE: exactly the exported network's; float: ReLU).
    public var activation: Activation
    /// Length of the cosine schedule in epochs.
    public var epochs: Int
    /// Examples per epoch (nil: the whole train split). An epoch then trains on the first
    /// `epochExamples` of its seeded shuffle: a fresh sample each epoch, so a large split (a
    /// text's millions of windows) is logged and checkpointed at a finer grain.
    public var epochExamples: Int? = nil
    public var seed: UInt64
    /// Worker threads for the large matrix products (results do not depend on it).
    public var threads: Int

    public init(
        layerSizes: [Int], arm: BackpropArm, learningRate: Double = 3e-3, beta1: Double = 0.9,
        beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0, batchSize: Int = 64,
        schedule: LearningRateSchedule = .constant, window: STEWindow = .scaled, epochs: Int = 100, seed: UInt64 = 1,
        threads: Int? = nil,
        epochExamples: Int? = nil, activation: Activation = .sign
    ) {
        self.epochExamples = epochExamples
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 >= 1 }, "invalid layer sizes")
        precondition(
            learningRate > 0 && batchSize >= 1 && epochs >= 1, "learning rate, batch and epochs must be positive")
        self.layerSizes = layerSizes
        self.arm = arm
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.batchSize = batchSize
        self.schedule = schedule
        self.window = window
        self.activation = activation
        self.epochs = epochs
        self.seed = seed
        self.threads = max(1, threads ?? Parallel.coreCount)
    }
}

/// Minibatch Adam training of the STE ternary network or its float twin.
///
/// STE arm (<doc:STEBaseline>), per layer `l` with latent float weights `W`:
/// `gamma = mean |W|`, `Wq = clamp(round(W / gamma), -1, 1)`, `z = gamma (Wq . a) + b` (inputs
/// `a = q / Q` for the first layer, +-1 after), hidden `h = sign(z)` (+1 at zero), output
/// logits `s * gamma (Wq . h)` with a learned scale `s = exp(logScale)` and no output bias, so
/// the exported integer network's argmax is the same. Backward: the gradient passes straight
/// through `round` and `clamp` to `W`; through `sign` it is hardtanh's on the normalised
/// pre-activation `u = z / sqrt(fanIn)`: `1 / sqrt(fanIn)` where `|u| <= 1`, else 0 (times
/// `gamma` in both places for the scaled window). A token first layer's fan-in is its active
/// inputs, `context`, not `context x V` (`inputFanIn`).
///
/// Exactness: the hidden sign is decided as the exported network decides it, `Wq . q >= theta`
/// with `theta = ceil(-Q b / gamma)` (first layer) or `ceil(-b / gamma)`, on integer-valued dot
/// products (exact in Float up to 2^24), so float rounding near zero cannot flip a neuron.
///
/// K-bit levels (`activation` `reluK`, `BackpropTrainer+Levels.swift`): hidden
/// `h = clamp(floor((d - theta) / delta), 0, 2^K - 1)` on the integer dots `d`, computed as the
/// exported network computes it, with `theta = ceil(-scale b / gamma)` and an integer step
/// `delta = max(1, round(exp(logStep)))` per layer; the next layer's integer inputs are `h`,
/// its float inputs `a = delta h / (scale sqrt(fanIn))`, the levels in units of the normalised
/// pre-activation `z / (gamma sqrt(fanIn))` (LSQ's `delta h`; `inputScale`). Backward (LSQ):
/// `da/dz = 1 / (gamma sqrt(fanIn))` inside `0 <= u = (d - theta) / delta < 2^K`, else 0; to the
/// step `h - u` inside, `2^K - 1` above, 0 below (times `da / d(delta h)`, and `delta` for the
/// log-step). The steps and biases start from the first minibatch (`calibrateLevels`).
///
/// Float arm: `z = W . a + b`, `h = tanh(z)` (`sign` networks) or `max(0, z)` (`reluK`:
/// unquantised ReLU), logits `s * z_L`, ordinary gradients.
public final class BackpropTrainer {
    public internal(set) var configuration: BackpropConfiguration
    let levels: Float
    let train: QuantizedDataset
    /// Latent weights per layer, `[O][I]` row-major.
    public internal(set) var weights: [[Float]]
    /// Biases of the hidden layers.
    public internal(set) var biases: [[Float]]
    public internal(set) var logScale: Float = 0
    /// STE with K-bit levels: one log-step per hidden layer, the step being
    /// `delta = max(1, round(exp(logStep)))` in units of the layer's integer sums (set from the
    /// first minibatch, then learned). Empty for `sign` and for the float arm.
    public internal(set) var logSteps: [Float]
    /// Completed epochs and optimiser steps.
    public internal(set) var epoch = 0
    public internal(set) var steps = 0
    /// Inside an epoch that was stopped: the position of its next minibatch in the epoch's
    /// order (0 between epochs), and the sum of its minibatches' mean losses times their sizes.
    public internal(set) var epochPosition = 0
    var epochLossSum = 0.0
    /// The first layer's fan-in for the STE window: `context` for token inputs (of the
    /// `context x V` one-hot inputs only `context` are ever nonzero, so a first-layer sum lies in
    /// `-context ... context`), `n0` otherwise. Settable by tests, to train a dense one-hot twin
    /// of a token dataset with the same window.
    var inputFanIn: Int
    var adam: AdamState
    var work: Workspace
    let layout: GradientLayout
    /// The processes of a distributed run: each computes its share of every minibatch's blocks
    /// (`GradientLayout.share`) and one all-reduce sums the gradient totals. Nil alone.
    public var communicator: Communicator?
    /// A collective that failed (the step's loss is then NaN).
    public internal(set) var communicationError: CommunicationError?

    /// A trainer with freshly initialised weights (uniform in +-1/sqrt(fanIn), as PyTorch's
    /// Linear; the absmean quantiser is scale-free, so this suits both arms). `levels` is the
    /// input quantiser's `Q`.
    /// Token inputs (the TernaryCore article Semantics) are taken as one-hot inputs `q / Q` with `Q = 1`: the
    /// first layer is an embedding sum forward and a scatter-add backward (`TokenTrainingKernels`).
    public init(configuration: BackpropConfiguration, train: QuantizedDataset, levels: Int) {
        precondition(train.featureCount == configuration.layerSizes[0], "train features do not match the input layer")
        self.configuration = configuration
        // A batch larger than the train split is the whole split: buffers are sized for what is used.
        self.configuration.batchSize = min(configuration.batchSize, max(1, train.count))
        self.train = train
        self.levels = Float(levels)
        inputFanIn = train.windows?.context ?? configuration.layerSizes[0]
        var rng = Xoshiro256(seed: configuration.seed, stream: StreamPath.backpropInitialWeights)
        let sizes = configuration.layerSizes
        weights = zip(sizes.dropFirst(), sizes).map { outputs, inputs in
            let bound = 1 / Float(inputs).squareRoot()
            return (0..<(outputs * inputs)).map { _ in Float(rng.uniformDouble() * 2 - 1) * bound }
        }
        biases = sizes.dropFirst().dropLast().map { [Float](repeating: 0, count: $0) }
        let levelSteps = configuration.arm == .ste && configuration.activation.isLevels
        logSteps = levelSteps ? [Float](repeating: 0, count: sizes.count - 2) : []
        adam = AdamState(weights: weights, biases: biases, logSteps: logSteps)
        work = Workspace(sizes: sizes, batch: self.configuration.batchSize, levels: levelSteps)
        layout = GradientLayout(sizes: sizes)
    }

    var layerCount: Int { configuration.layerSizes.count - 1 }

    /// One pass over the training split in a seeded order; returns the mean training loss.
    @discardableResult
    public func trainEpoch() -> Double { trainEpoch(until: .never)! }

    /// Trains the rest of the current epoch, asking `stop` before each minibatch. Returns the
    /// epoch's mean training loss, or nil when stopped inside it: `epochPosition` and the
    /// epoch's loss sum then record where it stands (both are in the checkpoint), and calling
    /// again, here or in a trainer restored from the checkpoint, finishes the epoch with the
    /// bits of one run straight through.
    public func trainEpoch(until stop: StopSignal) -> Double? {
        let order = epochOrder()
        let end = examplesPerEpoch
        while epochPosition < end {
            if stop.isRaised { return nil }
            let next = min(end, epochPosition + configuration.batchSize)
            let batch = order[epochPosition..<next]
            epochLossSum += step(batch) * Double(batch.count)
            epochPosition = next
        }
        let loss = epochLossSum / Double(max(1, end))
        epoch += 1
        epochPosition = 0
        epochLossSum = 0
        return loss
    }

    /// The current epoch's seeded order of the training examples (a Fisher-Yates shuffle).
    func epochOrder() -> [Int] {
        var rng = Xoshiro256(seed: configuration.seed, stream: StreamPath.backpropOrder(epoch))
        var order = Array(0..<train.count)
        for k in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(k, rng.uniformBelow(k + 1)) }
        return order
    }

    /// Examples trained on per epoch: `epochExamples` or the whole split.
    public var examplesPerEpoch: Int { min(train.count, configuration.epochExamples ?? train.count) }

    /// The learning rate of the next step.
    var currentLearningRate: Double {
        switch configuration.schedule {
        case .constant: return configuration.learningRate
        case .cosine:
            let stepsPerEpoch = Double((examplesPerEpoch + configuration.batchSize - 1) / configuration.batchSize)
            let progress = min(1, Double(steps) / (stepsPerEpoch * Double(configuration.epochs)))
            return configuration.learningRate * (1 + cos(Double.pi * progress)) / 2
        }
    }

    /// Forward, backward and an Adam update on the examples at `indices`; returns their mean loss.
    /// The first step of a K-bit STE network first sets its steps and biases from the whole
    /// minibatch (on every rank). Distributed, this rank computes its share of the blocks and
    /// the totals are summed over the ranks (`forward`).
    func step(_ indices: ArraySlice<Int>) -> Double {
        if steps == 0 && !logSteps.isEmpty {
            loadInputs(indices, from: train)
            _ = forward(B: indices.count, backward: false, calibrate: true)
        }
        let share = GradientLayout.share(
            of: indices.count, rank: communicator?.rank ?? 0, size: communicator?.size ?? 1)
        let mine = indices.dropFirst(share.lowerBound).prefix(share.count)
        loadInputs(mine, from: train)
        let loss = forward(B: mine.count, backward: true, batch: indices.count)
        adam.update(
            weights: &weights, biases: &biases, logScale: &logScale, logSteps: &logSteps, gradients: work,
            learningRate: currentLearningRate, configuration: configuration)
        steps += 1
        return loss
    }

    /// Writes the examples' quantised inputs (raw `q` and `q / Q`) and labels into the workspace.
    func loadInputs<Indices: Collection<Int>>(_ indices: Indices, from data: QuantizedDataset) {
        var w = Workspace()
        swap(&w, &work)
        defer { swap(&w, &work) }
        if let windows = data.windows {
            w.context = windows.context
            w.tokenColumns = windows.columns(indices)
            for (row, index) in indices.enumerated() { w.labels[row] = data.labels[index] }
            return
        }
        TrainingKernels.gather(
            indices, features: data.features, labels: data.labels, width: configuration.layerSizes[0],
            levels: levels, raw: &w.raw, scaled: &w.activations[0], labels: &w.labels)
    }

    /// Per-layer quantisation for the STE arm: `gamma` and `Wq` (as floats), recomputed each step.
    func quantize() {
        for l in 0..<layerCount {
            work.gamma[l] = Ternarization.absmean(weights[l], into: &work.ternary[l])
        }
    }

    /// `theta = ceil(-scale * b / gamma)` in Double, the exported threshold (see `Ternarization`).
    static func threshold(bias: Float, gamma: Float, scale: Float) -> Double {
        Ternarization.unclampedThreshold(bias: bias, gamma: gamma, scale: scale)
    }

    /// Forward pass over the `B` examples in the workspace; returns their mean cross-entropy.
    /// With `calibrate` (K-bit STE), each hidden layer's step and biases are first set from
    /// these examples' sums (`calibrateLevels`). With `backward`, also the gradient of the mean
    /// loss of a minibatch of `batch` examples (default `B`; more when this rank holds a share
    /// of it) as fixed-point totals, summed over the ranks when distributed and decoded for Adam
    /// (`reduceGradients`): it then returns the minibatch's mean loss. Allocates nothing,
    /// calibration aside: every buffer is in the workspace.
    func forward(B: Int, backward: Bool, calibrate: Bool = false, batch: Int? = nil) -> Double {
        var w = Workspace()
        swap(&w, &work)
        defer { swap(&w, &work) }
        if configuration.arm == .ste {
            for l in 0..<layerCount { w.gamma[l] = Ternarization.absmean(weights[l], into: &w.ternary[l]) }
        }
        for l in 0..<layerCount {
            if configuration.arm == .ste {
                steLayer(l, &w, B: B, calibrate: calibrate)
            } else {
                floatLayer(l, &w, B: B)
            }
        }
        crossEntropy(&w, B: B, backward: backward, batch: batch ?? B)
        guard backward else { return w.exampleLosses[0..<B].reduce(0, +) / Double(max(1, B)) }
        backwardLayers(&w, B: B)
        return reduceGradients(&w, batch: batch ?? B)
    }

    /// Sums the totals over the ranks (distributed) and decodes them into the float gradients
    /// Adam reads. Returns the minibatch's mean loss: NaN when an example's loss was not finite
    /// or a collective failed (`communicationError`).
    func reduceGradients(_ w: inout Workspace, batch: Int) -> Double {
        if let communicator, communicator.size > 1 {
            do throws(CommunicationError) { w.totals = try communicator.allReduceSum(w.totals) } catch {
                communicationError = communicationError ?? error
                return .nan
            }
        }
        for l in 0..<layerCount {
            FixedPointKernels.decode(w.totals, at: layout.weights[l], into: &w.weightGradients[l])
        }
        for l in 0..<(layerCount - 1) {
            FixedPointKernels.decode(w.totals, at: layout.biases[l], into: &w.biasGradients[l])
            w.stepGradients[l] = Float(GradientLayout.value(w.totals[layout.logSteps + l]))
        }
        w.logScaleGradient = Float(GradientLayout.value(w.totals[layout.logScale]))
        guard w.totals[layout.nonFinite] == 0 else { return .nan }
        return GradientLayout.value(w.totals[layout.loss]) / Double(max(1, batch))
    }

    /// STE layer `l`: integer-valued dots of `Wq` with raw `q` (first layer), +-1 or the integer
    /// levels (after), then `z = gamma dots / scale + b` and, for a hidden layer, its activation
    /// as the exported thresholds (and steps) decide it (`inputScale`: `scale` of the next layer).
    func steLayer(_ l: Int, _ w: inout Workspace, B: Int, calibrate: Bool = false) {
        let I = configuration.layerSizes[l], O = configuration.layerSizes[l + 1]
        if l == 0 && w.context > 0 {
            TokenTrainingKernels.forward(
                columns: w.tokenColumns, context: w.context, w.ternary[0], into: &w.dots[0], B: B, I: I, O: O)
        } else {
            let input = l == 0 ? w.raw : w.hiddenLevels.isEmpty ? w.activations[l] : w.hiddenLevels[l - 1]
            FloatKernels.forward(
                input, w.ternary[l], into: &w.dots[l], B: B, I: I, O: O, threads: configuration.threads)
        }
        let gamma = w.gamma[l], scale = inputScale(l)
        guard l < layerCount - 1 else {
            var unused = [Float]()
            TrainingKernels.steOutputs(
                dots: w.dots[l], gamma: gamma, scale: scale, biases: nil, thresholds: nil,
                outputs: O, count: B * O, preactivations: &w.preactivations[l],
                activations: &unused)
            return
        }
        guard !logSteps.isEmpty else {
            for o in 0..<O {
                w.thresholds[l][o] = BackpropTrainer.threshold(bias: biases[l][o], gamma: gamma, scale: scale)
            }
            TrainingKernels.steOutputs(
                dots: w.dots[l], gamma: gamma, scale: scale, biases: biases[l],
                thresholds: w.thresholds[l], outputs: O, count: B * O,
                preactivations: &w.preactivations[l], activations: &w.activations[l + 1])
            return
        }
        if calibrate { calibrateLevels(l, dots: w.dots[l], gamma: gamma, scale: scale, B: B) }
        // K-bit levels: the clamped Int32 thresholds of the export (the same levels as unclamped ones).
        for o in 0..<O {
            w.thresholds[l][o] = Double(Ternarization.threshold(bias: biases[l][o], gamma: gamma, scale: scale))
        }
        TrainingKernels.levelOutputs(
            dots: w.dots[l], thresholds: w.thresholds[l], step: levelStep(l),
            unit: levelUnit(l), activation: configuration.activation, outputs: O, count: B * O,
            quotients: &w.preactivations[l], levels: &w.hiddenLevels[l], activations: &w.activations[l + 1])
    }

    /// Float layer `l`: `z = W . a + b`, and `tanh` (sign networks) or ReLU (K-bit ones) for a hidden layer.
    func floatLayer(_ l: Int, _ w: inout Workspace, B: Int) {
        let I = configuration.layerSizes[l], O = configuration.layerSizes[l + 1]
        if l == 0 && w.context > 0 {
            TokenTrainingKernels.forward(
                columns: w.tokenColumns, context: w.context, weights[0], into: &w.preactivations[0],
                B: B, I: I, O: O)
        } else {
            FloatKernels.forward(
                w.activations[l], weights[l], into: &w.preactivations[l], B: B, I: I, O: O,
                threads: configuration.threads)
        }
        if l < layerCount - 1 && configuration.activation.isLevels {
            TrainingKernels.reluOutputs(
                biases: biases[l], outputs: O, count: B * O,
                preactivations: &w.preactivations[l], activations: &w.activations[l + 1])
        } else if l < layerCount - 1 {
            TrainingKernels.tanhOutputs(
                biases: biases[l], outputs: O, count: B * O,
                preactivations: &w.preactivations[l], activations: &w.activations[l + 1])
        }
    }

    /// Softmax cross-entropy on `s * z_L` of the `B` examples, each example's loss (nats) into
    /// `exampleLosses`. With `backward`, also `d loss / d z_L` of the mean over `batch` examples
    /// (into the last layer's deltas), and each example's loss and `d loss / d logScale` added
    /// to the totals in fixed point (whose non-weight part it first clears).
    func crossEntropy(_ w: inout Workspace, B: Int, backward: Bool, batch: Int) {
        let C = configuration.layerSizes[layerCount]
        let s = exp(logScale)
        let zL = w.preactivations[layerCount - 1]  // shares storage; nothing writes it below
        // The weight totals are overwritten by the backward pass; the rest is added to.
        if backward { for k in (layout.biases.first ?? layout.logScale)..<layout.count { w.totals[k] = 0 } }
        for b in 0..<B {
            var top = -Float.infinity
            for c in 0..<C { top = max(top, s * zL[b * C + c]) }
            var sum: Float = 0
            for c in 0..<C { sum += exp(s * zL[b * C + c] - top) }
            let label = w.labels[b]
            let loss = Double(log(sum) - (s * zL[b * C + label] - top))
            w.exampleLosses[b] = loss
            guard backward else { continue }
            var scaleGradient: Float = 0
            for c in 0..<C {
                let p = exp(s * zL[b * C + c] - top) / sum
                let g = (p - (c == label ? 1 : 0)) / Float(batch)  // d loss / d logit
                scaleGradient += g * s * zL[b * C + c]
                w.deltas[layerCount - 1][b * C + c] = g * s  // d loss / d z_L
            }
            w.totals[layout.logScale] &+= GradientLayout.fixed(Double(scaleGradient))
            w.totals[layout.loss] &+= GradientLayout.fixed(loss)
            if !loss.isFinite { w.totals[layout.nonFinite] &+= 1 }
        }
    }

    /// Backward from the last layer's deltas: weight and bias gradients of every layer, straight
    /// through the quantiser (STE) and through the hidden activations (the STE window or tanh';
    /// for K-bit networks the levels' range or ReLU's).
    func backwardLayers(_ w: inout Workspace, B: Int) {
        let sizes = configuration.layerSizes
        let ste = configuration.arm == .ste
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let I = sizes[l], O = sizes[l + 1]
            // Straight through: dW = delta^T a (for STE, as if the weights were W itself), in fixed point.
            if l == 0 && w.context > 0 {
                TokenTrainingKernels.backwardWeights(
                    columns: w.tokenColumns, context: w.context, w.deltas[0], scratch: &w.deltaTotals,
                    into: &w.totals, at: layout.weights[0], B: B, I: I, O: O)
            } else {
                FloatKernels.backwardWeights(
                    w.deltas[l], w.activations[l], into: &w.totals, at: layout.weights[l], B: B, I: I, O: O,
                    threads: configuration.threads)
            }
            if l < layerCount - 1 {
                FixedPointKernels.addColumnSums(
                    w.deltas[l], rows: B, columns: O, block: GradientLayout.exampleBlock, scratch: &w.columnScratch,
                    into: &w.totals, at: layout.biases[l])
            }
            guard l > 0 else { break }
            // Gradient to the layer's inputs through the weights the forward pass used.
            if ste {
                TrainingKernels.scaled(w.ternary[l], by: w.gamma[l], into: &w.effective[l])
                FloatKernels.backwardInput(
                    w.deltas[l], w.effective[l], into: &w.inputGradients, B: B, I: I, O: O,
                    threads: configuration.threads)
            } else {
                FloatKernels.backwardInput(
                    w.deltas[l], weights[l], into: &w.inputGradients, B: B, I: I, O: O,
                    threads: configuration.threads)
            }
            // Through the activation of hidden layer l - 1 (whose outputs are these inputs).
            if configuration.activation.isLevels {
                levelsBackward(l - 1, &w, count: B * I)
                continue
            }
            var window = Float(l == 1 ? inputFanIn : sizes[l - 1]).squareRoot()
            if ste && configuration.window == .scaled { window *= w.gamma[l - 1] }
            TrainingKernels.activationBackward(
                ste: ste, gradients: w.inputGradients, preactivations: w.preactivations[l - 1],
                activations: w.activations[l], window: window,
                count: B * I, into: &w.deltas[l - 1])
        }
    }

    /// The temperature of the exported network's logits: STE's output is `s gamma_L (Wq . h) /
    /// scale` (`inputScale`: 1 after `sign` units), so `softmax` of
    /// it is `softmax(z / T)` of the integer logits `z` with `T = scale / (s gamma_L)`. Nil for
    /// the float arm.
    public var outputTemperature: Double? {
        guard configuration.arm == .ste else { return nil }
        quantize()
        return Double(inputScale(layerCount - 1)) / (Double(exp(logScale)) * Double(work.gamma[layerCount - 1]))
    }

    /// Accuracy and mean cross-entropy of the trainer's own forward pass on `data`, the loss
    /// as an Int64 total of each example's (`LossTable` units), so scores of parts of `data` add
    /// up exactly to the whole's.
    public func score(_ data: QuantizedDataset) -> Score { score(data, 0..<data.count) }

    /// The score of the examples of `data` in `range`.
    public func score(_ data: QuantizedDataset, _ range: Range<Int>) -> Score {
        let (predicted, units) = run(data, range)
        let correct = zip(predicted, data.labels[range]).filter { $0 == $1 }.count
        guard let units else { return Score(correct: correct, count: range.count, loss: .nan) }
        return Score(correct: correct, count: range.count, lossUnits: units)
    }

    /// The class the trainer's own forward pass predicts for each example (argmax of the
    /// logits, ties to the lowest index).
    public func predictions(_ data: QuantizedDataset) -> [Int] { run(data, 0..<data.count).predictions }

    /// Predictions for the examples in `range` and their loss total (nil when an example's loss
    /// is not finite).
    func run(_ data: QuantizedDataset, _ range: Range<Int>) -> (predictions: [Int], lossUnits: Int64?) {
        var predictions = [Int]()
        var units: Int64? = 0
        let C = configuration.layerSizes.last!
        var start = range.lowerBound
        while start < range.upperBound {
            let indices = start..<min(range.upperBound, start + configuration.batchSize)
            loadInputs(indices, from: data)
            _ = forward(B: indices.count, backward: false)
            let logits = work.preactivations[layerCount - 1]
            for b in 0..<indices.count {
                var best = 0
                for c in 1..<C where logits[b * C + c] > logits[b * C + best] { best = c }
                predictions.append(best)
                let loss = work.exampleLosses[b]
                units = loss.isFinite ? units.map { $0 &+ Int64((loss * LossTable.unitsPerNat).rounded()) } : nil
            }
            start += configuration.batchSize
        }
        return (predictions, units)
    }

    /// The integer network of TernaryCore (`Sources/TernaryCore/TernaryCore.docc/Semantics.md`) that computes the STE forward pass exactly:
    /// trits `Wq`, thresholds `ceil(-Q b / gamma)` (first layer) and `ceil(-scale b / gamma)`
    /// (later; `scale` 1 after `sign` units, `inputScale` after K-bit ones), clamped to Int32, and
    /// for K-bit levels the activation and the integer steps. Nil for the float arm.
    public func exportTernary(quantizer: InputQuantizer) -> TernaryNetwork? {
        guard configuration.arm == .ste else { return nil }
        quantize()
        let sizes = configuration.layerSizes
        var network = TernaryNetwork(layerSizes: sizes, activation: configuration.activation, quantizer: quantizer)
        for l in 0..<layerCount {
            network.weights[l] = TernaryMatrix(
                rowCount: sizes[l + 1], columnCount: sizes[l],
                trits: work.ternary[l].map { Int8($0) })
            if l < layerCount - 1 {
                let scale = inputScale(l)
                network.thresholds[l] = biases[l].map {
                    Ternarization.threshold(bias: $0, gamma: work.gamma[l], scale: scale)
                }
                if !logSteps.isEmpty { network.steps[l] = levelStep(l) }
            }
        }
        return network
    }
}
