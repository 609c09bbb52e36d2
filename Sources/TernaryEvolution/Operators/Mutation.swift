import Foundation
import TernaryCore

/// Point mutation of weights and thresholds at given rates.
///
/// Positions are drawn by geometric skips: the gap to the next mutated weight is
/// `floor(log(u) / log(1 - rate))`, so the cost follows the number of mutations, not the number
/// of weights. A mutated weight takes one of its two other trit values with equal chance; a
/// mutated threshold moves by a nonzero integer step in `-thresholdStep ... thresholdStep`.
///
/// The defaults (the `ga` arm's, tuned on MNIST-5k and digits: the article *MeasuredResults*
/// of TernaryExperiments) are about one mutated weight per child (`standardWeightRate`), a
/// threshold stepped at rate 0.004, by at most `standardThresholdStep`.
public struct Mutation: Hashable, Sendable {
    /// Probability that a given weight mutates (nil: `standardWeightRate` of the genome).
    public var weightRate: Double?
    /// Probability that a given hidden threshold mutates.
    public var thresholdRate: Double
    /// Largest threshold step (nil: `standardThresholdStep` of the genome).
    public var thresholdStep: Int?

    public static let defaultThresholdRate = 0.004

    public init(
        weightRate: Double? = nil, thresholdRate: Double = Mutation.defaultThresholdRate, thresholdStep: Int? = nil
    ) {
        precondition(
            (weightRate.map { $0 >= 0 && $0 <= 1 } ?? true) && thresholdRate >= 0 && thresholdRate <= 1,
            "mutation rates must lie in [0, 1]")
        precondition((thresholdStep ?? 1) >= 1, "the threshold step must be at least 1")
        self.weightRate = weightRate
        self.thresholdRate = thresholdRate
        self.thresholdStep = thresholdStep
    }

    /// One mutated weight per genome on average: `1 / weights` (at most 1).
    public static func standardWeightRate(weightCount: Int) -> Double { min(1, 1 / Double(weightCount)) }

    /// The default largest threshold step: about 5% of a typical first-layer sum,
    /// `max(1, round(Q sqrt(n0) / 20))` for `Q` input levels and `n0` inputs (first-layer
    /// thresholds live on the scale of those sums). `local` and `es` use it too.
    public static func standardThresholdStep(levels: Int, inputCount: Int) -> Int {
        max(1, Int((Double(levels) * Double(inputCount).squareRoot() * 0.05).rounded()))
    }

    /// `standardThresholdStep` of `genome`'s inputs.
    public static func standardThresholdStep(for genome: TernaryNetwork) -> Int {
        standardThresholdStep(levels: genome.quantizer.levels, inputCount: genome.layerSizes[0])
    }

    /// The weight rate and threshold step used on `genome`: the given ones, or the standard ones.
    func resolved(for genome: TernaryNetwork) -> (weightRate: Double, thresholdStep: Int) {
        (
            weightRate ?? Mutation.standardWeightRate(weightCount: genome.weightCount),
            thresholdStep ?? Mutation.standardThresholdStep(for: genome)
        )
    }

    /// Mutates `genome` in place.
    func apply(to genome: inout TernaryNetwork, using generator: inout some RandomNumberGenerator) {
        var discarded: [Move] = []
        apply(to: &genome, using: &generator, recording: &discarded)
    }

    /// Mutates `genome` in place and appends the moves that did it to `moves`: each mutated
    /// weight and each changed threshold once (positions are distinct), so `moves` turns the
    /// genome before into the genome after, as `Difference.moves` would, without a scan.
    func apply(
        to genome: inout TernaryNetwork, using generator: inout some RandomNumberGenerator,
        recording moves: inout [Move]
    ) {
        let (weightRate, thresholdStep) = resolved(for: genome)
        let weightCounts = genome.weights.map(\.count)
        forEachPosition(total: weightCounts.reduce(0, +), rate: weightRate, using: &generator) { index, generator in
            var layer = 0, local = index
            while local >= weightCounts[layer] {
                local -= weightCounts[layer]
                layer += 1
            }
            genome.weights[layer].mutate(at: local, pickHigher: generator.next() & 1 == 1)
            let columns = genome.weights[layer].columnCount, row = local / columns, column = local - row * columns
            moves.append(.trit(layer: layer, row: row, column: column, value: genome.weights[layer][row, column]))
        }
        let thresholdCounts = genome.thresholds.map(\.count)
        forEachPosition(total: thresholdCounts.reduce(0, +), rate: thresholdRate, using: &generator) {
            index, generator in
            var layer = 0, local = index
            while local >= thresholdCounts[layer] {
                local -= thresholdCounts[layer]
                layer += 1
            }
            let magnitude = Int32(1 + generator.uniformBelow(thresholdStep))
            let step = generator.next() & 1 == 0 ? magnitude : -magnitude
            let current = genome.thresholds[layer][local]
            guard !current.addingReportingOverflow(step).overflow else { return }
            genome.thresholds[layer][local] = current + step
            moves.append(.threshold(layer: layer, neuron: local, value: current + step))
        }
    }
}

/// Calls `body` for each position in `0 ..< total` chosen independently with probability
/// `rate`, in increasing order, using geometric skips.
func forEachPosition<G: RandomNumberGenerator>(
    total: Int, rate: Double, using generator: inout G,
    _ body: (Int, inout G) -> Void
) {
    guard rate > 0, total > 0 else { return }
    if rate >= 1 {
        for index in 0..<total { body(index, &generator) }
        return
    }
    // Our own log (not the C library's), so the positions are the same on every platform;
    // log(1 - rate) by its series for small rates, where 1 - rate would lose the rate's digits.
    let logKeep =
        rate < 1e-4
        ? -(rate + rate * rate / 2 + rate * rate * rate / 3 + rate * rate * rate * rate / 4)
        : deterministicLog(1 - rate)
    var position = -1
    while true {
        // u in (0, 1]: 1 - uniformDouble() never returns 0.
        let u = 1 - generator.uniformDouble()
        let skip = (deterministicLog(u) / logKeep).rounded(.down)
        if skip >= Double(total - position - 1) { return }
        position += 1 + Int(skip)
        body(position, &generator)
    }
}
