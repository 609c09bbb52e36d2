import Foundation
import TernaryCore

/// One row of the config reference: a key, its type, the values it takes, its default and what
/// it means. `ternevo help run --keys` prints these rows, and the article ConfigReference
/// (`Sources/TernaryExperiments/TernaryExperiments.docc/ConfigReference.md`) holds the same
/// rows, checked by a test.
struct KeyDescription: Sendable, Equatable {
    var name: String
    var type: String
    var values: String
    var defaultValue: String
    var meaning: String
}

/// An integer key: the reader's range and default and the reference's row come from this one
/// value, so they cannot disagree.
struct IntegerKey: Sendable {
    let name: String
    let range: ClosedRange<Int>
    let fallback: Int?
    /// The default when it is not a constant (computed from the data or absent).
    let note: String?
    let meaning: String

    init(
        _ name: String, _ range: ClosedRange<Int>, default fallback: Int? = nil, note: String? = nil, _ meaning: String
    ) {
        (self.name, self.range, self.fallback, self.note, self.meaning) = (name, range, fallback, note, meaning)
    }

    var description: KeyDescription {
        KeyDescription(
            name: name, type: "integer", values: "\(range.lowerBound) ... \(range.upperBound)",
            defaultValue: fallback.map(String.init) ?? note ?? "none", meaning: meaning)
    }
}

/// A number key (JSON number, finite, in a closed range).
struct NumberKey: Sendable {
    let name: String
    let range: ClosedRange<Double>
    let fallback: Double?
    let note: String?
    let meaning: String

    init(
        _ name: String, _ range: ClosedRange<Double>, default fallback: Double? = nil, note: String? = nil,
        _ meaning: String
    ) {
        (self.name, self.range, self.fallback, self.note, self.meaning) = (name, range, fallback, note, meaning)
    }

    var description: KeyDescription {
        KeyDescription(
            name: name, type: "number",
            values: "\(formatNumber(range.lowerBound)) ... \(formatNumber(range.upperBound))",
            defaultValue: note ?? fallback.map(formatNumber) ?? "none", meaning: meaning)
    }
}

/// A string key with a fixed set of values (or any text when `allowed` is nil).
struct ChoiceKey: Sendable {
    let name: String
    let allowed: [String]?
    let fallback: String?
    let note: String?
    let meaning: String

    init(_ name: String, _ allowed: [String]?, default fallback: String? = nil, note: String? = nil, _ meaning: String)
    {
        (self.name, self.allowed, self.fallback, self.note, self.meaning) = (name, allowed, fallback, note, meaning)
    }

    var description: KeyDescription {
        KeyDescription(
            name: name, type: "string", values: allowed?.joined(separator: ", ") ?? "text",
            defaultValue: note ?? fallback ?? "none", meaning: meaning)
    }
}

/// A boolean key (JSON `true` or `false`).
struct BooleanKey: Sendable {
    let name: String
    let fallback: Bool
    let meaning: String

    init(_ name: String, default fallback: Bool, _ meaning: String) {
        (self.name, self.fallback, self.meaning) = (name, fallback, meaning)
    }

    var description: KeyDescription {
        KeyDescription(
            name: name, type: "boolean", values: "true, false", defaultValue: String(fallback), meaning: meaning)
    }
}

/// `%g` with up to six significant digits: `0.003`, `1e+06`, `0.333333`.
func formatNumber(_ value: Double) -> String { String(format: "%g", value) }

extension ConfigReader {
    mutating func read(_ key: IntegerKey) throws(DataError) -> Int? {
        noted(key.name, try integer(key.name, in: key.range, default: key.fallback))
    }
    mutating func read(_ key: NumberKey) throws(DataError) -> Double? {
        noted(key.name, try number(key.name, in: key.range, default: key.fallback))
    }
    mutating func read(_ key: ChoiceKey) throws(DataError) -> String? {
        noted(key.name, try string(key.name, allowed: key.allowed, default: key.fallback))
    }
    mutating func read(_ key: BooleanKey) throws(DataError) -> Bool {
        noted(key.name, try boolean(key.name, default: key.fallback))!
    }

