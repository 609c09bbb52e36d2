import Foundation

/// Reads a CSV file: a header row of column names, then one example per line with numeric
/// features and an integer `label` column (0 ... C-1). Strict: a missing or repeated `label`
/// column, a line with the wrong number of fields, a value that is not a finite number, or a
/// label that is not a non-negative integer is an error naming the line and column. A UTF-8
/// byte-order mark before the header is skipped.
///
/// Memory: the file is read in chunks of `chunkSize` bytes and parsed line by line, so the
/// peak is the features kept (4 bytes a value; about twice that while the array grows), one
/// chunk and the longest line (at most `lineLimit` bytes), whatever the file's size.
public enum CSVLoader {
    /// The longest line read (a row of 100,000 features written with 8 characters each is 0.8 MB).
    static let lineLimit = 64 << 20
    static let chunkSize = 1 << 20

    public static func load(path: String) throws(DataError) -> LabeledData {
        let size = try DataFileReader.checkedSize(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(path: path, problem: "cannot be read (no permission)")
        }
        defer { try? handle.close() }
        var parser = Parser(source: path, expectedBytes: size)
        var pending: [UInt8] = []
        var first = true
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: chunkSize) ?? Data() } catch {
                throw DataError(path: path, problem: "cannot be read (\(reason(error)))")
            }
            if chunk.isEmpty { break }
            if first {
                first = false
                try checkText(Array(chunk.prefix(4096)), path: path)
            }
            // Only the new bytes are searched for line ends: a long line costs its length once.
            var scanned = pending.count
            pending += chunk
            var start = 0
            while let newline = pending[scanned...].firstIndex(of: 10) {
                try parser.consume(pending[start..<newline])
                start = newline + 1
                scanned = start
            }
            pending.removeFirst(start)
            if pending.count > lineLimit {
                throw DataError(
                    path: path,
                    problem:
                        "line \(parser.lineNumber + 1) is longer than \(lineLimit >> 20) MiB; is this a CSV file with one example per line?"
                )
            }
        }
        if !pending.isEmpty { try parser.consume(pending[...]) }
        return try parser.finish()
    }

    /// Refuses a file that does not start as text: NUL bytes or invalid UTF-8 in its first bytes.
    static func checkText(_ head: [UInt8], path: String) throws(DataError) {
        // A multi-byte character cut at the end of the sample is not an error.
        var end = head.count
        while end > 0 && end > head.count - 4 && head[end - 1] & 0xC0 == 0x80 { end -= 1 }
        if end > 0 && head[end - 1] >= 0xC0 { end -= 1 }
        guard !head.contains(0), String(validating: head[0..<end], as: UTF8.self) != nil || end == 0 else {
            throw DataError(
                path: path,
                problem: "is not UTF-8 text; give a CSV file (IDX files are recognised by their magic number)")
        }
    }

    public static func parse(_ text: String, source: String) throws(DataError) -> LabeledData {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// Parses CSV bytes held in memory (see `Parser`).
    static func parse(bytes: [UInt8], source: String) throws(DataError) -> LabeledData {
        var parser = Parser(source: source, expectedBytes: bytes.count)
        var start = 0
        while let newline = bytes[start...].firstIndex(of: 10) {
            try parser.consume(bytes[start..<newline])
            start = newline + 1
        }
        if start < bytes.count { try parser.consume(bytes[start...]) }
        return try parser.finish()
    }

    /// Parses one line at a time. Integer fields (the common case: pixels, counts) are read
    /// directly from the bytes; any other field goes through `Float(String)`, so values are
    /// exactly what Swift's own parser gives. The header's names are kept as its bytes and
    /// decoded only for a message.
    struct Parser {
        let source: String
        let expectedBytes: Int
        var lineNumber = 0
        var header: [UInt8] = []
        /// Byte ranges of the header's fields, and the count of columns.
        var nameRanges: [Range<Int>] = []
        var labelColumn = -1
        var features: [Float] = []
        var labels: [Int] = []

        init(source: String, expectedBytes: Int) {
            self.source = source
            self.expectedBytes = expectedBytes
        }

        func fail(_ problem: String) -> DataError { DataError(path: source, problem: problem) }

        func name(_ column: Int) -> String {
            shortened(String(decoding: header[nameRanges[column]], as: UTF8.self).trimmingCharacters(in: .whitespaces))
        }

        /// One line without its "\n" (a trailing "\r" is dropped here).
        mutating func consume(_ raw: ArraySlice<UInt8>) throws(DataError) {
            lineNumber += 1
            var line = raw
            if line.last == 13 { line = line.dropLast() }
            if lineNumber == 1 {
                try readHeader(line)
            } else {
                try readRow(line)
            }
        }

        mutating func readHeader(_ raw: ArraySlice<UInt8>) throws(DataError) {
            var line = raw
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }  // a byte-order mark
            guard !line.isEmpty else { throw fail("is empty; expected a header row with a 'label' column") }
            header = Array(line)
            var start = 0
            for index in 0...header.count where index == header.count || header[index] == 44 {
                nameRanges.append(start..<index)
                start = index + 1
            }
            let labelColumns = nameRanges.indices.filter { name($0) == "label" }
            guard labelColumns.count == 1 else {
                let shown = (0..<min(5, nameRanges.count)).map { name($0) }.joined(separator: ", ")
                throw fail(
                    labelColumns.isEmpty
                        ? "line 1: no 'label' column in the header (columns: \(shown)\(nameRanges.count > 5 ? ", ..." : ""))"
                        : "line 1: 'label' appears \(labelColumns.count) times in the header")
            }
            guard nameRanges.count >= 2 else { throw fail("line 1: need at least one feature column besides 'label'") }
            if let empty = nameRanges.indices.first(where: { name($0).isEmpty }) {
                throw fail("line 1: column \(empty + 1) has an empty name")
            }
            labelColumn = labelColumns[0]
            // Rows are about as long as the header's line or longer: reserve for the file's size.
            let rows = max(1, expectedBytes / max(header.count + 1, 2 * nameRanges.count))
            features.reserveCapacity(min(rows, 1 << 24) * (nameRanges.count - 1))
        }

        mutating func readRow(_ line: ArraySlice<UInt8>) throws(DataError) {
            let columns = nameRanges.count
            var column = 0
            var fieldStart = line.startIndex
            var position = line.startIndex
            while true {
                let atEnd = position == line.endIndex
                if atEnd || line[position] == 44 {  // ","
                    guard column < columns else {
                        throw fail(
                            "line \(lineNumber) has \(1 + line.filter { $0 == 44 }.count) fields; the header has \(columns)"
                        )
                    }
                    var lower = fieldStart, upper = position
                    while lower < upper, line[lower] == 32 || line[lower] == 9 { lower += 1 }
                    while upper > lower, line[upper - 1] == 32 || line[upper - 1] == 9 { upper -= 1 }
                    let field = line[lower..<upper]
                    if column == labelColumn {
                        guard let label = CSVLoader.integer(field), label >= 0 else {
                            throw fail(
                                "line \(lineNumber), column 'label': '\(shortened(String(decoding: field, as: UTF8.self)))' is not a non-negative integer class"
                            )
                        }
                        guard label < LabeledData.classLimit else {
                            throw fail(
                                "line \(lineNumber), column 'label': class \(label) is not below the limit of \(LabeledData.classLimit) classes; labels are class indices 0 ... C-1"
                            )
                        }
                        labels.append(label)
                    } else if let value = CSVLoader.integer(field), abs(value) < 1 << 24 {
                        features.append(Float(value))
                    } else {
                        let text = String(decoding: field, as: UTF8.self)
                        guard let value = Float(text), value.isFinite else {
                            throw fail(
                                "line \(lineNumber), column '\(name(column))': '\(shortened(text))' is not a finite number"
                            )
                        }
                        features.append(value)
                    }
                    column += 1
                    fieldStart = position + 1
                    if atEnd { break }
                }
                position += 1
            }
            guard column == columns else {
                throw fail("line \(lineNumber) has \(column) fields; the header has \(columns)")
            }
        }

        func finish() throws(DataError) -> LabeledData {
            guard lineNumber >= 1 else { throw fail("is empty; expected a header row with a 'label' column") }
            guard !labels.isEmpty else { throw fail("has a header but no examples") }
            return LabeledData(
                features: features, featureCount: nameRanges.count - 1, labels: labels,
                classCount: labels.max()! + 1, source: source)
        }
    }

    /// An optionally signed decimal integer of at most 18 digits, or nil.
    static func integer(_ field: ArraySlice<UInt8>) -> Int? {
        var index = field.startIndex
        var negative = false
        if index < field.endIndex, field[index] == 45 || field[index] == 43 {  // "-" or "+"
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
}
