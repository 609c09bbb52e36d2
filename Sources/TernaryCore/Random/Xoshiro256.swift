/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit mixer used to seed and to derive streams.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a bijection on UInt64 with good avalanche.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman, Vigna 2018): a small, fast generator with 256 bits of state.
///
/// Every random decision in TernEvo draws from one of these. Streams are derived, not shared:
/// `Xoshiro256(seed:stream:)` gives an independent generator per (run seed, generation,
/// individual), so results never depend on which thread ran what. The helpers below
/// (`uniformBelow`, `uniformDouble`) are defined here rather than taken from the standard
/// library so that a seed gives the same numbers on every Swift version.
public struct Xoshiro256: RandomNumberGenerator, Hashable, Sendable {
    /// The four state words; never all zero. Saved in checkpoints.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator seeded through SplitMix64 from one 64-bit seed.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// An independent stream for a path of indices under a seed, e.g. `[generation, individual]`.
    /// Each index is folded into the seed through the SplitMix64 mixer, so nearby paths give
    /// unrelated states.
    public init(seed: UInt64, stream path: [UInt64]) {
        var folded = SplitMix64.mix(seed)
        for (depth, index) in path.enumerated() {
            folded = SplitMix64.mix(folded ^ SplitMix64.mix(index &+ UInt64(depth + 1) &* 0xD1B5_4A32_D192_ED03))
        }
        self.init(seed: folded)
    }

    /// A generator restored from saved state words (not all zero).
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
        self.state = state
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    @inline(__always)
    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public static func == (a: Xoshiro256, b: Xoshiro256) -> Bool { a.state == b.state }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(state.0)
        hasher.combine(state.1)
        hasher.combine(state.2)
        hasher.combine(state.3)
    }
}

extension RandomNumberGenerator {
    /// A uniform integer in `0 ..< bound` by Lemire's multiply-and-reject method; stable across
    /// Swift versions, unlike `Int.random(in:)`.
    @inline(__always)
    public mutating func uniformBelow(_ bound: Int) -> Int {
        precondition(bound > 0, "uniformBelow needs a positive bound")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let floor = (0 &- range) % range
            while product.low < floor { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniformDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
