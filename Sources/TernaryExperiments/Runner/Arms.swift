import Foundation
import TernaryBackprop
import TernaryCore
import TernaryEvolution

/// What every arm is built from: the problem's data and shapes, and how many threads to use.
struct ArmContext {
    var layerSizes: [Int]
    var activation: Activation = .sign
    var quantizer: InputQuantizer
    var train: QuantizedDataset
    var zeroFraction: Double
    var threads: Int?
    /// Processes of the run: the estimates are one process's share (data-parallel arms cache
    /// only their block of the batch).
    var ranks = 1

    /// The default threshold step, `Q sqrt(n0) / 20` (`Mutation.standardThresholdStep`). The arms
    /// pass it (and the GA its weight rate) as a number rather than nil: the strategies'
    /// `settingsDescription`, hashed into records, then reads as it always did.
    var defaultThresholdStep: Int {
        Mutation.standardThresholdStep(levels: quantizer.levels, inputCount: layerSizes[0])
    }
    var weightCount: Int { TernaryNetwork.weightCount(layerSizes: layerSizes) }

    /// Bytes of one genome in memory.
    var genomeBytes: Int { TernaryNetwork.byteCount(layerSizes: layerSizes) }

    /// Bytes one example's inputs take in a batch: `n0` Int16 columns, or for token inputs
    /// (<doc:TextLanguageModelling>) its `context` Int32 column indices.
    var inputBytes: Int { quantizer.tokens.map { 4 * $0.context } ?? 2 * layerSizes[0] }

    /// Bytes of the population evaluator scoring `genomes` genomes on `examples` examples:
    /// the tiled batch, the logits, per-thread scratch.
    func evaluatorBytes(genomes: Int, examples: Int) -> Int {
        let tiles = (examples + 127) / 128
        return tiles * 128 * inputBytes + genomes * examples * layerSizes.last! * 4 + 4 * 200_000
    }

