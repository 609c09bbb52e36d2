import TernaryCore

// Float kernels of the backprop baselines: the only float matrix code in the project besides
// the bench's peak loop. Row-major throughout. Names under the shape comments: B examples,
// I inputs, O outputs.

typealias Lanes = SIMD8<Float>

/// `sum_i a[i] * b[i]` over `n` floats, eight lanes at a time with four independent
/// accumulators (so the FMA latency is hidden), then the tail.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
    var i = 0
    while i &+ 32 <= n {
        let o = i &* 4
        s0 = s0.addingProduct(ra.loadUnaligned(fromByteOffset: o, as: Lanes.self), rb.loadUnaligned(fromByteOffset: o, as: Lanes.self))
        s1 = s1.addingProduct(ra.loadUnaligned(fromByteOffset: o &+ 32, as: Lanes.self), rb.loadUnaligned(fromByteOffset: o &+ 32, as: Lanes.self))
        s2 = s2.addingProduct(ra.loadUnaligned(fromByteOffset: o &+ 64, as: Lanes.self), rb.loadUnaligned(fromByteOffset: o &+ 64, as: Lanes.self))
        s3 = s3.addingProduct(ra.loadUnaligned(fromByteOffset: o &+ 96, as: Lanes.self), rb.loadUnaligned(fromByteOffset: o &+ 96, as: Lanes.self))
        i &+= 32
    }
    while i &+ 8 <= n {
        s0 = s0.addingProduct(ra.loadUnaligned(fromByteOffset: i &* 4, as: Lanes.self), rb.loadUnaligned(fromByteOffset: i &* 4, as: Lanes.self))
        i &+= 8
    }
    var total = ((s0 + s1) + (s2 + s3)).sum()
    while i < n {
        total += a[i] * b[i]
        i &+= 1
    }
    return total
}

/// `y[k] += alpha * x[k]` over `n` floats.
@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    let a = Lanes(repeating: alpha)
    var i = 0
    while i &+ 8 <= n {
        let o = i &* 4
        ry.storeBytes(of: ry.loadUnaligned(fromByteOffset: o, as: Lanes.self).addingProduct(a, rx.loadUnaligned(fromByteOffset: o, as: Lanes.self)),
                      toByteOffset: o, as: Lanes.self)
        i &+= 8
    }
    while i < n {
        y[i] += alpha * x[i]
        i &+= 1
    }
}

