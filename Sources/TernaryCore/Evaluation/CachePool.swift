/// The incremental caches of several genomes on one fixed batch (<doc:IncrementalEvaluation>):
/// a population's breeders, so each offspring is scored from its parent's cache and the
/// moves that make it, instead of by a full forward pass.
///
/// Slots `0 ..< count` each hold one genome's cache. `replace(with:on:indices:)` sets the next
/// generation's slots, each either rebuilt by a full evaluation or derived from a current slot
/// by copying it and applying moves (a memory copy plus the moves' work); `scores(of:...)`
/// prices candidates, each a slot plus moves, on all cores, exactly as `IncrementalScorer` does.
///
/// Memory: while `replace` runs, the old and the new slots are both held:
/// `2 * count * byteCount(...)` bytes at most, plus per-worker scratch.
public final class CachePool {
    /// Layer sizes of the genomes this pool takes.
    public let layerSizes: [Int]
    /// Worker threads.
    public let threads: Int
    private let table: LossTable
    private var caches: [DeltaCache] = []
    private var spare: [DeltaCache] = []
    private let scratch: [DeltaScratch]
    /// Slots in use.
    public private(set) var count = 0
    /// Estimated integer operations (adds, compares, per lane) of the last `scores(of:...)` call.
    public private(set) var lastOperations = 0

    /// A pool for networks of `layerSizes`; `temperature` as for `IncrementalScorer`.
    public init(layerSizes: [Int], temperature: Double? = nil, threads: Int? = nil) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 >= 1 }, "invalid layer sizes")
        self.layerSizes = layerSizes
        self.threads = max(1, threads ?? Parallel.coreCount)
        table = LossTable(layerSizes: layerSizes, temperature: temperature)
        scratch = (0..<self.threads).map { _ in DeltaScratch(layerSizes: layerSizes) }
    }

    /// Bytes one slot holds on `examples` examples (token inputs: `context` symbols per window).
    public static func byteCount(layerSizes: [Int], examples: Int, context: Int = 0) -> Int {
        DeltaCache.byteCount(layerSizes: layerSizes, examples: examples, context: context)
    }

    /// Where a new slot comes from.
    public enum Source: Sendable {
        /// A full evaluation of the genome on the batch.
        case rebuild(TernaryNetwork)
        /// Current slot `slot` with `moves` applied (the slot must be on the same batch).
        case derive(slot: Int, moves: ArraySlice<Move>)
    }

    /// Replaces the slots by `sources` (new slot `i` from `sources[i]`), on `data` (or the
    /// examples at `indices` of it), which must be the batch of the current slots for every
    /// `derive`. Derivations run in parallel, one slot per worker; rebuilds one after another,
    /// each on all workers.
    public func replace(with sources: [Source], on data: QuantizedDataset, indices: [Int]?) {
        while spare.count < sources.count { spare.append(DeltaCache(layerSizes: layerSizes, table: table)) }
        let current = caches, next = spare
        Parallel.run(items: sources.count, workers: threads, local: { item, worker in
            guard case let .derive(slot, moves) = sources[item] else { return }
            precondition(slot >= 0 && slot < count, "slot \(slot) outside 0..<\(count)")
            next[item].copy(from: current[slot])
            next[item].apply(moves, scratch: scratch[worker])
            next[item].network.checkInvariants()
        })
        for (item, source) in sources.enumerated() {
            guard case let .rebuild(genome) = source else { continue }
            precondition(genome.layerSizes == layerSizes, "genome \(genome.layerSizes) does not match pool \(layerSizes)")
            next[item].rebuild(genome, on: data, indices: indices, workers: threads)
        }
        swap(&caches, &spare)
        count = sources.count
    }

    /// Empties the pool (keeps the memory for reuse).
    public func removeAll() { count = 0 }

    /// The genome of `slot`.
    public func genome(_ slot: Int) -> TernaryNetwork {
        precondition(slot >= 0 && slot < count, "slot \(slot) outside 0..<\(count)")
        return caches[slot].network
    }

    /// The score of `slot`'s genome on the batch.
    public func score(_ slot: Int) -> Score {
        precondition(slot >= 0 && slot < count, "slot \(slot) outside 0..<\(count)")
        let cache = caches[slot]
        return Score(correct: cache.totalCorrect, count: cache.exampleCount, lossUnits: cache.totalUnits)
    }

    /// The scores of candidates `items` of `candidates`: candidate `i` is slot `slots[i]`'s
    /// genome with `candidates[i]` applied. Equal to `IncrementalScorer.score` from that slot.
    public func scores(of candidates: MoveList, slots: [Int], items: [Int]) -> [Score] {
        precondition(slots.count == candidates.count, "one slot per candidate")
        for worker in scratch { worker.operations = 0 }
        defer { lastOperations = scratch.reduce(0) { $0 + $1.operations } }
        let caches = caches, count = count
        return Parallel.map(count: items.count, workers: threads, local: { offset, worker in
            let index = items[offset], slot = slots[index]
            precondition(slot >= 0 && slot < count, "slot \(slot) outside 0..<\(count)")
            let cache = caches[slot]
            let (units, correct) = cache.score(candidates[index], scratch: scratch[worker])
            return Score(correct: correct, count: cache.exampleCount, lossUnits: units)
        })
    }
}
