import Foundation

/// The softmax cross-entropy of integer logits as fixed-point integers, shared by the full
/// evaluator and the incremental scorer so that both give the same fitness to the bit.
///
/// An example's loss is `tau (max z - z_label) + log(sum_c exp(-tau (max z - z_c)))` (<doc:Semantics>), computed in Double from the example's logits alone and rounded to a multiple of
/// `2^-24` nats (`LossTable.unitsPerNat`). Sums of these Int64 units do not depend on the order
/// in which examples are added, which is what lets an incremental update of a few examples
/// equal a full evaluation exactly. The rounding changes a mean loss by at most 3e-8 nats.
/// Logit gaps are small integers, so `exp(-tau k)` comes from a table; past the table (where
/// `tau k > 746`) the term is 0 in Double anyway, so lookups past it read 0 and never overrun
/// (a network without hidden layers has gaps up to `2 * 255 * n0`).
public struct LossTable: Sendable {
    /// Fixed-point units per nat: `2^24`. A per-example loss is clamped below `2^24` nats, so a
    /// sum over up to `2^15` examples cannot overflow; past that the wrapping sum still does not
    /// depend on order.
    public static let unitsPerNat = 16_777_216.0
    /// The softmax scale `tau`.
    public let temperature: Double
    let exponentials: [Double]

    /// The table for `temperature` on logits whose gaps reach at most `largestGap`.
    public init(temperature: Double, largestGap: Int) {
        precondition(temperature > 0 && temperature.isFinite, "the temperature must be positive and finite")
        self.temperature = temperature
        let vanishing = Int((746 / temperature).rounded(.up))
        let count = max(1, min(largestGap, vanishing) + 1)
        exponentials = (0..<count).map { Foundation.exp(-temperature * Double($0)) }
    }

    /// The default scale of <doc:Semantics> for `layerSizes`: `1 / sqrt(n_{L-1})`.
    public static func defaultTemperature(layerSizes: [Int]) -> Double {
        1 / Double(layerSizes[layerSizes.count - 2]).squareRoot()
    }

    /// The largest logit gap a network of `layerSizes` can produce: `2 n_{L-1}` after a hidden
    /// layer of +-1 values, `2 * 255 * n0` for a network without hidden layers.
    public static func largestGap(layerSizes: [Int]) -> Int {
        let fanIn = layerSizes[layerSizes.count - 2]
        return layerSizes.count == 2 ? 2 * 255 * fanIn : 2 * fanIn
    }

    /// The table for networks of `layerSizes`, with `temperature` or the default.
    public init(layerSizes: [Int], temperature: Double?) {
        self.init(temperature: temperature ?? LossTable.defaultTemperature(layerSizes: layerSizes),
                  largestGap: LossTable.largestGap(layerSizes: layerSizes))
    }
}

/// `log(x)` for positive finite `x`, from IEEE adds, multiplies and one divide only, so it gives
/// the same bits on every machine and Swift version (the C library's `log` may differ between
/// them by an ulp). `x = m 2^e` with `m` in [1/sqrt 2, sqrt 2); `log m = 2 atanh(s)`,
/// `s = (m - 1) / (m + 1)`, `|s| <= 0.172`, by its series to `s^17`: relative error below
/// 1e-15 (tested against the C library), far below the loss's fixed-point unit (2^-24).
/// About four times faster than the C library's `log` here, where it takes one call per
/// recomputed example.
@inline(__always)
func naturalLog(_ x: Double) -> Double {
    let bits = x.bitPattern
    var exponent = Int((bits >> 52) & 0x7FF) - 1023
    var m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
    if m > 1.4142135623730951 {
        m *= 0.5
        exponent += 1
    }
    let s = (m - 1) / (m + 1)
    let t = s * s
    var series = 1.0 / 17
    series = series * t + 1.0 / 15
    series = series * t + 1.0 / 13
    series = series * t + 1.0 / 11
    series = series * t + 1.0 / 9
    series = series * t + 1.0 / 7
    series = series * t + 1.0 / 5
    series = series * t + 1.0 / 3
    series = series * t + 1
    return Double(exponent) * 0.6931471805599453 + 2 * s * series
}

/// `naturalLog`, for tests.
public func deterministicLog(_ x: Double) -> Double { naturalLog(x) }

/// Loss units and correctness of one example from its `C` logits (ties to the lowest index).
@inline(__always)
func exampleLoss(_ z: UnsafePointer<Int32>, classes C: Int, label: Int, tau: Double,
                 table: UnsafeBufferPointer<Double>) -> (units: Int64, correct: Bool) {
    var best = 0
    var top = z[0]
    for c in 1..<max(1, C) where z[c] > top {
        top = z[c]
        best = c
    }
    var total = 0.0
    let size = table.count
    for c in 0..<C {
        let gap = Int(top &- z[c])
        if gap < size { total += table[gap] }
    }
    let nats = tau * Double(top &- z[label]) + naturalLog(total)
    let units = Int64((min(nats, 16_777_215) * LossTable.unitsPerNat).rounded())
    return (units, best == label)
}

/// Accuracy and loss of one genome's logits `[B][C]`: the per-example fixed-point losses of
/// `exampleLoss`, summed as integers.
func scoreLogits(_ logits: UnsafePointer<Int32>, batch: ExampleBatch, classes C: Int, table: LossTable) -> Score {
    let B = batch.count
    guard B > 0 else { return Score(correct: 0, count: 0, lossUnits: 0) }
    return table.exponentials.withUnsafeBufferPointer { exponentials in
        batch.labels.withUnsafeBufferPointer { labels in
            var correct = 0
            var units: Int64 = 0
            var row = logits
            for b in 0..<B {
                let label = labels[b]
                precondition(label < C, "label \(label) of example \(b) is not below the class count \(C)")
                let (loss, right) = exampleLoss(row, classes: C, label: label, tau: table.temperature, table: exponentials)
                units &+= loss
                if right { correct &+= 1 }
                row += C
            }
            return Score(correct: correct, count: B, lossUnits: units)
        }
    }
}
