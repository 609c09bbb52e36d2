import Foundation
import TernaryCore

/// How a run scores and reports, apart from the strategy.
public struct EvolutionSettings: Hashable, Sendable {
    /// Examples drawn (without replacement, seeded) for each generation's minibatch; the whole
    /// training split when larger than it.
    public var batchSize: Int
    /// What the strategy maximises.
    public var fitness: FitnessKind
    /// Softmax scale of the cross-entropy (nil: `1 / sqrt(n_{L-1})`).
    public var temperature: Double?
    /// Every this many generations the batch-best genome is scored on the full train and test
    /// splits (and may become the best-ever).
    public var evaluationInterval: Int
    /// The run seed: every random stream derives from it.
    public var seed: UInt64

    public init(batchSize: Int = 256, fitness: FitnessKind = .xent, temperature: Double? = nil,
                evaluationInterval: Int = 10, seed: UInt64 = 1) {
        precondition(batchSize >= 1, "batchSize must be positive")
        precondition(evaluationInterval >= 1, "evaluationInterval must be positive")
        self.batchSize = batchSize
        self.fitness = fitness
        self.temperature = temperature
        self.evaluationInterval = evaluationInterval
        self.seed = seed
    }
}

/// What one generation did, for observers (the experiment runner turns these into CSV rows).
public struct GenerationStatistics: Sendable, Equatable {
    /// Generations completed, 1 for the first.
    public var generation: Int
    /// Best, mean and standard deviation of this generation's minibatch fitness (NaN excluded).
    public var bestFitness: Double
    public var meanFitness: Double
    public var fitnessStandardDeviation: Double
    /// Genome evaluations so far (minibatch scorings, counted per genome).
    public var evaluations: Int
    /// Wall-clock seconds of the run so far, across resumes (not deterministic).
    public var wallSeconds: Double
    /// Full-split figures of this generation's batch-best genome, at evaluation points.
    public var evaluation: FullEvaluation?
}

/// A genome scored on whole splits.
public struct FullEvaluation: Sendable, Equatable {
    public var train: Score
    public var test: Score?
}

/// A run of an evolution strategy on a dataset: draws each generation's batch, asks the
/// strategy for genomes, scores them with the multiplication-free evaluator on all cores, tells
/// the strategy, and keeps the best-ever genome by full-train fitness.
public final class Evolution<Strategy: EvolutionStrategy> {
    public let strategy: Strategy
    public let architecture: Architecture
    public let settings: EvolutionSettings
    public let train: QuantizedDataset
    public let test: QuantizedDataset?
    let evaluator: PopulationEvaluator
    /// The strategy's state after the last generation.
    public internal(set) var state: Strategy.State
    /// Genome evaluations so far.
    public internal(set) var evaluations = 0
    /// Generations completed.
    public internal(set) var generation = 0
    /// The genome with the best full-train fitness seen at an evaluation point, and its scores.
    public internal(set) var bestEver: (genome: TernaryNetwork, evaluation: FullEvaluation)?
    /// Seconds spent scoring genomes on the full splits (logging, not search), so callers can
    /// budget search time alone.
    public internal(set) var evaluationSeconds = 0.0
    /// The batch-best genome of the last generation run in this process.
    var lastBest: TernaryNetwork?
    /// Wall seconds before this process (from a checkpoint).
    var priorSeconds = 0.0
    var started = DispatchTime.now().uptimeNanoseconds

    /// A new run: the strategy's initial population, thresholds set on a seeded sample of
    /// `train`.
    public init(strategy: Strategy, architecture: Architecture, train: QuantizedDataset,
                test: QuantizedDataset? = nil, settings: EvolutionSettings = EvolutionSettings(),
                threads: Int? = nil) {
        precondition(train.featureCount == architecture.layerSizes[0], "train features do not match the input layer")
        precondition(train.classCount <= architecture.layerSizes.last!, "more classes than outputs")
        self.strategy = strategy
        self.architecture = architecture
        self.settings = settings
        self.train = train
        self.test = test
        evaluator = PopulationEvaluator(layerSizes: architecture.layerSizes, threads: threads)
        var rng = Xoshiro256(seed: settings.seed, stream: StreamPath.calibration)
        let sample = train.batch(train.sampleIndices(min(train.count, max(settings.batchSize, 256)), using: &rng))
        state = strategy.initialState(architecture: architecture, seed: settings.seed, sample: sample,
                                      evaluator: evaluator)
    }

