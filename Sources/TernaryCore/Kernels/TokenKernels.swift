// Kernels of one-hot token inputs (the Semantics article): the first layer of a token network as a
// gather-add of weight columns, never a product over the zeros of the one-hot code.
//
// Shapes: O first-layer outputs (rows), I = K V inputs (K symbols per window, V symbols),
// T examples of a tile. A window is K input columns `p V + t_p`, one per block of V.

/// The first weight layer transposed to Int8 columns, `[I][O]`: column `i` (the weights of
/// input `i` into every output) contiguous, so a window's sum is K contiguous adds of O lanes.
/// Built by walking the set bits of the planes: cost in proportion to the nonzero weights.
func transposedColumns(_ matrix: TernaryMatrix) -> [Int8] {
    let O = matrix.rowCount, I = matrix.columnCount, W = matrix.wordsPerRow
    var out = [Int8](repeating: 0, count: O * I)
    out.withUnsafeMutableBufferPointer { columns in
        matrix.plus.withUnsafeBufferPointer { plus in
            matrix.minus.withUnsafeBufferPointer { minus in
                for o in 0..<O {
                    for w in 0..<W {
                        var bits = plus[o &* W &+ w]
                        while bits != 0 {
                            columns[((w &<< 6) | bits.trailingZeroBitCount) &* O &+ o] = 1
                            bits &= bits &- 1
                        }
                        bits = minus[o &* W &+ w]
                        while bits != 0 {
                            columns[((w &<< 6) | bits.trailingZeroBitCount) &* O &+ o] = -1
                            bits &= bits &- 1
                        }
                    }
                }
            }
        }
    }
    return out
}

/// `row[o] = sum_p columns[window[p]][o]` for one window: K adds of O Int8 lanes widened to Int32.
@inline(__always)
func tokenSum(
    window: UnsafePointer<Int32>, context K: Int, columns: UnsafePointer<Int8>, rows O: Int,
    into row: UnsafeMutablePointer<Int32>
) {
    row.update(repeating: 0, count: O)
    for p in 0..<K {
        let column = columns + Int(window[p]) &* O
        var o = 0
        while o &+ 16 <= O {
            let v = SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(column + o).loadUnaligned(as: SIMD16<Int8>.self))
            let target = UnsafeMutableRawPointer(row + o)
            target.storeBytes(of: target.loadUnaligned(as: SIMD16<Int32>.self) &+ v, as: SIMD16<Int32>.self)
            o &+= 16
        }
        while o < O {
            row[o] &+= Int32(column[o])
            o &+= 1
        }
    }
}

/// First layer of a token network on a tile: for each of the `T` examples (windows `[T][K]`),
/// the O sums, then either bit-packed activations `out [outWords][128]` (bit `o % 64` of word
/// `o / 64` of example `b` at `(o / 64) * 128 + b`, set when `s >= theta_o`; examples past `T`
/// get zero words), or, with `logits`,
/// the sums themselves as `[T][O]` (a network without hidden layers). `row` holds O Int32.
func tokenFirstLayerKernel(
    windows: UnsafePointer<Int32>, context K: Int, examples T: Int,
    columns: UnsafePointer<Int8>, rows O: Int, thresholds: UnsafePointer<Int32>?,
    out: UnsafeMutablePointer<UInt64>, outWords: Int, row: UnsafeMutablePointer<Int32>,
    logits: UnsafeMutablePointer<Int32>? = nil
) {
    for b in 0..<T {
        if let logits {
            tokenSum(window: windows + b &* K, context: K, columns: columns, rows: O, into: logits + b &* O)
            continue
        }
        tokenSum(window: windows + b &* K, context: K, columns: columns, rows: O, into: row)
        for w in 0..<outWords {
            var word: UInt64 = 0
            let end = min(O, (w &+ 1) &<< 6)
            for o in (w &<< 6)..<end where row[o] >= thresholds![o] { word |= 1 << UInt64(o & 63) }
            out[w &* tileWidth &+ b] = word
        }
    }
    if logits == nil && T < tileWidth {
        for w in 0..<outWords { (out + (w &* tileWidth &+ T)).update(repeating: 0, count: tileWidth &- T) }
    }
}
