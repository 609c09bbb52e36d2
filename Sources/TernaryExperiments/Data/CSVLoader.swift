import Foundation

/// Reads a CSV file: a header row of column names, then one example per line with numeric
/// features and an integer `label` column (0 ... C-1). Strict: a missing or repeated `label`
/// column, a line with the wrong number of fields, a value that is not a finite number, or a
/// label that is not a non-negative integer is an error naming the line and column.
public enum CSVLoader {
    public static func load(path: String) throws(DataError) -> LabeledData {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path: path, problem: "cannot be read (missing, a folder, or no permission)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError(path: path, problem: "is not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws(DataError) -> LabeledData {
        func fail(_ problem: String) -> DataError { DataError(path: source, problem: problem) }
        // "\r\n" is a single Character in Swift, so both line ends are separators.
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let headerLine = lines.first, !headerLine.isEmpty else {
            throw fail("is empty; expected a header row with a 'label' column")
        }
        let names = headerLine.split(separator: ",", omittingEmptySubsequences: false)
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
        for (offset, line) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == names.count else {
                throw fail("line \(lineNumber) has \(fields.count) fields; the header has \(names.count)")
            }
            for (column, field) in fields.enumerated() {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                if column == labelColumn {
                    guard let label = Int(trimmed), label >= 0 else {
                        throw fail("line \(lineNumber), column 'label': '\(trimmed)' is not a non-negative integer class")
                    }
                    labels.append(label)
                } else {
                    guard let value = Float(trimmed), value.isFinite else {
                        throw fail("line \(lineNumber), column '\(names[column])': '\(trimmed)' is not a finite number")
                    }
                    features.append(value)
                }
            }
        }
        guard !labels.isEmpty else { throw fail("has a header but no examples") }
        return LabeledData(features: features, featureCount: names.count - 1, labels: labels,
                           classCount: labels.max()! + 1, source: source)
    }
}
