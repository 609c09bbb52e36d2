import TernaryCore

/// A generational genetic algorithm on ternary genomes: elitism, then selection, crossover
/// and mutation on the bit planes for the rest of the population.
public struct GeneticAlgorithm: SearchStrategy {
    /// Genomes per generation.
    public var populationSize: Int
    /// The best `eliteCount` genomes are copied unchanged into the next generation (and
    /// scored again on its batch).
    public var eliteCount: Int
    public var selection: Selection
    public var crossover: Crossover
    /// Probability that an offspring comes from two parents rather than a copy of one.
    public var crossoverProbability: Double
    public var mutation: Mutation
    /// Fraction of zero weights in the initial genomes.
    public var initialZeroFraction: Double

    public init(populationSize: Int = 256, eliteCount: Int = 2, selection: Selection = .tournament(size: 3),
                crossover: Crossover = .uniform, crossoverProbability: Double = 0.5,
                mutation: Mutation = Mutation(weightRate: 0.002, thresholdRate: 0.02, thresholdStep: 2),
                initialZeroFraction: Double = 1.0 / 3) {
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
    }

    /// The GA's state: the scored parents, the offspring being built, the generation.
    public struct State: Sendable {
        /// Genomes of the current generation (what `ask` returns).
        public internal(set) var genomes: [TernaryNetwork]
        /// Their fitness, once told (empty before).
        public internal(set) var fitness: [Double]
        /// Generations told so far.
        public internal(set) var generation: Int
        /// Offspring storage reused every generation (double buffer): no genome is allocated
        /// after the first generation.
        var spare: [TernaryNetwork]

        public init(genomes: [TernaryNetwork], fitness: [Double], generation: Int) {
            self.genomes = genomes
            self.fitness = fitness
            self.generation = generation
            spare = genomes.map { TernaryNetwork(layerSizes: $0.layerSizes, activation: $0.activation, quantizer: $0.quantizer) }
        }
    }

    public func initialState(problem: SearchProblem, seed: UInt64) -> State {
        State(genomes: problem.initialGenomes(count: populationSize, zeroFraction: initialZeroFraction, seed: seed),
              fitness: [], generation: 0)
    }

    public func ask(_ state: inout State, problem: SearchProblem, seed: UInt64) -> Candidates {
        guard !state.fitness.isEmpty else { return .genomes(state.genomes) }
        let threads = problem.threads
        let ranking = rankBestFirst(state.fitness)
        let parents = state.genomes, fitness = state.fitness, generation = state.generation
        Parallel.updateEach(&state.spare, workers: threads) { individual, child, _ in
            if individual < eliteCount {
                copyGenome(parents[ranking[individual]], into: &child)
                return
            }
            var rng = Xoshiro256(seed: seed, stream: StreamPath.offspring(generation, individual))
            let first = selection.pick(fitness: fitness, ranking: ranking, using: &rng)
            if rng.uniformDouble() < crossoverProbability {
                let second = selection.pick(fitness: fitness, ranking: ranking, using: &rng)
                crossover.apply(parents[first], parents[second], into: &child, using: &rng)
            } else {
                copyGenome(parents[first], into: &child)
            }
            mutation.apply(to: &child, using: &rng)
            child.checkInvariants()
        }
        swap(&state.genomes, &state.spare)
        state.fitness = []
        return .genomes(state.genomes)
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
        case let .truncation(fraction): selected = "truncation(\(fraction))"
        }
        return "ga population=\(populationSize) elite=\(eliteCount) selection=\(selected) crossover=\(crossover.rawValue) p=\(crossoverProbability) mutation=\(mutation.weightRate)/\(mutation.thresholdRate)/\(mutation.thresholdStep) zeros=\(initialZeroFraction)"
    }

    public func encode(_ state: State, into writer: inout BinaryWriter) {
        writer.writeCount(state.generation)
        writer.writeCount(state.genomes.count)
        for genome in state.genomes { writer.write(genome) }
        writer.writeCount(state.fitness.count)
        for value in state.fitness { writer.write(value) }
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
        guard fitnessCount == 0 || fitnessCount == count else { throw reader.fail("holds \(fitnessCount) fitness values for \(count) genomes") }
        var fitness = [Double]()
        for _ in 0..<fitnessCount { fitness.append(try reader.read(Double.self)) }
        return State(genomes: genomes, fitness: fitness, generation: generation)
    }
}

/// Sets every hidden threshold to the median of that neuron's sums on `sample`, so each
/// hidden neuron fires for about half of the sample: sign networks start with informative
/// activations instead of neurons stuck at +1 or -1. Layer by layer, since a layer's sums
/// depend on the thresholds before it.
public func calibrateThresholds(_ genomes: inout [TernaryNetwork], on sample: ExampleBatch,
                                evaluator: PopulationEvaluator) {
    guard let first = genomes.first, sample.count > 0 else { return }
    // A block of genomes at a time: the sums of a block are what is held (a genome's
    // thresholds depend on it alone, so the blocks change nothing but the memory).
    for start in stride(from: 0, to: genomes.count, by: calibrationBlock) {
        let range = start..<min(genomes.count, start + calibrationBlock)
        var block = Array(genomes[range])
        for layer in first.thresholds.indices {
            let width = first.layerSizes[layer + 1]
            let sums = evaluator.layerSums(of: block, on: sample, layer: layer)
            Parallel.updateEach(&block, workers: evaluator.threads) { index, genome, _ in
                var column = [Int32](repeating: 0, count: sample.count)
                for neuron in 0..<width {
                    for b in 0..<sample.count { column[b] = sums[index][b * width + neuron] }
                    column.sort()
                    // Fire (s >= theta) for the upper half: theta = the upper median.
                    genome.thresholds[layer][neuron] = column[sample.count / 2]
                }
            }
        }
        genomes.replaceSubrange(range, with: block)
    }
}

/// Genomes whose calibration sums are held at once.
public let calibrationBlock = 64
