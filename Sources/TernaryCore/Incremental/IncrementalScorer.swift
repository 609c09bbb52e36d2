/// Scores candidates that differ from one genome by a few moves, from that genome's cached
/// evaluation on a fixed batch (<doc:IncrementalEvaluation>), instead of a full forward pass each.
///
/// The cache holds, on the batch: the sums and signs (levels, for a `levels` network: a byte
/// each) of every hidden neuron for every example,
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
/// proportion to the examples whose values change (a step move of a levels network: O(B n) for
/// its layer); an output-layer move recomputes every
/// example's loss (every logit of that class changes). Memory: about `4 B` bytes per hidden
/// neuron, plus the inputs (`B` bytes per feature) and `12 B + 4 B C` bytes.
///
/// Shards: the batch is split into `shards` contiguous blocks of examples, each with its own
/// cache (sums, signs, logits, losses, token index), so a score is the sum of the shards' Int64
/// totals (exact, in any order). Rebuilds and applied moves run shard by shard on all cores;
/// candidates are scored either shard by shard (each worker takes the same shards every call,
/// so it keeps working on the same memory) or candidate by candidate over all shards
/// (``ScoringSplit``). Scores are the same for any shard count, split and thread count.
///
/// Not thread-safe itself: one scorer per caller. A move that does not fit the network traps.
public final class IncrementalScorer {
    /// How `scores(of:)` divides its work among the threads.
    public enum ScoringSplit: String, Sendable, CaseIterable {
        /// Each worker scores every candidate on its own shards; the totals are added per
        /// candidate. The memory a worker reads stays the same from call to call.
        case shards
        /// Each worker scores whole candidates, every shard in turn (the split of a scorer
        /// with one shard).
        case candidates
    }

    /// Layer sizes of the genomes this scorer takes.
    public let layerSizes: [Int]
    /// Worker threads used by `scores(of:)`, `apply` and `rebuild`.
    public let threads: Int
    /// The number of shards the batch is split into (fewer when the batch has fewer examples).
    public let shardCount: Int
    /// How `scores(of:)` divides candidates and shards among the threads.
    public var split: ScoringSplit
    /// One cache per shard, over contiguous blocks of the batch (the first `activeShards` hold
    /// examples).
    let shards: [DeltaCache]
    let scratch: [DeltaScratch]
    private var activeShards = 1