    /// Bytes of the incremental scorer's cache on `examples` examples, per-worker scratch included.
    func scorerBytes(examples: Int) -> Int {
        let padded = (examples + 63) / 64 * 64
        let hidden = layerSizes.dropFirst().dropLast().reduce(0, +)
        let columns = zip(layerSizes.dropFirst().dropFirst(), layerSizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        // One shard per thread, each with its own copy of the genome and the transposed layers.
        let shards = max(1, threads ?? Parallel.coreCount)
        return padded * (inputBytes + 4 * hidden + hidden / 8 + 4 * layerSizes.last! + 16) + shards
            * (columns + genomeBytes)
            + 4 * padded * hidden / 8 + genomeBytes * 4
    }

    /// Examples of a fitness batch of `examples` that one process caches: its block of them.
    func examplesPerRank(_ examples: Int) -> Int { (examples + ranks - 1) / max(1, ranks) }

    /// Additions of one example through the hidden layers, what a start computes: `n0 h1`
    /// (text: `context h1`, one column per token) plus `h_l h_(l+1)` between hidden layers.
    var hiddenAdditionsPerExample: Int {
        let sizes = Array(layerSizes.dropLast())
        guard sizes.count >= 2 else { return 0 }
        return (quantizer.tokens?.context ?? sizes[0]) * sizes[1]
            + zip(sizes.dropFirst(), sizes.dropFirst(2)).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Additions of one genome's start: threshold calibration on `min(train, max(batch, 256))`
    /// examples (`SearchProblem.initialGenomes`), and with `readout` the readout's hidden sums
    /// (the train split; text: at most 16,384 windows).
    func startAdditionsPerGenome(batch: Int?, readout: Bool) -> Int {
        let sample = min(train.count, max(batch ?? 0, 256))
        let readoutExamples = readout ? (quantizer.tokens == nil ? train.count : min(16_384, train.count)) : 0
        return (sample + readoutExamples) * hiddenAdditionsPerExample
    }

    /// Additions per second of a start on this machine now: a few genomes started as the GA
    /// starts them (calibration on up to 1,000 examples, readout; about 100 million additions)
    /// and timed. Nil without hidden layers.
    func measuredStartRate() -> Double? {
        let perGenome = startAdditionsPerGenome(batch: 1000, readout: true)
        guard perGenome > 0 else { return nil }
        let genomes = max(1, min(64, 100_000_000 / perGenome))
        let problem = SearchProblem(
            architecture: Architecture(layerSizes: layerSizes, activation: activation, quantizer: quantizer),
            train: train, batchSize: 1000, threads: threads)
        let start = DispatchTime.now().uptimeNanoseconds
        _ = problem.initialGenomes(count: genomes, zeroFraction: zeroFraction, readout: true, seed: 0, until: .never)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(genomes * perGenome) / max(seconds, 1e-6)
    }
}

extension ExperimentConfig.Arm {
    /// The arm's budget in its own unit: `30 s or 100 generations`, `16 epochs`.
    var budgetText: String {
        let unit = type(of: settings).countKey
        return [
            seconds.map { String(format: "%g s", $0) },
            steps.map { "\($0) \($0 == 1 ? String(unit.dropLast()) : unit)" },
        ].compactMap { $0 }
            .joined(separator: " or ")
    }

    /// The kind's keys and their values as a user writes them, defaults included:
    /// `local: candidates 32, moves 1, threshold_probability 0.1, ...` (`auto`: computed from the data).
    var keysText: String {
        "\(kind): " + keyValues.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}

/// The settings of one kind of arm, read from its config object: the kind's own keys live
/// here, and the runner sees only `makeSession`. Adding a kind is a type and a line in
/// `ArmKinds.all`.
protocol ArmSettings: Sendable {
    /// The `strategy` value naming this kind.
    static var kind: String { get }
    /// The name of the kind's step budget key (`generations`, `steps`, `epochs`).
    static var countKey: String { get }
    /// Steps between logged points when `eval_every` is not given (nil: every step up to 100,
    /// then every 10th up to 1,000, and so on).
    static var defaultEvalEvery: Int? { get }
    /// The kind's own keys with their types, ranges, defaults and meanings: what `read` reads
    /// (through the same key values) and `ternevo help run --keys` prints.
    static var keys: [KeyDescription] { get }
    /// Reads the kind's keys (the budget and `eval_every` are read by the caller).
    static func read(_ reader: inout ConfigReader) throws(DataError) -> Self
    func makeSession(_ context: ArmContext, seed: UInt64) -> SearchSession
    /// The most memory the arm's session holds at once, in bytes (an estimate from the sizes,
    /// made before anything is allocated), and the key that drives it.
    func estimatedBytes(_ context: ArmContext) -> (bytes: Int, key: String)
    /// Learns the arm's step budget (a cosine schedule's length); most kinds ignore it.
    mutating func adopt(stepBudget: Int?)
    /// The one-arm command that runs this kind (`evolve`, the default, or `train`).
    static var command: String { get }
    /// Integer additions of the arm's start (random genomes, threshold calibration, readout),
    /// before its first step; 0 when it has none worth telling.
    func startAdditions(_ context: ArmContext) -> Int
}

extension ArmSettings {
    mutating func adopt(stepBudget: Int?) {}
    static var command: String { "evolve" }
    func startAdditions(_ context: ArmContext) -> Int { 0 }
}

/// The registry of arm kinds: adding a strategy to configs and commands is its settings type
/// and one line here (the article AddingAStrategy of TernaryEvolution).
enum ArmKinds {
    static let all: [any ArmSettings.Type] = [
        GASettings.self, LocalSettings.self, ESSettings.self, BackpropSettings<STEKind>.self,
        BackpropSettings<FloatKind>.self,
    ]
    static var names: [String] { all.map { $0.kind } }
    /// The kinds a one-arm command runs, in registry order (`evolve`: ga, local, es).
    static func names(command: String) -> [String] { all.filter { $0.command == command }.map { $0.kind } }
}

/// Shared problem keys of the evolution arms: the fitness and how the start draws the first layer.
struct FitnessSettings: Sendable {
    /// The largest threshold step of every evolution arm (read by each kind with its own keys).
    static let thresholdStepKey = IntegerKey(
        "threshold_step", 1...1_000_000_000, note: "Q sqrt(n0) / 20", "largest threshold step")
    var fitness: FitnessKind
    var temperature: Double?
    var firstLayer: FirstLayerStart
    static let fitnessKey = ChoiceKey(
        "fitness", ["xent", "accuracy"], default: "xent", "minus the mean cross-entropy, or the accuracy, on the batch")
    static let temperatureKey = NumberKey(
        "temperature", 1e-6...1e6, note: "1 / sqrt(n_{L-1})", "softmax temperature tau of the cross-entropy")
    static let firstLayerKey = ChoiceKey(
        "first_layer", FirstLayerStart.allCases.map(\.rawValue), note: "random",
        "the start's first layer: random trits, or (text) detectors of symbol runs drawn from the train split")
    static let keys = [fitnessKey.description, temperatureKey.description, firstLayerKey.description]
    static func read(_ reader: inout ConfigReader) throws(DataError) -> FitnessSettings {
        FitnessSettings(
            fitness: FitnessKind(rawValue: try reader.read(fitnessKey)!)!,
            temperature: try reader.read(temperatureKey),
            firstLayer: try reader.read(firstLayerKey).flatMap(FirstLayerStart.init(rawValue:)) ?? .random)
    }

    /// The problem of an evolution arm with these settings.
    func problem(
        _ context: ArmContext, batch: Int?, rotateEvery: Int, cacheBudget: Int = 0
    ) -> SearchProblem {
        SearchProblem(
            architecture: Architecture(
                layerSizes: context.layerSizes, activation: context.activation, quantizer: context.quantizer),
            train: context.train, fitness: fitness, temperature: temperature,
            batchSize: batch, rotateEvery: rotateEvery, cacheBudget: cacheBudget, threads: context.threads,
            firstLayer: firstLayer)
    }
}

struct GASettings: ArmSettings {
    static let kind = "ga", countKey = "generations"
    static let defaultEvalEvery: Int? = nil
    var population: Int, batch: Int, rotateEvery: Int, cacheMegabytes: Int, elite: Int, tournament: Int, parents: Int
    var crossover: String, mutation: Double?, thresholdRate: Double, thresholdStep: Int?, readout: Bool
    var fitness: FitnessSettings

    enum Key {
        typealias Default = GeneticAlgorithm.Defaults
        static let population = IntegerKey(
            "population", 2...1_000_000, default: Default.populationSize, "genomes per generation")
        static let batch = IntegerKey(
            "batch", 1...100_000_000, default: Default.batchSize,
            "examples of the fitness batch (at most the train split)")
        static let rotateEvery = IntegerKey(
            "rotate_every", 1...1_000_000_000, default: Default.rotateEvery,
            "generations between redraws of the batch (the breeders' caches live on one batch)")
        static let cacheMegabytes = IntegerKey(
            "cache_mb", 0...1_000_000, default: Default.cacheMegabytes,
            "MiB for the breeders' incremental caches (0: every child evaluated in full)")
        static let elite = IntegerKey(
            "elite", 0...1_000_000, default: Default.eliteCount, "best genomes copied unchanged (fewer than population)"
        )
        static let tournament = IntegerKey(
            "tournament", 1...1_000_000, default: Default.tournamentSize,
            "tournament size of selection when parents is 0")
        static let parents = IntegerKey(
            "parents", 0...1_000_000, default: Default.parents,
            "only the best this many genomes breed, each drawn uniformly (truncation selection); 0: tournament selection"
        )
        static let crossover = ChoiceKey(
            "crossover", Crossover.allCases.map(\.rawValue) + ["none"],
            default: Default.crossoverProbability == 0 ? "none" : Default.crossover.rawValue,
            "crossover of the bit planes (probability \(formatNumber(Default.chosenCrossoverProbability)); none: mutation only)"
        )
        static let mutation = NumberKey("mutation", 0...1, note: "1 / weights", "rate at which a weight is mutated")
        static let thresholdRate = NumberKey(
            "threshold_rate", 0...1, default: Mutation.defaultThresholdRate,
            "rate at which a hidden threshold is stepped")
        static let thresholdStep = FitnessSettings.thresholdStepKey
        static let readout = BooleanKey(
            "readout", default: Default.readout, "start every genome from the correlation readout of its output layer")
    }
    static let keys =
        [Key.population, Key.batch, Key.rotateEvery, Key.cacheMegabytes, Key.elite, Key.tournament, Key.parents].map(
            \.description)
        + [
            Key.crossover.description, Key.mutation.description, Key.thresholdRate.description,
            Key.thresholdStep.description, Key.readout.description,
        ]
        + FitnessSettings.keys

    static func read(_ reader: inout ConfigReader) throws(DataError) -> GASettings {
        let settings = GASettings(
            population: try reader.read(Key.population)!,
            batch: try reader.read(Key.batch)!,
            rotateEvery: try reader.read(Key.rotateEvery)!,
            cacheMegabytes: try reader.read(Key.cacheMegabytes)!,
            elite: try reader.read(Key.elite)!,
            tournament: try reader.read(Key.tournament)!,
            parents: try reader.read(Key.parents)!,
            crossover: try reader.read(Key.crossover)!,
            mutation: try reader.read(Key.mutation),
            thresholdRate: try reader.read(Key.thresholdRate)!,
            thresholdStep: try reader.read(Key.thresholdStep),
            readout: try reader.read(Key.readout),
            fitness: try FitnessSettings.read(&reader))
        guard settings.elite < settings.population else {
            throw reader.fail("elite", "must be smaller than population \(settings.population)")
        }
        if settings.parents > settings.population {
            throw reader.fail("parents", "must be at most population \(settings.population)")
        }
        return settings
    }

    /// Three population buffers (parents, offspring, the sorted copy), the calibration sums (a block of genomes' layer sums on a
    /// sample of at least 256 examples, and their transient copy), the readout start's sums of a block, the evaluator on a batch, and the breeders' caches: two
    /// generations of at most one per genome, within `cache_mb`.
    func estimatedBytes(_ context: ArmContext) -> (bytes: Int, key: String) {
        // Distributed, each rank evaluates and caches only its block of the batch.
        let examples = context.examplesPerRank(min(batch, context.train.count))
        let sample = min(context.train.count, max(batch, 256))
        let widest = context.layerSizes.dropFirst().max()!
        let caches = min(
            cacheBytes,
            2 * population
                * CachePool.byteCount(
                    layerSizes: context.layerSizes, examples: examples,
                    context: context.quantizer.tokens?.context ?? 0))
        // The readout start's sums of a block on the train split (text: 16,384 windows), and their copy.
        let readoutSums =
            readout
            ? 2 * min(population, calibrationBlock)
                * min(context.train.count, context.quantizer.tokens == nil ? Int.max : 16_384) * widest * 4 : 0
        let bytes =
            3 * population * context.genomeBytes + 2 * min(population, calibrationBlock) * sample * widest * 4
            + readoutSums
            + context.evaluatorBytes(genomes: population, examples: examples) + caches
        return (bytes, caches > bytes / 2 ? "cache_mb" : "population")
    }

    /// The breeders' cache budget in bytes.
    var cacheBytes: Int { cacheMegabytes << 20 }

    /// The genomes' start: each calibrated on a sample of at least 256 examples, and read out.
    func startAdditions(_ context: ArmContext) -> Int {
        population * context.startAdditionsPerGenome(batch: batch, readout: readout)
    }

    /// The defaults are `GeneticAlgorithm.Defaults` (read by the keys above).
    func makeSession(_ context: ArmContext, seed: UInt64) -> SearchSession {
        let strategy = GeneticAlgorithm(
            populationSize: population, eliteCount: elite,
            selection: parents > 0 ? .truncation(count: parents) : .tournament(size: tournament),
            crossover: Crossover(rawValue: crossover) ?? GeneticAlgorithm.Defaults.crossover,
            crossoverProbability: crossover == "none" ? 0 : GeneticAlgorithm.Defaults.chosenCrossoverProbability,
            mutation: Mutation(
                weightRate: mutation ?? Mutation.standardWeightRate(weightCount: context.weightCount),
                thresholdRate: thresholdRate,
                thresholdStep: thresholdStep ?? context.defaultThresholdStep),
            initialZeroFraction: context.zeroFraction, readout: readout)
        let problem = fitness.problem(context, batch: batch, rotateEvery: rotateEvery, cacheBudget: cacheBytes)
        return SearchRun(strategy: strategy, problem: problem, seed: seed)
    }
}

/// Batch keys of the incremental arms: the fitness batch (default the whole train split) and
/// how often it is redrawn.
struct IncrementalBatch: Sendable {
    var batch: Int?
    var rotateEvery: Int
    static let batchKey = IntegerKey(
        "batch", 1...100_000_000, note: "the whole train split", "examples of the fitness batch")
    static let rotateEveryKey = IntegerKey(
        "rotate_every", 1...1_000_000_000, default: 100, "steps between redraws of a batch smaller than the train split"
    )
    static let keys = [batchKey.description, rotateEveryKey.description]
    static func read(_ reader: inout ConfigReader) throws(DataError) -> IncrementalBatch {
        IncrementalBatch(
            batch: try reader.read(batchKey),
            rotateEvery: try reader.read(rotateEveryKey)!)
    }
    /// The cache on the fitness batch, the readout start's sums over the train split, and the
    /// candidates: their moves (20 bytes each, twice while the list grows), list ends and
    /// fitness values.
    func estimatedBytes(_ context: ArmContext, moves: Int, candidates: Int) -> Int {
        let examples = context.examplesPerRank(min(batch ?? context.train.count, context.train.count))
        let widest = context.layerSizes.dropFirst().max()!
        // The readout start's sums: every train example, or a sample of 16,384 windows for text.
        let readout = context.quantizer.tokens == nil ? context.train.count : min(16_384, context.train.count)
        return context.scorerBytes(examples: examples) + readout * widest * 4 + moves * 40 + candidates * 32
            + 8 * context.genomeBytes
    }

    func problem(_ context: ArmContext, _ fitness: FitnessSettings) -> SearchProblem {
        fitness.problem(context, batch: batch, rotateEvery: rotateEvery)
    }
}

struct LocalSettings: ArmSettings {
    static let kind = "local", countKey = "steps"
    static let defaultEvalEvery: Int? = nil
    var candidates: Int, movesPerCandidate: Int, thresholdProbability: Double, thresholdStep: Int?, acceptNeutral: Bool,
        greedy: Bool, readout: Bool
    var outputShare: Double?, stepEvery: Int?
    var batch: IncrementalBatch, fitness: FitnessSettings

    enum Key {
        typealias Default = LocalSearch.Defaults
        static let candidates = IntegerKey(
            "candidates", 1...1_000_000, default: Default.candidates, "move sets scored per step")
        static let moves = IntegerKey(
            "moves", 1...1_000, default: Default.movesPerCandidate, "trits of one neuron changed per candidate")
        static let thresholdProbability = NumberKey(
            "threshold_probability", 0...1, default: Default.thresholdProbability,
            "chance that a candidate steps a hidden threshold instead")
        static let thresholdStep = FitnessSettings.thresholdStepKey
        static let neutral = BooleanKey(
            "neutral", default: Default.acceptNeutral, "also accept a candidate that ties the current point")
        static let greedy = BooleanKey(
            "greedy", default: Default.greedy,
            "after the best, apply the other improving candidates while they still improve")
        static let readout = BooleanKey(
            "readout", default: Default.readout, "start from the correlation readout of the output layer")
        static let outputShare = NumberKey(
            "output_share", 0...1, note: "the output layer's share of the weights",
            "chance that a trit move is in the output layer")
        static let stepEvery = IntegerKey(
            "step_every", 1...1_000_000_000, note: "never",
            "levels networks: every this many steps, two candidates move one hidden layer's step")
    }
    static let keys =
        [
            Key.candidates.description, Key.moves.description, Key.thresholdProbability.description,
            Key.thresholdStep.description, Key.neutral.description, Key.greedy.description, Key.readout.description,
            Key.outputShare.description, Key.stepEvery.description,
        ]
        + IncrementalBatch.keys + FitnessSettings.keys

    static func read(_ reader: inout ConfigReader) throws(DataError) -> LocalSettings {
        LocalSettings(
            candidates: try reader.read(Key.candidates)!,
            movesPerCandidate: try reader.read(Key.moves)!,
            thresholdProbability: try reader.read(Key.thresholdProbability)!,
            thresholdStep: try reader.read(Key.thresholdStep),
            acceptNeutral: try reader.read(Key.neutral),
            greedy: try reader.read(Key.greedy),
            readout: try reader.read(Key.readout),
            outputShare: try reader.read(Key.outputShare), stepEvery: try reader.read(Key.stepEvery),
            batch: try IncrementalBatch.read(&reader), fitness: try FitnessSettings.read(&reader))
    }

    func estimatedBytes(_ context: ArmContext) -> (bytes: Int, key: String) {
        let moves = (candidates + 1) * movesPerCandidate
        let bytes = batch.estimatedBytes(context, moves: moves, candidates: candidates + 1)
        return (bytes, moves * 40 > bytes / 2 ? (movesPerCandidate > candidates ? "moves" : "candidates") : "batch")
    }

    func startAdditions(_ context: ArmContext) -> Int {
        context.startAdditionsPerGenome(batch: batch.batch, readout: readout)
    }

    func makeSession(_ context: ArmContext, seed: UInt64) -> SearchSession {
        let strategy = LocalSearch(
            candidates: candidates, movesPerCandidate: movesPerCandidate,
            thresholdProbability: thresholdProbability,
            thresholdStep: thresholdStep ?? context.defaultThresholdStep, acceptNeutral: acceptNeutral,
            greedy: greedy, initialZeroFraction: context.zeroFraction, readout: readout,
            outputShare: outputShare, stepEvery: stepEvery)
        return SearchRun(strategy: strategy, problem: batch.problem(context, fitness), seed: seed)
    }
}

struct ESSettings: ArmSettings {
    static let kind = "es", countKey = "generations"
    static let defaultEvalEvery: Int? = nil
    var pairs: Int, perturbedTrits: Int, thresholdProbability: Double, thresholdStep: Int?, voteThreshold: Int,
        maxMoves: Int?
    var readout: Bool
    var batch: IncrementalBatch, fitness: FitnessSettings

    enum Key {
        typealias Default = SignVoteES.Defaults
        static let pairs = IntegerKey("pairs", 1...1_000_000, default: Default.pairs, "antithetic pairs per generation")
        static let trits = IntegerKey(
            "trits", 1...100_000, default: Default.perturbedTrits, "positions each pair perturbs")
        static let thresholdProbability = NumberKey(
            "threshold_probability", 0...1, default: Default.thresholdProbability,
            "chance that a perturbed position is a hidden threshold")
        static let thresholdStep = FitnessSettings.thresholdStepKey
        static let voteThreshold = IntegerKey(
            "vote_threshold", 1...1_000_000, default: Default.voteThreshold, "|vote| a position needs to move")
        static let maxMoves = IntegerKey(
            "max_moves", 1...100_000_000, note: "no limit", "most positions moved per generation")
        static let readout = BooleanKey(
            "readout", default: Default.readout, "start from the correlation readout of the output layer")
    }
    static let keys =
        [
            Key.pairs.description, Key.trits.description, Key.thresholdProbability.description,
            Key.thresholdStep.description,
            Key.voteThreshold.description, Key.maxMoves.description, Key.readout.description,
        ]
        + IncrementalBatch.keys + FitnessSettings.keys

    static func read(_ reader: inout ConfigReader) throws(DataError) -> ESSettings {
        ESSettings(
            pairs: try reader.read(Key.pairs)!,
            perturbedTrits: try reader.read(Key.trits)!,
            thresholdProbability: try reader.read(Key.thresholdProbability)!,
            thresholdStep: try reader.read(Key.thresholdStep),
            voteThreshold: try reader.read(Key.voteThreshold)!,
            maxMoves: try reader.read(Key.maxMoves),
            readout: try reader.read(Key.readout),
            batch: try IncrementalBatch.read(&reader), fitness: try FitnessSettings.read(&reader))
    }

    func estimatedBytes(_ context: ArmContext) -> (bytes: Int, key: String) {
        let moves = 2 * pairs * perturbedTrits
        let bytes = batch.estimatedBytes(context, moves: moves, candidates: 2 * pairs) + 64 * pairs * perturbedTrits
        return (bytes, moves * 72 > bytes / 2 ? (perturbedTrits > pairs ? "trits" : "pairs") : "batch")
    }

    func startAdditions(_ context: ArmContext) -> Int {
        context.startAdditionsPerGenome(batch: batch.batch, readout: readout)
    }

    func makeSession(_ context: ArmContext, seed: UInt64) -> SearchSession {
        let strategy = SignVoteES(
            pairs: pairs, perturbedTrits: perturbedTrits, thresholdProbability: thresholdProbability,
            thresholdStep: thresholdStep ?? context.defaultThresholdStep, voteThreshold: voteThreshold,
            maxMoves: maxMoves, initialZeroFraction: context.zeroFraction, readout: readout)
        return SearchRun(strategy: strategy, problem: batch.problem(context, fitness), seed: seed)
    }
}

protocol BackpropKind: Sendable { static var arm: BackpropArm { get } }
enum STEKind: BackpropKind { static let arm = BackpropArm.ste }
enum FloatKind: BackpropKind { static let arm = BackpropArm.float }

struct BackpropSettings<Kind: BackpropKind>: ArmSettings {
    static var kind: String { Kind.arm.rawValue }
    static var countKey: String { "epochs" }
    static var defaultEvalEvery: Int? { nil }
    static var command: String { "train" }
    var learningRate: Double, batch: Int, schedule: LearningRateSchedule, weightDecay: Double, window: STEWindow
    /// The epoch count of a cosine schedule (its length).
    var epochs: Int
    /// `epoch_examples`: examples per epoch (nil: the whole train split).
    var epochExamples: Int? = nil

    static var lrKey: NumberKey { NumberKey("lr", 1e-9...10, default: 3e-3, "Adam's learning rate") }
    static var batchKey: IntegerKey { IntegerKey("batch", 1...1_000_000, default: 64, "examples per minibatch") }
    static var scheduleKey: ChoiceKey {
        ChoiceKey(
            "schedule", ["constant", "cosine"], default: "constant",
            "learning rate schedule (cosine: over the epoch budget)")
    }
    static var weightDecayKey: NumberKey {
        NumberKey("weight_decay", 0...10, default: 0, "decoupled (AdamW) weight decay")
    }
    static var windowKey: ChoiceKey {
        ChoiceKey(
            "window", ["scaled", "fixed"], default: "scaled",
            "STE window in trit units (scaled) or the published fixed one")
    }
    static var epochExamplesKey: IntegerKey {
        IntegerKey(
            "epoch_examples", 1...1_000_000_000, note: "the train split",
            "examples per epoch (a large text split logs at a finer grain)")
    }
    static var keys: [KeyDescription] {
        [lrKey.description, batchKey.description, scheduleKey.description, weightDecayKey.description]
            + (Kind.arm == .ste ? [windowKey.description] : []) + [epochExamplesKey.description]
    }

    static func read(_ reader: inout ConfigReader) throws(DataError) -> BackpropSettings {
        BackpropSettings(
            learningRate: try reader.read(lrKey)!,
            batch: try reader.read(batchKey)!,
            schedule: LearningRateSchedule(rawValue: try reader.read(scheduleKey)!)!,
            weightDecay: try reader.read(weightDecayKey)!,
            window: Kind.arm == .ste
                ? STEWindow(rawValue: try reader.read(windowKey)!)!
                : .scaled,
            epochs: 100,
            epochExamples: try reader.read(epochExamplesKey))
    }

    mutating func adopt(stepBudget: Int?) { epochs = stepBudget ?? 100 }

    /// Float parameters with Adam's two moments, gradients and the ternary copies (about eight
    /// floats each), the minibatch's activations and deltas, and the export's evaluation.
    func estimatedBytes(_ context: ArmContext) -> (bytes: Int, key: String) {
        let parameters = context.weightCount + context.layerSizes.reduce(0, +)
        let activations = min(batch, context.train.count) * context.layerSizes.reduce(0, +) * 4 * 6
        return (
            parameters * 4 * 8 + activations + context.evaluatorBytes(genomes: 1, examples: context.train.count),
            "batch"
        )
    }

    func makeSession(_ context: ArmContext, seed: UInt64) -> SearchSession {
        let trainer = BackpropTrainer(
            configuration: BackpropConfiguration(
                layerSizes: context.layerSizes, arm: Kind.arm, learningRate: learningRate,
                weightDecay: weightDecay, batchSize: batch, schedule: schedule, window: window,
                epochs: epochs, seed: seed, threads: context.threads, epochExamples: epochExamples,
                activation: context.activation),
            train: context.train, levels: context.quantizer.levels)
        return BackpropSession(trainer: trainer, quantizer: context.quantizer)
    }
}
