import TernaryCore

/// The problem role (as in EvoTorch): the training data, the architecture, the fitness and its
/// batch schedule, threshold calibration, and the scorers. Strategies never build an evaluator;
/// they ask the problem.
///
/// Fitness batches: `batchSize` examples (nil, or at least the split: the whole train split)
/// drawn without replacement from a stream per rotation, a new draw every `rotateEvery` steps
/// (1: a fresh minibatch every step). Genome candidates are scored by the full evaluator; move
/// candidates incrementally, from a cache of the incumbent on the current batch, rebuilt only
/// when the batch rotates or the incumbent is not the cached genome; offspring from the caches
/// of their breeders (`prepareBreeders`), held within `cacheBudget` bytes (default 0: none).
///
/// Counters (what `SearchRun` reports as `evals` and `int_ops`): every full evaluation of a
/// genome on the batch is one evaluation and `integerOperations(genome)` per example, counted
/// per genome; an incremental score is one evaluation and the scorer's own operation count; a
/// candidate equal to a genome whose score is held (candidate 0 of a move list, an elite or a
/// child without moves scored from its breeder's cache) is free. A cache rebuild is a full
/// evaluation, counted where an uninterrupted run needs one (the first step, a new batch, a
/// breeder that was scored by a full evaluation), so a resumed run counts as an uninterrupted
/// one. Copying a cache and applying the moves a candidate was already priced by is not counted.
public final class SearchProblem {
    public let architecture: Architecture
    public let train: QuantizedDataset
    public let fitnessKind: FitnessKind
    /// Softmax scale of the cross-entropy (nil: `1 / sqrt(n_{L-1})`).
    public let temperature: Double?
    public let batchSize: Int?
    public let rotateEvery: Int
    /// Most bytes the breeders' caches may hold (both generations while they are replaced);
    /// 0: offspring are scored by full evaluations.
    public let cacheBudget: Int
    public let threads: Int
    /// How genomes' first layers are drawn before calibration (`initialGenomes`).
    public let firstLayer: FirstLayerStart
    public let evaluator: PopulationEvaluator
    private var scorer: IncrementalScorer?
    /// The processes of a distributed run (nil: this process alone). With it, every candidate
    /// (a move list or a genome) is scored on each rank's block of the batch and the Int64
    /// totals are summed over the ranks (`stepFitness`).
    public var communicator: Communicator?
    private var scorerRotation = -1
    private var cachedBatch: (rotation: Int, batch: ExampleBatch)?
    /// Full rebuilds of the incremental cache so far (logging and tests).
    public private(set) var rebuilds = 0
    /// The breeders' caches, the rotation of their batch, and the last offspring scored from
    /// them (with the step), from which the next breeders' caches are derived.
    private var pool: CachePool?
    private var poolRotation = -1
    private var lastOffspring: (step: Int, offspring: Offspring)?
    /// Work outside `stepFitness` not yet taken by `takeCost()`, and the last step whose
    /// incumbent cache rebuild was counted.
    private var pending = (evaluations: 0, operations: 0.0)
    private var countedRebuildStep = -1

    public init(
        architecture: Architecture, train: QuantizedDataset, fitness: FitnessKind = .xent,
        temperature: Double? = nil, batchSize: Int? = nil, rotateEvery: Int = 1, cacheBudget: Int = 0,
        threads: Int? = nil, firstLayer: FirstLayerStart = .random
    ) {
        precondition(train.featureCount == architecture.layerSizes[0], "train features do not match the input layer")
        precondition(train.classCount <= architecture.layerSizes.last!, "more classes than outputs")
        precondition(batchSize.map { $0 >= 1 } ?? true && rotateEvery >= 1, "batch size and rotation must be positive")
        precondition(cacheBudget >= 0, "the cache budget cannot be negative")
        self.architecture = architecture
        self.train = train
        self.fitnessKind = fitness
        self.temperature = temperature ?? SearchProblem.levelsTemperature(architecture)
        self.batchSize = batchSize
        self.rotateEvery = rotateEvery
        self.cacheBudget = cacheBudget
        self.firstLayer = firstLayer
        evaluator = PopulationEvaluator(layerSizes: architecture.layerSizes, threads: threads)
        self.threads = evaluator.threads
    }