    /// `value`, noted in `values` as the user would write it (`auto`: a default computed later).
    private mutating func noted<Value>(_ name: String, _ value: Value?) -> Value? {
        values.append((name, value.map(ConfigKeys.text) ?? "auto"))
        return value
    }
}

extension ConfigKeys {
    /// A key's value as a user writes it in a config: `32`, `0.02`, `1e-06`, `true`, `cosine`
    /// (numbers in their shortest exact form, without a trailing `.0`).
    static func text(_ value: Any) -> String {
        if let number = value as? Double {
            return number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : "\(number)"
        }
        return "\(value)"
    }
}

/// The keys of a config file outside the arms' own settings: the top level, `dataset`,
/// `model`, and the keys every arm takes. `ExperimentConfig.read` reads through these values.
enum ConfigKeys {
    static let name = ChoiceKey(
        "name", nil, note: "the config's file name", "names the run folder `results/runs/<name>/` (a plain file name)")
    static let seedRange = 0...Int(Int32.max)
    static let defaultSeeds = [1]
    static let topLevel: [KeyDescription] = [
        name.description,
        KeyDescription(
            name: "dataset", type: "object", values: "the dataset keys", defaultValue: "required",
            meaning: "the data and its splits"),
        KeyDescription(
            name: "model", type: "object", values: "the model keys", defaultValue: "required", meaning: "the network"),
        KeyDescription(
            name: "seeds", type: "integers", values: "\(seedRange.lowerBound) ... \(seedRange.upperBound), each once",
            defaultValue: "\(defaultSeeds)", meaning: "the run seeds; every arm runs once per seed"),
        KeyDescription(
            name: "arms", type: "object", values: "arm name: arm object", defaultValue: "required",
            meaning: "the arms, run in file order; a name is a plain file name"),
        KeyDescription(
            name: "sweep", type: "object", values: "`{\"arms.ARM.KEY\": [values]}`", defaultValue: "none",
            meaning: "expands a grid into arms named `ARM[KEY=value]...`"),
    ]

    // dataset
    /// `test_fraction` without a test file (with one, the default is 0).
    static let defaultTestFraction = 0.2
    static let testFraction = NumberKey(
        "test_fraction", 0...0.9, note: "\(formatNumber(defaultTestFraction)) (0 with a test file)",
        "share of each class cut as the test split")
    static let validationFraction = NumberKey(
        "validation_fraction", 0...0.9, default: 0.1, "share of the rest cut for validation (0: none)")
    static let splitSeed = IntegerKey("split_seed", 0...Int(Int32.max), default: 1, "seed of the stratified splits")
    static let bits = IntegerKey("bits", 1...8, default: 8, "input bits (Q = 2^bits - 1)")
    static let scaling = ChoiceKey(
        "scaling", ["auto", "global", "per_feature"], default: "auto",
        "one input range (global), one per column (per_feature), or chosen from the train split (auto)")
    static let dataset: [KeyDescription] = [
        KeyDescription(
            name: "csv", type: "string", values: "path", defaultValue: "one of csv, idx, synthetic",
            meaning: "a CSV file: header row, numeric features, integer label column"),
        KeyDescription(
            name: "idx", type: "string", values: "path", defaultValue: "one of csv, idx, synthetic",
            meaning: "an IDX pair: a folder holding one, or the images file"),
        KeyDescription(
            name: "synthetic", type: "string", values: "xor, parity:N, spirals, spirals:N",
            defaultValue: "one of csv, idx, synthetic", meaning: "a built-in task generated from split_seed"),
        KeyDescription(
            name: "test_csv", type: "string", values: "path", defaultValue: "none",
            meaning: "a fixed test split (CSV) instead of a cut"),
        KeyDescription(
            name: "test_idx", type: "string", values: "path", defaultValue: "none",
            meaning: "a fixed test split (IDX) instead of a cut"),
        testFraction.description, validationFraction.description, splitSeed.description, bits.description,
        scaling.description,
        KeyDescription(
            name: "text", type: "string", values: "path", defaultValue: "none",
            meaning:
                "a UTF-8 text file instead of the sources above: a next-character task (then test_fraction defaults to 0.1, validation_fraction to 0.05, the splits are contiguous blocks, and split_seed, bits, scaling, test_csv and test_idx are refused)"
        ),
        KeyDescription(
            name: "context", type: "integer", values: "1 ... 1024", defaultValue: "8",
            meaning: "text only: characters per window (one-hot inputs context x vocabulary)"),
    ]

