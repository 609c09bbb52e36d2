import Foundation
import TernaryBackprop
import TernaryCore
import TernaryEvolution

/// An experiment: a dataset, a model, the arms to run and their budgets, the seeds.
///
/// ```json
/// {
///   "name": "quickstart",
///   "dataset": { "csv": "experiments/data/digits.csv", "test_fraction": 0.2, "split_seed": 1, "bits": 8 },
///   "model": { "hidden": [128], "zero_fraction": 0.33 },
///   "seeds": [1],
///   "arms": {
///     "ga":    { "seconds": 40, "population": 256, "batch": 256 },
///     "ste":   { "seconds": 20, "lr": 0.003, "batch": 64 },
///     "float": { "seconds": 20 }
///   }
/// }
/// ```
/// The dataset is exactly one of `csv` (a file), `idx` (a folder or images file) or `synthetic`
/// (`xor`, `parity:N`, `spirals[:N]`). Every arm needs `seconds` or a count budget
/// (`generations` / `epochs`); with both, whichever ends first.
public struct ExperimentConfig {
    public enum DataSource: Equatable { case csv(String), idx(String), synthetic(SyntheticTask) }

    public struct GAArm {
        public var seconds: Double?, generations: Int?
        public var population: Int, batch: Int, elite: Int, tournament: Int
        public var crossover: String, mutation: Double?, thresholdRate: Double, thresholdStep: Int?
        public var fitness: FitnessKind, evalEvery: Int

        /// The genetic algorithm these settings describe for a network of `sizes` on inputs
        /// with `levels` quantisation levels. Defaults: about five mutated weights per offspring
        /// (rate 5 / weights), and a threshold step of about 5% of a typical first-layer sum
        /// (`Q sqrt(n0) / 20`: first-layer thresholds live on the scale of those sums).
        func strategy(sizes: [Int], levels: Int, zeroFraction: Double) -> GeneticAlgorithm {
            let weights = zip(sizes.dropFirst(), sizes).reduce(0) { $0 + $1.0 * $1.1 }
            let step = thresholdStep ?? max(1, Int((Double(levels) * Double(sizes[0]).squareRoot() * 0.05).rounded()))
            return GeneticAlgorithm(
                populationSize: population, eliteCount: elite, selection: .tournament(size: tournament),
                crossover: Crossover(rawValue: crossover) ?? .uniform, crossoverProbability: crossover == "none" ? 0 : 0.5,
                mutation: Mutation(weightRate: mutation ?? min(1, 5 / Double(weights)), thresholdRate: thresholdRate, thresholdStep: step),
                initialZeroFraction: zeroFraction)
        }
    }

    public struct BackpropArmConfig {
        public var arm: BackpropArm
        public var seconds: Double?, epochs: Int?
        public var learningRate: Double, batch: Int, schedule: LearningRateSchedule, weightDecay: Double
        /// Epochs between logged points; nil: every epoch up to 100, then every 10th up to
        /// 1000, every 100th up to 10,000, and so on.
        public var evalEvery: Int?

        /// Whether the epoch that just ended makes a logged point (the last one of the budget
        /// always does). A function of the epoch alone, so a resumed run logs the same points.
        /// The automatic spacing keeps a run of many tiny epochs (a small dataset, a long
        /// budget) from spending its wall time on evaluation and files: at most 90 points per
        /// decade of epochs after the first 100.
        func logs(epoch: Int) -> Bool {
            if let evalEvery { return epoch % evalEvery == 0 }
            var step = 1
            while epoch >= 100 * step { step *= 10 }
            return epoch % step == 0
        }
    }

    public var name: String
    public var data: DataSource
    public var testFraction: Double, splitSeed: UInt64, bits: Int
    public var hidden: [Int]
    public var zeroFraction: Double
    public var seeds: [UInt64]
    public var ga: GAArm?
    public var backprop: [BackpropArmConfig]
    /// The file, for messages and the copy in the run folder.
    public var file: String

