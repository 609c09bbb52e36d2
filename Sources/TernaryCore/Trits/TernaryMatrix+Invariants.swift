extension TernaryMatrix {
    /// Traps if `plus & minus != 0` anywhere or a padding bit is set. Compiles to nothing in
    /// release builds; operators call it after every change.
    @inline(__always)
    public func checkInvariants() {
        #if DEBUG
        if let problem = invariantViolation() { preconditionFailure(problem) }
        #endif
    }

    /// A description of the first broken invariant, or nil.
    public func invariantViolation() -> String? {
        let tailBits = columnCount & 63
        let padding: UInt64 = tailBits == 0 ? 0 : ~((1 << UInt64(tailBits)) - 1)
        for row in 0..<rowCount {
            for w in 0..<wordsPerRow {
                let index = row * wordsPerRow + w
                if plus[index] & minus[index] != 0 {
                    return "row \(row) word \(w): a weight is both +1 and -1"
                }
                if w == wordsPerRow - 1, (plus[index] | minus[index]) & padding != 0 {
                    return "row \(row): padding bits past column \(columnCount) are set"
                }
            }
        }
        return nil
    }
}
