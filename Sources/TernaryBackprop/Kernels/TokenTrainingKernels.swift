// One-hot token inputs in the backprop arms (the TernaryCore article Semantics): the first layer as an
// embedding sum. Forward, `y[b][o] = sum_p W[o][c_bp]` over the window's K input columns
// `c_bp`; backward, `dW[o][c_bp] += d[b][o]` (in fixed point): the product with a one-hot
// input, without visiting its zeros.
//
// Shapes: B examples, K columns per window `[B][K]` (Int32), W `[O][I]` row-major floats,
// y and d `[B][O]`.

enum TokenTrainingKernels {
    /// `y[b][o] = sum_p w[o][columns[b][p]]`, the first layer's product with one-hot inputs.
    static func forward(columns: [Int32], context K: Int, _ w: [Float], into y: inout [Float], B: Int, I: Int, O: Int) {
        precondition(columns.count >= B * K && w.count == O * I && y.count >= B * O)
        columns.withUnsafeBufferPointer { c in
            w.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { y in
                    for b in 0..<B {
                        let window = c.baseAddress! + b &* K
                        let out = y.baseAddress! + b &* O
                        for o in 0..<O {
                            let row = w.baseAddress! + o &* I
                            var sum: Float = 0
                            for p in 0..<K { sum += row[Int(window[p])] }
                            out[o] = sum
                        }
                    }
                }
            }
        }
    }

    /// `dw = d^T x` for one-hot `x`, in fixed point per example (`GradientLayout`): each `d[b][o]`
    /// converted (into `scratch`, B x O), then `dw[o][columns[b][p]] += fixed(d[b][o])`, written
    /// (overwritten) to `totals[offset ..< offset + O * I]`. Integer sums: any split of the
    /// examples gives the same totals.
    static func backwardWeights(
        columns: [Int32], context K: Int, _ d: [Float], scratch: inout [Int64], into totals: inout [Int64],
        at offset: Int, B: Int, I: Int, O: Int
    ) {
        precondition(columns.count >= B * K && d.count >= B * O && offset + O * I <= totals.count)
        if scratch.count < B * O { scratch = [Int64](repeating: 0, count: B * O) }
        scratch.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        FixedPointKernels.add(d, count: B * O, into: &scratch, at: 0)
        columns.withUnsafeBufferPointer { c in
            scratch.withUnsafeBufferPointer { fixed in
                totals.withUnsafeMutableBufferPointer { totals in
                    let dw = totals.baseAddress! + offset
                    dw.update(repeating: 0, count: O * I)
                    for b in 0..<B {
                        let window = c.baseAddress! + b &* K
                        let delta = fixed.baseAddress! + b &* O
                        for p in 0..<K {
                            let column = dw + Int(window[p])
                            for o in 0..<O { column[o &* I] &+= delta[o] }
                        }
                    }
                }
            }
        }
    }
}