    // model
    static let zeroFraction = NumberKey(
        "zero_fraction", 0...1, default: 1.0 / 3, "fraction of zero trits in a fresh genome")
    static let activation = ChoiceKey(
        "activation", Activation.allKinds.map(\.name), default: "sign",
        "hidden activation: sign (+-1) or reluK, K-bit levels clamp(floor((s - theta) / step), 0, 2^K - 1)")
    static let hiddenRange = 1...(1 << 16)
    static let model: [KeyDescription] = [
        KeyDescription(
            name: "hidden", type: "integers", values: "\(hiddenRange.lowerBound) ... \(hiddenRange.upperBound) each",
            defaultValue: "required",
            meaning: "hidden layer sizes, e.g. [128] or [256, 64]"),
        zeroFraction.description, activation.description,
    ]

    // every arm
    static let seconds = NumberKey(
        "seconds", 0.001...1e9, note: "none (give seconds and/or the step budget)", "training-time budget in seconds")
    static let stepBudgetRange = 1...1_000_000_000
    static var evalEvery: IntegerKey {
        let fixed = ArmKinds.all.compactMap { kind in kind.defaultEvalEvery.map { "\($0) for \(kind.kind)" } }
        return IntegerKey(
            "eval_every", 1...1_000_000,
            note: (fixed + ["else every step to 100, then every 10th to 1000, ..."]).joined(separator: "; "),
            "steps between logged points")
    }
    static let patience = IntegerKey(
        "patience", 1...1_000_000_000, note: "none (the whole budget)",
        "stop after this many logged points without a better validation accuracy")
    static func everyArm(countKeys: [String]) -> [KeyDescription] {
        var rows = [
            KeyDescription(
                name: "strategy", type: "string", values: ArmKinds.names.joined(separator: ", "),
                defaultValue: "required", meaning: "the arm's kind"),
            seconds.description,
        ]
        for countKey in countKeys {
            let kinds: [String] = ArmKinds.all.filter { $0.countKey == countKey }.map { $0.kind }
            rows.append(
                KeyDescription(
                    name: countKey, type: "integer",
                    values: "\(stepBudgetRange.lowerBound) ... \(stepBudgetRange.upperBound)",
                    defaultValue: "none (give seconds and/or \(countKey))",
                    meaning: "step budget of \(kinds.joined(separator: ", "))"))
        }
        return rows + [evalEvery.description, patience.description]
    }

    /// Every section of the reference in order: a title and its rows.
    static var sections: [(title: String, rows: [KeyDescription])] {
        var countKeys: [String] = []
        for kind in ArmKinds.all where !countKeys.contains(kind.countKey) { countKeys.append(kind.countKey) }
        return [
            ("top level", topLevel), ("dataset", dataset), ("model", model),
            ("every arm (arms.NAME)", everyArm(countKeys: countKeys)),
        ]
            + ArmKinds.all.map { ("strategy \($0.kind)", $0.keys) }
    }

    /// The reference as aligned text (`markdown: false`) or as Markdown tables.
    static func reference(markdown: Bool) -> String {
        var lines: [String] = []
        for (index, section) in sections.enumerated() {
            if index > 0 { lines.append("") }
            if markdown {
                lines += [
                    "**\(section.title)**", "", "| key | type | values | default | meaning |",
                    "| --- | --- | --- | --- | --- |",
                ]
                for row in section.rows {
                    lines.append(
                        "| `\(row.name)` | \(row.type) | \(row.values) | \(row.defaultValue) | \(row.meaning) |")
                }
            } else {
                lines.append("\(section.title):")
                let nameWidth = section.rows.map(\.name.count).max()! + 2
                let typeWidth = section.rows.map(\.type.count).max()! + 2
                for row in section.rows {
                    lines.append(
                        "  " + row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                            + row.type.padding(toLength: typeWidth, withPad: " ", startingAt: 0)
                            + "\(row.values); default \(row.defaultValue)")
                    lines.append("  " + String(repeating: " ", count: nameWidth + typeWidth) + row.meaning)
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
