extension TernaryMatrix {
    /// A random matrix: each weight is 0 with probability `zeroFraction`, otherwise +1 or -1
    /// with equal probability. Takes one 64-bit seed from `generator` and expands it with a
    /// local xoshiro256** (one number per weight, row-major): the result depends only on the
    /// generator's state, and the per-weight draws are not slowed by a generic call across
    /// modules.
    public init(
        rowCount: Int, columnCount: Int, zeroFraction: Double,
        using generator: inout some RandomNumberGenerator
    ) {
        precondition(zeroFraction >= 0 && zeroFraction <= 1, "zeroFraction must lie in [0, 1]")
        self.init(rowCount: rowCount, columnCount: columnCount)
        var local = Xoshiro256(seed: generator.next())
        // Compare the top 53 bits with the threshold so the probability is exact in binary.
        let threshold = UInt64((zeroFraction * 9007199254740992.0).rounded(.down))
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                let draw = local.next()
                if draw >> 11 < threshold { continue }
                let (word, bit) = position(row, column)
                if draw & 1 == 0 { plus[word] |= bit } else { minus[word] |= bit }
            }
        }
        checkInvariants()
    }
}
