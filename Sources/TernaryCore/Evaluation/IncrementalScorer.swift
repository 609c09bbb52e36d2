/// Scores candidates that differ from one genome by a few moves, from that genome's cached
/// evaluation on a fixed batch (<doc:IncrementalEvaluation>), instead of a full forward pass each.
///
/// The cache holds, on the batch: the sums and signs of every hidden neuron for every example,
/// the logits, each example's fixed-point loss and correctness, and the totals.
/// - `rebuild(_:on:)` is a full evaluation into the cache.
/// - `score(_:)` / `scores(of:)` give the exact score of the genome with a list of moves applied,
///   reading the cache only: many candidates are scored from one cache on all cores.
/// - `apply(_:)` makes the moves part of the genome and updates the cache.
///
/// Exactness: the score equals, bit for bit, `PopulationEvaluator.scores` of the changed genome
/// on the same examples (the per-example losses are fixed-point integers, so their sum does not
/// depend on which examples were recomputed or in what order), for any thread count.
///
/// Cost: a first-layer trit move costs O(B) adds plus O(C) and one `log` per example whose
/// hidden sign flips; a later-layer or threshold move costs O(B) for its neuron plus work in
/// proportion to the examples whose values change; an output-layer move recomputes every
/// example's loss (every logit of that class changes). Memory: about `4 B` bytes per hidden
/// neuron, plus the inputs (`B` bytes per feature) and `12 B + 4 B C` bytes.
///
/// Not thread-safe itself: one scorer per caller. A move that does not fit the network traps.
public final class IncrementalScorer {
    /// Layer sizes of the genomes this scorer takes.
    public let layerSizes: [Int]
    /// Worker threads used by `scores(of:)` and `rebuild`.
    public let threads: Int
    let cache: DeltaCache
    let scratch: [DeltaScratch]

    /// A scorer for networks of `layerSizes`; `temperature` is the softmax scale of the loss
    /// (nil: `1 / sqrt(n_{L-1})`, as the population evaluator).
    public init(layerSizes: [Int], temperature: Double? = nil, threads: Int? = nil) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 >= 1 }, "invalid layer sizes")
        self.layerSizes = layerSizes
        self.threads = max(1, threads ?? Parallel.coreCount)
        cache = DeltaCache(layerSizes: layerSizes, table: LossTable(layerSizes: layerSizes, temperature: temperature))
        scratch = (0..<self.threads).map { _ in DeltaScratch(layerSizes: layerSizes) }
    }

    /// Estimated integer operations (adds, compares, per lane) of the last `scores(of:)` call.
    public private(set) var lastOperations = 0

    /// The genome the cache describes.
    public var genome: TernaryNetwork { cache.network }

    /// Number of examples in the cached batch.
    public var exampleCount: Int { cache.exampleCount }

    /// The cached genome's score on the batch.
    public var score: Score {
        Score(correct: cache.totalCorrect, count: cache.exampleCount, lossUnits: cache.totalUnits)
    }

    /// A full evaluation of `genome` on `data` (or the examples at `indices` of it) into the cache.
    public func rebuild(_ genome: TernaryNetwork, on data: QuantizedDataset, indices: [Int]? = nil) {
        precondition(genome.layerSizes == layerSizes, "genome \(genome.layerSizes) does not match scorer \(layerSizes)")
        precondition(data.featureCount == layerSizes[0], "data has \(data.featureCount) features; the network takes \(layerSizes[0])")
        precondition(data.classCount <= layerSizes.last!, "the data has more classes than the network has outputs")
        cache.rebuild(genome, on: data, indices: indices, workers: threads)
    }

    /// The score of the cached genome with `moves` applied (in order; the last move at a
    /// position wins). Reads the cache only.
    public func score(_ moves: some Collection<Move>) -> Score {
        let (units, correct) = Array(moves).withUnsafeBufferPointer { cache.score($0, scratch: scratch[0]) }
        return Score(correct: correct, count: cache.exampleCount, lossUnits: units)
    }

    /// The score of every candidate of `candidates`, on up to `threads` workers; equal to
    /// calling `score` on each.
    public func scores(of candidates: MoveList) -> [Score] { scores(of: candidates, range: 0..<candidates.count) }

    /// The scores of candidates `range` of `candidates` only (a rank's share of a distributed step).
    public func scores(of candidates: MoveList, range: Range<Int>) -> [Score] {
        precondition(range.lowerBound >= 0 && range.upperBound <= candidates.count)
        let count = cache.exampleCount
        for worker in scratch { worker.operations = 0 }
        defer { lastOperations = scratch.reduce(0) { $0 + $1.operations } }
        return candidates.moves.withUnsafeBufferPointer { moves in
            candidates.ends.withUnsafeBufferPointer { ends in
                Parallel.map(count: range.count, workers: threads, local: { offset, worker in
                    let index = range.lowerBound + offset
                    let start = index == 0 ? 0 : ends[index - 1]
                    let slice = UnsafeBufferPointer(rebasing: moves[start..<ends[index]])
                    let (units, correct) = cache.score(slice, scratch: scratch[worker])
                    return Score(correct: correct, count: count, lossUnits: units)
                })
            }
        }
    }

    /// Applies `moves` to the genome and updates the cache; afterwards `score` equals what
    /// `score(moves)` returned.
    public func apply(_ moves: some Collection<Move>) {
        Array(moves).withUnsafeBufferPointer { cache.apply($0, scratch: scratch[0]) }
        cache.network.checkInvariants()
    }
}
