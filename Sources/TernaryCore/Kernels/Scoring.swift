import CTernaryKernels
import Foundation

/// The softmax cross-entropy of integer logits as fixed-point integers, shared by the full
/// evaluator and the incremental scorer so that both give the same fitness to the bit.
///
/// An example's loss is `tau (top - z_label) + log(S)`, `top = max z`, with the normaliser
/// `S = sum_c exp(-tau (top - z_c))` (<doc:Semantics>) held as an integer: each term is a table
/// entry rounded to a multiple of `2^-shift`, so `S` is the same whatever order its terms are
/// added or removed in. That is what lets the incremental scorer keep `S` per example and price
/// an output-layer move at O(1) per example instead of O(C) (a logit that moves below the top
/// changes one term). The loss is a function of `(top, z_label, S)` alone, computed in Double and
/// rounded to a multiple of `2^-24` nats (`LossTable.unitsPerNat`); sums of these Int64 units do
/// not depend on the order in which examples are added, so an incremental update of a few
/// examples equals a full evaluation exactly. The two roundings change a mean loss by at most
/// 3e-8 nats. Logit gaps are small integers, so `exp(-tau k)` comes from a table; past the table
/// (where the term rounds to 0) lookups read 0 and never overrun (gaps reach `2 * 255 * n_{L-1}`:
/// see `largestGap`).
public struct LossTable: Sendable {
    /// Fixed-point units per nat: `2^24`. A per-example loss is clamped below `2^24` nats, so a
    /// sum over up to `2^15` examples cannot overflow; past that the wrapping sum still does not
    /// depend on order.
    public static let unitsPerNat = 16_777_216.0
    /// The softmax scale `tau`.
    public let temperature: Double
    /// `exp(-tau g)` for gaps `g = 0, 1, ...` in units of `2^-shift`, up to the first gap whose
    /// term rounds to 0 (or the largest gap a network can produce).
    public let exponentials: [UInt64]
    /// Binary digits after the point of the normaliser: `S < C 2^shift <= 2^63` never overflows.
    let shift: Int
    /// `shift * log 2`, subtracted from `log(S)`.
    let shiftNats: Double

    /// The table for `temperature` on logits of `classes` classes whose gaps reach at most
    /// `largestGap`.
    public init(temperature: Double, largestGap: Int, classes: Int) {
        precondition(temperature > 0 && temperature.isFinite, "the temperature must be positive and finite")
        precondition(classes >= 1, "a loss needs at least one class")
        self.temperature = temperature
        shift = min(52, 63 - (Int.bitWidth - (classes - 1).leadingZeroBitCount))
        shiftNats = Double(shift) * 0.6931471805599453
        let one = Double(UInt64(1) << UInt64(shift))
        var table: [UInt64] = []
        for gap in 0...max(0, largestGap) {
            let term = (Foundation.exp(-temperature * Double(gap)) * one).rounded()
            if term < 1 && gap > 0 { break }
            table.append(UInt64(term))
        }
        exponentials = table
    }

    /// The default scale of <doc:Semantics> for `layerSizes`: `1 / sqrt(n_{L-1})`.
    public static func defaultTemperature(layerSizes: [Int]) -> Double {
        1 / Double(layerSizes[layerSizes.count - 2]).squareRoot()
    }

    /// The largest logit gap a network of `layerSizes` of any activation kind can produce:
    /// `2 * 255 * n_{L-1}`, after a hidden layer of levels up to 255 (`levels(bits: 8)`) as for
    /// a network without hidden layers (bytes). A sign network's gaps reach only `2 n_{L-1}`; the
    /// entries past that are never read, so its scores are the same bits as with a table sized
    /// for it. Sized for sign alone, the table would cut a levels network's softmax short: with
    /// hidden width 20 and 4-bit levels, terms of `exp(-tau 41)` = 1e-4 and below counted as 0,
    /// and a random network's mean loss came out 3.1e-5 nats (about 520 fixed-point units an
    /// example) too small (at width 256, nothing: terms past `2 n` are below 2^-52 there). The
    /// table still stops at the first term that rounds to 0 (588 entries for 784-256-10 at the
    /// default scale).
    public static func largestGap(layerSizes: [Int]) -> Int {
        2 * 255 * layerSizes[layerSizes.count - 2]
    }

