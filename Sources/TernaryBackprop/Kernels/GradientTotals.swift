import CTernaryKernels
import TernaryCore

// The gradient of a minibatch as Int64 totals, so that it is the same for any split of the
// minibatch over processes (<doc:STEBaseline>, "Data-parallel steps"). Every sum over examples is
// taken in fixed point, 2^40 units per 1: the weight gradients as float sums over blocks of
// `exampleBlock` examples, each block converted and the blocks' integers added; the biases'
// and the log-steps' the same way; the loss, the logit scale's gradient and the token layer's
// weight gradients per example. Integer adds are exact in any order, so a rank summing its
// blocks, and an all-reduce summing the ranks, give the totals of one process.

/// Where each parameter's total lies in the step's Int64 vector, and the fixed-point format.
struct GradientLayout {
    /// Examples per block of a minibatch: the unit of the split over processes, and of the
    /// float sums that are converted to fixed point.
    static let exampleBlock = 32
    /// Fixed-point units per 1.
    static let unitsPerOne = 0x1p40

    /// The offsets of each layer's weight totals `[O][I]`, each hidden layer's bias totals, the
    /// logit scale's, each hidden layer's log-step's, the loss (in nats), and the count of
    /// examples whose loss was not finite (a NaN would otherwise be summed as 0).
    let weights: [Int], biases: [Int]
    let logScale: Int, logSteps: Int, loss: Int, nonFinite: Int
    let count: Int

    init(sizes: [Int]) {
        var next = 0
        var weights = [Int](), biases = [Int]()
        for (inputs, outputs) in zip(sizes, sizes.dropFirst()) {
            weights.append(next)
            next += inputs * outputs
        }
        for width in sizes.dropFirst().dropLast() {
            biases.append(next)
            next += width
        }
        self.weights = weights
        self.biases = biases
        logScale = next
        logSteps = next + 1
        loss = logSteps + sizes.count - 2
        nonFinite = loss + 1
        count = nonFinite + 1
    }

    /// The blocks of a minibatch of `count` examples that `rank` of `size` computes: a
    /// contiguous range of positions (whole blocks; empty when there are fewer blocks than ranks).
    static func share(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let blocks = WorkSplit.range(count: (count + exampleBlock - 1) / exampleBlock, rank: rank, size: size)
        return min(count, blocks.lowerBound * exampleBlock)..<min(count, blocks.upperBound * exampleBlock)
    }

    /// `x` in fixed point as the kernels convert it: times 2^40, NaN as 0, clamped to +-2^62,
    /// truncated toward zero.
    static func fixed(_ x: Double) -> Int64 {
        guard !x.isNaN else { return 0 }
        return Int64(min(0x1p62, max(-0x1p62, x * unitsPerOne)))
    }

    /// A total back in floating point.
    static func value(_ total: Int64) -> Double { Double(total) / unitsPerOne }
}

/// Array-level entry points of the fixed-point kernels (`KernelFloat.h`).
enum FixedPointKernels {
    /// `totals[offset + k] += fixed(x[k])` for `k < count`.
    static func add(
        _ x: [Float], count: Int, into totals: inout [Int64], at offset: Int,
        instructionSet: InstructionSet = .active
    ) {
        precondition(x.count >= count && offset + count <= totals.count)
        let kernel = instructionSet.table.pointee.fixed_add!
        x.withUnsafeBufferPointer { x in
            totals.withUnsafeMutableBufferPointer { totals in
                kernel(x.baseAddress!, totals.baseAddress! + offset, count)
            }
        }
    }

    /// `out[k] = totals[offset + k] * 2^-40` for `k < out.count`.
    static func decode(_ totals: [Int64], at offset: Int, into out: inout [Float]) {
        precondition(offset + out.count <= totals.count)
        let kernel = InstructionSet.active.table.pointee.fixed_decode!
        totals.withUnsafeBufferPointer { totals in
            out.withUnsafeMutableBufferPointer { out in
                kernel(totals.baseAddress! + offset, out.baseAddress!, out.count)
            }
        }
    }

    /// Adds the column sums of each block of `block` rows of `d [B][O]` (each summed in row order
    /// in float) into `totals[offset ..< offset + O]`, through `scratch` (O floats).
    static func addColumnSums(
        _ d: [Float], rows B: Int, columns O: Int, block: Int, scratch: inout [Float],
        into totals: inout [Int64], at offset: Int
    ) {
        precondition(d.count >= B * O && scratch.count >= O && offset + O <= totals.count)
        for start in stride(from: 0, to: B, by: block) {
            d.withUnsafeBufferPointer { d in
                scratch.withUnsafeMutableBufferPointer { s in
                    for o in 0..<O { s[o] = 0 }
                    for b in start..<min(B, start + block) {
                        let row = d.baseAddress! + b &* O
                        for o in 0..<O { s[o] += row[o] }
                    }
                }
            }
            add(scratch, count: O, into: &totals, at: offset)
        }
    }
}
