/// Maps raw feature values to unsigned bytes: `q = round(Q * (v - lo) / (hi - lo))`, clamped to
/// `0...Q`, with `Q = 2^bits - 1` (<doc:Semantics>). Stored with every model.
///
/// Scaling: one `lo`, `hi` for all features (`global`, right for pixels), or one pair per
/// feature (`per_feature`, right for tabular data whose columns have different units; a
/// constant feature maps to 0), both fitted on the training split.
public struct InputQuantizer: Hashable, Sendable, Codable {
    /// One feature's range under per-feature scaling.
    public struct Range: Hashable, Sendable, Codable {
        public var low: Float, high: Float
        public init(low: Float, high: Float) {
            precondition(low.isFinite && high.isFinite && low <= high, "need finite lo <= hi")
            self.low = low
            self.high = high
        }
    }
    /// Per-feature ranges, or empty for the global range `low ... high`.
    public var featureRanges: [Range] = []
    /// Smallest raw value of the training split (maps to 0).
    public var low: Float
    /// Largest raw value of the training split (maps to Q).
    public var high: Float
    /// Bits per quantised input, 1 ... 8.
    public var bits: Int
    /// The input kind: nil for quantised byte features, else one-hot token inputs
    /// (<doc:Semantics>; then `bits` is 1, `low` 0 and `high` 1, so an input's value `q / Q` is 0 or 1).
    public var tokens: TokenInput? = nil

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
        for v in values {
            low = min(low, v)
            high = max(high, v)
        }
        if low > high {
            low = 0
            high = 0
        }
        self.init(low: low, high: high, bits: bits)
    }

    /// Per-feature ranges fitted on row-major `features` (`featureCount` per example): min and
    /// max of each column. `low`/`high` hold the smallest and largest of all, for display.
    /// The automatic choice of `dataset.scaling`: per-feature ranges when the median
    /// non-constant column spans less than a quarter of the global range (a table whose columns
    /// are in different units: one range would leave most columns a few levels), else one
    /// range (pixels: every column in the same unit, and per-column ranges would stretch the
    /// rarely-inked border pixels' noise to full scale).
    public static func fitsPerFeature(_ features: [Float], featureCount: Int) -> Bool {
        let fitted = InputQuantizer(fittingPerFeature: features, featureCount: featureCount)
        let spans = fitted.featureRanges.map { Double($0.high) - Double($0.low) }.filter { $0 > 0 }.sorted()
        let global = Double(fitted.high) - Double(fitted.low)
        guard !spans.isEmpty, global > 0 else { return false }
        return spans[spans.count / 2] < global / 4
    }

    public init(fittingPerFeature features: [Float], featureCount: Int, bits: Int = 8) {
        precondition(featureCount >= 1 && features.count % featureCount == 0, "features must hold whole examples")
        var lows = [Float](repeating: .infinity, count: featureCount),
            highs = [Float](repeating: -.infinity, count: featureCount)
        for (index, value) in features.enumerated() {
            let column = index % featureCount
            lows[column] = min(lows[column], value)
            highs[column] = max(highs[column], value)
        }
        let ranges = zip(lows, highs).map { $0 > $1 ? Range(low: 0, high: 0) : Range(low: $0, high: $1) }
        self.init(low: ranges.map(\.low).min() ?? 0, high: ranges.map(\.high).max() ?? 0, bits: bits)
        featureRanges = ranges
    }

    /// The input description of a one-hot token network (`bits` 1, range 0 ... 1).
    public init(tokens: TokenInput) {
        self.init(low: 0, high: 1, bits: 1)
        self.tokens = tokens
    }

    /// Whether each feature has its own range.
    public var isPerFeature: Bool { !featureRanges.isEmpty }

    /// The name of the scaling: `global` or `per_feature`.
    public var scalingName: String { isPerFeature ? "per_feature" : "global" }

    /// Row-major features (`featureCount` per example) quantised with this quantiser.
    public func quantize(features: [Float], featureCount: Int) -> [UInt8] {
        guard isPerFeature else { return features.map(quantize) }
        precondition(
            featureRanges.count == featureCount,
            "per-feature ranges for \(featureRanges.count) features, data has \(featureCount)")
        return features.enumerated().map { index, value in
            let range = featureRanges[index % featureCount]
            return InputQuantizer.quantize(value, low: range.low, high: range.high, levels: levels)
        }
    }

    @inline(__always)
    static func quantize(_ value: Float, low: Float, high: Float, levels: Int) -> UInt8 {
        guard high > low else { return 0 }
        let scaled = (Double(value) - Double(low)) / (Double(high) - Double(low)) * Double(levels)
        let rounded = scaled.rounded(.toNearestOrAwayFromZero)
        return UInt8(min(max(rounded, 0), Double(levels)))
    }

    /// `Q = 2^bits - 1`, the largest quantised value.
    public var levels: Int { (1 << bits) - 1 }

    /// The quantised value of `value` under the global range (0 when `hi == lo`).
    @inline(__always)
    public func quantize(_ value: Float) -> UInt8 {
        InputQuantizer.quantize(value, low: low, high: high, levels: levels)
    }
}
