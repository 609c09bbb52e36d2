import Foundation

/// Scores many ternary networks of one architecture on a batch, in parallel, without multiplying.
///
/// The evaluator owns per-worker scratch (allocated once) and a logits buffer that grows only
/// when a larger population or batch arrives; calls are coarse (a whole population on a whole
/// batch), which is where the parallelism is. Results are identical for any thread count.
/// Not thread-safe itself: use one evaluator per concurrent caller.
public final class PopulationEvaluator {
    /// Layer sizes of the networks this evaluator scores.
    public let layerSizes: [Int]
    /// Worker threads used per call.
    public let threads: Int
    private let scratch: [ForwardScratch]
    private var logitBuffer: [Int32] = []
    private var lossTable: LossTable?

    /// The instruction set its kernels run on.
    public let instructionSet: InstructionSet

    /// An evaluator for networks with `layerSizes`, using `threads` workers (default: all cores)
    /// and the kernels of `instructionSet` (default: the process's choice,
    /// `InstructionSet.active`; it must be supported by this CPU).
    public init(layerSizes: [Int], threads: Int? = nil, instructionSet: InstructionSet = .active) {
        precondition(instructionSet.isSupported, "this CPU cannot run the \(instructionSet) kernels")
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 >= 1 }, "invalid layer sizes")
        self.layerSizes = layerSizes
        self.threads = max(1, threads ?? Parallel.coreCount)
        let maxHidden = layerSizes.dropFirst().dropLast().max() ?? 1
        self.instructionSet = instructionSet
        scratch = (0..<self.threads).map { _ in
            ForwardScratch(maxHidden: maxHidden, widest: layerSizes.dropFirst().max()!, instructionSet: instructionSet)
        }
    }

    /// Logits of every network on every example: `result[p][b * C + c]`.
    public func logits(of networks: [TernaryNetwork], on batch: ExampleBatch) -> [[Int32]] {
        runForward(networks, batch)
        let stride = batch.count * classCount
        return networks.indices.map { Array(logitBuffer[($0 * stride)..<(($0 + 1) * stride)]) }
    }

    /// `logits(of:on:)` in one array, `result[(p * B + b) * C + c]`: no array per network (a
    /// population's start asks for the sums of thousands of blocks).
    public func flatLogits(of networks: [TernaryNetwork], on batch: ExampleBatch) -> [Int32] {
        runForward(networks, batch)
        return logitBuffer
    }

    /// The score of every network on `batch`. `temperature` is the softmax scale `tau` of the
    /// cross-entropy (default `1 / sqrt(n_{L-1})`, <doc:Semantics>).
    public func scores(
        of networks: [TernaryNetwork], on batch: ExampleBatch,
        temperature: Double? = nil
    ) -> [Score] {
        if lossTable?.temperature != (temperature ?? LossTable.defaultTemperature(layerSizes: layerSizes)) {
            lossTable = LossTable(layerSizes: layerSizes, temperature: temperature)
        }
        return runForward(networks, batch, scoring: lossTable)
    }

    /// The integer sums of weight layer `layer` (before thresholds) of every network on every
    /// example: `result[p][b * n + j]` with `n = layerSizes[layer + 1]`. The last layer's sums
    /// are the logits. Used to set thresholds from data.
    public func layerSums(of networks: [TernaryNetwork], on batch: ExampleBatch, layer: Int) -> [[Int32]] {
        if layer == layerSizes.count - 2 { return logits(of: networks, on: batch) }
        let cut = networks.map { $0.prefix(throughLayer: layer) }
        return PopulationEvaluator(
            layerSizes: Array(layerSizes[0...(layer + 1)]), threads: threads, instructionSet: instructionSet
        )
        .logits(of: cut, on: batch)
    }

    private var classCount: Int { layerSizes[layerSizes.count - 1] }

    /// Runs the forward pass into `logitBuffer`; with `scoring` (tau and the exp table), also
    /// scores every genome.
    @discardableResult
    private func runForward(
        _ networks: [TernaryNetwork], _ batch: ExampleBatch,
        scoring: LossTable? = nil
    ) -> [Score] {
        precondition(
            batch.featureCount == layerSizes[0],
            "batch has \(batch.featureCount) features; the networks take \(layerSizes[0])")
        for network in networks {
            precondition(
                network.layerSizes == layerSizes,
                "network \(network.layerSizes) does not match evaluator \(layerSizes)")
        }
        let needed = networks.count * batch.count * classCount
        if logitBuffer.count != needed { logitBuffer = [Int32](repeating: 0, count: needed) }
        return forwardPopulation(networks, batch: batch, scratch: scratch, logits: &logitBuffer, scoring: scoring)
    }
}
