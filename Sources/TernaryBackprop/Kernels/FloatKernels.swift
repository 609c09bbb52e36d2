import CTernaryKernels
import TernaryCore

// Float products of the backprop baselines. The loops are C (CTernaryKernels' KernelBody.h,
// compiled once per instruction set, like the ternary forward kernels): fused multiply-adds
// in one fixed order, so every set, blocking and thread count gives the same bits. This file splits the work over threads and keeps pointers away from the trainer.
// Row-major throughout. Names under the shape comments: B examples, I inputs, O outputs.

/// Calls `body(k)` for every `k` in `0 ..< count`, split into chunks over up to `threads`
/// workers when `work` (multiply-adds) is large enough to pay for waking them. Each `k` writes
/// its own outputs, so the result is the same for any thread count.
@inline(__always)
func forEachChunk(_ count: Int, work: Int, threads: Int, _ body: (Int) -> Void) {
    let workers = work >= 1 << 20 ? threads : 1
    if workers <= 1 {
        for k in 0..<count { body(k) }
        return
    }
    let chunk = max(1, (count + 4 * workers - 1) / (4 * workers))
    // Each k writes its own outputs through the body's pointers: disjoint slots.
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        Parallel.run(items: (count + chunk - 1) / chunk, workers: workers) { item, _ in
            for k in (item * chunk)..<min(count, (item + 1) * chunk) { shared.value(k) }
        }
    }
}

/// Array-level entry points: the trainer never touches pointers. `instructionSet` picks the
/// kernels (the process-wide choice by default; the tests run every supported set).
enum FloatKernels {
    /// Runs `kernel` on the base addresses of `a`, `b` and `out`.
    private static func withPointers(
        _ a: [Float], _ b: [Float], _ out: inout [Float],
        _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { out in kernel(a.baseAddress!, b.baseAddress!, out.baseAddress!) }
            }
        }
    }

    /// `y [B][O] = x [B][I] * w^T` for `w [O][I]`. Blocks of 16 weight rows (48 KB for 784
    /// inputs, kept in L2) are the unit of parallel work.
    static func forward(
        _ x: [Float], _ w: [Float], into y: inout [Float], B: Int, I: Int, O: Int, threads: Int = 1,
        instructionSet: InstructionSet = .active
    ) {
        precondition(x.count >= B * I && w.count == O * I && y.count >= B * O)
        let kernel = instructionSet.table.pointee.float_forward!, rows = 16
        withPointers(x, w, &y) { x, w, y in
            forEachChunk((O + rows - 1) / rows, work: B &* I &* O, threads: threads) { block in
                kernel(x, w, y, B, I, O, block * rows, min(O, (block + 1) * rows))
            }
        }
    }

    /// `dx [B][I] = d [B][O] * w` for `w [O][I]`; examples are the unit of parallel work.
    static func backwardInput(
        _ d: [Float], _ w: [Float], into dx: inout [Float], B: Int, I: Int, O: Int, threads: Int = 1,
        instructionSet: InstructionSet = .active
    ) {
        precondition(d.count >= B * O && w.count == O * I && dx.count >= B * I)
        let kernel = instructionSet.table.pointee.float_input_gradients!
        withPointers(d, w, &dx) { d, w, dx in
            forEachChunk(B, work: B &* I &* O, threads: threads) { b in kernel(d, w, dx, I, O, b, b + 1) }
        }
    }

    /// `dw [O][I] = d^T * x` for `d [B][O]`, `x [B][I]`, in fixed point (`GradientLayout`):
    /// the examples in blocks of `block`, each block's float sums converted and added, written
    /// (overwritten) to `totals[offset ..< offset + O * I]`. Blocks of 32 input columns are the
    /// outer loop and the unit of parallel work: the block of `x` (B rows of 128 bytes) stays in
    /// L1 while every pair of weight rows sums its stretch over the examples.
    static func backwardWeights(
        _ d: [Float], _ x: [Float], into totals: inout [Int64], at offset: Int, B: Int, I: Int, O: Int,
        block: Int = GradientLayout.exampleBlock, threads: Int = 1, instructionSet: InstructionSet = .active
    ) {
        precondition(d.count >= B * O && x.count >= B * I && offset + O * I <= totals.count && block >= 1)
        let kernel = instructionSet.table.pointee.float_weight_gradients!
        d.withUnsafeBufferPointer { d in
            x.withUnsafeBufferPointer { x in
                totals.withUnsafeMutableBufferPointer { totals in
                    let (d, x, dw) = (d.baseAddress!, x.baseAddress!, totals.baseAddress! + offset)
                    forEachChunk((I + 31) / 32, work: B &* I &* O, threads: threads) { column in
                        kernel(d, x, dw, B, I, O, column * 32, min(32, I - column * 32), block)
                    }
                }
            }
        }
    }
}
