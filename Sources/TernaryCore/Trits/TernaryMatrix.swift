/// A matrix of trits (-1, 0, +1) stored as two bit planes per row.
///
/// Row `r` occupies words `r * wordsPerRow ..< (r + 1) * wordsPerRow` of `plus` and `minus`;
/// bit `c % 64` of word `c / 64` is column `c`. A weight is +1 where its `plus` bit is set, -1
/// where its `minus` bit is set, 0 where neither is. Invariants (see `checkInvariants()`):
/// `plus & minus == 0` in every word, and the padding bits past `columnCount` in the last word
/// of each row are zero, so whole-word popcounts never see them. Memory: 2 bits per weight plus
/// row padding to 64.
public struct TernaryMatrix: Hashable, Sendable {
    /// Number of rows (output neurons).
    public let rowCount: Int
    /// Number of columns (inputs).
    public let columnCount: Int
    /// Words per row in each plane: `ceil(columnCount / 64)`.
    public let wordsPerRow: Int
    /// Bit plane of the +1 weights, `rowCount * wordsPerRow` words.
    public internal(set) var plus: [UInt64]
    /// Bit plane of the -1 weights, `rowCount * wordsPerRow` words.
    public internal(set) var minus: [UInt64]

    /// A matrix of zeros.
    public init(rowCount: Int, columnCount: Int) {
        precondition(rowCount >= 0 && columnCount >= 0, "matrix dimensions must be non-negative")
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.wordsPerRow = (columnCount + 63) / 64
        plus = Array(repeating: 0, count: rowCount * wordsPerRow)
        minus = plus
    }

    /// A matrix from row-major trits (each -1, 0 or +1).
    public init(rowCount: Int, columnCount: Int, trits: [Int8]) {
        precondition(trits.count == rowCount * columnCount, "need rowCount * columnCount trits")
        self.init(rowCount: rowCount, columnCount: columnCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                self[row, column] = trits[row * columnCount + column]
            }
        }
    }

    /// A matrix from bit planes; traps if the planes break the invariants.
    public init(rowCount: Int, columnCount: Int, plus: [UInt64], minus: [UInt64]) {
        self.init(rowCount: rowCount, columnCount: columnCount)
        precondition(
            plus.count == self.plus.count && minus.count == self.minus.count,
            "planes need rowCount * ceil(columnCount / 64) words")
        self.plus = plus
        self.minus = minus
        precondition(invariantViolation() == nil, invariantViolation() ?? "")
    }

    /// The trit at (`row`, `column`): -1, 0 or +1.
    public subscript(row: Int, column: Int) -> Int8 {
        get {
            let (word, bit) = position(row, column)
            if plus[word] & bit != 0 { return 1 }
            if minus[word] & bit != 0 { return -1 }
            return 0
        }
        set {
            precondition(newValue >= -1 && newValue <= 1, "a trit is -1, 0 or +1, not \(newValue)")
            let (word, bit) = position(row, column)
            plus[word] &= ~bit
            minus[word] &= ~bit
            if newValue == 1 { plus[word] |= bit } else if newValue == -1 { minus[word] |= bit }
        }
    }

    @inline(__always)
    func position(_ row: Int, _ column: Int) -> (word: Int, bit: UInt64) {
        precondition(
            row >= 0 && row < rowCount && column >= 0 && column < columnCount,
            "index (\(row), \(column)) outside a \(rowCount) x \(columnCount) matrix")
        return (row * wordsPerRow + column >> 6, 1 << UInt64(column & 63))
    }

    /// All trits, row-major.
    public var trits: [Int8] {
        var result = [Int8]()
        result.reserveCapacity(rowCount * columnCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount { result.append(self[row, column]) }
        }
        return result
    }

    /// Number of weights, `rowCount * columnCount`.
    public var count: Int { rowCount * columnCount }
    /// Number of +1 weights.
    public var plusCount: Int { plus.reduce(0) { $0 + $1.nonzeroBitCount } }
    /// Number of -1 weights.
    public var minusCount: Int { minus.reduce(0) { $0 + $1.nonzeroBitCount } }
    /// Number of zero weights.
    public var zeroCount: Int { count - plusCount - minusCount }

    /// Bytes held by the two planes.
    public var byteCount: Int { (plus.count + minus.count) * MemoryLayout<UInt64>.size }
}
