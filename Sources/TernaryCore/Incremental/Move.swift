/// One change of a genome (<doc:IncrementalEvaluation>): set a trit, a hidden threshold, or a
/// hidden layer's step (multi-bit activations only).
///
/// `layer` counts weight layers from 0 (the first layer maps inputs to the first hidden layer);
/// a threshold move names hidden layer `layer + 1`'s thresholds, that is `thresholds[layer]`,
/// and a step move its step, `steps[layer]`.
/// A candidate is a parent plus a short list of moves, applied in order: when two moves of a
/// candidate name the same position, the later one wins.
public struct Move: Hashable, Sendable {
    public enum Kind: UInt8, Hashable, Sendable { case trit, threshold, step }
    public var kind: Kind
    public var layer: Int32
    /// The row (output neuron) of a trit, or the neuron of a threshold; 0 for a step.
    public var row: Int32
    /// The column (input) of a trit; 0 for a threshold or a step.
    public var column: Int32
    /// The new trit (-1, 0, +1), the new threshold, or the new step (at least 1).
    public var value: Int32

    /// Sets weight (`row`, `column`) of weight layer `layer` to `value` (-1, 0 or +1).
    public static func trit(layer: Int, row: Int, column: Int, value: Int8) -> Move {
        Move(kind: .trit, layer: Int32(layer), row: Int32(row), column: Int32(column), value: Int32(value))
    }

    /// Sets the threshold of `neuron` in `thresholds[layer]` to `value`.
    public static func threshold(layer: Int, neuron: Int, value: Int32) -> Move {
        Move(kind: .threshold, layer: Int32(layer), row: Int32(neuron), column: 0, value: value)
    }

    /// Sets the step of hidden layer `layer + 1`, `steps[layer]`, to `value` (at least 1).
    public static func step(layer: Int, value: Int32) -> Move {
        Move(kind: .step, layer: Int32(layer), row: 0, column: 0, value: value)
    }

    /// Applies the move to `network` (the slow, obvious way: used by `apply` and by tests).
    public func apply(to network: inout TernaryNetwork) {
        switch kind {
        case .trit: network.weights[Int(layer)][Int(row), Int(column)] = Int8(value)
        case .threshold: network.thresholds[Int(layer)][Int(row)] = value
        case .step: network.steps[Int(layer)] = value
        }
    }

    /// Traps unless the move fits a network of `layerSizes` (a programmer error).
    func check(layerSizes: [Int]) {
        let l = Int(layer), r = Int(row), c = Int(column)
        switch kind {
        case .trit:
            precondition(
                l >= 0 && l < layerSizes.count - 1 && r >= 0 && r < layerSizes[l + 1]
                    && c >= 0 && c < layerSizes[l] && value >= -1 && value <= 1,
                "trit move (\(l), \(r), \(c)) = \(value) does not fit layers \(layerSizes)")
        case .threshold:
            precondition(
                l >= 0 && l < layerSizes.count - 2 && r >= 0 && r < layerSizes[l + 1],
                "threshold move (\(l), \(r)) does not fit layers \(layerSizes)")
        case .step:
            precondition(
                l >= 0 && l < layerSizes.count - 2 && r == 0 && c == 0 && value >= 1,
                "step move (\(l)) = \(value) does not fit layers \(layerSizes)")
        }
    }
}

/// Many candidates' moves in one flat buffer (candidate `i` is `moves[ends[i - 1] ..< ends[i]]`),
/// so a generation of candidates is built without one array per candidate. Reuse one list
/// across generations with `removeAll()`, which keeps the capacity.
public struct MoveList: Sendable {
    public private(set) var moves: [Move] = []
    public private(set) var ends: [Int] = []

    public init() {}

    /// Number of candidates.
    public var count: Int { ends.count }

    /// The moves of candidate `index`.
    public subscript(index: Int) -> ArraySlice<Move> {
        moves[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    /// Adds a move to the candidate being built.
    public mutating func append(_ move: Move) { moves.append(move) }

    /// Closes the candidate being built (it may be empty: the parent itself).
    public mutating func endCandidate() { ends.append(moves.count) }

    /// Adds a whole candidate.
    public mutating func appendCandidate(_ candidate: some Sequence<Move>) {
        moves.append(contentsOf: candidate)
        endCandidate()
    }

    /// Empties the list and keeps its memory.
    public mutating func removeAll() {
        moves.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }
}