    /// The default fitness temperature of a multi-bit network: `1 / sqrt(n_{L-1})` (the `sign`
    /// default) divided by the root mean square of a calibrated level, about `(2^K - 1) / sqrt(6)`
    /// (half the levels 0, the rest spread evenly up to the top), so its logits are as spread
    /// as a sign network's; nil (the evaluator's default) for `sign`. With the sign default a
    /// 4-bit text network's softmax was about six times too peaked.
    static func levelsTemperature(_ architecture: Architecture) -> Double? {
        guard architecture.activation.isLevels else { return nil }
        let sizes = architecture.layerSizes
        let rms = Double(architecture.activation.maxLevel) / 6.0.squareRoot()
        return LossTable.defaultTemperature(layerSizes: sizes) / max(1, rms)
    }

    /// A stable text of the settings that change results.
    public var settingsDescription: String {
        let q = architecture.quantizer
        return
            "layers=\(architecture.layerSizes) activation=\(architecture.activation.name) q=\(q.low)/\(q.high)/\(q.bits)/\(q.scalingName)/\(q.featureRanges.count) fitness=\(fitnessKind.rawValue) tau=\(temperature.map { "\($0)" } ?? "default") batch=\(batchSize.map(String.init) ?? "all") rotate=\(rotateEvery) train=\(train.count)"
            + (firstLayer == .random ? "" : " first_layer=\(firstLayer.rawValue)")
    }

    /// Examples per fitness batch.
    public var fitnessBatchCount: Int { min(batchSize ?? train.count, train.count) }

    /// The example indices of the fitness batch at `step`; nil for the whole train split.
    public func batchIndices(step: Int, seed: UInt64) -> [Int]? {
        guard let batchSize, batchSize < train.count else { return nil }
        var rng = Xoshiro256(seed: seed, stream: StreamPath.batch(step / rotateEvery))
        return train.sampleIndices(batchSize, using: &rng)
    }

    /// The draw a step's fitness batch comes from: 0 throughout when the batch is the whole
    /// train split (nothing to redraw), else one draw per `rotateEvery` steps.
    func rotation(step: Int) -> Int {
        guard let batchSize, batchSize < train.count else { return 0 }
        return step / rotateEvery
    }

    /// The fitness batch at `step`, laid out for the full evaluator.
    public func batch(step: Int, seed: UInt64) -> ExampleBatch {
        let rotation = rotation(step: step)
        if let cachedBatch, cachedBatch.rotation == rotation { return cachedBatch.batch }
        let batch = batchIndices(step: step, seed: seed).map { train.batch($0) } ?? train.all
        cachedBatch = (rotation, batch)
        return batch
    }

    /// The indices into the train split of the examples this rank scores at `step`: the
    /// fitness batch alone (nil: the whole split), its `ownedBlock` in a distributed run.
    func ownedIndices(step: Int, seed: UInt64) -> [Int]? {
        let indices = batchIndices(step: step, seed: seed)
        guard let communicator, communicator.size > 1 else { return indices }
        let block = ownedBlock
        return indices.map { Array($0[block]) } ?? Array(block)
    }

    /// The examples this rank scores at `step`, laid out for the full evaluator (the batch
    /// alone; its block in a distributed run).
    func ownedBatch(step: Int, seed: UInt64) -> ExampleBatch {
        guard let communicator, communicator.size > 1 else { return batch(step: step, seed: seed) }
        let rotation = rotation(step: step)
        if let cachedBlock, cachedBlock.rotation == rotation { return cachedBlock.batch }
        let batch = train.batch(ownedIndices(step: step, seed: seed)!)
        cachedBlock = (rotation, batch)
        return batch
    }
    private var cachedBlock: (rotation: Int, batch: ExampleBatch)?

    /// Fitness values from this rank's scores: alone, the scores themselves; distributed,
    /// their Int64 loss units and correct counts (and the operations) summed over the ranks in
    /// one all-reduce, so every rank gets what one process would. A failed collective is kept
    /// for `takeCommunicationError` and gives NaN.
    private func reduced(_ scores: [Score], operations: Double) -> (fitness: [Double], operations: Double) {
        guard let communicator, communicator.size > 1 else { return (scores.map(fitnessKind.fitness), operations) }
        let (totals, summed) = summedOverRanks(
            scores, count: fitnessBatchCount, communicator: communicator, extra: Int64(operations.rounded()))
        return (totals.map(fitnessKind.fitness), Double(summed))
    }

