import TernaryCore

/// Differences between two genomes of one architecture, on the bit planes: how an offspring is
/// expressed as moves from the parent whose incremental cache scores it.
///
/// A weight differs where either plane differs: `(plus_a ^ plus_b) | (minus_a ^ minus_b)`, so
/// counting costs one popcount per 64-weight word and listing costs one per word plus one move
/// per differing weight.
enum Difference {
    /// Number of weights at which `a` and `b` differ, or nil as soon as it exceeds `limit`.
    static func weightCount(_ a: TernaryNetwork, _ b: TernaryNetwork, limit: Int) -> Int? {
        var total = 0
        for l in a.weights.indices {
            let x = a.weights[l], y = b.weights[l]
            // The limit is checked every 32 words, so a far genome costs a fraction of a scan.
            for start in stride(from: 0, to: x.plus.count, by: 32) {
                for word in start..<min(start + 32, x.plus.count) {
                    total += ((x.plus[word] ^ y.plus[word]) | (x.minus[word] ^ y.minus[word])).nonzeroBitCount
                }
                if total > limit { return nil }
            }
        }
        return total
    }

    /// The moves that turn `parent` into `child`: a trit move per differing weight, a threshold
    /// move per differing threshold, layer by layer and row by row, and a step move per
    /// differing step (multi-bit activations).
    static func moves(from parent: TernaryNetwork, to child: TernaryNetwork) -> [Move] {
        var moves: [Move] = []
        for l in child.weights.indices {
            let x = parent.weights[l], y = child.weights[l]
            for row in 0..<y.rowCount {
                for w in 0..<y.wordsPerRow {
                    let word = row * y.wordsPerRow + w
                    var differ = (x.plus[word] ^ y.plus[word]) | (x.minus[word] ^ y.minus[word])
                    while differ != 0 {
                        let column = w * 64 + differ.trailingZeroBitCount
                        moves.append(.trit(layer: l, row: row, column: column, value: y[row, column]))
                        differ &= differ - 1
                    }
                }
            }
        }
        for l in child.thresholds.indices {
            for (neuron, value) in child.thresholds[l].enumerated() where value != parent.thresholds[l][neuron] {
                moves.append(.threshold(layer: l, neuron: neuron, value: value))
            }
        }
        for (l, step) in child.steps.enumerated() where step != parent.steps[l] {
            moves.append(.step(layer: l, value: step))
        }
        return moves
    }
}
