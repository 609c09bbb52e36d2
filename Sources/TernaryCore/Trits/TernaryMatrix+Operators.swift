/// Whole-word operations on the bit planes, the building blocks of genetic operators. Every
/// one keeps the invariants: a bit of the result comes whole (plus and minus together) from
/// one source, so `plus & minus == 0` and zero padding carry over.
extension TernaryMatrix {
    /// Copies `other`'s planes into this matrix's storage (no allocation when uniquely held).
    public mutating func assign(_ other: TernaryMatrix) {
        precondition(other.rowCount == rowCount && other.columnCount == columnCount, "shapes differ")
        for k in plus.indices {
            plus[k] = other.plus[k]
            minus[k] = other.minus[k]
        }
    }

    /// Uniform crossover by word masks: bit `i` of word `k` comes from `first` where bit `i` of
    /// `mask(k)` is set, else from `second`. `mask` is called once per word, in order.
    public mutating func blend(_ first: TernaryMatrix, _ second: TernaryMatrix, mask: (Int) -> UInt64) {
        precondition(
            first.rowCount == rowCount && first.columnCount == columnCount
                && second.rowCount == rowCount && second.columnCount == columnCount, "shapes differ")
        for k in plus.indices {
            let m = mask(k)
            plus[k] = (first.plus[k] & m) | (second.plus[k] & ~m)
            minus[k] = (first.minus[k] & m) | (second.minus[k] & ~m)
        }
        checkInvariants()
    }

    /// Copies row `row` of `other` into row `row` of this matrix.
    public mutating func copyRow(_ row: Int, from other: TernaryMatrix) {
        precondition(other.rowCount == rowCount && other.columnCount == columnCount, "shapes differ")
        precondition(row >= 0 && row < rowCount, "row \(row) outside 0..<\(rowCount)")
        for k in (row * wordsPerRow)..<((row + 1) * wordsPerRow) {
            plus[k] = other.plus[k]
            minus[k] = other.minus[k]
        }
    }

    /// Sets the weight at flat row-major index `index` to one of the two trits it does not
    /// hold: the lower one when `pickHigher` is false, the higher one otherwise.
    public mutating func mutate(at index: Int, pickHigher: Bool) {
        let row = index / columnCount, column = index - row * columnCount
        let current = self[row, column]
        let others: (Int8, Int8) = current == -1 ? (0, 1) : (current == 0 ? (-1, 1) : (-1, 0))
        self[row, column] = pickHigher ? others.1 : others.0
    }
}
