import TernaryCore

/// A generational genetic algorithm on ternary genomes: elitism, then selection, crossover
/// and mutation on the bit planes for the rest of the population.
///
/// Offspring are scored incrementally where they can be (<doc:Strategies>): a child is
/// expressed as moves from the parent it differs from least (`Difference`), and when at most
/// 1/16 of its weights differ it is scored from that parent's cache on the batch; the parents
/// that breed such children get caches (`SearchProblem.prepareBreeders`, as many as the
/// problem's budget holds, elites first, then in the order of the children; a cache that must
/// be rebuilt, a full evaluation, only for an elite or a parent of two or more such children).
/// An elite is its parent without moves: free. A uniform-crossover child, one too far from both
/// parents, or one whose parent has no cache is scored by a full evaluation. The scores are the
/// same either way, bit for bit, so the run does not depend on the budget; only the counters do.
public struct GeneticAlgorithm: SearchStrategy {
    /// Genomes per generation.
    public var populationSize: Int
    /// The best `eliteCount` genomes are copied unchanged into the next generation (scored
    /// again when the batch changes, from their caches).
    public var eliteCount: Int
    public var selection: Selection
    public var crossover: Crossover
    /// Probability that an offspring comes from two parents rather than a copy of one.
    public var crossoverProbability: Double
    /// The largest share of the weights in which a child scored from its parent's cache may
    /// differ from it; children further away are evaluated in full. Changes speed, never
    /// scores. 1/256 by default: with 1/16 a neuron-crossover GA on digits (64-128-10, batch
    /// 256) ran 2.6x slower, a move costing about a twentieth of a full evaluation there.
    public var cachedChildFraction = 1.0 / 256
    public var mutation: Mutation
    /// Fraction of zero weights in the initial genomes.
    public var initialZeroFraction: Double
    /// Start every genome from its data-set output layer (`SearchProblem.readoutInitialized`)
    /// instead of random output trits, as `local` and `es` do.
    public var readout: Bool

    /// The defaults, the one place that holds them: the initialiser, the `ga` arm's config keys
    /// (`ternevo help run --keys`) and the docs read them from here. Tuned on the validation
    /// splits of MNIST-5k and digits (the article *MeasuredResults* of TernaryExperiments): 32
    /// genomes, the best 4 kept and the only ones that breed (a (4 + 28) scheme), mutated copies
    /// without crossover, about one mutated weight per child (`Mutation()`), every genome
    /// started from its readout, on a batch of 1,000 examples kept for 200 generations so
    /// children are scored from their parents' caches (256 MiB of them).
    public enum Defaults {
        public static let populationSize = 32
        public static let eliteCount = 4
        /// Truncation to this many parents (`Selection.truncation`).
        public static let parents = 4
        /// The tournament size when tournament selection is chosen instead.
        public static let tournamentSize = 3
        public static let selection = Selection.truncation(count: parents)
        /// No crossover: probability 0 (the operator is then never applied).
        public static let crossover = Crossover.uniform
        public static let crossoverProbability = 0.0
        /// The probability of a crossover when one is chosen.
        public static let chosenCrossoverProbability = 0.5
        public static let initialZeroFraction = 1.0 / 3
        public static let readout = true
        /// The problem the defaults were tuned with (`SearchProblem`'s batch, rotation, and cache budget).
        public static let batchSize = 1000
        public static let rotateEvery = 200
        public static let cacheMegabytes = 256
    }

    public init(
        populationSize: Int = Defaults.populationSize, eliteCount: Int = Defaults.eliteCount,
        selection: Selection = Defaults.selection, crossover: Crossover = Defaults.crossover,
        crossoverProbability: Double = Defaults.crossoverProbability, mutation: Mutation = Mutation(),
        initialZeroFraction: Double = Defaults.initialZeroFraction, readout: Bool = Defaults.readout
    ) {
        precondition(populationSize >= 2, "a population needs at least 2 genomes")
        precondition(eliteCount >= 0 && eliteCount < populationSize, "eliteCount must lie in 0..<populationSize")
        precondition(crossoverProbability >= 0 && crossoverProbability <= 1, "crossoverProbability must lie in [0, 1]")
        self.populationSize = populationSize
        self.eliteCount = eliteCount
        self.selection = selection
        self.crossover = crossover
        self.crossoverProbability = crossoverProbability
        self.mutation = mutation
        self.initialZeroFraction = initialZeroFraction
        self.readout = readout
    }

