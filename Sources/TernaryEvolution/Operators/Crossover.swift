import TernaryCore

/// How two parents are combined.
public enum Crossover: String, Hashable, Sendable, CaseIterable {
    /// Each 64-weight word from either parent by a random mask (both planes with one mask).
    case uniform
    /// Each neuron (a row of weights and its threshold) whole from either parent.
    case neuron
    /// Neurons in a random run `[c1, c2)` of all rows (layer by layer) from the second parent.
    case twoPoint = "two-point"

    /// Writes the crossover of `first` and `second` into `child` (whose storage is reused). The
    /// hidden layers' steps (multi-bit activations) come from `first`, without a random draw.
    func apply(
        _ first: TernaryNetwork, _ second: TernaryNetwork, into child: inout TernaryNetwork,
        using generator: inout some RandomNumberGenerator
    ) {
        child.steps = first.steps
        switch self {
        case .uniform:
            for l in child.weights.indices {
                child.weights[l].blend(first.weights[l], second.weights[l]) { _ in generator.next() }
            }
            for l in child.thresholds.indices {
                for i in child.thresholds[l].indices {
                    child.thresholds[l][i] =
                        generator.next() & 1 == 0 ? first.thresholds[l][i] : second.thresholds[l][i]
                }
            }
        case .neuron, .twoPoint:
            let rows = child.weights.reduce(0) { $0 + $1.rowCount }
            var cut = (0, 0)
            if self == .twoPoint {
                let a = generator.uniformBelow(rows + 1), b = generator.uniformBelow(rows + 1)
                cut = (min(a, b), max(a, b))
            }
            var flat = 0
            for l in child.weights.indices {
                for row in 0..<child.weights[l].rowCount {
                    let fromSecond = self == .neuron ? generator.next() & 1 == 1 : (flat >= cut.0 && flat < cut.1)
                    let parent = fromSecond ? second : first
                    child.weights[l].copyRow(row, from: parent.weights[l])
                    if l < child.thresholds.count { child.thresholds[l][row] = parent.thresholds[l][row] }
                    flat += 1
                }
            }
        }
    }
}

/// Copies `parent` into `child`'s storage.
func copyGenome(_ parent: TernaryNetwork, into child: inout TernaryNetwork) {
    child.steps = parent.steps
    for l in child.weights.indices { child.weights[l].assign(parent.weights[l]) }
    for l in child.thresholds.indices {
        for i in child.thresholds[l].indices { child.thresholds[l][i] = parent.thresholds[l][i] }
    }
}
