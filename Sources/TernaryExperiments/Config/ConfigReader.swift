import Foundation
import TernaryCore

/// A strict reader of one JSON object of a config file: every key read is checked for type and
/// range, and `finish()` rejects keys nobody read. Errors name the file and the key path
/// (`arms.ga.population`), the value found and what was expected.
struct ConfigReader {
    let file: String
    let path: String
    let object: JSONObject
    /// The config was built from a one-arm command's options: messages name a key as the option
    /// that set it (`--population`), not as a key path of a file.
    let fromOptions: Bool
    private var used: Set<String> = []
    /// Every key read through a key value (`IntegerKey`, `NumberKey`, ...) with the value it
    /// took, default included, as a user writes it (`ConfigKeys.text`): what `--dry-run` and a
    /// record's key print.
    var values: [(key: String, value: String)] = []

    init(file: String, path: String, object: JSONObject, fromOptions: Bool = false) {
        self.file = file
        self.path = path
        self.object = object
        self.fromOptions = fromOptions
    }

    /// The top-level object of a JSON config file (under a communicator, as rank 0 reads it).
    static func open(_ file: String, communicator: Communicator?) throws(DataError) -> ConfigReader {
        // Under MPI, rank 0 reads the config and sends it to the others (`Sources/TernaryExperiments/TernaryExperiments.docc/ScaleOut.md`).
        guard let data = try Distributed.contents(atPath: file, communicator: communicator).map({ Data($0) }) else {
            throw DataError(path: file, problem: "cannot be read (missing, a folder, or no permission)")
        }
        let parsed: Any
        do { parsed = try JSONParser.parse(data) } catch {
            throw DataError(path: file, problem: "is not valid JSON (\(error.message))")
        }
        guard let object = parsed as? JSONObject else {
            throw DataError(path: file, problem: "must hold a JSON object at the top")
        }
        return ConfigReader(file: file, path: "", object: object)
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    /// How messages name key `name` of this object: `key 'arms.ga.population'`, or `--population`.
    func label(_ name: String) -> String { ConfigReader.label(key(name), fromOptions: fromOptions) }
    func fail(_ name: String, _ problem: String) -> DataError {
        DataError(path: file, problem: "\(label(name)): \(problem)")
    }

    /// How messages name the key at `keyPath`: as a key of a file, or as the option of a one-arm
    /// command that set it (its last part, `_` written `-`).
    static func label(_ keyPath: String, fromOptions: Bool) -> String {
        guard fromOptions else { return "key '\(keyPath)'" }
        if let option = optionOfKey[keyPath] { return option }
        let name = keyPath.split(separator: ".").last.map(String.init) ?? keyPath
        return "--" + name.replacingOccurrences(of: "_", with: "-")
    }

    /// The keys a one-arm command sets under another name than `--key`; an arm's own keys are
    /// its options of the same name.
    static let optionOfKey = [
        "dataset.synthetic": "the data argument", "dataset.csv": "the data argument",
        "dataset.idx": "the data argument", "dataset.split_seed": "--seed", "seeds": "--seed",
        "model.zero_fraction": "--zeros",
    ]

    func has(_ name: String) -> Bool { object[name] != nil && !(object[name] is NSNull) }

    mutating func value(_ name: String, required: Bool) throws(DataError) -> Any? {
        used.insert(name)
        guard let value = object[name], !(value is NSNull) else {
            if required { throw DataError(path: file, problem: "missing \(label(name))") }
            return nil
        }
        return value
    }

    mutating func number(
        _ name: String, in range: ClosedRange<Double>, default fallback: Double? = nil
    ) throws(DataError) -> Double? {
        guard let raw = try value(name, required: false) else { return fallback }
        guard let number = raw as? NSNumber, !isBoolean(number) else {
            throw fail(name, "expected a number, found \(describe(raw))")
        }
        let value = number.doubleValue
        guard value.isFinite, range.contains(value) else {
            throw fail(name, "\(value) is outside \(range.lowerBound) ... \(range.upperBound)")
        }
        return value
    }

    mutating func integer(
        _ name: String, in range: ClosedRange<Int>, default fallback: Int? = nil
    ) throws(DataError) -> Int? {
        guard let value = try number(name, in: Double(range.lowerBound)...Double(range.upperBound)) else {
            return fallback
        }
        guard value == value.rounded() else { throw fail(name, "expected an integer, found \(value)") }
        return Int(value)
    }

    mutating func string(
        _ name: String, allowed: [String]? = nil, default fallback: String? = nil
    ) throws(DataError) -> String? {
        guard let raw = try value(name, required: false) else { return fallback }
        guard let text = raw as? String else { throw fail(name, "expected a string, found \(describe(raw))") }
        if let allowed, !allowed.contains(text) {
            throw fail(name, "'\(text)' is not one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    mutating func boolean(_ name: String, default fallback: Bool) throws(DataError) -> Bool {
        guard let raw = try value(name, required: false) else { return fallback }
        guard let number = raw as? NSNumber, isBoolean(number) else {
            throw fail(name, "expected true or false, found \(describe(raw))")
        }
        return number.boolValue
    }

    mutating func integers(
        _ name: String, in range: ClosedRange<Int>, required: Bool = false
    ) throws(DataError) -> [Int]? {
        guard let raw = try value(name, required: required) else { return nil }
        guard let array = raw as? [Any], !array.isEmpty else {
            throw fail(name, "expected a non-empty array of integers, found \(describe(raw))")
        }
        var result = [Int]()
        for (index, element) in array.enumerated() {
            guard let number = element as? NSNumber, !isBoolean(number),
                number.doubleValue == number.doubleValue.rounded(), range.contains(number.intValue)
            else {
                throw fail(
                    "\(name)[\(index)]",
                    "expected an integer in \(range.lowerBound) ... \(range.upperBound), found \(describe(element))")
            }
            result.append(number.intValue)
        }
        return result
    }

    mutating func child(_ name: String, required: Bool = true) throws(DataError) -> ConfigReader? {
        guard let raw = try value(name, required: required) else { return nil }
        guard let object = raw as? JSONObject else { throw fail(name, "expected an object, found \(describe(raw))") }
        return ConfigReader(file: file, path: key(name), object: object, fromOptions: fromOptions)
    }

    /// Rejects keys that were never read.
    func finish() throws(DataError) {
        if let unknown = object.keys.first(where: { !used.contains($0) }) {
            // (`strategy` is set by --strategy or --arm, checked before the options become keys.)
            let known = used.sorted().filter { !fromOptions || $0 != "strategy" }.map { fromOptions ? label($0) : $0 }
                .joined(separator: ", ")
            throw DataError(
                path: file,
                problem:
                    "unknown \(fromOptions ? "option '\(label(unknown))'" : "key '\(key(unknown))'") (known here: \(known))"
            )
        }
    }

    /// The keys of this object, in file order.
    var keys: [String] { object.keys }

    /// JSON `true`/`false` also arrive as NSNumber; their type encoding is `c` (char).
    func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    func describe(_ value: Any) -> String {
        if let text = value as? String { return "the string '\(shortened(text))'" }
        if let number = value as? NSNumber { return isBoolean(number) ? "a boolean" : "\(number)" }
        if value is [Any] { return "an array" }
        if value is JSONObject { return "an object" }
        return "\(value)"
    }
}

/// `text` cut to about 80 characters for an error line (a 50 MB value is not echoed whole).
func shortened(_ text: String, limit: Int = 80) -> String {
    text.count <= limit ? text : String(text.prefix(limit)) + "... (\(text.count) characters)"
}
