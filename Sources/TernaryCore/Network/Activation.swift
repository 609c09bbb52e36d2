/// The hidden activation of a network. Only `sign` exists so far; others (a ternary dead zone,
/// int8) would join behind this enum.
public enum Activation: UInt8, Hashable, Sendable, Codable, CaseIterable {
    /// `h = +1 if s >= theta else -1`.
    case sign = 0

    public var name: String {
        switch self { case .sign: "sign" }
    }
}
