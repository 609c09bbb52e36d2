import Foundation
import TernaryCore

// Element-wise training kernels over flat buffers: the Adam step, the gather of
// a minibatch and the activation epilogues. Kept here so the per-element loops run on
// pointers (no per-element array or uniqueness checks) and vectorise.

typealias Lanes = SIMD8<Float>

enum TrainingKernels {
    /// `|x|` per lane (clears the sign bits).
    @inline(__always)
    static func absolute(_ x: Lanes) -> Lanes {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7FFF_FFFF), to: Lanes.self)
    }

    /// One Adam step on N parameters `p` with gradients `g` and moments `m`, `v`:
    /// `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2` (each set to 0 below `flush`, so they
    /// never become subnormal), `p = p * decay - lr (m / c1) / (sqrt(v / c2) + eps)`, every
    /// operation rounded on its own (the C kernel `adam`, 16 lanes on AVX-512 and AVX2). Arrays
    /// of 2^16 parameters or more are split into contiguous ranges over `threads` workers (each
    /// element's arithmetic is the same either way).
    static func adam(
        _ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float],
        lr: Float, b1: Float, b2: Float, c1: Float, c2: Float, eps: Float, decay: Float, flush: Float,
        threads: Int = 1, instructionSet: InstructionSet = .active
    ) {
        precondition(p.count == g.count && m.count == g.count && v.count == g.count)
        let total = p.count
        guard total > 0 else { return }
        let parts = total >= 1 << 16 ? max(1, threads) : 1
        let kernel = instructionSet.table.pointee.adam!
        let step = lr / c1, inverseC2 = 1 / c2
        p.withUnsafeMutableBufferPointer { p in
            g.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        // Each part updates its own range of the four arrays.
                        let shared = UncheckedSendable(
                            (p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!))
                        Parallel.run(items: parts, workers: parts) { part, _ in
                            let base = shared.value
                            let start = total * part / parts, end = total * (part + 1) / parts
                            kernel(
                                base.p + start, base.g + start, base.m + start, base.v + start, end - start,
                                b1, 1 - b1, b2, 1 - b2, step, inverseC2, eps, decay, flush)
                        }
                    }
                }
            }
        }
    }

    /// Copies the quantised inputs of the examples at `indices` into rows of `raw` (`q`) and
    /// `scaled` (`q / levels`), and their labels into `labels`.
    static func gather<Indices: Collection<Int>>(
        _ indices: Indices, features: [UInt8], labels dataLabels: [Int],
        width n: Int, levels: Float,
        raw: inout [Float], scaled: inout [Float], labels: inout [Int]
    ) {
        precondition(
            raw.count >= indices.count * n && scaled.count >= indices.count * n && labels.count >= indices.count)
        features.withUnsafeBufferPointer { features in
            raw.withUnsafeMutableBufferPointer { raw in
                scaled.withUnsafeMutableBufferPointer { scaled in
                    for (row, index) in indices.enumerated() {
                        precondition(index >= 0 && (index + 1) * n <= features.count)
                        labels[row] = dataLabels[index]
                        let source = features.baseAddress! + index &* n
                        let q = raw.baseAddress! + row &* n, a = scaled.baseAddress! + row &* n
                        for i in 0..<n {
                            let value = Float(source[i])
                            q[i] = value
                            a[i] = value / levels
                        }
                    }
                }
            }
        }
    }

    /// STE forward epilogue of one layer over `count` = B x O outputs: `z = gamma d / scale + b`
    /// and, for a hidden layer (`thresholds` given), `h = d >= theta ? 1 : -1`, where `d` are the
    /// layer's integer-valued dot products and `b` is 0 for the output layer.
    static func steOutputs(
        dots: [Float], gamma: Float, scale: Float, biases: [Float]?, thresholds: [Double]?,
        outputs O: Int, count: Int, preactivations: inout [Float], activations: inout [Float]
    ) {
        precondition(dots.count >= count && preactivations.count >= count && count % O == 0)
        dots.withUnsafeBufferPointer { d in
            preactivations.withUnsafeMutableBufferPointer { z in
                guard let biases, let thresholds else {
                    for k in 0..<count { z[k] = gamma * d[k] / scale }
                    return
                }
                precondition(biases.count == O && thresholds.count == O && activations.count >= count)
                biases.withUnsafeBufferPointer { b in
                    thresholds.withUnsafeBufferPointer { t in
                        activations.withUnsafeMutableBufferPointer { h in
                            var base = 0
                            while base < count {
                                for o in 0..<O {
                                    let value = d[base &+ o]
                                    z[base &+ o] = gamma * value / scale + b[o]
                                    h[base &+ o] = Double(value) >= t[o] ? 1 : -1
                                }
                                base &+= O
                            }
                        }
                    }
                }
            }
        }
    }

    /// Float forward epilogue of a hidden layer: `z += b`, `h = tanh(z)` over B x O outputs.
    static func tanhOutputs(
        biases: [Float], outputs O: Int, count: Int,
        preactivations: inout [Float], activations: inout [Float]
    ) {
        precondition(biases.count == O && preactivations.count >= count && activations.count >= count && count % O == 0)
        biases.withUnsafeBufferPointer { b in
            preactivations.withUnsafeMutableBufferPointer { z in
                activations.withUnsafeMutableBufferPointer { h in
                    var base = 0
                    while base < count {
                        for o in 0..<O { z[base &+ o] += b[o] }
                        base &+= O
                    }
                    let rz = UnsafeRawPointer(z.baseAddress!), rh = UnsafeMutableRawPointer(h.baseAddress!)
                    var k = 0
                    while k &+ 8 <= count {
                        rh.storeBytes(
                            of: tanh8(rz.loadUnaligned(fromByteOffset: k &* 4, as: Lanes.self)),
                            toByteOffset: k &* 4, as: Lanes.self)
                        k &+= 8
                    }
                    if k < count {
                        var lanes = Lanes()
                        for j in k..<count { lanes[j &- k] = z[j] }
                        let result = tanh8(lanes)
                        for j in k..<count { h[j] = result[j &- k] }
                    }
                }
            }
        }
    }

    /// `tanh` of eight floats, within 4 units in the last place of the true value (checked
    /// against the C library over a dense grid in the tests), the same bits on every machine.
    /// `|x| < 1/2`: the odd Taylor series to x^17. Beyond: `1 - 2 / (e^{2|x|} + 1)` with
    /// `e^y = 2^n e^r` (`n = round(y / ln 2)`, `|r| <= ln 2 / 2`, e^r by its Taylor series to
    /// r^8), the sign restored; `|x| >= 9` gives +-1, as it does in float.
    @inline(__always)
    static func tanh8(_ x: Lanes) -> Lanes {
        let a = absolute(x)
        // Small: x + x^3 (c1 + x^2 (c2 + ...)).
        let x2 = x * x
        var p = Lanes(repeating: Float(6404582.0 / 10854718875.0))
        p = p * x2 + Lanes(repeating: Float(-929569.0 / 638512875.0))
        p = p * x2 + Lanes(repeating: Float(21844.0 / 6081075.0))
        p = p * x2 + Lanes(repeating: Float(-1382.0 / 155925.0))
        p = p * x2 + Lanes(repeating: 62 / 2835)
        p = p * x2 + Lanes(repeating: -17 / 315)
        p = p * x2 + Lanes(repeating: 2 / 15)
        p = p * x2 + Lanes(repeating: -1 / 3)
        let small = x + x * x2 * p
        // Large: e^{2|x|} with 2|x| clamped to 18.
        let y = (a + a).replacing(with: 18, where: a .> 9)
        let shifter = Lanes(repeating: 12_582_912)  // 1.5 * 2^23: adding it rounds to an integer
        let shifted = y * Lanes(repeating: 1.442_695_04) + shifter
        let n = shifted - shifter
        let r = (y - n * Lanes(repeating: 0.693_145_751_953_125)) - n * Lanes(repeating: 1.428_606_765_330_187e-6)
        var e = Lanes(repeating: 1.0 / 40320)
        e = e * r + Lanes(repeating: 1.0 / 5040)
        e = e * r + Lanes(repeating: 1.0 / 720)
        e = e * r + Lanes(repeating: 1.0 / 120)
        e = e * r + Lanes(repeating: 1.0 / 24)
        e = e * r + Lanes(repeating: 1.0 / 6)
        e = e * r + Lanes(repeating: 0.5)
        e = e * r + Lanes(repeating: 1)
        e = e * r + Lanes(repeating: 1)
        let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- SIMD8<UInt32>(repeating: 0x4B40_0000)
        let scale = unsafeBitCast((integer &+ SIMD8<UInt32>(repeating: 127)) &<< 23, to: Lanes.self)
        let large = Lanes(repeating: 1) - Lanes(repeating: 2) / (e * scale + Lanes(repeating: 1))
        let signBits = unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x8000_0000)
        let signed = unsafeBitCast(unsafeBitCast(large, to: SIMD8<UInt32>.self) | signBits, to: Lanes.self)
        return small.replacing(with: signed, where: a .>= 0.5)
    }

    /// Backward through a hidden activation over `count` values: the STE window
    /// (`g / window` where `|z / window| <= 1`, else 0) or tanh's derivative (`g (1 - h^2)`).
    static func activationBackward(
        ste: Bool, gradients g: [Float], preactivations z: [Float], activations h: [Float],
        window: Float, count: Int, into deltas: inout [Float]
    ) {
        precondition(g.count >= count && z.count >= count && h.count >= count && deltas.count >= count)
        g.withUnsafeBufferPointer { g in
            deltas.withUnsafeMutableBufferPointer { out in
                if ste {
                    z.withUnsafeBufferPointer { z in
                        for k in 0..<count { out[k] = abs(z[k] / window) <= 1 ? g[k] / window : 0 }
                    }
                } else {
                    h.withUnsafeBufferPointer { h in
                        for k in 0..<count { out[k] = g[k] * (1 - h[k] * h[k]) }
                    }
                }
            }
        }
    }

    /// `out = gamma * t` element-wise.
    static func scaled(_ t: [Float], by gamma: Float, into out: inout [Float]) {
        precondition(out.count == t.count)
        t.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { out in
                for k in 0..<t.count { out[k] = gamma * t[k] }
            }
        }
    }
}
