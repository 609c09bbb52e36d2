import Foundation
import TernaryBackprop
import TernaryCore
import TernaryEvolution

/// An experiment: a dataset and its splits, a model, the named arms with their budgets, the seeds.
///
/// ```json
/// {
///   "name": "quickstart",
///   "dataset": { "csv": "experiments/data/digits.csv", "test_fraction": 0.2, "validation_fraction": 0.1 },
///   "model": { "hidden": [128] },
///   "seeds": [1],
///   "arms": {
///     "local": { "strategy": "local", "seconds": 20 },
///     "ga":    { "strategy": "ga", "seconds": 40, "population": 256 },
///     "ste":   { "strategy": "ste", "seconds": 10, "lr": 0.003 }
///   }
/// }
/// ```
/// The dataset is exactly one of `csv` (a file), `idx` (a folder or images file) or `synthetic`
/// (`xor`, `parity:N`, `spirals[:N]`). Arms are named by the user (the name is the `method`
/// column of the files) and give their kind in `strategy`; two arms of one kind with different
/// settings are an ablation. Every arm needs `seconds` or its kind's step budget
/// (`generations`, `steps` or `epochs`); with both, whichever ends first. Arms run in file order.
public struct ExperimentConfig {
    public enum DataSource: Equatable { case csv(String), idx(String), synthetic(SyntheticTask), text(String) }

    /// One named arm: its kind's settings, budget and logging schedule.
    struct Arm {
        var name: String
        var kind: String
        var seconds: Double?, steps: Int?
        var evalEvery: Int?
        /// Early stopping: the arm ends after this many logged points without a better
        /// validation accuracy (training accuracy without a validation split).
        var patience: Int? = nil
        var settings: any ArmSettings
        /// The kind's keys as read, defaults included, in the user's words (`ConfigReader.values`).
        var keyValues: [(key: String, value: String)] = []

        /// Whether the step that just ended makes a logged point (the last step of the budget
        /// always does). A function of the step alone, so a resumed run logs the same points;
        /// the automatic spacing (every step to 100, then every 10th to 1,000, ...) keeps a run
        /// of many tiny steps from spending its wall time on evaluation and files.
        func logs(step: Int) -> Bool {
            if let evalEvery { return step % evalEvery == 0 }
            var spacing = 1
            while step >= 100 * spacing { spacing *= 10 }
            return step % spacing == 0
        }
    }

    public var name: String
    public var data: DataSource
    /// A fixed test file (`dataset.test_csv` / `dataset.test_idx`) instead of a cut.
    public var testData: DataSource?
    public var testFraction: Double, validationFraction: Double, splitSeed: UInt64, bits: Int
    /// `dataset.scaling`: one input range per feature (`per_feature`) or one for all (`global`).
    /// nil: `auto`, decided on the train split by `InputQuantizer.fitsPerFeature`.
    public var perFeatureScaling: Bool?
    public var hidden: [Int]
    /// Symbols per window of a text dataset (`dataset.context`); 0 otherwise.
    public var context = 0
    public var zeroFraction: Double
    /// The hidden activation of every network of the run (`model.activation`).
    public var activation: Activation = .sign
    public var seeds: [UInt64]
    var arms: [Arm]
    /// The file, for messages and the copy in the run folder.
    public var file: String
    /// Built from a one-arm command's options (messages name options, not keys).
    var fromOptions = false

    /// Where a message places the key at `keyPath`: `FILE: key 'arms.ga.population'`, or the
    /// option `--population` of a one-arm command.
    func place(_ keyPath: String) -> String {
        fromOptions
            ? ConfigReader.label(keyPath, fromOptions: true)
            : "\(file): " + ConfigReader.label(keyPath, fromOptions: false)
    }

    /// Names of the arms in run order.
    public var armNames: [String] { arms.map(\.name) }

    /// The config's JSON as read (what the run folder's `config.json` is written from).
    var object = JSONObject()

    /// Reads and validates a config file; every error names the key path. Under a
    /// communicator rank 0 reads the file and sends it to the others (nil: this process reads it).
    public static func load(_ file: String, communicator: Communicator? = nil) throws(DataError) -> ExperimentConfig {
        try read(ConfigReader.open(file, communicator: communicator))
    }