    /// Reads and validates a config file; every error names the key path.
    public static func load(_ file: String) throws(DataError) -> ExperimentConfig {
        var root = try ConfigReader.open(file)
        let name = try root.string("name", default: ((file as NSString).lastPathComponent as NSString).deletingPathExtension)!

        var dataset = try root.child("dataset")!
        let sources = ["csv", "idx", "synthetic"].filter { dataset.has($0) }
        guard sources.count == 1 else {
            throw dataset.fail(sources.first ?? "csv", "give exactly one of csv, idx, synthetic (found \(sources.isEmpty ? "none" : sources.joined(separator: ", ")))")
        }
        let data: DataSource
        switch sources[0] {
        case "csv": data = .csv(try dataset.string("csv")!)
        case "idx": data = .idx(try dataset.string("idx")!)
        default:
            let taskName = try dataset.string("synthetic")!
            guard let task = SyntheticTask(name: taskName) else {
                throw dataset.fail("synthetic", "'\(taskName)' is not one of xor, parity:N (N in 1...16), spirals, spirals:N")
            }
            data = .synthetic(task)
        }
        let testFraction = try dataset.number("test_fraction", in: 0...0.9, default: 0.2)!
        let splitSeed = UInt64(try dataset.integer("split_seed", in: 0...Int(Int32.max), default: 1)!)
        let bits = try dataset.integer("bits", in: 1...8, default: 8)!
        try dataset.finish()

        var model = try root.child("model")!
        let hidden = try model.integers("hidden", in: 1...(1 << 20), required: true)!
        let zeroFraction = try model.number("zero_fraction", in: 0...1, default: 1.0 / 3)!
        _ = try model.string("activation", allowed: ["sign"], default: "sign")
        try model.finish()

        let seeds = (try root.integers("seeds", in: 0...Int(Int32.max)) ?? [1]).map(UInt64.init)

        var arms = try root.child("arms")!
        var ga: GAArm?
        if var reader = try arms.child("ga", required: false) {
            let (seconds, generations) = try budget(&reader, count: "generations")
            ga = GAArm(
                seconds: seconds, generations: generations,
                population: try reader.integer("population", in: 2...1_000_000, default: 256)!,
                batch: try reader.integer("batch", in: 1...100_000_000, default: 256)!,
                elite: try reader.integer("elite", in: 0...1_000_000, default: 2)!,
                tournament: try reader.integer("tournament", in: 1...1_000_000, default: 3)!,
                crossover: try reader.string("crossover", allowed: ["uniform", "neuron", "two-point", "none"], default: "uniform")!,
                mutation: try reader.number("mutation", in: 0...1),
                thresholdRate: try reader.number("threshold_rate", in: 0...1, default: 0.02)!,
                thresholdStep: try reader.integer("threshold_step", in: 1...1_000_000_000),
                fitness: FitnessKind(rawValue: try reader.string("fitness", allowed: ["xent", "accuracy"], default: "xent")!)!,
                evalEvery: try reader.integer("eval_every", in: 1...1_000_000, default: 10)!)
            guard ga!.elite < ga!.population else { throw reader.fail("elite", "must be smaller than population \(ga!.population)") }
            try reader.finish()
        }
        var backprop: [BackpropArmConfig] = []
        for arm in [BackpropArm.ste, .float] {
            guard var reader = try arms.child(arm.rawValue, required: false) else { continue }
            let (seconds, epochs) = try budget(&reader, count: "epochs")
            backprop.append(BackpropArmConfig(
                arm: arm, seconds: seconds, epochs: epochs,
                learningRate: try reader.number("lr", in: 1e-9...10, default: 3e-3)!,
                batch: try reader.integer("batch", in: 1...1_000_000, default: 64)!,
                schedule: LearningRateSchedule(rawValue: try reader.string("schedule", allowed: ["constant", "cosine"], default: "constant")!)!,
                weightDecay: try reader.number("weight_decay", in: 0...10, default: 0)!,
                evalEvery: try reader.integer("eval_every", in: 1...1_000_000)))
            try reader.finish()
        }
        guard ga != nil || !backprop.isEmpty else { throw arms.fail("ga", "give at least one arm: ga, ste or float") }
        try arms.finish()
        try root.finish()
        return ExperimentConfig(name: name, data: data, testFraction: testFraction, splitSeed: splitSeed, bits: bits,
                                hidden: hidden, zeroFraction: zeroFraction, seeds: seeds, ga: ga, backprop: backprop, file: file)
    }

    /// `seconds` and a count budget; at least one is required.
    static func budget(_ reader: inout ConfigReader, count: String) throws(DataError) -> (Double?, Int?) {
        let seconds = try reader.number("seconds", in: 0.001...1e9)
        let steps = try reader.integer(count, in: 1...1_000_000_000)
        guard seconds != nil || steps != nil else { throw reader.fail("seconds", "missing: give seconds and/or \(count)") }
        return (seconds, steps)
    }

    /// The raw examples of the dataset.
    public func loadData() throws(DataError) -> LabeledData {
        switch data {
        case let .csv(path): return try CSVLoader.load(path: path)
        case let .idx(path): return try DatasetFile.load(path)
        case let .synthetic(task): return task.generate(seed: splitSeed)
        }
    }
}
