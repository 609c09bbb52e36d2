import Foundation

/// Tight register-only loops that estimate what one core can do at best, so the bench can say
/// how far each kernel is from the hardware limit.
enum MachinePeak {
    /// Synaptic operations per second of an xor-and-popcount loop: per 256-bit vector,
    /// `acc += popcount(m & (p ^ h))` as in the hidden-layer kernel, on values held in
    /// registers (no loads), eight independent chains. One bit = one synaptic operation. `h`
    /// moves by a xorshift step each iteration (3 shifts and 3 xors per 8 popcounts, which the
    /// figure includes) so the compiler cannot fold the loop.
    static func popcountOpsPerSecond(iterations: Int) -> Double {
        var h = SIMD4<UInt64>(
            0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB, 0xD1B5_4A32_D192_ED03)
        let p0 = SIMD4<UInt64>(
            0x0123_4567_89AB_CDEF, 0x1357_9BDF_0246_8ACE, 0xF0E1_D2C3_B4A5_9687, 0x0F1E_2D3C_4B5A_6978)
        let p1 = p0 &+ SIMD4(repeating: 0x5555), p2 = p0 &+ SIMD4(repeating: 0x7777),
            p3 = p0 &+ SIMD4(repeating: 0x9999)
        let m0 = ~p0, m1 = ~(p1 &>> 1), m2 = ~(p2 &>> 2), m3 = ~(p3 &>> 3)
        var a0 = SIMD4<UInt64>(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
        let s13 = SIMD4<UInt64>(repeating: 13), s7 = SIMD4<UInt64>(repeating: 7), s17 = SIMD4<UInt64>(repeating: 17)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            let g = ~h
            a0 &+= (m0 & (p0 ^ h)).nonzeroBitCount
            a1 &+= (m1 & (p1 ^ h)).nonzeroBitCount
            a2 &+= (m2 & (p2 ^ h)).nonzeroBitCount
            a3 &+= (m3 & (p3 ^ h)).nonzeroBitCount
            a4 &+= (m0 & (p1 ^ g)).nonzeroBitCount
            a5 &+= (m1 & (p2 ^ g)).nonzeroBitCount
            a6 &+= (m2 & (p3 ^ g)).nonzeroBitCount
            a7 &+= (m3 & (p0 ^ g)).nonzeroBitCount
            h ^= h &<< s13
            h ^= h &>> s7
            h ^= h &<< s17
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let total = a0 &+ a1 &+ a2 &+ a3 &+ a4 &+ a5 &+ a6 &+ a7
        blackHole(total.wrappedSum())
        return Double(iterations) * 8 * 256 / seconds
    }

    /// Multiply-adds per second of a float32 FMA loop: ten independent 8-lane accumulators
    /// (enough to cover the FMA latency on two pipes), values in registers.
    static func fmaOpsPerSecond(iterations: Int) -> Double {
        let x = SIMD8<Float>(repeating: 1e-3), y = SIMD8<Float>(repeating: 1e-4)
        var c0 = SIMD8<Float>(repeating: 1), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3, c4 = c0 + 4
        var c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7, c8 = c0 + 8, c9 = c0 + 9
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            c0 = c0.addingProduct(x, y)
            c1 = c1.addingProduct(x, y)
            c2 = c2.addingProduct(x, y)
            c3 = c3.addingProduct(x, y)
            c4 = c4.addingProduct(x, y)
            c5 = c5.addingProduct(x, y)
            c6 = c6.addingProduct(x, y)
            c7 = c7.addingProduct(x, y)
            c8 = c8.addingProduct(x, y)
            c9 = c9.addingProduct(x, y)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        blackHole(Int((c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9).sum()))
        return Double(iterations) * 10 * 8 / seconds
    }
}

/// Keeps a result alive so the optimiser cannot drop the loop that made it.
@_optimize(none)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