    /// The GA's state: the scored parents, the offspring being built, the generation.
    public struct State: Sendable {
        /// Genomes of the current generation (what `ask` returns).
        public internal(set) var genomes: [TernaryNetwork]
        /// Their fitness, once told (empty before).
        public internal(set) var fitness: [Double]
        /// Generations told so far.
        public internal(set) var generation: Int
        /// Whether each genome was scored from a breeder's cache (counts its cache as derived,
        /// not rebuilt, when it breeds on the same batch; see `SearchProblem.prepareBreeders`).
        public internal(set) var scoredFromCache: [Bool]
        /// Offspring storage reused every generation (double buffer): no genome is allocated
        /// after the first generation.
        var spare: [TernaryNetwork]

        public init(genomes: [TernaryNetwork], fitness: [Double], generation: Int, scoredFromCache: [Bool] = []) {
            self.genomes = genomes
            self.fitness = fitness
            self.generation = generation
            self.scoredFromCache = scoredFromCache
            spare = genomes.map {
                TernaryNetwork(layerSizes: $0.layerSizes, activation: $0.activation, quantizer: $0.quantizer)
            }
        }
    }

    public func initialState(problem: SearchProblem, seed: UInt64, until stop: StopSignal) -> State? {
        problem.initialGenomes(
            count: populationSize, zeroFraction: initialZeroFraction, readout: readout, seed: seed, until: stop
        )
        .map { State(genomes: $0, fitness: [], generation: 0) }
    }

    /// An offspring being built: its genome and the parent it is scored from (-1: a full
    /// evaluation).
    struct Child: Sendable {
        var genome: TernaryNetwork
        var source = -1
        /// The moves from the source, when known without a scan (an elite, a mutated copy).
        var moves: [Move]?
    }

    public func ask(_ state: inout State, problem: SearchProblem, seed: UInt64) -> Candidates {
        guard !state.fitness.isEmpty else {
            state.scoredFromCache = [Bool](repeating: false, count: state.genomes.count)
            return .genomes(state.genomes)
        }
        let threads = problem.threads
        let ranking = rankBestFirst(state.fitness)
        let parents = state.genomes, fitness = state.fitness, generation = state.generation
        let limit = Int(Double(parents[0].weightCount) * cachedChildFraction)
        let crossover = crossover
        var children = state.spare.map { Child(genome: $0) }
        state.spare = []
        Parallel.updateEach(&children, workers: threads) { individual, child, _ in
            if individual < eliteCount {
                copyGenome(parents[ranking[individual]], into: &child.genome)
                child.source = ranking[individual]
                child.moves = []
                return
            }
            var rng = Xoshiro256(seed: seed, stream: StreamPath.offspring(generation, individual))
            let first = selection.pick(fitness: fitness, ranking: ranking, using: &rng)
            var second = first
            if rng.uniformDouble() < crossoverProbability {
                second = selection.pick(fitness: fitness, ranking: ranking, using: &rng)
                crossover.apply(parents[first], parents[second], into: &child.genome, using: &rng)
                mutation.apply(to: &child.genome, using: &rng)
            } else {
                // A mutated copy: its moves from the parent are the mutation's (no scan).
                copyGenome(parents[first], into: &child.genome)
                var moves: [Move] = []
                mutation.apply(to: &child.genome, using: &rng, recording: &moves)
                child.moves = moves
            }
            child.genome.checkInvariants()
            if let moves = child.moves {
                let weights = moves.count { $0.kind == .trit }
                child.source = weights <= limit ? first : -1
                return
            }
            // The closer parent (the first on a tie); a uniform-crossover child is evaluated in full.
            guard first == second || crossover != .uniform else {
                child.source = -1
                return
            }
            let distance = [first, second].map {
                Difference.weightCount(parents[$0], child.genome, limit: limit) ?? Int.max
            }
            child.source = distance.min()! == Int.max ? -1 : (distance[1] < distance[0] ? second : first)
        }
        // Breeders: the sources, elites first, as many as the problem's budget holds. A cache
        // that must be rebuilt (a full evaluation) pays when it scores two or more children, or
        // an elite (which likely breeds again, from a cache then derived, not rebuilt).
        let flags =
            state.scoredFromCache.count == parents.count
            ? state.scoredFromCache : [Bool](repeating: false, count: parents.count)
        let sameBatch = generation > 0 && problem.rotation(step: generation) == problem.rotation(step: generation - 1)
        var uses = [Int](repeating: 0, count: parents.count)
        for child in children where child.source >= 0 { uses[child.source] += 1 }
        for elite in ranking.prefix(eliteCount) { uses[elite] += 1 }
        var slotOf = [Int](repeating: -1, count: parents.count), breeders: [Int] = []
        let capacity = problem.breederCapacity
        for child in children
        where child.source >= 0 && slotOf[child.source] < 0 && breeders.count < capacity
            && ((sameBatch && flags[child.source]) || uses[child.source] >= 2)
        {
            slotOf[child.source] = breeders.count
            breeders.append(child.source)
        }
        let slots = children.map { $0.source >= 0 ? slotOf[$0.source] : -1 }
        problem.prepareBreeders(breeders, of: parents, scoredFromCache: flags, step: generation, seed: seed)
        let built = children
        let moveLists = Parallel.map(count: built.count, workers: threads) { index, _ in
            slots[index] < 0
                ? []
                : built[index].moves ?? Difference.moves(from: parents[built[index].source], to: built[index].genome)
        }
        var moves = MoveList()
        for list in moveLists { moves.appendCandidate(list) }
        state.spare = state.genomes
        state.genomes = children.map(\.genome)
        state.fitness = []
        state.scoredFromCache = slots.map { $0 >= 0 }
        return .offspring(Offspring(genomes: state.genomes, slots: slots, moves: moves))
    }

