/// How one network did on one batch.
public struct Score: Hashable, Sendable {
    /// Examples whose argmax logit (ties to the lowest index) is the label.
    public var correct: Int
    /// Examples scored.
    public var count: Int
    /// Mean cross-entropy of `softmax(temperature * logits)` against the labels (<doc:Semantics>).
    public var loss: Double
    /// The fixed-point loss total (`LossTable.unitsPerNat` per nat, summed over the examples)
    /// when the score came from the ternary evaluators, so scores of disjoint blocks of
    /// examples add up exactly (data-parallel runs); nil for a score made from a Double loss.
    /// Not part of equality: two scores of one count with equal units have equal losses.
    public var lossUnits: Int64?

    public init(correct: Int, count: Int, loss: Double) {
        self.correct = correct
        self.count = count
        self.loss = loss
    }

    /// A score from the fixed-point loss total of the ternary evaluators (`LossTable`): the mean
    /// loss is `lossUnits / 2^24 / count`, a function of the integer total alone, so every way
    /// of computing the total (full pass, incremental update, any thread count) gives the same
    /// Double.
    public init(correct: Int, count: Int, lossUnits: Int64) {
        self.init(
            correct: correct, count: count,
            loss: count == 0 ? 0 : Double(lossUnits) / LossTable.unitsPerNat / Double(count))
        self.lossUnits = lossUnits
    }

    public static func == (a: Score, b: Score) -> Bool {
        a.correct == b.correct && a.count == b.count && a.loss == b.loss
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(correct)
        hasher.combine(count)
        hasher.combine(loss)
    }

    /// `correct / count`.
    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
}

/// What evolution maximises.
public enum FitnessKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// Fraction of the batch classified correctly.
    case accuracy
    /// Minus the mean cross-entropy (smooth: separates networks of equal accuracy).
    case xent

    /// The fitness of a score: larger is better; a NaN loss gives `-infinity`, never the best.
    public func fitness(of score: Score) -> Double {
        switch self {
        case .accuracy: return score.accuracy
        case .xent: return score.loss.isNaN ? -.infinity : -score.loss
        }
    }
}