    /// Worker threads used for scoring and for creating offspring.
    public var threads: Int { evaluator.threads }

    /// Wall-clock seconds of the run, across resumes.
    public var wallSeconds: Double {
        priorSeconds + Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// The minibatch of generation `generation` (0-based).
    func batch(for generation: Int) -> ExampleBatch {
        var rng = Xoshiro256(seed: settings.seed, stream: StreamPath.batch(generation))
        return train.batch(train.sampleIndices(settings.batchSize, using: &rng))
    }

    /// Runs one generation and returns its statistics.
    @discardableResult
    public func step() -> GenerationStatistics {
        let genomes = strategy.ask(&state, seed: settings.seed, threads: evaluator.threads)
        let scores = evaluator.scores(of: genomes, on: batch(for: generation), temperature: settings.temperature)
        let fitness = scores.map { settings.fitness.fitness(of: $0) }
        strategy.tell(&state, fitness: fitness)
        evaluations += genomes.count
        generation += 1

        let finite = fitness.filter { !$0.isNaN }
        let mean = finite.reduce(0, +) / Double(max(1, finite.count))
        let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, finite.count))
        let bestIndex = rankBestFirst(fitness)[0]
        lastBest = genomes[bestIndex]
        var statistics = GenerationStatistics(
            generation: generation, bestFitness: fitness[bestIndex], meanFitness: mean,
            fitnessStandardDeviation: variance.squareRoot(), evaluations: evaluations,
            wallSeconds: wallSeconds, evaluation: nil)
        if generation % settings.evaluationInterval == 0 {
            statistics.evaluation = evaluateCandidate(genomes[bestIndex])
        }
        return statistics
    }

    /// Scores `genome` on the full splits and makes it the best-ever if its full-train
    /// fitness is better.
    func evaluateCandidate(_ genome: TernaryNetwork) -> FullEvaluation {
        let start = DispatchTime.now().uptimeNanoseconds
        let evaluation = evaluate(genome)
        evaluationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if bestEver == nil || isBetter(settings.fitness.fitness(of: evaluation.train),
                                       than: settings.fitness.fitness(of: bestEver!.evaluation.train)) {
            bestEver = (genome, evaluation)
        }
        return evaluation
    }

    /// Scores the last generation's batch-best genome on the full splits now (when a budget
    /// ends between evaluation points) and returns it; nil before the first generation of this
    /// process.
    @discardableResult
    public func evaluateLatest() -> FullEvaluation? {
        lastBest.map(evaluateCandidate)
    }

    /// Scores `genome` on the whole train split and, if there is one, the test split.
    public func evaluate(_ genome: TernaryNetwork) -> FullEvaluation {
        let trainScore = evaluator.scores(of: [genome], on: train.all, temperature: settings.temperature)[0]
        let testScore = test.map { evaluator.scores(of: [genome], on: $0.all, temperature: settings.temperature)[0] }
        return FullEvaluation(train: trainScore, test: testScore)
    }

    /// Runs until `generations` more generations or `seconds` of wall time (whichever comes
    /// first; nil means no limit), calling `observer` after every generation; the observer
    /// returns false to stop early (Ctrl-C, a target reached).
    public func run(generations: Int? = nil, seconds: Double? = nil,
                    observer: (GenerationStatistics) -> Bool = { _ in true }) {
        precondition(generations != nil || seconds != nil, "give a generation or a time budget")
        let deadline = seconds.map { wallSeconds + $0 }
        var done = 0
        while generations.map({ done < $0 }) ?? true {
            if let deadline, wallSeconds >= deadline { break }
            let statistics = step()
            done += 1
            if !observer(statistics) { break }
        }
    }
}