/// Forward: `y[b][o] = sum_i x[b][i] w[o][i]` for x `[B][I]`, w `[O][I]`, y `[B][O]`.
///
/// Blocks of 16 weight rows (48 KB for 784 inputs, kept in L2) are the unit of parallel work.
/// Within a block, four examples at a time (in L1) meet each pair of weight rows: eight
/// accumulators, each weight load feeding four FMAs and each input load two. Every output is
/// one eight-lane sum over the inputs, then the lane sum and the scalar tail, so its bits do
/// not depend on the blocking or the thread count.
func matmulTransposedB(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       B: Int, I: Int, O: Int, threads: Int = 1) {
    let vectorEnd = I & ~7, rowsPerBlock = 16
    forEachChunk((O &+ rowsPerBlock &- 1) / rowsPerBlock, work: B &* I &* O, threads: threads) { block in
        let firstRow = block &* rowsPerBlock, endRow = min(O, firstRow &+ rowsPerBlock)
        var b = 0
        while b &+ 4 <= B {
            let x0 = UnsafeRawPointer(x + b &* I), x1 = x0 + I &* 4, x2 = x1 + I &* 4, x3 = x2 + I &* 4
            var o0 = firstRow
            while o0 < endRow {
                let o1 = min(o0 &+ 1, endRow &- 1)   // an odd last row is computed twice
                let w0 = UnsafeRawPointer(w + o0 &* I), w1 = UnsafeRawPointer(w + o1 &* I)
                var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
                var c0 = Lanes(), c1 = Lanes(), c2 = Lanes(), c3 = Lanes()
                var i = 0
                while i < vectorEnd {
                    let offset = i &* 4
                    let u = w0.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                    let v = w1.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                    let e0 = x0.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                    a0 = a0.addingProduct(e0, u); c0 = c0.addingProduct(e0, v)
                    let e1 = x1.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                    a1 = a1.addingProduct(e1, u); c1 = c1.addingProduct(e1, v)
                    let e2 = x2.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                    a2 = a2.addingProduct(e2, u); c2 = c2.addingProduct(e2, v)
                    let e3 = x3.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                    a3 = a3.addingProduct(e3, u); c3 = c3.addingProduct(e3, v)
                    i &+= 8
                }
                var s = (a0.sum(), a1.sum(), a2.sum(), a3.sum()), t = (c0.sum(), c1.sum(), c2.sum(), c3.sum())
                let u = w + o0 &* I, v = w + o1 &* I, xr = x + b &* I
                while i < I {
                    let e0 = xr[i], e1 = xr[I &+ i], e2 = xr[2 &* I &+ i], e3 = xr[3 &* I &+ i]
                    s.0 += e0 * u[i]; s.1 += e1 * u[i]; s.2 += e2 * u[i]; s.3 += e3 * u[i]
                    t.0 += e0 * v[i]; t.1 += e1 * v[i]; t.2 += e2 * v[i]; t.3 += e3 * v[i]
                    i &+= 1
                }
                y[b &* O &+ o0] = s.0; y[(b &+ 1) &* O &+ o0] = s.1; y[(b &+ 2) &* O &+ o0] = s.2; y[(b &+ 3) &* O &+ o0] = s.3
                y[b &* O &+ o1] = t.0; y[(b &+ 1) &* O &+ o1] = t.1; y[(b &+ 2) &* O &+ o1] = t.2; y[(b &+ 3) &* O &+ o1] = t.3
                o0 &+= 2
            }
            b &+= 4
        }
        while b < B {
            for o in firstRow..<endRow { y[b &* O &+ o] = dot(x + b &* I, w + o &* I, I) }
            b &+= 1
        }
    }
}

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

/// Backward to the inputs: `dx[b][i] = sum_o d[b][o] w[o][i]` for d `[B][O]`, w `[O][I]`,
/// dx `[B][I]`: for each example, a sum of weight rows scaled by the output gradients.
func matmulBackwardInput(_ d: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                         B: Int, I: Int, O: Int, threads: Int = 1) {
    forEachChunk(B, work: B &* I &* O, threads: threads) { b in
        let out = dx + b &* I
        out.initialize(repeating: 0, count: I)
        let grad = d + b &* O
        for o in 0..<O where grad[o] != 0 { axpy(grad[o], w + o &* I, out, I) }
    }
}

/// Backward to the weights: `dw[o][i] = sum_b d[b][o] x[b][i]` for d `[B][O]`, x `[B][I]`,
/// dw `[O][I]` (overwritten).
///
/// Column blocks of 32 inputs are the outer loop (and the unit of parallel work): the block
/// of `x` (B rows of 128 bytes) stays in L1 while every pair of weight rows takes its turn,
/// summing both rows' 32-float stretches in eight registers over all examples (one load of
/// `x` feeds two FMAs) and storing them once. The pairs' column of `d` is 8 bytes per example,
/// and eight pairs share its cache lines. A last partial block is summed element by element.
func matmulBackwardWeights(_ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                           B: Int, I: Int, O: Int, threads: Int = 1) {
    let fullBlocks = I / 32
    forEachChunk((I + 31) / 32, work: B &* I &* O, threads: threads) { block in
        let i = block &* 32
        guard block < fullBlocks else {
            weightGradientTail(d, x, dw, from: i, B: B, I: I, O: O)
            return
        }
        let column = UnsafeRawPointer(x + i)
        var o0 = 0
        while o0 < O {
            let o1 = min(o0 &+ 1, O &- 1)   // an odd last row is computed twice
            var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
            var c0 = Lanes(), c1 = Lanes(), c2 = Lanes(), c3 = Lanes()
            for b in 0..<B {
                let g = Lanes(repeating: d[b &* O &+ o0]), h = Lanes(repeating: d[b &* O &+ o1])
                let row = column + b &* I &* 4
                let x0 = row.loadUnaligned(as: Lanes.self), x1 = row.loadUnaligned(fromByteOffset: 32, as: Lanes.self)
                let x2 = row.loadUnaligned(fromByteOffset: 64, as: Lanes.self), x3 = row.loadUnaligned(fromByteOffset: 96, as: Lanes.self)
                a0 = a0.addingProduct(g, x0); a1 = a1.addingProduct(g, x1); a2 = a2.addingProduct(g, x2); a3 = a3.addingProduct(g, x3)
                c0 = c0.addingProduct(h, x0); c1 = c1.addingProduct(h, x1); c2 = c2.addingProduct(h, x2); c3 = c3.addingProduct(h, x3)
            }
            let out0 = UnsafeMutableRawPointer(dw + (o0 &* I &+ i)), out1 = UnsafeMutableRawPointer(dw + (o1 &* I &+ i))
            out0.storeBytes(of: a0, as: Lanes.self)
            out0.storeBytes(of: a1, toByteOffset: 32, as: Lanes.self)
            out0.storeBytes(of: a2, toByteOffset: 64, as: Lanes.self)
            out0.storeBytes(of: a3, toByteOffset: 96, as: Lanes.self)
            out1.storeBytes(of: c0, as: Lanes.self)
            out1.storeBytes(of: c1, toByteOffset: 32, as: Lanes.self)
            out1.storeBytes(of: c2, toByteOffset: 64, as: Lanes.self)
            out1.storeBytes(of: c3, toByteOffset: 96, as: Lanes.self)
            o0 &+= 2
        }
    }
}