    /// `scores` of this rank's examples summed over the ranks (loss units and correct counts,
    /// each as a score of `count` examples), with one more integer summed alongside. A failed
    /// collective is kept for `takeCommunicationError` and gives NaN losses.
    private func summedOverRanks(
        _ scores: [Score], count: Int, communicator: Communicator, extra: Int64 = 0
    ) -> (scores: [Score], extra: Int64) {
        do throws(CommunicationError) { return try communicator.summed(scores, count: count, extra: extra) } catch {
            communicationError = communicationError ?? error
            return ([Score](repeating: Score(correct: 0, count: count, loss: .nan), count: scores.count), 0)
        }
    }

    /// The fitness of each candidate at `step`, for a strategy's own scoring (outside the
    /// step's candidates, e.g. re-scores in `tell`): its evaluations and operations are added to
    /// what `takeCost()` returns. Move candidates are relative to `incumbent`.
    public func fitness(of candidates: Candidates, incumbent: TernaryNetwork, step: Int, seed: UInt64) -> [Double] {
        let (fitness, operations) = fitness(
            of: candidates, range: 0..<candidates.count, incumbent: incumbent, step: step, seed: seed)
        pending.evaluations += candidates.paidCount
        pending.operations += operations
        return fitness
    }

    /// The work done outside `stepFitness` since the last call (strategies' own scoring, cache
    /// rebuilds), and starts counting again.
    public func takeCost() -> (evaluations: Int, operations: Double) {
        defer { pending = (0, 0) }
        return pending
    }

    /// The fitness of candidates `range` only, and the operations that took. Distributed, every
    /// kind of candidate is scored data-parallel: this rank scores them on its block of the batch
    /// only (`ownedBlock`: its incremental cache, its breeders' caches and its full evaluations
    /// hold just those examples), and `reduced` sums the integer totals over the ranks.
    func fitness(
        of candidates: Candidates, range: Range<Int>, incumbent: TernaryNetwork, step: Int, seed: UInt64
    )
        -> (fitness: [Double], operations: Double)
    {
        switch candidates {
        case let .genomes(genomes):
            let batch = ownedBatch(step: step, seed: seed)
            let scores = evaluator.scores(of: Array(genomes[range]), on: batch, temperature: temperature)
            return reduced(scores, operations: fullOperations(genomes[range], examples: batch.count))
        case let .moves(list):
            let scorer = synchronizedScorer(incumbent, step: step, seed: seed)
            guard let communicator, communicator.size > 1 else {
                return (scorer.scores(of: list, range: range).map(fitnessKind.fitness), Double(scorer.lastOperations))
            }
            let scores = scorer.totals(of: list, range: range).map {
                Score(correct: $0.correct, count: scorer.exampleCount, lossUnits: $0.units)
            }
            return reduced(scores, operations: Double(scorer.lastOperations))
        case let .offspring(offspring):
            lastOffspring = (step, offspring)
            let cached = range.filter { offspring.slots[$0] >= 0 }, full = range.filter { offspring.slots[$0] < 0 }
            var scores = [Score](repeating: Score(correct: 0, count: 0, lossUnits: 0), count: range.count),
                operations = 0.0
            if let pool, !cached.isEmpty {
                precondition(
                    poolRotation == rotation(step: step),
                    "offspring of step \(step) scored from caches of another batch")
                for (index, score) in zip(
                    cached, pool.scores(of: offspring.moves, slots: offspring.slots, items: cached))
                {
                    scores[index - range.lowerBound] = score
                }
                operations += Double(pool.lastOperations)
            } else {
                precondition(cached.isEmpty, "offspring name breeder caches that were never prepared")
            }
            if !full.isEmpty {
                let batch = ownedBatch(step: step, seed: seed)
                let genomes = full.map { offspring.genomes[$0] }
                for (index, score) in zip(full, evaluator.scores(of: genomes, on: batch, temperature: temperature)) {
                    scores[index - range.lowerBound] = score
                }
                operations += fullOperations(genomes, examples: batch.count)
            }
            return reduced(scores, operations: operations)
        }
    }

