import Foundation

/// Reads a CSV file: a header row of column names, then one example per line with numeric
/// features and an integer `label` column (0 ... C-1). Strict: a missing or repeated `label`
/// column, a line with the wrong number of fields, a value that is not a finite number, or a
/// label that is not a non-negative integer is an error naming the line and column.
public enum CSVLoader {
    public static func load(path: String) throws(DataError) -> LabeledData {
        let bytes = try DataFileReader.read(path)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw DataError(path: path, problem: "is not UTF-8 text; give a CSV file (IDX files are recognised by their magic number)")
        }
        return try parse(bytes: bytes, source: path)
    }

    public static func parse(_ text: String, source: String) throws(DataError) -> LabeledData {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// Parses CSV bytes. Integer fields (the common case: pixels, counts) are read directly
    /// from the bytes; any other field goes through `Float(String)`, so values are exactly
    /// what Swift's own parser gives. 11 MB of MNIST pixels parse in well under a second.
    static func parse(bytes: [UInt8], source: String) throws(DataError) -> LabeledData {
        func fail(_ problem: String) -> DataError { DataError(path: source, problem: problem) }
        // Line ranges, without "\n" and a trailing "\r"; a final empty line is dropped.
        var lines: [Range<Int>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 10 {
            lines.append(start..<(index > start && bytes[index - 1] == 13 ? index - 1 : index))
            start = index + 1
        }
        if start < bytes.count {
            lines.append(start..<(bytes.last == 13 ? bytes.count - 1 : bytes.count))
        }
        guard let headerRange = lines.first, !headerRange.isEmpty else {
            throw fail("is empty; expected a header row with a 'label' column")
        }
        let names = String(decoding: bytes[headerRange], as: UTF8.self)
            .split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let labelColumns = names.indices.filter { names[$0] == "label" }
        guard labelColumns.count == 1 else {
            throw fail(labelColumns.isEmpty
                       ? "line 1: no 'label' column in the header (columns: \(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", ..." : ""))"
                       : "line 1: 'label' appears \(labelColumns.count) times in the header")
        }
        guard names.count >= 2 else { throw fail("line 1: need at least one feature column besides 'label'") }
        if let empty = names.firstIndex(of: "") { throw fail("line 1: column \(empty + 1) has an empty name") }
        let labelColumn = labelColumns[0]
        var features = [Float]()
        features.reserveCapacity((lines.count - 1) * (names.count - 1))
        var labels = [Int]()
        labels.reserveCapacity(lines.count - 1)
        for (offset, line) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            var column = 0
            var fieldStart = line.lowerBound
            var position = line.lowerBound
            while true {
                let atEnd = position == line.upperBound
                if atEnd || bytes[position] == 44 {   // ","
                    guard column < names.count else {
                        throw fail("line \(lineNumber) has \(fieldCount(bytes, line)) fields; the header has \(names.count)")
                    }
                    var lower = fieldStart, upper = position
                    while lower < upper, bytes[lower] == 32 || bytes[lower] == 9 { lower += 1 }
                    while upper > lower, bytes[upper - 1] == 32 || bytes[upper - 1] == 9 { upper -= 1 }
                    let field = bytes[lower..<upper]
                    if column == labelColumn {
                        guard let label = integer(field), label >= 0 else {
                            throw fail("line \(lineNumber), column 'label': '\(shortened(String(decoding: field, as: UTF8.self)))' is not a non-negative integer class")
                        }
                        guard label < LabeledData.classLimit else {
                            throw fail("line \(lineNumber), column 'label': class \(label) is not below the limit of \(LabeledData.classLimit) classes; labels are class indices 0 ... C-1")
                        }
                        labels.append(label)
                    } else if let value = integer(field), abs(value) < 1 << 24 {
                        features.append(Float(value))
                    } else {
                        let text = String(decoding: field, as: UTF8.self)
                        guard let value = Float(text), value.isFinite else {
                            throw fail("line \(lineNumber), column '\(shortened(names[column]))': '\(shortened(text))' is not a finite number")
                        }
                        features.append(value)
                    }
                    column += 1
                    fieldStart = position + 1
                    if atEnd { break }
                }
                position += 1
            }
            guard column == names.count else {
                throw fail("line \(lineNumber) has \(column) fields; the header has \(names.count)")
            }
        }
        guard !labels.isEmpty else { throw fail("has a header but no examples") }
        return LabeledData(features: features, featureCount: names.count - 1, labels: labels,
                           classCount: labels.max()! + 1, source: source)
    }

    /// An optionally signed decimal integer of at most 18 digits, or nil.
    static func integer(_ field: ArraySlice<UInt8>) -> Int? {
        var index = field.startIndex
        var negative = false
        if index < field.endIndex, field[index] == 45 || field[index] == 43 {   // "-" or "+"
            negative = field[index] == 45
            index += 1
        }
        guard index < field.endIndex, field.endIndex - index <= 18 else { return nil }
        var value = 0
        while index < field.endIndex {
            let digit = Int(field[index]) - 48
            guard digit >= 0 && digit <= 9 else { return nil }
            value = value * 10 + digit
            index += 1
        }
        return negative ? -value : value
    }

    static func fieldCount(_ bytes: [UInt8], _ line: Range<Int>) -> Int {
        1 + bytes[line].filter { $0 == 44 }.count
    }
}