/// The columns `from..<I` (fewer than 32) of `matmulBackwardWeights`: eight at a time with
/// two rows in registers, then one by one.
private func weightGradientTail(_ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                                from start: Int, B: Int, I: Int, O: Int) {
    var i = start
    while i &+ 8 <= I {
        let column = UnsafeRawPointer(x + i)
        var o0 = 0
        while o0 < O {
            let o1 = min(o0 &+ 1, O &- 1)
            var a = Lanes(), c = Lanes()
            for b in 0..<B {
                let value = (column + b &* I &* 4).loadUnaligned(as: Lanes.self)
                a = a.addingProduct(Lanes(repeating: d[b &* O &+ o0]), value)
                c = c.addingProduct(Lanes(repeating: d[b &* O &+ o1]), value)
            }
            UnsafeMutableRawPointer(dw + (o0 &* I &+ i)).storeBytes(of: a, as: Lanes.self)
            UnsafeMutableRawPointer(dw + (o1 &* I &+ i)).storeBytes(of: c, as: Lanes.self)
            o0 &+= 2
        }
        i &+= 8
    }
    for o in 0..<O {
        for k in i..<I {
            var sum: Float = 0
            for b in 0..<B { sum += d[b &* O &+ o] * x[b &* I &+ k] }
            dw[o &* I &+ k] = sum
        }
    }
}

/// Array-level entry points: the trainer never touches pointers.
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

    /// `y [B][O] = x [B][I] * w^T` for `w [O][I]`.
    static func forward(_ x: [Float], _ w: [Float], into y: inout [Float], B: Int, I: Int, O: Int, threads: Int = 1) {
        precondition(x.count >= B * I && w.count == O * I && y.count >= B * O)
        withPointers(x, w, &y) { matmulTransposedB($0, $1, $2, B: B, I: I, O: O, threads: threads) }
    }

    /// `dx [B][I] = d [B][O] * w` for `w [O][I]`.
    static func backwardInput(_ d: [Float], _ w: [Float], into dx: inout [Float], B: Int, I: Int, O: Int, threads: Int = 1) {
        precondition(d.count >= B * O && w.count == O * I && dx.count >= B * I)
        withPointers(d, w, &dx) { matmulBackwardInput($0, $1, $2, B: B, I: I, O: O, threads: threads) }
    }

    /// `dw [O][I] = d^T * x` for `d [B][O]`, `x [B][I]`.
    static func backwardWeights(_ d: [Float], _ x: [Float], into dw: inout [Float], B: Int, I: Int, O: Int, threads: Int = 1) {
        precondition(d.count >= B * O && x.count >= B * I && dw.count == O * I)
        withPointers(d, x, &dw) { matmulBackwardWeights($0, $1, $2, B: B, I: I, O: O, threads: threads) }
    }
}
