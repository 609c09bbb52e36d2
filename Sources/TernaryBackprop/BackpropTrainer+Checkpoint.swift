import Foundation
import TernaryCore

/// The trainer's state as checkpoint fields: everything that changes during training (weights,
/// biases, logit scale, Adam moments and step, epoch and step counts). Restoring and training
/// on equals training straight through.
extension BackpropTrainer {
    /// A stable text of the configuration and the training-set size. The STE window is named
    /// only when scaled, so records written before it existed (fixed) keep their hash.
    public var settingsDescription: String {
        let c = configuration
        return "\(c.arm.rawValue) layers=\(c.layerSizes) lr=\(c.learningRate) betas=\(c.beta1)/\(c.beta2) eps=\(c.epsilon) decay=\(c.weightDecay) batch=\(c.batchSize) schedule=\(c.schedule.rawValue)\(c.arm == .ste && c.window == .scaled ? " window=scaled" : "") epochs=\(c.epochs) seed=\(c.seed) train=\(train.count) levels=\(levels)\(c.epochExamples.map { " epoch_examples=\($0)" } ?? "")"
    }

    public func encodeState(into writer: inout BinaryWriter) {
        writer.writeCount(epoch); writer.writeCount(steps); writer.writeCount(adam.step)
        writer.write(logScale); writer.write(adam.scaleMoment); writer.write(adam.scaleSquare)
        for group in [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares] {
            for values in group { writer.write(values) }
        }
    }

    /// Replaces the trainer's state with one written by `encodeState` of the same configuration.
    public func restoreState(from reader: inout BinaryReader) throws(FileFormatError) {
        let epoch = try reader.readCount(limit: Int(Int32.max)), steps = try reader.readCount(limit: Int(Int64.max / 2))
        let adamStep = try reader.readCount(limit: Int(Int64.max / 2))
        let logScale = try reader.read(Float.self), scaleMoment = try reader.read(Float.self), scaleSquare = try reader.read(Float.self)
        var groups: [[[Float]]] = []
        for shape in [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares] {
            var group: [[Float]] = []
            for values in shape { group.append(try reader.readFloats(count: values.count)) }
            groups.append(group)
        }
        weights = groups[0]; biases = groups[1]
        adam.weightMoments = groups[2]; adam.weightSquares = groups[3]; adam.biasMoments = groups[4]; adam.biasSquares = groups[5]
        adam.step = adamStep; adam.scaleMoment = scaleMoment; adam.scaleSquare = scaleSquare
        self.logScale = logScale; self.epoch = epoch; self.steps = steps
    }
}

/// A backprop trainer as an arm of an experiment: a step is an epoch; the incumbent is the
/// exact ternary export (STE), or nothing for the float arm, which is scored by its own forward
/// pass. A NaN loss stops the arm.
public final class BackpropSession: SearchSession {
    public let trainer: BackpropTrainer
    public let quantizer: InputQuantizer
    let evaluator: PopulationEvaluator
    let synapses: Double
    private var exported: (epoch: Int, network: TernaryNetwork?)?

    public init(trainer: BackpropTrainer, quantizer: InputQuantizer) {
        self.trainer = trainer
        self.quantizer = quantizer
        let sizes = trainer.configuration.layerSizes
        evaluator = PopulationEvaluator(layerSizes: sizes, threads: trainer.configuration.threads)
        synapses = Double(zip(sizes.dropFirst(), sizes).reduce(0) { $0 + $1.0 * $1.1 })
    }

    public var step: Int { trainer.epoch }
    public var evaluations: Int { trainer.epoch * trainer.examplesPerEpoch }
    public var integerOperations: Double { 0 }
    /// Three multiply-adds per weight and example: the forward product and two backward products.
    public var floatOperations: Double { 3 * synapses * Double(evaluations) }
    public var settingsDescription: String { trainer.settingsDescription }

    public func advance() throws(SessionError) -> StepReport {
        let loss = trainer.trainEpoch()
        guard loss.isFinite else {
            throw SessionError("the training loss became \(loss) in epoch \(trainer.epoch); lower the learning rate (key 'lr')")
        }
        return StepReport(trainLoss: loss)
    }

    public func incumbent() -> TernaryNetwork? {
        if let exported, exported.epoch == trainer.epoch { return exported.network }
        let network = trainer.exportTernary(quantizer: quantizer)
        exported = (trainer.epoch, network)
        return network
    }

    public func score(on data: QuantizedDataset) -> Score {
        if let network = incumbent() { return evaluator.scores(of: [network], on: data.all)[0] }
        return trainer.score(data)
    }

    public func encodeState(into writer: inout BinaryWriter) { trainer.encodeState(into: &writer) }

    public func restoreState(from reader: inout BinaryReader) throws(FileFormatError) {
        try trainer.restoreState(from: &reader)
        exported = nil
    }
}
