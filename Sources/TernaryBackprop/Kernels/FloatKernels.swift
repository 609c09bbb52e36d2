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
/// Weight-row-major order: each weight row stays in L1 while four examples at a time take
/// their dot products with it (one load of `w` feeds four FMAs), so a weight matrix larger
/// than L2 (784 x 256 floats is 800 KB) is read once per batch instead of once per example.
func matmulTransposedB(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       B: Int, I: Int, O: Int, threads: Int = 1) {
    let vectorEnd = I & ~7
    forEachChunk(O, work: B &* I &* O, threads: threads) { o in
        let row = UnsafeRawPointer(w + o &* I)
        var b = 0
        while b &+ 4 <= B {
            let x0 = UnsafeRawPointer(x + b &* I), x1 = x0 + I &* 4, x2 = x1 + I &* 4, x3 = x2 + I &* 4
            var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
            var i = 0
            while i < vectorEnd {
                let offset = i &* 4
                let wv = row.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                a0 = a0.addingProduct(x0.loadUnaligned(fromByteOffset: offset, as: Lanes.self), wv)
                a1 = a1.addingProduct(x1.loadUnaligned(fromByteOffset: offset, as: Lanes.self), wv)
                a2 = a2.addingProduct(x2.loadUnaligned(fromByteOffset: offset, as: Lanes.self), wv)
                a3 = a3.addingProduct(x3.loadUnaligned(fromByteOffset: offset, as: Lanes.self), wv)
                i &+= 8
            }
            var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
            let wr = w + o &* I, xr = x + b &* I
            while i < I {
                let wi = wr[i]
                s0 += xr[i] * wi; s1 += xr[I &+ i] * wi; s2 += xr[2 &* I &+ i] * wi; s3 += xr[3 &* I &+ i] * wi
                i &+= 1
            }
            y[b &* O &+ o] = s0; y[(b &+ 1) &* O &+ o] = s1; y[(b &+ 2) &* O &+ o] = s2; y[(b &+ 3) &* O &+ o] = s3
            b &+= 4
        }
        while b < B {
            y[b &* O &+ o] = dot(x + b &* I, w + o &* I, I)
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
    Parallel.run(items: (count + chunk - 1) / chunk, workers: workers) { item, _ in
        for k in (item * chunk)..<min(count, (item + 1) * chunk) { body(k) }
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
/// dw `[O][I]` (overwritten). Two weight rows at a time: each 32-float stretch of both rows is
/// summed in eight registers over all examples (one load of `x` feeds two FMAs) and stored
/// once, instead of reading and writing a row per example as AXPYs would.
func matmulBackwardWeights(_ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                           B: Int, I: Int, O: Int, threads: Int = 1) {
    let blockEnd = I & ~31
    forEachChunk((O + 1) / 2, work: B &* I &* O, threads: threads) { pair in
        let o0 = 2 &* pair, o1 = min(o0 &+ 1, O &- 1)   // an odd last row is computed twice
        let out0 = UnsafeMutableRawPointer(dw + o0 &* I), out1 = UnsafeMutableRawPointer(dw + o1 &* I)
        var i = 0
        while i < blockEnd {
            var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
            var c0 = Lanes(), c1 = Lanes(), c2 = Lanes(), c3 = Lanes()
            for b in 0..<B {
                let g = Lanes(repeating: d[b &* O &+ o0]), h = Lanes(repeating: d[b &* O &+ o1])
                let row = UnsafeRawPointer(x + b &* I) + i &* 4
                let x0 = row.loadUnaligned(as: Lanes.self), x1 = row.loadUnaligned(fromByteOffset: 32, as: Lanes.self)
                let x2 = row.loadUnaligned(fromByteOffset: 64, as: Lanes.self), x3 = row.loadUnaligned(fromByteOffset: 96, as: Lanes.self)
                a0 = a0.addingProduct(g, x0); a1 = a1.addingProduct(g, x1); a2 = a2.addingProduct(g, x2); a3 = a3.addingProduct(g, x3)
                c0 = c0.addingProduct(h, x0); c1 = c1.addingProduct(h, x1); c2 = c2.addingProduct(h, x2); c3 = c3.addingProduct(h, x3)
            }
            let offset = i &* 4
            out0.storeBytes(of: a0, toByteOffset: offset, as: Lanes.self)
            out0.storeBytes(of: a1, toByteOffset: offset &+ 32, as: Lanes.self)
            out0.storeBytes(of: a2, toByteOffset: offset &+ 64, as: Lanes.self)
            out0.storeBytes(of: a3, toByteOffset: offset &+ 96, as: Lanes.self)
            out1.storeBytes(of: c0, toByteOffset: offset, as: Lanes.self)
            out1.storeBytes(of: c1, toByteOffset: offset &+ 32, as: Lanes.self)
            out1.storeBytes(of: c2, toByteOffset: offset &+ 64, as: Lanes.self)
            out1.storeBytes(of: c3, toByteOffset: offset &+ 96, as: Lanes.self)
            i &+= 32
        }
        for o in o0...o1 {
            let row = dw + o &* I
            for k in blockEnd..<I {
                var sum: Float = 0
                for b in 0..<B { sum += d[b &* O &+ o] * x[b &* I &+ k] }
                row[k] = sum
            }
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
