import Foundation

/// A JSON object with its keys in file order.
struct JSONObject {
    var keys: [String] = []
    var values: [String: Any] = [:]
    subscript(key: String) -> Any? { values[key] }
}

/// A strict JSON parser for config files (RFC 8259): objects keep their key order (arms run in
/// the order written), and a duplicate key or a trailing comma is an error with its line and
/// column, where Foundation's parser keeps the last duplicate silently. Values: `JSONObject`,
/// `[Any]`, `String`, `NSNumber` (booleans as Bool numbers) and `NSNull`.
struct JSONParser {
    let bytes: [UInt8]
    var offset = 0

    struct Failure: Error { var message: String }

    static func parse(_ data: Data) throws(Failure) -> Any {
        var parser = JSONParser(bytes: [UInt8](data))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.offset == parser.bytes.count else { throw parser.fail("unexpected text after the value") }
        return value
    }

    func fail(_ problem: String) -> Failure {
        let before = bytes[0..<min(offset, bytes.count)]
        let line = before.filter { $0 == 10 }.count + 1
        let column = offset - (before.lastIndex(of: 10).map { $0 + 1 } ?? 0) + 1
        return Failure(message: "line \(line), column \(column): \(problem)")
    }

    mutating func skipSpace() {
        while offset < bytes.count, [9, 10, 13, 32].contains(bytes[offset]) { offset += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard offset < bytes.count, bytes[offset] == byte else { throw fail("expected \(what)") }
        offset += 1
    }

    mutating func value(depth: Int) throws(Failure) -> Any {
        guard depth < 64 else { throw fail("nested more than 64 levels deep") }
        guard offset < bytes.count else { throw fail("unexpected end of the file") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var object = JSONObject()
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return object
            }
            while true {
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
                    throw fail(
                        object.keys.isEmpty
                            ? "expected a key in quotes"
                            : "expected a key in quotes after ',' (a trailing comma is not JSON)")
                }
                let keyStart = offset
                let key = try string()
                guard object.values[key] == nil else {
                    offset = keyStart
                    throw fail("duplicate key '\(key)' (each key once per object)")
                }
                skipSpace()
                try expect(UInt8(ascii: ":"), "':' after key '\(key)'")
                skipSpace()
                object.keys.append(key)
                object.values[key] = try value(depth: depth + 1)
                skipSpace()
                guard offset < bytes.count else { throw fail("unexpected end of the file inside an object") }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return object
            }
        case UInt8(ascii: "["):
            offset += 1
            var array: [Any] = []
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return array
            }
            while true {
                skipSpace()
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
                    throw fail("a trailing comma is not JSON")
                }
                array.append(try value(depth: depth + 1))
                skipSpace()
                guard offset < bytes.count else { throw fail("unexpected end of the file inside an array") }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return array
            }
        case UInt8(ascii: "\""):
            return try string()
        case UInt8(ascii: "t"): return try literal("true", NSNumber(value: true))
        case UInt8(ascii: "f"): return try literal("false", NSNumber(value: false))
        case UInt8(ascii: "n"): return try literal("null", NSNull())
        default:
            return try number()
        }
    }

    mutating func literal(_ word: String, _ result: Any) throws(Failure) -> Any {
        let text = Array(word.utf8)
        guard offset + text.count <= bytes.count, Array(bytes[offset..<(offset + text.count)]) == text else {
            throw fail("unexpected character")
        }
        offset += text.count
        return result
    }

    mutating func number() throws(Failure) -> Any {
        let start = offset
        while offset < bytes.count, "+-0123456789.eE".utf8.contains(bytes[offset]) { offset += 1 }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        let pattern = #"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"#
        guard !text.isEmpty, text.range(of: pattern, options: .regularExpression) != nil, let value = Double(text)
        else {
            offset = start
            throw fail(text.isEmpty ? "unexpected character" : "'\(text.prefix(40))' is not a JSON number")
        }
        return NSNumber(value: value)
    }

    mutating func string() throws(Failure) -> String {
        offset += 1  // the opening quote
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() throws(Failure) {
            guard !raw.isEmpty else { return }
            guard let text = String(validating: raw, as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
            scalars.append(contentsOf: text.unicodeScalars)
            raw.removeAll()
        }
        while true {
            guard offset < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                try flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flush()
                guard offset < bytes.count else { throw fail("unterminated string") }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    guard offset + 4 <= bytes.count,
                        let code = UInt32(String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { throw fail("bad \\u escape") }
                    offset += 4
                    scalars.append(scalar)
                default: throw fail("bad escape in a string")
                }
            case 0..<32:
                throw fail("a control character inside a string")
            default:
                raw.append(byte)
            }
        }
    }
}

/// Writes the values `JSONParser` reads back as JSON text, keys in order, two-space indents,
/// short arrays and objects of scalars on one line (how the shipped configs are laid out).
enum JSONWriter {
    static func text(_ value: Any, indent: String = "") -> String {
        switch value {
        case let object as JSONObject:
            let members = object.keys.map { "\(quoted($0)): \(text(object.values[$0]!, indent: indent + "  "))" }
            if members.isEmpty { return "{}" }
            let line = "{ " + members.joined(separator: ", ") + " }"
            if line.count + indent.count <= 100 && !line.dropFirst().contains("{") { return line }
            return "{\n" + members.map { indent + "  " + $0 }.joined(separator: ",\n") + "\n" + indent + "}"
        case let array as [Any]:
            let items = array.map { text($0, indent: indent + "  ") }
            let line = "[" + items.joined(separator: ", ") + "]"
            if line.count + indent.count <= 100 && !items.contains(where: { $0.contains("\n") }) { return line }
            return "[\n" + items.map { indent + "  " + $0 }.joined(separator: ",\n") + "\n" + indent + "]"
        case let string as String: return quoted(string)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            let double = number.doubleValue
            return double == double.rounded() && abs(double) < 1e15 ? String(format: "%.0f", double) : "\(double)"
        default: return "null"
        }
    }

    static func quoted(_ string: String) -> String {
        var escaped = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 32: escaped += String(format: "\\u%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }
}