    /// Validates a config object (from a file, or built by a one-arm command); every error
    /// names `root.file` and the key path, or for a one-arm command the option.
    static func read(_ reader: ConfigReader) throws(DataError) -> ExperimentConfig {
        var root = reader
        let file = root.file
        let name = try root.string(
            ConfigKeys.name.name, default: ((file as NSString).lastPathComponent as NSString).deletingPathExtension)!
        guard isPlainName(name) else {
            throw root.fail(
                "name",
                "'\(shortened(name))' is not a plain file name (letters, digits, '.', '-', '_'; it names the run folder results/runs/<name>)"
            )
        }

        var dataset = try root.child("dataset")!
        if dataset.has("text") {
            var config = try loadText(file: file, name: name, root: &root, dataset: &dataset)
            config.object = reader.object
            return config
        }
        let data = try source(&dataset, keys: ("csv", "idx"), synthetic: true)!
        let testData = try source(&dataset, keys: ("test_csv", "test_idx"), synthetic: false)
        let testFraction = try dataset.number(
            ConfigKeys.testFraction.name, in: ConfigKeys.testFraction.range,
            default: testData == nil ? ConfigKeys.defaultTestFraction : 0)!
        if testData != nil && testFraction > 0 {
            throw dataset.fail("test_fraction", "give either a test file or a test fraction, not both")
        }
        let validationFraction = try dataset.read(ConfigKeys.validationFraction)!
        let splitSeed = UInt64(try dataset.read(ConfigKeys.splitSeed)!)
        let bits = try dataset.read(ConfigKeys.bits)!
        let scaling = try dataset.read(ConfigKeys.scaling)!
        try dataset.finish()

        var model = try root.child("model")!
        let (hidden, zeroFraction, activation) = try readModel(&model)
        let (seeds, arms) = try readArms(&root, file: file)
        return ExperimentConfig(
            name: name, data: data, testData: testData, testFraction: testFraction,
            validationFraction: validationFraction, splitSeed: splitSeed, bits: bits,
            perFeatureScaling: scaling == "auto" ? nil : scaling == "per_feature", hidden: hidden,
            zeroFraction: zeroFraction, activation: activation, seeds: seeds, arms: arms, file: file,
            fromOptions: reader.fromOptions,
            object: reader.object)
    }

    static func readModel(
        _ model: inout ConfigReader
    ) throws(DataError)
        -> (hidden: [Int], zeroFraction: Double, activation: Activation)
    {
        let hidden = try model.integers("hidden", in: ConfigKeys.hiddenRange, required: true)!
        let zeroFraction = try model.read(ConfigKeys.zeroFraction)!
        let activation = Activation(name: try model.read(ConfigKeys.activation)!)!
        try model.finish()
        return (hidden, zeroFraction, activation)
    }

    static func readArms(_ root: inout ConfigReader, file: String) throws(DataError) -> (seeds: [UInt64], arms: [Arm]) {
        let seeds = (try root.integers("seeds", in: ConfigKeys.seedRange) ?? ConfigKeys.defaultSeeds).map(UInt64.init)
        if let repeated = seeds.first(where: { seed in seeds.filter { $0 == seed }.count > 1 }) {
            throw root.fail("seeds", "seed \(repeated) is listed twice; each seed runs once")
        }

        var armsReader = try root.child("arms")!
        // Names the sweep made (the arms it expanded were checked before it ran).
        var swept: Set<String> = []
        if let sweep = try root.value("sweep", required: false) {
            for armName in armsReader.keys where !isPlainName(armName) {
                throw armsReader.fail(
                    armName,
                    "an arm name must be a plain file name (letters, digits, '.', '-', '_'): it names the arm's files and a CSV field"
                )
            }
            let before = Set(armsReader.keys)
            armsReader = ConfigReader(
                file: file, path: "arms", object: try expand(armsReader.object, sweep: sweep, file: file),
                fromOptions: root.fromOptions)
            swept = Set(armsReader.keys).subtracting(before)
        }
        var arms: [Arm] = []
        for armName in armsReader.keys {
            guard isPlainName(armName) || swept.contains(armName) else {
                throw armsReader.fail(
                    armName,
                    "an arm name must be a plain file name (letters, digits, '.', '-', '_'): it names the arm's files and a CSV field"
                )
            }
            guard var reader = try armsReader.child(armName) else { continue }
            guard reader.has("strategy") else {
                let guess = ArmKinds.names.contains(armName) ? armName : "ga"
                throw reader.fail(
                    "strategy",
                    "missing: arms now name their kind, as in \"\(armName)\": {\"strategy\": \"\(guess)\", ...} (one of \(ArmKinds.names.joined(separator: ", ")))"
                )
            }
            let kindName = try reader.string("strategy", allowed: ArmKinds.names)!
            let kind = ArmKinds.all.first { $0.kind == kindName }!
            let seconds = try reader.read(ConfigKeys.seconds)
            let steps = try reader.integer(kind.countKey, in: ConfigKeys.stepBudgetRange)
            guard seconds != nil || steps != nil else {
                throw reader.fail("seconds", "missing: give seconds and/or \(kind.countKey)")
            }
            let evalEvery = try reader.read(ConfigKeys.evalEvery) ?? kind.defaultEvalEvery
            let patience = try reader.read(ConfigKeys.patience)
            let before = reader.values.count
            var settings = try kind.read(&reader)
            settings.adopt(stepBudget: steps)
            try reader.finish()
            arms.append(
                Arm(
                    name: armName, kind: kindName, seconds: seconds, steps: steps, evalEvery: evalEvery,
                    patience: patience,
                    settings: settings, keyValues: Array(reader.values[before...])))
        }
        guard !arms.isEmpty else {
            throw armsReader.fail("", "give at least one arm, e.g. \"ga\": {\"strategy\": \"ga\", \"seconds\": 30}")
        }
        try armsReader.finish()
        try root.finish()
        return (seeds, arms)
    }

