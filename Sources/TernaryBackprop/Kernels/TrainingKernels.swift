// Element-wise training kernels over flat buffers: quantisation and the Adam step. Kept here
// so the per-parameter loops run on pointers (no per-element array checks) and vectorise.

enum TrainingKernels {
    /// BitNet b1.58 absmean quantisation of `w` (N weights): returns `gamma = mean |w|` and
    /// writes `clamp(round(w / gamma), -1, 1)` (ties to even) into `ternary`; all zeros when
    /// `gamma == 0`.
    static func quantize(_ w: [Float], into ternary: inout [Float]) -> Float {
        precondition(ternary.count == w.count)
        return w.withUnsafeBufferPointer { w in
            ternary.withUnsafeMutableBufferPointer { t in
                let n = w.count
                let raw = UnsafeRawPointer(w.baseAddress!)
                var s0 = Lanes(), s1 = Lanes()
                let magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
                @inline(__always) func absolute(_ x: Lanes) -> Lanes {
                    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & magnitude, to: Lanes.self)
                }
                var i = 0
                while i &+ 16 <= n {
                    let a = raw.loadUnaligned(fromByteOffset: i &* 4, as: Lanes.self)
                    let b = raw.loadUnaligned(fromByteOffset: i &* 4 &+ 32, as: Lanes.self)
                    s0 += absolute(a)
                    s1 += absolute(b)
                    i &+= 16
                }
                var sum = (s0 + s1).sum()
                while i < n { sum += abs(w[i]); i &+= 1 }
                let gamma = n == 0 ? 0 : sum / Float(n)
                if gamma > 0 {
                    let inverse = 1 / gamma
                    for k in 0..<n { t[k] = max(-1, min(1, (w[k] * inverse).rounded(.toNearestOrEven))) }
                } else {
                    for k in 0..<n { t[k] = 0 }
                }
                return gamma
            }
        }
    }

    /// One Adam step on N parameters `p` with gradients `g` and moments `m`, `v`:
    /// `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2` (each set to 0 below `flush`, so they
    /// never become subnormal), `p = p * decay - lr (m / c1) / (sqrt(v / c2) + eps)`.
    static func adam(_ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float],
                     lr: Float, b1: Float, b2: Float, c1: Float, c2: Float, eps: Float, decay: Float, flush: Float) {
        precondition(p.count == g.count && m.count == g.count && v.count == g.count)
        p.withUnsafeMutableBufferPointer { p in
            g.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        let step = lr / c1, inverseC2 = 1 / c2
                        for k in 0..<p.count {
                            let gk = g[k]
                            var mk = b1 * m[k] + (1 - b1) * gk
                            var vk = b2 * v[k] + (1 - b2) * gk * gk
                            mk = abs(mk) < flush ? 0 : mk
                            vk = vk < flush ? 0 : vk
                            m[k] = mk
                            v[k] = vk
                            p[k] = p[k] * decay - step * mk / ((vk * inverseC2).squareRoot() + eps)
                        }
                    }
                }
            }
        }
    }
}
