/// A ternary network with the exact integer semantics of <doc:Semantics>.
///
/// Layer sizes `[n0, n1, ..., nL]`: `weights[l]` is an `n(l+1) x n(l)` ternary matrix;
/// `thresholds[l]` holds the Int32 thresholds of hidden layer `l + 1` (there are `L - 1` of them;
/// the output layer has none). Inputs are bytes from `quantizer`. First layer: `s = W1 x` by adds
/// and subtracts; hidden: `activation` of `s`, `theta` and the layer's step (`sign`:
/// `h = s >= theta ? +1 : -1`; K-bit levels: `h = clamp(floor((s - theta) / delta), 0, 2^K - 1)`);
/// later layers `s = W h` by popcounts; output: Int32 logits, prediction = argmax with ties to
/// the lowest index.
///
/// A network is a value: copying one for a genome costs nothing until it is changed.
public struct TernaryNetwork: Hashable, Sendable {
    /// `[n0, n1, ..., nL]`: inputs, hidden sizes, classes.
    public let layerSizes: [Int]
    public var activation: Activation
    public var quantizer: InputQuantizer
    /// `weights[l]` maps layer `l` to layer `l + 1`.
    public var weights: [TernaryMatrix]
    /// Thresholds of the hidden layers: `thresholds[l].count == layerSizes[l + 1]`.
    public var thresholds: [[Int32]]
    /// The step `delta >= 1` of each hidden layer (`steps.count == thresholds.count`): the width
    /// of one level of a `levels` activation. `sign` ignores it (all 1).
    public var steps: [Int32]
    /// The softmax temperature `T` the model's probabilities use, `p = softmax(z / T)`, fitted
    /// on the training split after training (<doc:Semantics>); nil when none was fitted.
    /// Not part of the integer network: predictions never depend on it.
    public var temperature: Double? = nil

    /// The token input description, nil for byte features.
    public var tokens: TokenInput? { quantizer.tokens }

    /// A network of zero weights and zero thresholds.
    public init(
        layerSizes: [Int], activation: Activation = .sign,
        quantizer: InputQuantizer = InputQuantizer(low: 0, high: 255)
    ) {
        precondition(layerSizes.count >= 2, "a network needs at least inputs and outputs")
        precondition(layerSizes.allSatisfy { $0 >= 1 }, "layer sizes must be positive")
        self.layerSizes = layerSizes
        self.activation = activation
        self.quantizer = quantizer
        weights = zip(layerSizes.dropFirst(), layerSizes).map {
            TernaryMatrix(rowCount: $0, columnCount: $1)
        }
        thresholds = layerSizes.dropFirst().dropLast().map { [Int32](repeating: 0, count: $0) }
        steps = [Int32](repeating: 1, count: layerSizes.count - 2)
    }

    /// A random network: weights with `zeroFraction` zeros, thresholds zero.
    public init(
        layerSizes: [Int], zeroFraction: Double, activation: Activation = .sign,
        quantizer: InputQuantizer = InputQuantizer(low: 0, high: 255),
        using generator: inout some RandomNumberGenerator
    ) {
        self.init(layerSizes: layerSizes, activation: activation, quantizer: quantizer)
        for l in weights.indices {
            weights[l] = TernaryMatrix(
                rowCount: weights[l].rowCount, columnCount: weights[l].columnCount,
                zeroFraction: zeroFraction, using: &generator)
        }
    }

    /// Number of inputs, `n0`.
    public var inputCount: Int { layerSizes[0] }
    /// Number of classes, `nL`.
    public var classCount: Int { layerSizes[layerSizes.count - 1] }
    /// Number of weights over all layers.
    public var weightCount: Int { weights.reduce(0) { $0 + $1.count } }
    /// Number of zero weights over all layers.
    public var zeroWeightCount: Int { weights.reduce(0) { $0 + $1.zeroCount } }
    /// Bytes held in memory by weights and thresholds.
    public var byteCount: Int {
        weights.reduce(0) { $0 + $1.byteCount } + thresholds.reduce(0) { $0 + 4 * $1.count }
    }

    /// Number of weights of a network of `layerSizes`: the sum of `n_{l+1} n_l` over layers.
    public static func weightCount(layerSizes: [Int]) -> Int {
        zip(layerSizes.dropFirst(), layerSizes).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Bytes a network of `layerSizes` holds in memory (`byteCount` without building one): two
    /// bit planes per row, each padded to whole 64-bit words, and 4 bytes per hidden threshold.
    public static func byteCount(layerSizes: [Int]) -> Int {
        zip(layerSizes.dropFirst(), layerSizes).reduce(0) { $0 + $1.0 * 16 * (($1.1 + 63) / 64) }
            + 4 * layerSizes.dropFirst().dropLast().reduce(0, +)
    }

    /// The network cut after weight layer `layer`: its logits are this network's sums of layer
    /// `layer` (before thresholding). `layer` in `0 ..< weights.count`.
    public func prefix(throughLayer layer: Int) -> TernaryNetwork {
        precondition(layer >= 0 && layer < weights.count, "layer \(layer) outside 0..<\(weights.count)")
        var cut = TernaryNetwork(
            layerSizes: Array(layerSizes[0...(layer + 1)]), activation: activation,
            quantizer: quantizer)
        cut.weights = Array(weights[0...layer])
        cut.thresholds = Array(thresholds[0..<layer])
        cut.steps = Array(steps[0..<layer])
        return cut
    }

    /// Traps if any matrix breaks its invariants or a shape disagrees with `layerSizes`
    /// (debug builds only).
    public func checkInvariants() {
        #if DEBUG
        precondition(weights.count == layerSizes.count - 1 && thresholds.count == layerSizes.count - 2)
        for (l, matrix) in weights.enumerated() {
            precondition(matrix.rowCount == layerSizes[l + 1] && matrix.columnCount == layerSizes[l])
            matrix.checkInvariants()
        }
        for (l, t) in thresholds.enumerated() { precondition(t.count == layerSizes[l + 1]) }
        precondition(steps.count == thresholds.count && steps.allSatisfy { $0 >= 1 }, "one step >= 1 per hidden layer")
        #endif
    }
}
