/// Ternarisation shared by every trainer that turns float weights into trits (the STE arm
/// today; any strategy that keeps latent floats could use it without importing Backprop).
public enum Ternarization {
    /// BitNet b1.58 absmean quantisation of `weights` (N of them): returns `gamma = mean |w|`
    /// and writes `clamp(round(w / gamma), -1, 1)` (ties to even) into `trits`; all zeros when
    /// `gamma == 0`. The sum runs in two SIMD8 accumulators of 8 lanes, 16 weights a step, then
    /// the tail in order, so the same input gives the same bits on every machine.
    public static func absmean(_ weights: [Float], into trits: inout [Float]) -> Float {
        precondition(trits.count == weights.count, "one trit per weight")
        typealias Lanes = SIMD8<Float>
        @inline(__always) func absolute(_ x: Lanes) -> Lanes {
            unsafeBitCast(
                unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7FFF_FFFF), to: Lanes.self)
        }
        return weights.withUnsafeBufferPointer { w in
            trits.withUnsafeMutableBufferPointer { t in
                let n = w.count
                guard n > 0 else { return 0 }
                let raw = UnsafeRawPointer(w.baseAddress!)
                var s0 = Lanes(), s1 = Lanes()
                var i = 0
                while i &+ 16 <= n {
                    s0 += absolute(raw.loadUnaligned(fromByteOffset: i &* 4, as: Lanes.self))
                    s1 += absolute(raw.loadUnaligned(fromByteOffset: i &* 4 &+ 32, as: Lanes.self))
                    i &+= 16
                }
                var sum = (s0 + s1).sum()
                while i < n {
                    sum += abs(w[i])
                    i &+= 1
                }
                let gamma = sum / Float(n)
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

    /// The integer threshold that makes `s >= theta` equal `gamma s / scale + b >= 0` for integer
    /// sums `s`: `ceil(-scale b / gamma)` (scale `Q` for the first layer, whose inputs are
    /// `q / Q`, else 1), clamped to Int32; when `gamma == 0` the sum is always 0 and the neuron
    /// fires iff `b >= 0`.
    public static func threshold(bias: Float, gamma: Float, scale: Float) -> Int32 {
        let theta = unclampedThreshold(bias: bias, gamma: gamma, scale: scale)
        return Int32(max(Double(Int32.min), min(Double(Int32.max), theta)))
    }

    /// `threshold` before clamping, in Double (what the STE forward compares sums with).
    public static func unclampedThreshold(bias: Float, gamma: Float, scale: Float) -> Double {
        guard gamma > 0 else { return bias >= 0 ? -Double(Int32.max) : Double(Int32.max) }
        return (-Double(scale) * Double(bias) / Double(gamma)).rounded(.up)
    }
}
