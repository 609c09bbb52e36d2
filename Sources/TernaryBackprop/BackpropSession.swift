import Foundation
import TernaryCore

/// A backprop trainer as an arm of an experiment: a step is an epoch, which a stop signal ends
/// between minibatches (resumable from there); the incumbent is the exact ternary export (STE),
/// or nothing for the float arm, which is scored by its own forward pass. A NaN loss stops the arm.
public final class BackpropSession: SearchSession {
    public let trainer: BackpropTrainer
    public let quantizer: InputQuantizer
    let evaluator: PopulationEvaluator
    let synapses: Double
    private var exported: (steps: Int, network: TernaryNetwork?)?

    public init(trainer: BackpropTrainer, quantizer: InputQuantizer) {
        self.trainer = trainer
        self.quantizer = quantizer
        let sizes = trainer.configuration.layerSizes
        evaluator = PopulationEvaluator(layerSizes: sizes, threads: trainer.configuration.threads)
        synapses = Double(zip(sizes.dropFirst(), sizes).reduce(0) { $0 + $1.0 * $1.1 })
    }

    public var step: Int { trainer.epoch }
    /// Examples trained on, a stopped epoch's included.
    public var evaluations: Int { trainer.epoch * trainer.examplesPerEpoch + trainer.epochPosition }
    public var integerOperations: Double { 0 }
    /// Three multiply-adds per weight and example: the forward product and two backward products.
    public var floatOperations: Double { 3 * synapses * Double(evaluations) }
    public var settingsDescription: String { trainer.settingsDescription }

    public func advance(until stop: StopSignal) throws(SessionError) -> StepReport? {
        guard let loss = trainer.trainEpoch(until: stop) else { return nil }
        guard loss.isFinite else {
            throw SessionError(
                "the training loss became \(loss) in epoch \(trainer.epoch); lower the learning rate (key 'lr')")
        }
        return StepReport(trainLoss: loss)
    }

    public func incumbent() -> TernaryNetwork? {
        if let exported, exported.steps == trainer.steps { return exported.network }
        let network = trainer.exportTernary(quantizer: quantizer)
        exported = (trainer.steps, network)
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