    /// Operations of full evaluations of `genomes` on `examples` examples, genome by genome.
    func fullOperations(_ genomes: some Sequence<TernaryNetwork>, examples: Int) -> Double {
        genomes.reduce(0) { $0 + SearchProblem.integerOperations($1) } * Double(examples)
    }

    /// The first collective that failed inside `fitness(of:...)` (a strategy's own re-scores
    /// cannot throw); `takeCommunicationError` hands it to the session once per step.
    private var communicationError: CommunicationError?

    /// Keeps the first failure of a collective for `takeCommunicationError`.
    func noteCommunicationError(_ error: CommunicationError) { communicationError = communicationError ?? error }

    /// The failure of a collective since the last call, if any (and forgets it).
    public func takeCommunicationError() -> CommunicationError? {
        defer { communicationError = nil }
        return communicationError
    }

    /// The fitness of a step's candidates, the evaluations they cost (`Candidates.paidCount`)
    /// and the operations: `fitness(of:range:...)` of them all. Distributed, every rank scores
    /// every candidate on its block of the batch and one all-reduce sums the totals (16 bytes
    /// per candidate cross the wire; nothing that grows with the batch is repeated on every
    /// rank), so every rank returns the values one process would.
    ///
    /// With a `stop` that can be raised, the candidates are scored in slices of about a million
    /// candidate-examples (a tenth of a second or so), `stop` asked before each; nil when it was
    /// raised before the last slice. Every candidate's score and operations are its own, so the
    /// slices change nothing but when `stop` is heard (run distributed, pass `never`: the ranks
    /// decide at step boundaries).
    public func stepFitness(
        of candidates: Candidates, incumbent: TernaryNetwork, step: Int, seed: UInt64,
        until stop: StopSignal = .never
    )
        throws(CommunicationError) -> (fitness: [Double], evaluations: Int, operations: Double)?
    {
        let count = candidates.count
        let slice = stop.canBeRaised ? max(1, (1 << 20) / max(1, fitnessBatchCount)) : max(1, count)
        var fitness: [Double] = [], operations = 0.0
        fitness.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: slice) {
            if stop.isRaised { return nil }
            let part = self.fitness(
                of: candidates, range: start..<min(count, start + slice), incumbent: incumbent, step: step, seed: seed)
            fitness += part.fitness
            operations += part.operations
        }
        if let error = takeCommunicationError() { throw error }
        return (fitness, candidates.paidCount, operations)
    }

    /// Breeders whose caches the budget holds at once (old and new generation together).
    public var breederCapacity: Int {
        let perCache = CachePool.byteCount(
            layerSizes: architecture.layerSizes, examples: fitnessBatchCount,
            context: train.windows?.context ?? 0)
        return cacheBudget / max(1, 2 * perCache)
    }

    /// Prepares the caches of `breeders` (indices into `population`, the generation last
    /// scored; at most `breederCapacity`) on the batch of `step`: breeder `i` becomes slot `i`
    /// for the offspring of `step`. A breeder scored at the previous step from a cache on the
    /// same batch is derived from that cache and its moves; any other is rebuilt.
    /// `scoredFromCache[b]` records whether genome `b` was scored from a cache (the strategy
    /// keeps it in its checkpointed state): the rebuilds are counted from it, so a resumed run,
    /// whose caches start empty, counts what an uninterrupted run does.
    public func prepareBreeders(
        _ breeders: [Int], of population: [TernaryNetwork], scoredFromCache: [Bool], step: Int, seed: UInt64
    ) {
        precondition(
            breeders.count <= breederCapacity, "\(breeders.count) breeders exceed the capacity \(breederCapacity)")
        precondition(scoredFromCache.count == population.count, "one flag per genome")
        let rotation = rotation(step: step)
        let sameBatch = step > 0 && rotation == self.rotation(step: step - 1)
        let last = lastOffspring.flatMap { last in
            last.step == step - 1 && sameBatch && poolRotation == rotation
                && last.offspring.genomes.count == population.count
                ? last.offspring : nil
        }
        var sources: [CachePool.Source] = []
        for b in breeders {
            if let last, last.slots[b] >= 0 {
                sources.append(.derive(slot: last.slots[b], moves: last.moves[b]))
            } else {
                sources.append(.rebuild(population[b]))
            }
            if !(sameBatch && scoredFromCache[b]) {
                pending.evaluations += 1
                pending.operations += fullOperations([population[b]], examples: fitnessBatchCount)
            }
        }
        let pool =
            self.pool ?? CachePool(layerSizes: architecture.layerSizes, temperature: temperature, threads: threads)
        self.pool = pool
        pool.replace(with: sources, on: train, indices: ownedIndices(step: step, seed: seed))
        poolRotation = rotation
        lastOffspring = nil
        assert(
            breeders.indices.allSatisfy { pool.genome($0) == population[breeders[$0]] },
            "a derived cache is not its breeder")
    }

    /// Tells the problem that the incumbent changed by `moves` (so its cache follows).
    public func incumbentMoved(_ moves: [Move]) {
        guard !moves.isEmpty, let scorer else { return }
        scorer.apply(moves)
    }

    /// The incremental scorer holding `incumbent` on the batch of `step` (distributed: on this
    /// rank's block of it).
    func synchronizedScorer(_ incumbent: TernaryNetwork, step: Int, seed: UInt64) -> IncrementalScorer {
        // A shard per thread once every shard holds 4,096 examples or more: rebuilds and applied
        // moves then run on all cores (local search 1.2x faster per step on 20,000 text windows,
        // 2 threads); on smaller batches one shard is faster (digits: 0.8x sharded).
        let scorer =
            self.scorer
            ?? IncrementalScorer(
                layerSizes: architecture.layerSizes, temperature: temperature, threads: threads,
                shards: ownedBlock.count >= 4096 * threads ? threads : 1)
        self.scorer = scorer
        let rotation = rotation(step: step)
        if step != countedRebuildStep && (step == 0 || rotation != self.rotation(step: step - 1)) {
            // A cache an uninterrupted run rebuilds here (its first step, a new batch).
            pending.evaluations += 1
            pending.operations += fullOperations([incumbent], examples: fitnessBatchCount)
            countedRebuildStep = step
        }
        if rotation != scorerRotation || scorer.genome != incumbent {
            scorer.rebuild(incumbent, on: train, indices: ownedIndices(step: step, seed: seed))
            scorerRotation = rotation
            rebuilds += 1
        }
        return scorer
    }

    /// The positions in the fitness batch whose examples this rank's cache holds: all of them
    /// alone, a contiguous block of them in a distributed run.
    var ownedBlock: Range<Int> {
        guard let communicator, communicator.size > 1 else { return 0..<fitnessBatchCount }
        return WorkSplit.range(count: fitnessBatchCount, rank: communicator.rank, size: communicator.size)
    }

    /// `genome`'s score on `data` by a full evaluation. Distributed, each rank evaluates its
    /// contiguous block of `data` and the loss units and correct counts are summed over the
    /// ranks (every rank must call it for the same data in the same order); a failed
    /// collective gives a NaN loss and is kept for `takeCommunicationError`.
    public func score(_ genome: TernaryNetwork, on data: QuantizedDataset) -> Score {
        guard let communicator, communicator.size > 1 else {
            return evaluator.scores(of: [genome], on: data.all, temperature: temperature)[0]
        }
        let block = WorkSplit.range(count: data.count, rank: communicator.rank, size: communicator.size)
        let mine =
            block.isEmpty
            ? Score(correct: 0, count: 0, lossUnits: 0)
            : evaluator.scores(of: [genome], on: data.batch(Array(block)), temperature: temperature)[0]
        return summedOverRanks([mine], count: data.count, communicator: communicator).scores[0]
    }

    /// Integer operations of one forward pass of `network` on one example: an add or subtract
    /// per nonzero first-layer weight, and xor, and, popcount per 64-weight word after.
    public static func integerOperations(_ network: TernaryNetwork) -> Double {
        var ops = Double(network.weights[0].count - network.weights[0].zeroCount)
        for matrix in network.weights.dropFirst() { ops += 3 * Double(matrix.rowCount * matrix.wordsPerRow) }
        return ops
    }
}
