/// Maps raw feature values to unsigned bytes: `q = round(Q * (v - lo) / (hi - lo))`, clamped to
/// `0...Q`, with `Q = 2^bits - 1` (DESIGN section 2). Stored with every model.
public struct InputQuantizer: Hashable, Sendable, Codable {
    /// Smallest raw value of the training split (maps to 0).
    public var low: Float
    /// Largest raw value of the training split (maps to Q).
    public var high: Float
    /// Bits per quantised input, 1 ... 8.
    public var bits: Int

    public init(low: Float, high: Float, bits: Int = 8) {
        precondition(bits >= 1 && bits <= 8, "input bits must be 1 ... 8, not \(bits)")
        precondition(low.isFinite && high.isFinite && low <= high, "need finite lo <= hi")
        self.low = low
        self.high = high
        self.bits = bits
    }

    /// The fitted quantiser of a set of values: global min and max.
    public init(fitting values: some Sequence<Float>, bits: Int = 8) {
        var low = Float.infinity, high = -Float.infinity
        for v in values { low = min(low, v); high = max(high, v) }
        if low > high { low = 0; high = 0 }
        self.init(low: low, high: high, bits: bits)
    }

    /// `Q = 2^bits - 1`, the largest quantised value.
    public var levels: Int { (1 << bits) - 1 }

    /// The quantised value of `value` (0 when `hi == lo`).
    @inline(__always)
    public func quantize(_ value: Float) -> UInt8 {
        guard high > low else { return 0 }
        let scaled = (Double(value) - Double(low)) / (Double(high) - Double(low)) * Double(levels)
        let rounded = scaled.rounded(.toNearestOrAwayFromZero)
        return UInt8(min(max(rounded, 0), Double(levels)))
    }
}