    /// The arms with every swept arm replaced by one arm per point of its grid, named
    /// `arm[key=value,...]`, in file order (the first key varies slowest). `sweep` maps
    /// `arms.<arm>.<key>` to a non-empty array of values.
    static func expand(_ arms: JSONObject, sweep raw: Any, file: String) throws(DataError) -> JSONObject {
        func fail(_ key: String, _ problem: String) -> DataError {
            DataError(path: file, problem: "key '\(key)': \(problem)")
        }
        guard let sweep = raw as? JSONObject else {
            throw fail("sweep", "expected an object such as {\"arms.ga.mutation\": [0.001, 0.003]}")
        }
        var grids: [String: [(key: String, values: [Any])]] = [:]
        for path in sweep.keys {
            let parts = path.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0] == "arms", arms.values[parts[1]] != nil else {
                throw fail(
                    "sweep.\(path)",
                    "expected arms.<arm>.<key> naming an arm of this config (\(arms.keys.joined(separator: ", ")))")
            }
            guard parts[2] != "strategy" else {
                throw fail("sweep.\(path)", "the kind of an arm cannot be swept; write one arm per kind")
            }
            guard let values = sweep.values[path] as? [Any], !values.isEmpty else {
                throw fail("sweep.\(path)", "expected a non-empty array of values")
            }
            grids[parts[1], default: []].append((parts[2], values))
        }
        var expanded = JSONObject()
        for name in arms.keys {
            guard let grid = grids[name] else {
                expanded.keys.append(name)
                expanded.values[name] = arms.values[name]
                continue
            }
            guard let base = arms.values[name] as? JSONObject else { throw fail("arms.\(name)", "expected an object") }
            let points = grid.reduce(1) { $0 * $1.values.count }
            guard points <= 1000 else { throw fail("sweep", "expands arm \(name) into \(points) arms; at most 1000") }
            for index in 0..<points {
                var arm = base
                var label: [String] = []
                var rest = index
                for axis in grid.reversed() {
                    let value = axis.values[rest % axis.values.count]
                    rest /= axis.values.count
                    if arm.values[axis.key] == nil { arm.keys.append(axis.key) }
                    arm.values[axis.key] = value
                    label.insert("[\(axis.key)=\(describeValue(value))]", at: 0)
                }
                let armName = name + label.joined()
                guard expanded.values[armName] == nil else {
                    throw fail("sweep", "two grid points give the arm name \(armName)")
                }
                expanded.keys.append(armName)
                expanded.values[armName] = arm
            }
        }
        return expanded
    }

    /// A swept value as it appears in an arm name: numbers in their shortest form.
    static func describeValue(_ value: Any) -> String {
        if let number = value as? NSNumber {
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return String(format: "%g", number.doubleValue)
        }
        // Only characters that are safe in a file name and a CSV field.
        return String(
            String.UnicodeScalarView(
                shortened("\(value)", limit: 30).unicodeScalars.map {
                    CharacterSet.alphanumerics.contains($0) || ".-_+".unicodeScalars.contains($0) ? $0 : "_"
                }))
    }

    /// Exactly one of the file keys (and `synthetic` when allowed); nil when none is given and
    /// none is required.
    static func source(
        _ reader: inout ConfigReader, keys: (csv: String, idx: String), synthetic: Bool
    ) throws(DataError) -> DataSource? {
        let names = [keys.csv, keys.idx] + (synthetic ? ["synthetic"] : [])
        let given = names.filter { reader.has($0) }
        if given.isEmpty && !synthetic { return nil }
        guard given.count == 1 else {
            throw reader.fail(
                given.first ?? names[0],
                "give exactly one of \(names.joined(separator: ", ")) (found \(given.isEmpty ? "none" : given.joined(separator: ", ")))"
            )
        }
        switch given[0] {
        case keys.csv: return .csv(resolve(try reader.string(keys.csv)!, configFile: reader.file))
        case keys.idx: return .idx(resolve(try reader.string(keys.idx)!, configFile: reader.file))
        default:
            let taskName = try reader.string("synthetic")!
            guard let task = SyntheticTask(name: taskName) else {
                throw reader.fail(
                    "synthetic",
                    "'\(shortened(taskName))' is not one of xor, parity:N (N in 1...16), spirals, spirals:N")
            }
            return .synthetic(task)
        }
    }

    /// The dataset keys that hold file paths.
    static let pathKeys = ["csv", "idx", "test_csv", "test_idx", "text"]

    /// A data path of a config, resolved: a relative path is read from the config file's own
    /// folder, so a config (and a run folder's copy) means the same from any working
    /// directory. A path missing there but present in the working directory is read from
    /// there: configs written before this rule named paths from the repository's root.
    static func resolve(_ path: String, configFile: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        let folder = (configFile as NSString).deletingLastPathComponent
        let besideConfig = folder.isEmpty ? path : folder + "/" + path
        if FileManager.default.fileExists(atPath: besideConfig) || !FileManager.default.fileExists(atPath: path) {
            return besideConfig
        }
        return path
    }

    /// `path` as seen from `folder`: relative when both are on one tree (`../../data/x.csv`).
    static func relativePath(_ path: String, from folder: String) -> String {
        func components(_ path: String) -> [String] {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            var parts: [String] = []
            for part in absolute.split(separator: "/") where part != "." {
                if part == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(String(part)) }
            }
            return parts
        }
        let target = components(path), base = components(folder)
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        guard common > 0 else { return "/" + target.joined(separator: "/") }
        return (Array(repeating: "..", count: base.count - common) + target[common...]).joined(separator: "/")
    }

    /// The text of the run folder's `config.json`: this config with its relative data paths
    /// rewritten to be read from the run folder, so `ternevo resume` works from any working
    /// directory and the folder can move together with the data.
    func runFolderCopy(folder: String) -> [UInt8] {
        var root = object
        guard var dataset = root["dataset"] as? JSONObject else { return Array(JSONWriter.text(root).utf8) + [10] }
        for key in ExperimentConfig.pathKeys {
            guard let path = dataset[key] as? String, !path.hasPrefix("/") else { continue }
            dataset.values[key] = ExperimentConfig.relativePath(
                ExperimentConfig.resolve(path, configFile: file), from: folder)
        }
        root.values["dataset"] = dataset
        return Array(JSONWriter.text(root).utf8) + [10]
    }

    /// A name usable as one path component and one CSV field: letters, digits, '.', '-', '_';
    /// not '.' or '..'. (Names made by a sweep add `[key=value]` to such a name, so a name
    /// written in a config never equals one a sweep makes.)
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 200 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
            }
    }

    /// The examples of `source`; an error names the data file.
    static func load(_ source: DataSource, seed: UInt64) throws(DataError) -> LabeledData {
        switch source {
        case let .csv(path):
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                throw DataError(
                    path: path, problem: "is a folder; 'csv' names a CSV file (use 'idx' for a folder with an IDX pair)"
                )
            }
            return try CSVLoader.load(path: path)
        case let .idx(path): return try DatasetFile.load(path)
        case let .synthetic(task): return task.generate(seed: seed)
        case let .text(path):
            throw DataError(
                path: path, problem: "is a text dataset; it is read by TextCorpus, not as labelled examples")
        }
    }

    /// A data error placed at the config key that names the data (a one-arm command's data is
    /// its argument, which the error already names).
    func dataError(_ key: String, _ error: DataError) -> DataError {
        fromOptions ? error : DataError(path: file, problem: "key '\(key)': \(error)")
    }

    /// Train, validation and test splits: the test split is the test file or a stratified cut,
    /// validation a stratified cut of what remains (seeded by `split_seed`).
    public func loadSplits() throws(DataError) -> (train: LabeledData, validation: LabeledData, test: LabeledData) {
        let all: LabeledData
        do {
            all = try ExperimentConfig.load(data, seed: splitSeed)
            try all.checkTrainable()
            try all.checkClassNumbers()
        } catch { throw dataError("dataset", error) }
        var (rest, test) = all.split(testFraction: testFraction, seed: splitSeed)
        if let testData {
            do { test = try ExperimentConfig.load(testData, seed: splitSeed) } catch {
                throw dataError("dataset.test", error)
            }
            guard test.featureCount == all.featureCount else {
                throw DataError(
                    path: file,
                    problem:
                        "key 'dataset.test': the test file has \(test.featureCount) features; the data has \(all.featureCount)"
                )
            }
            guard test.classCount <= all.classCount else {
                throw DataError(
                    path: file,
                    problem:
                        "key 'dataset.test': the test file has labels up to \(test.classCount - 1); the data's classes are 0 ... \(all.classCount - 1)"
                )
            }
        }
        let (train, validation) = rest.split(testFraction: validationFraction, seed: splitSeed &+ 0x7A11D)
        do { try train.checkTrainable() } catch { throw dataError("dataset", error) }
        return (train, validation, test)
    }
}
