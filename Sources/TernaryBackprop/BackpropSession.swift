import Foundation
import TernaryCore

/// A backprop trainer as an arm of an experiment: a step is an epoch, which a stop signal ends
/// between minibatches (resumable from there); the incumbent is the exact ternary export (STE),
/// or nothing for the float arm, which is scored by its own forward pass. A NaN loss stops the arm.
///
/// Distributed (`distribute(over:)`), every rank computes its share of each minibatch's
/// gradient and of each score, and the Int64 totals are summed over the ranks: the files are
/// those of one process (<doc:STEBaseline>).
public final class BackpropSession: DistributableSession {
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

    public func distribute(over communicator: Communicator) { trainer.communicator = communicator }

    public func advance(until stop: StopSignal) throws(SessionError) -> StepReport? {
        guard let loss = trainer.trainEpoch(until: stop) else { return nil }
        if let error = trainer.communicationError {
            throw SessionError("a collective of the distributed run failed in epoch \(trainer.epoch): \(error)")
        }
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

    /// The incumbent's score (the float arm: its own forward pass's). Distributed, each rank
    /// scores a block of `data` and the integer totals are summed.
    public func score(on data: QuantizedDataset) -> Score {
        guard let communicator = trainer.communicator, communicator.size > 1 else {
            return localScore(data, 0..<data.count)
        }
        let mine = localScore(
            data, WorkSplit.range(count: data.count, rank: communicator.rank, size: communicator.size))
        do throws(CommunicationError) { return try communicator.summed([mine], count: data.count).scores[0] } catch {
            return Score(correct: 0, count: data.count, loss: .nan)
        }
    }

    /// The score of the examples of `data` in `range`.
    func localScore(_ data: QuantizedDataset, _ range: Range<Int>) -> Score {
        guard !range.isEmpty else { return Score(correct: 0, count: 0, lossUnits: 0) }
        guard let network = incumbent() else { return trainer.score(data, range) }
        return evaluator.scores(of: [network], on: range.count == data.count ? data.all : data.batch(range))[0]
    }

    public func encodeState(into writer: inout BinaryWriter) { trainer.encodeState(into: &writer) }

    public func restoreState(from reader: inout BinaryReader) throws(FileFormatError) {
        try trainer.restoreState(from: &reader)
        exported = nil
    }
}
