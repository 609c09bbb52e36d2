// One-hot token inputs in the backprop arms (the TernaryCore article Semantics): the first layer as an
// embedding sum. Forward, `y[b][o] = sum_p W[o][c_bp]` over the window's K input columns
// `c_bp`; backward, `dW[o][c_bp] += d[b][o]`: the product with a one-hot input, without
// visiting its zeros.
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

    /// `dw = d^T x` for one-hot `x`: zero, then `dw[o][columns[b][p]] += d[b][o]`, examples in
    /// order (the same sums, in the same order, as the dense product skipping zeros).
    static func backwardWeights(
        columns: [Int32], context K: Int, _ d: [Float], into dw: inout [Float], B: Int, I: Int, O: Int
    ) {
        precondition(columns.count >= B * K && d.count >= B * O && dw.count == O * I)
        columns.withUnsafeBufferPointer { c in
            d.withUnsafeBufferPointer { d in
                dw.withUnsafeMutableBufferPointer { dw in
                    dw.update(repeating: 0)
                    for b in 0..<B {
                        let window = c.baseAddress! + b &* K
                        let delta = d.baseAddress! + b &* O
                        for p in 0..<K {
                            let column = dw.baseAddress! + Int(window[p])
                            for o in 0..<O { column[o &* I] += delta[o] }
                        }
                    }
                }
            }
        }
    }
}
