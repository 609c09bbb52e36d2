/// Base-3 packing of trits, 5 per byte (3^5 = 243 <= 256): 1.6 bits per trit on disk.
///
/// Trit `t` becomes digit `0` for 0, `1` for +1, `2` for -1, so a zero-padded tail is made of
/// zero trits. Byte `k` holds trits `5k ..< 5k+5` as `d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4`.
public enum Base3 {
    /// Bytes needed for `tritCount` trits.
    public static func byteCount(forTrits tritCount: Int) -> Int { (tritCount + 4) / 5 }

    /// Packs trits (each -1, 0 or +1).
    public static func encode(_ trits: [Int8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: byteCount(forTrits: trits.count))
        for k in bytes.indices {
            var value = 0
            var place = 1
            for t in trits[(5 * k)..<min(5 * k + 5, trits.count)] {
                precondition(t >= -1 && t <= 1, "a trit is -1, 0 or +1, not \(t)")
                value += place * digit(of: t)
                place *= 3
            }
            bytes[k] = UInt8(value)
        }
        return bytes
    }

    /// Unpacks `tritCount` trits; throws if a byte exceeds 242, a padding digit is not zero,
    /// or the byte count does not match.
    public static func decode(_ bytes: some Collection<UInt8>, tritCount: Int) throws(Base3Error) -> [Int8] {
        guard bytes.count == byteCount(forTrits: tritCount) else {
            throw .wrongLength(bytes: bytes.count, expected: byteCount(forTrits: tritCount))
        }
        var trits = [Int8]()
        trits.reserveCapacity(tritCount)
        for (k, byte) in bytes.enumerated() {
            guard byte < 243 else { throw .invalidByte(offset: k, value: byte) }
            var value = Int(byte)
            for position in 0..<5 {
                let d = value % 3
                value /= 3
                if 5 * k + position < tritCount {
                    trits.append(d == 0 ? 0 : (d == 1 ? 1 : -1))
                } else if d != 0 {
                    throw .nonzeroPadding(offset: k)
                }
            }
        }
        return trits
    }

    @inline(__always)
    static func digit(of trit: Int8) -> Int { trit == 0 ? 0 : (trit == 1 ? 1 : 2) }
}

/// Why a base-3 byte string could not be decoded.
public enum Base3Error: Error, Equatable, CustomStringConvertible {
    case wrongLength(bytes: Int, expected: Int)
    case invalidByte(offset: Int, value: UInt8)
    case nonzeroPadding(offset: Int)

    public var description: String {
        switch self {
        case let .wrongLength(bytes, expected):
            return "\(bytes) bytes of base-3 trits where \(expected) were expected"
        case let .invalidByte(offset, value):
            return "byte \(value) at trit-byte \(offset) is not base-3 (largest valid is 242)"
        case let .nonzeroPadding(offset):
            return "the padding trits of the last byte (trit-byte \(offset)) are not zero"
        }
    }
}
