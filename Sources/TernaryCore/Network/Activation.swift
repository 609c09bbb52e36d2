/// The hidden activation of a network (<doc:Semantics>): one kind for every hidden layer.
///
/// - `sign`: `h = +1 if s >= theta else -1`, a binary activation (bit-packed, bit set = +1).
/// - `levels(bits: K)`, K in 2 ... 8: `h = clamp(floor((s - theta) / delta), 0, 2^K - 1)`, an
///   unsigned K-bit quantised ReLU, with `theta` an Int32 threshold per neuron and `delta >= 1` an
///   Int32 step per hidden layer (`TernaryNetwork.steps`). A ternary weight times a level is an
///   add, a subtract or a skip, so the network stays multiplication-free. The 8- and 4-bit
///   activations of BitNet b1.58 and its successors are of this kind.
///
/// Config and file names: `sign`, `relu2` ... `relu8`. In a model file the kind is one byte:
/// 0 for `sign`, K for K-bit levels.
public enum Activation: Hashable, Sendable {
    case sign
    case levels(bits: Int)

    /// The bit widths a `levels` activation may have.
    public static let levelBits = 2...8

    /// Every kind, in the order help texts list them.
    public static let allKinds: [Activation] = [.sign] + levelBits.map { .levels(bits: $0) }

    /// The kind named `name` (`sign`, `relu2` ... `relu8`), nil for any other name.
    public init?(name: String) {
        guard let kind = Activation.allKinds.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    /// The kind stored as `code` in a model file (0: sign, K: K-bit levels), nil for any other.
    public init?(code: UInt8) {
        guard let kind = Activation.allKinds.first(where: { $0.code == code }) else { return nil }
        self = kind
    }

    /// `sign`, or `reluK` for K-bit levels.
    public var name: String {
        switch self {
        case .sign: "sign"
        case let .levels(bits): "relu\(bits)"
        }
    }

    /// The model file's byte for this kind.
    public var code: UInt8 {
        switch self {
        case .sign: 0
        case let .levels(bits): UInt8(bits)
        }
    }

    /// Bits per hidden activation: 1 for `sign`, K for K-bit levels.
    public var bits: Int {
        switch self {
        case .sign: 1
        case let .levels(bits): bits
        }
    }

    /// Whether this is a multi-bit kind (the network has per-layer steps).
    public var isLevels: Bool { self != .sign }

    /// The largest activation value: 1 for `sign`, `2^K - 1` for K-bit levels.
    public var maxLevel: Int32 { self == .sign ? 1 : Int32(1 << bits) - 1 }

    /// The activation of a neuron whose sum is `sum`, with threshold `threshold` and its
    /// layer's step `step` (ignored by `sign`): -1 or +1 for `sign`, a level in
    /// `0 ... maxLevel` otherwise. `floor` rounds towards minus infinity; a sum below the
    /// threshold gives level 0 either way, so only non-negative quotients are computed.
    @inlinable
    public func value(sum: Int32, threshold: Int32, step: Int32) -> Int32 {
        switch self {
        case .sign:
            return sum >= threshold ? 1 : -1
        case .levels:
            let above = Int64(sum) - Int64(threshold)
            guard above > 0 else { return 0 }
            return Int32(min(above / Int64(step), Int64(maxLevel)))
        }
    }
}