    /// A scorer for networks of `layerSizes`; `temperature` is the softmax scale of the loss
    /// (nil: `1 / sqrt(n_{L-1})`, as the population evaluator). `shards` defaults to 1: in one
    /// process, one shard scored candidate by candidate measured 1-13% faster than a shard per
    /// thread scored shard by shard (`ternevo bench --delta`, 2 threads); shards pay where the
    /// examples are split over processes. `split` defaults to `.shards` with more than one shard.
    /// `instructionSet` chooses the loss kernels (every set gives the same bits).
    public init(
        layerSizes: [Int], temperature: Double? = nil, threads: Int? = nil, shards: Int = 1,
        split: ScoringSplit? = nil, instructionSet: InstructionSet = .active
    ) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 >= 1 }, "invalid layer sizes")
        precondition(shards >= 1, "a scorer needs at least one shard")
        self.layerSizes = layerSizes
        self.threads = max(1, threads ?? Parallel.coreCount)
        shardCount = shards
        self.split = split ?? (shardCount > 1 ? .shards : .candidates)
        let table = LossTable(layerSizes: layerSizes, temperature: temperature)
        self.shards = (0..<shardCount).map { _ in
            DeltaCache(layerSizes: layerSizes, table: table, instructionSet: instructionSet)
        }
        scratch = (0..<self.threads).map { _ in DeltaScratch(layerSizes: layerSizes) }
    }

    /// Estimated integer operations (adds, compares, per lane) of the last `scores(of:)` call.
    public private(set) var lastOperations = 0

    /// The genome the cache describes.
    public var genome: TernaryNetwork { shards[0].network }

    /// Number of examples in the cached batch.
    public var exampleCount: Int { active.reduce(0) { $0 + $1.exampleCount } }

    /// The shards that hold examples.
    private var active: ArraySlice<DeltaCache> { shards[0..<activeShards] }

    /// The cached genome's score on the batch.
    public var score: Score {
        Score(
            correct: active.reduce(0) { $0 + $1.totalCorrect }, count: exampleCount,
            lossUnits: active.reduce(0) { $0 &+ $1.totalUnits })
    }

    /// The examples of each shard: contiguous blocks of `count`, the first ones one longer;
    /// at least one shard, at most one per example.
    static func blocks(count: Int, shards: Int) -> [Range<Int>] {
        let used = max(1, min(shards, count))
        return (0..<used).map { WorkSplit.range(count: count, rank: $0, size: used) }
    }

    /// A full evaluation of `genome` on `data` (or the examples at `indices` of it) into the
    /// caches: shard `s` takes block `s` of the examples, shards in parallel (and, with fewer
    /// shards than threads, neurons in parallel within a shard).
    public func rebuild(_ genome: TernaryNetwork, on data: QuantizedDataset, indices: [Int]? = nil) {
        precondition(genome.layerSizes == layerSizes, "genome \(genome.layerSizes) does not match scorer \(layerSizes)")
        precondition(
            data.featureCount == layerSizes[0],
            "data has \(data.featureCount) features; the network takes \(layerSizes[0])")
        precondition(data.classCount <= layerSizes.last!, "the data has more classes than the network has outputs")
        let count = indices?.count ?? data.count
        let blocks = IncrementalScorer.blocks(count: count, shards: shardCount)
        activeShards = blocks.count
        let inner = max(1, threads / blocks.count)
        Parallel.run(
            items: blocks.count, workers: threads,
            local: { s, _ in
                // One shard takes the indices as given (nil: the whole data, read in place, not copied).
                let block = blocks[s]
                let picked = blocks.count == 1 ? indices : indices.map { Array($0[block]) } ?? Array(block)
                self.shards[s].rebuild(genome, on: data, indices: picked, workers: inner)
            })
    }

    /// The score of the cached genome with `moves` applied (in order; the last move at a
    /// position wins). Reads the cache only.
    public func score(_ moves: some Collection<Move>) -> Score {
        let (units, correct) = Array(moves).withUnsafeBufferPointer { moves in
            active.reduce((Int64(0), 0)) { total, shard in
                let (units, correct) = shard.score(moves, scratch: scratch[0])
                return (total.0 &+ units, total.1 + correct)
            }
        }
        return Score(correct: correct, count: exampleCount, lossUnits: units)
    }

    /// The score of every candidate of `candidates`, on up to `threads` workers; equal to
    /// calling `score` on each.
    public func scores(of candidates: MoveList) -> [Score] { scores(of: candidates, range: 0..<candidates.count) }

    /// The scores of candidates `range` of `candidates` only.
    public func scores(of candidates: MoveList, range: Range<Int>) -> [Score] {
        let count = exampleCount
        return totals(of: candidates, range: range).map {
            Score(correct: $0.correct, count: count, lossUnits: $0.units)
        }
    }

    /// The integer totals behind `scores(of:range:)`: each candidate's fixed-point loss units
    /// and correct count on the cached examples. Totals on disjoint examples add up exactly, so
    /// the totals of a distributed step are the sums of the ranks' totals.
    public func totals(of candidates: MoveList, range: Range<Int>) -> [(units: Int64, correct: Int)] {
        precondition(range.lowerBound >= 0 && range.upperBound <= candidates.count)
        let shardsInUse = activeShards, caches = shards, workers = threads
        for worker in scratch { worker.operations = 0 }
        defer { lastOperations = scratch.reduce(0) { $0 + $1.operations } }
        return candidates.moves.withUnsafeBufferPointer { moves in
            candidates.ends.withUnsafeBufferPointer { ends in
                func slice(_ index: Int) -> UnsafeBufferPointer<Move> {
                    UnsafeBufferPointer(rebasing: moves[(index == 0 ? 0 : ends[index - 1])..<ends[index]])
                }
                if split == .candidates || shardsInUse == 1 || range.count == 0 {
                    return Parallel.map(
                        count: range.count, workers: workers,
                        local: { offset, worker in
                            var units: Int64 = 0, correct = 0
                            for s in 0..<shardsInUse {
                                let (u, c) = caches[s].score(slice(range.lowerBound + offset), scratch: scratch[worker])
                                units &+= u
                                correct += c
                            }
                            return (units, correct)
                        })
                }
                // Shard by shard: worker slot t takes shards t, t + T, ...; partial totals per
                // shard and candidate, added in shard order.
                let slots = min(workers, shardsInUse)
                var units = [Int64](repeating: 0, count: shardsInUse * range.count)
                var correct = [Int](repeating: 0, count: shardsInUse * range.count)
                units.withUnsafeMutableBufferPointer { units in
                    correct.withUnsafeMutableBufferPointer { correct in
                        Parallel.run(
                            items: slots, workers: slots,
                            local: { slot, _ in
                                for s in stride(from: slot, to: shardsInUse, by: slots) {
                                    for offset in 0..<range.count {
                                        let (u, c) = caches[s].score(
                                            slice(range.lowerBound + offset), scratch: scratch[slot])
                                        units[s * range.count + offset] = u
                                        correct[s * range.count + offset] = c
                                    }
                                }
                            })
                    }
                }
                return (0..<range.count).map { offset in
                    var u: Int64 = 0, c = 0
                    for s in 0..<shardsInUse {
                        u &+= units[s * range.count + offset]
                        c += correct[s * range.count + offset]
                    }
                    return (u, c)
                }
            }
        }
    }

    /// Applies `moves` to the genome and updates the caches (shards in parallel); afterwards
    /// `score` equals what `score(moves)` returned.
    public func apply(_ moves: some Collection<Move>) {
        let caches = shards, shardsInUse = activeShards
        let slots = min(threads, shardsInUse)
        Array(moves).withUnsafeBufferPointer { moves in
            Parallel.run(
                items: slots, workers: slots,
                local: { slot, _ in
                    for s in stride(from: slot, to: shardsInUse, by: slots) {
                        caches[s].apply(moves, scratch: self.scratch[slot])
                    }
                })
        }
        shards[0].network.checkInvariants()
    }
}
