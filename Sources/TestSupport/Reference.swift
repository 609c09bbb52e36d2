import Foundation
import TernaryCore

/// The network of TernaryCore's article Semantics (`Sources/TernaryCore/TernaryCore.docc/Semantics.md`) written for obviousness: plain Int arithmetic with
/// multiplications, weights read one by one. The fast evaluator must equal it exactly.
public enum ReferenceNetwork {
    /// Logits `[C]` of one example (quantised features `[n0]`).
    public static func logits(_ network: TernaryNetwork, features: [UInt8]) -> [Int] {
        sums(network, features: features, layer: network.weights.count - 1)
    }

    /// The sums of weight layer `layer` (before thresholds) for one example.
    public static func sums(_ network: TernaryNetwork, features: [UInt8], layer last: Int) -> [Int] {
        var activations = features.map { Int($0) }
        for l in 0...last {
            let matrix = network.weights[l]
            var sums = [Int](repeating: 0, count: matrix.rowCount)
            for row in 0..<matrix.rowCount {
                for column in 0..<matrix.columnCount {
                    sums[row] += Int(matrix[row, column]) * activations[column]
                }
            }
            if l == last { return sums }
            activations = sums.indices.map { activation(network, layer: l, neuron: $0, sum: sums[$0]) }
        }
        return activations
    }

    /// Hidden neuron `neuron` of hidden layer `layer` with pre-activation `sum`: `sign` gives +-1;
    /// K-bit levels give `floor((sum - theta) / delta)` clamped to `0 ... 2^K - 1`, the floor
    /// taken on real numbers.
    public static func activation(_ network: TernaryNetwork, layer: Int, neuron: Int, sum: Int) -> Int {
        let theta = Int(network.thresholds[layer][neuron])
        switch network.activation {
        case .sign:
            return sum >= theta ? 1 : -1
        case let .levels(bits):
            let level = Int((Double(sum - theta) / Double(network.steps[layer])).rounded(.down))
            return min(max(level, 0), (1 << bits) - 1)
        }
    }

    /// Index of the largest logit, the lowest index on ties.
    public static func argmax(_ logits: [Int]) -> Int {
        var best = 0
        for c in logits.indices where logits[c] > logits[best] { best = c }
        return best
    }

    /// Mean cross-entropy of `softmax(tau * z)` computed directly with `exp` and `log`.
    public static func loss(_ logits: [[Int]], labels: [Int], tau: Double) -> Double {
        var total = 0.0
        for (z, label) in zip(logits, labels) {
            let top = z.max()!
            let sum = z.reduce(0.0) { $0 + exp(tau * Double($1 - top)) }
            total += -(tau * Double(z[label] - top) - log(sum))
        }
        return total / Double(labels.count)
    }
}

/// Sizes at and around word boundaries, as swift-collections tests its bit arrays.
public let boundarySizes = [1, 2, 13, 63, 64, 65, 127, 128, 129]

/// Random quantised features and labels.
public func randomExamples(
    count: Int, features: Int, classes: Int, maxValue: Int = 255,
    using generator: inout some RandomNumberGenerator
) -> (features: [UInt8], labels: [Int]) {
    let x = (0..<(count * features)).map { _ in UInt8(generator.uniformBelow(maxValue + 1)) }
    let y = (0..<count).map { _ in generator.uniformBelow(classes) }
    return (x, y)
}

/// A random network with random thresholds in a range where neurons both fire and do not; for
/// K-bit levels, random steps such that the sums spread over every level, clamped ones included.
public func randomNetwork(
    _ sizes: [Int], zeroFraction: Double, activation: Activation = .sign,
    using generator: inout some RandomNumberGenerator
) -> TernaryNetwork {
    var network = TernaryNetwork(
        layerSizes: sizes, zeroFraction: zeroFraction, activation: activation, using: &generator)
    let levels = Int(activation.maxLevel)
    for l in network.thresholds.indices {
        let spread = l == 0 ? 128 : (levels + 1) / 2
        let scale = spread * max(1, Int(Double(sizes[l]).squareRoot()))
        for i in network.thresholds[l].indices {
            network.thresholds[l][i] = Int32(generator.uniformBelow(2 * scale + 1) - scale)
        }
        if activation.isLevels {
            network.steps[l] = Int32(1 + generator.uniformBelow(max(1, 2 * scale / levels)))
        }
    }
    return network
}

/// `population` random networks of `sizes` and a batch of `examples` random examples, all from
/// one seeded generator: the set-up of most evaluator tests.
public func randomProblem(
    _ sizes: [Int], population: Int, examples: Int, zeroFraction: Double,
    maxValue: Int = 255, activation: Activation = .sign,
    seed: UInt64
) -> (networks: [TernaryNetwork], batch: ExampleBatch) {
    var rng = Xoshiro256(seed: seed)
    let networks = (0..<population).map { _ in
        randomNetwork(sizes, zeroFraction: zeroFraction, activation: activation, using: &rng)
    }
    let data = randomExamples(
        count: examples, features: sizes[0], classes: sizes.last!, maxValue: maxValue, using: &rng)
    return (networks, ExampleBatch(features: data.features, featureCount: sizes[0], labels: data.labels))
}
