/// The incremental caches of several genomes on one fixed batch (<doc:IncrementalEvaluation>):
/// a population's breeders, so each offspring is scored from its parent's cache and the
/// moves that make it, instead of by a full forward pass.
///
/// Slots `0 ..< count` each hold one genome's cache. `replace(with:on:indices:)` sets the next
/// generation's slots, each either rebuilt by a full evaluation or derived from a current slot
/// by applying moves (in place for the slot's last derivation, after a memory copy for the
/// others); `scores(of:...)`
/// prices candidates, each a slot plus moves, on all cores, exactly as `IncrementalScorer` does.
///
/// Memory: while `replace` runs, the old and the new slots are both held:
/// `2 * count * byteCount(...)` bytes at most (less when slots are derived in place), plus
/// per-worker scratch.
public final class CachePool {
    /// Layer sizes of the genomes this pool takes.
    public let layerSizes: [Int]
    /// Worker threads.
    public let threads: Int
    private let table: LossTable
    /// The instruction set of every cache's kernels.
    private let instructionSet: InstructionSet
    private var caches: [DeltaCache] = []
    private var spare: [DeltaCache] = []
    private let scratch: [DeltaScratch]
    /// Slots in use.
    public private(set) var count = 0
    /// Estimated integer operations (adds, compares, per lane) of the last `scores(of:...)` call.
    public private(set) var lastOperations = 0

    /// A pool for networks of `layerSizes`; `temperature` as for `IncrementalScorer`.
    public init(
        layerSizes: [Int], temperature: Double? = nil, threads: Int? = nil, instructionSet: InstructionSet = .active
    ) {
        self.instructionSet = instructionSet
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 >= 1 }, "invalid layer sizes")
        self.layerSizes = layerSizes
        self.threads = max(1, threads ?? Parallel.coreCount)
        table = LossTable(layerSizes: layerSizes, temperature: temperature)
        scratch = (0..<self.threads).map { _ in DeltaScratch(layerSizes: layerSizes) }
    }

    /// Bytes one slot holds on `examples` examples (token inputs: `context` symbols per window).
    /// A levels `activation` keeps a byte per hidden value and example instead of a bit.
    public static func byteCount(
        layerSizes: [Int], examples: Int, context: Int = 0, activation: Activation = .sign
    ) -> Int {
        DeltaCache.byteCount(layerSizes: layerSizes, examples: examples, context: context, activation: activation)
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
        // The last derivation from a slot takes that slot's cache and applies its moves in
        // place (no copy); the others copy it first. A slot's cache moves only after every copy
        // of it is done.
        var lastUse = [Int](repeating: -1, count: count)
        for (item, source) in sources.enumerated() {
            guard case let .derive(slot, _) = source else { continue }
            precondition(slot >= 0 && slot < count, "slot \(slot) outside 0..<\(count)")
            lastUse[slot] = item
        }
        var next = [DeltaCache?](repeating: nil, count: sources.count)
        var free = spare
        for (slot, item) in lastUse.enumerated() where item >= 0 { next[item] = caches[slot] }
        for slot in caches.indices where slot >= count || lastUse[slot] < 0 { free.append(caches[slot]) }
        for item in sources.indices where next[item] == nil {
            next[item] =
                free.popLast() ?? DeltaCache(layerSizes: layerSizes, table: table, instructionSet: instructionSet)
        }
        let current = caches, targets = next.map { $0! }
        Parallel.run(
            items: sources.count, workers: threads,
            local: { item, _ in
                guard case let .derive(slot, _) = sources[item], lastUse[slot] != item else { return }
                targets[item].copy(from: current[slot])
            })
        Parallel.run(
            items: sources.count, workers: threads,
            local: { item, worker in
                guard case let .derive(_, moves) = sources[item] else { return }
                targets[item].apply(moves, scratch: scratch[worker])
                targets[item].network.checkInvariants()
            })
        for (item, source) in sources.enumerated() {
            guard case let .rebuild(genome) = source else { continue }
            precondition(
                genome.layerSizes == layerSizes, "genome \(genome.layerSizes) does not match pool \(layerSizes)")
            targets[item].rebuild(genome, on: data, indices: indices, workers: threads)
        }
        caches = targets
        spare = free
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
        return Parallel.map(
            count: items.count, workers: threads,
            local: { offset, worker in
                let index = items[offset], slot = slots[index]
                precondition(slot >= 0 && slot < count, "slot \(slot) outside 0..<\(count)")
                let cache = caches[slot]
                let (units, correct) = cache.score(candidates[index], scratch: scratch[worker])
                return Score(correct: correct, count: cache.exampleCount, lossUnits: units)
            })
    }
}