    /// The table for networks of `layerSizes`, with `temperature` or the default.
    public init(layerSizes: [Int], temperature: Double?) {
        self.init(
            temperature: temperature ?? LossTable.defaultTemperature(layerSizes: layerSizes),
            largestGap: LossTable.largestGap(layerSizes: layerSizes), classes: layerSizes.last!)
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

/// The loss of one example, and the parts the incremental scorer keeps to update it: the top
/// logit, the lowest class holding it and the fixed-point normaliser (see `LossTable`).
struct ExampleLoss {
    var units: Int64
    var correct: Bool
    var top: Int32
    var best: Int32
    var normaliser: UInt64
    /// The logit of the example's label.
    var labelLogit: Int32
}

extension LossTable {
    /// `exp(-tau gap)` in units of `2^-shift`; 0 past the table.
    @inline(__always)
    func term(_ gap: Int32, _ table: UnsafeBufferPointer<UInt64>) -> UInt64 {
        let g = Int(gap)
        return g < table.count ? table[g] : 0
    }

    /// Loss units from the parts `(top, z_label, S)`: the one function both evaluators use (and,
    /// eight examples at a time, the `loss_units` kernel).
    @inline(__always)
    public func units(top: Int32, labelLogit: Int32, normaliser: UInt64) -> Int64 {
        let nats = temperature * Double(top &- labelLogit) + (naturalLog(Double(normaliser)) - shiftNats)
        return Int64((min(nats, 16_777_215) * LossTable.unitsPerNat).rounded())
    }

    /// The loss of one example from its `C` logits (ties to the lowest index); the top, the best
    /// class and the normaliser come from the `logit_summary` kernel of `kernels`. Without
    /// `withUnits` the units are left 0 for the caller to compute in bulk (`loss_units`).
    @inline(__always)
    func exampleLoss(
        _ z: UnsafePointer<Int32>, classes C: Int, label: Int, table: UnsafeBufferPointer<UInt64>,
        kernels: UnsafePointer<tern_kernel_table>, withUnits: Bool = true
    ) -> ExampleLoss {
        var top: Int32 = 0, best: Int32 = 0
        let sum = kernels.pointee.logit_summary(z, C, table.baseAddress, table.count, &top, &best)
        return ExampleLoss(
            units: withUnits ? units(top: top, labelLogit: z[label], normaliser: sum) : 0, correct: Int(best) == label,
            top: top, best: best, normaliser: sum, labelLogit: z[label])
    }

    /// The loss units of one example and its parts from its logits, through `instructionSet`'s
    /// `logit_summary` kernel: for tests, against a reference.
    public func exampleLoss(
        logits: [Int32], label: Int, instructionSet: InstructionSet
    )
        -> (units: Int64, correct: Bool, top: Int32, best: Int32, normaliser: UInt64)
    {
        precondition(!logits.isEmpty && logits.indices.contains(label), "label \(label) outside \(logits.count) logits")
        let loss = logits.withUnsafeBufferPointer { z in
            exponentials.withUnsafeBufferPointer { exponentials in
                exampleLoss(
                    z.baseAddress!, classes: z.count, label: label, table: exponentials, kernels: instructionSet.table)
            }
        }
        return (loss.units, loss.correct, loss.top, loss.best, loss.normaliser)
    }

    /// `units(top:labelLogit:normaliser:)` of examples given `top - z_label` and `S`, eight at a
    /// time through `instructionSet`'s `loss_units` kernel (the one the incremental scorer's
    /// output-layer path uses): for tests, against the Swift function.
    public func kernelUnits(gaps: [Int32], normalisers: [UInt64], instructionSet: InstructionSet) -> [Int64] {
        precondition(gaps.count == normalisers.count, "one normaliser per gap")
        var units = [Int64](repeating: 0, count: gaps.count)
        instructionSet.table.pointee.loss_units(gaps, normalisers, gaps.count, temperature, shiftNats, &units)
        return units
    }
}

/// Accuracy and loss of one genome's logits `[B][C]`: the per-example fixed-point losses of
/// `exampleLoss`, summed as integers.
func scoreLogits(
    _ logits: UnsafePointer<Int32>, batch: ExampleBatch, classes C: Int, table: LossTable,
    kernels: UnsafePointer<tern_kernel_table>
) -> Score {
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
                let loss = table.exampleLoss(row, classes: C, label: label, table: exponentials, kernels: kernels)
                units &+= loss.units
                if loss.correct { correct &+= 1 }
                row += C
            }
            return Score(correct: correct, count: B, lossUnits: units)
        }
    }
}
