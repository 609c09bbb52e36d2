import TernaryCore

/// How the evolution arms draw a genome's first layer before calibrating it.
public enum FirstLayerStart: String, Sendable, CaseIterable {
    /// Random trits with the run's zero fraction, as every other layer.
    case random
    /// For token inputs (text): each hidden unit a detector of the last few symbols of a window
    /// drawn from the train split (`setNgramFirstLayer(from:using:)`); other inputs draw random trits.
    case ngrams
}

/// The n-gram start of a token network's first layer: the lengths of the symbol runs its
/// units detect, and how often each is drawn (per mille).
enum NgramStart {
    static let lengths = [1, 2, 3, 4]
    static let perMille = [100, 300, 350, 250]

    /// A length drawn from `perMille`.
    static func length(using rng: inout Xoshiro256) -> Int {
        var draw = rng.uniformBelow(1000)
        for (length, share) in zip(lengths, perMille) {
            if draw < share { return length }
            draw -= share
        }
        return lengths.last!
    }
}

extension TernaryNetwork {
    /// Sets every hidden unit of the first layer to a detector of the last `L` symbols of a
    /// window drawn uniformly from `windows` (`L` from `NgramStart`, at most the context): at
    /// each of the last `L` positions the unit's trit is +1 for the window's symbol and -1 for
    /// every other symbol, and 0 at the earlier positions, so its sum is the matching symbols
    /// minus the others among the last `L` (`L` when the run recurs, 2 less per symbol that
    /// differs). Its threshold makes it a detector: a `sign` unit fires on the whole run alone
    /// (`theta = L`); a K-bit layer gets step 1 and `theta = max(L - (2^K - 1), -L)`, so a
    /// window with none of the run sits at level 0 and the whole run reaches the top level or
    /// `2L`. Deterministic in `rng`. The calibration of the median, made for random trits,
    /// put these units' many non-matching windows at level 1 and clamped partial runs at the
    /// top (`sign`: fired on every window), so it is not applied to this layer.
    mutating func setNgramFirstLayer(from windows: TokenWindows, using rng: inout Xoshiro256) {
        let context = windows.context, vocabulary = windows.vocabulary
        precondition(layerSizes[0] == context * vocabulary, "the first layer does not read these windows")
        guard windows.count > 0 else { return }
        var matrix = TernaryMatrix(rowCount: layerSizes[1], columnCount: layerSizes[0])
        let top = activation.isLevels ? Int(activation.maxLevel) : 0
        for unit in 0..<layerSizes[1] {
            let window = rng.uniformBelow(windows.count)
            let length = min(context, NgramStart.length(using: &rng))
            for position in (context - length)..<context {
                let symbol = Int(windows.stream[window + position])
                for t in 0..<vocabulary { matrix[unit, position * vocabulary + t] = t == symbol ? 1 : -1 }
            }
            thresholds[0][unit] = Int32(activation.isLevels ? max(length - top, -length) : length)
        }
        weights[0] = matrix
        if activation.isLevels { steps[0] = 1 }
    }
}