    public func tell(_ state: inout State, fitness: [Double], problem: SearchProblem, seed: UInt64) {
        precondition(fitness.count == state.genomes.count, "one fitness per genome")
        state.fitness = fitness
        state.generation += 1
    }

    /// The best genome of the last scored generation (the first genome before any).
    public func incumbent(_ state: State) -> TernaryNetwork {
        state.fitness.isEmpty ? state.genomes[0] : state.genomes[rankBestFirst(state.fitness)[0]]
    }

    public var settingsDescription: String {
        let selected: String
        switch selection {
        case let .tournament(size): selected = "tournament(\(size))"
        case let .truncation(count): selected = "truncation(\(count))"
        }
        return
            "ga population=\(populationSize) elite=\(eliteCount) selection=\(selected) crossover=\(crossover.rawValue) p=\(crossoverProbability) mutation=\(mutation.weightRate.map { "\($0)" } ?? "auto")/\(mutation.thresholdRate)/\(mutation.thresholdStep.map(String.init) ?? "auto") zeros=\(initialZeroFraction)\(readout ? " readout" : "")"
    }

    public func encode(_ state: State, into writer: inout BinaryWriter) {
        writer.writeCount(state.generation)
        writer.writeCount(state.genomes.count)
        for genome in state.genomes { writer.write(genome) }
        writer.writeCount(state.fitness.count)
        for value in state.fitness { writer.write(value) }
        writer.writeCount(state.scoredFromCache.count)
        for flag in state.scoredFromCache { writer.write(flag) }
    }

    public func decode(from reader: inout BinaryReader, problem: SearchProblem) throws(FileFormatError) -> State {
        let generation = try reader.readCount(limit: Int(Int32.max))
        let count = try reader.readCount(limit: 1 << 24)
        guard count == populationSize else {
            throw reader.fail("holds \(count) genomes; this configuration has a population of \(populationSize)")
        }
        var genomes = [TernaryNetwork]()
        for _ in 0..<count { genomes.append(try reader.readNetwork()) }
        let fitnessCount = try reader.readCount(limit: count)
        guard fitnessCount == 0 || fitnessCount == count else {
            throw reader.fail("holds \(fitnessCount) fitness values for \(count) genomes")
        }
        var fitness = [Double]()
        for _ in 0..<fitnessCount { fitness.append(try reader.read(Double.self)) }
        let flagCount = try reader.readCount(limit: count)
        guard flagCount == 0 || flagCount == count else {
            throw reader.fail("holds \(flagCount) cache flags for \(count) genomes")
        }
        var flags = [Bool]()
        for _ in 0..<flagCount { flags.append(try reader.read(Bool.self)) }
        return State(genomes: genomes, fitness: fitness, generation: generation, scoredFromCache: flags)
    }
}
