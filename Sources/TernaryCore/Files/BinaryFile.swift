import Foundation

/// A binary file that cannot be used: which file and what is wrong with it. The one error type
/// of every binary file TernEvo reads (models and arm records).
public struct FileFormatError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}

/// Little-endian writer of binary fields: the one encoder of every binary file TernEvo writes
/// (models, safetensors and arm records).
public struct BinaryWriter {
    public internal(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        for k in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ value: Float) { write(value.bitPattern) }
    public mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }
    /// A count (UInt64), so that a reader can bound it before trusting it.
    public mutating func writeCount(_ count: Int) { write(UInt64(count)) }
    /// Length-prefixed bytes.
    public mutating func write(bytes more: [UInt8]) {
        writeCount(more.count)
        bytes += more
    }
    public mutating func write(_ text: String) { write(bytes: Array(text.utf8)) }
    /// A network as its `.tern` bytes.
    public mutating func write(_ network: TernaryNetwork) { write(bytes: network.modelFileBytes()) }
    public mutating func write(_ score: Score) {
        writeCount(score.correct)
        writeCount(score.count)
        write(score.loss)
    }
    public mutating func write(_ values: [Float]) {
        writeCount(values.count)
        for value in values { write(value) }
    }
}

/// Bounds-checked reader of binary fields: running out of bytes, a count past its limit or a
/// number that does not fit is an error naming the file, never a trap.
public struct BinaryReader {
    public let bytes: [UInt8]
    public let path: String
    public var offset: Int
    /// Reading stops here (the checksum follows).
    public let end: Int

    public init(bytes: [UInt8], path: String, offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.path = path
        self.offset = offset
        self.end = end ?? bytes.count
    }

    public func fail(_ problem: String) -> FileFormatError { FileFormatError(path: path, problem: problem) }

    public var isAtEnd: Bool { offset == end }

    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(FileFormatError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= end else { throw fail("truncated at byte \(offset)") }
        var value: T = 0
        for k in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + k]) << (8 * k) }
        offset += size
        return value
    }
    public mutating func read(_: Double.Type) throws(FileFormatError) -> Double {
        Double(bitPattern: try read(UInt64.self))
    }
    public mutating func read(_: Float.Type) throws(FileFormatError) -> Float {
        Float(bitPattern: try read(UInt32.self))
    }
    public mutating func read(_: Bool.Type) throws(FileFormatError) -> Bool {
        let byte = try read(UInt8.self)
        guard byte <= 1 else { throw fail("a flag at byte \(offset - 1) is \(byte), not 0 or 1; the file is damaged") }
        return byte == 1
    }
    /// A finite Double (NaN and infinities are damage here).
    public mutating func readFinite() throws(FileFormatError) -> Double {
        let value = try read(Double.self)
        guard value.isFinite else {
            throw fail("a number at byte \(offset - 8) is \(value), not finite; the file is damaged")
        }
        return value
    }
    /// A count written by `writeCount`, at most `limit`.
    public mutating func readCount(limit: Int) throws(FileFormatError) -> Int {
        let raw = try read(UInt64.self)
        guard raw <= UInt64(max(0, limit)) else {
            throw fail("a count of \(raw) at byte \(offset - 8) exceeds \(limit); the file is damaged")
        }
        return Int(raw)
    }
    public mutating func readBytes() throws(FileFormatError) -> [UInt8] {
        let count = try readCount(limit: end - offset - 8 < 0 ? 0 : end - offset - 8)
        let result = Array(bytes[offset..<(offset + count)])
        offset += count
        return result
    }
    public mutating func readString() throws(FileFormatError) -> String {
        let raw = try readBytes()
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw fail("a text field is not UTF-8; the file is damaged")
        }
        return text
    }
    public mutating func readNetwork() throws(FileFormatError) -> TernaryNetwork {
        let start = offset
        let raw = try readBytes()
        do {
            return try TernaryNetwork(modelFileBytes: raw, source: "\(path) (network at byte \(start))")
        } catch {
            throw fail("a network does not decode: \(error.problem)")
        }
    }
    public mutating func readScore() throws(FileFormatError) -> Score {
        let correct = try readCount(limit: Int(Int32.max)), count = try readCount(limit: Int(Int32.max))
        let loss = try read(Double.self)
        guard correct <= count else { throw fail("a score of \(correct) correct out of \(count) is damaged") }
        return Score(correct: correct, count: count, loss: loss)
    }
    public mutating func readFloats(count expected: Int) throws(FileFormatError) -> [Float] {
        let count = try readCount(limit: (end - offset) / 4)
        guard count == expected else { throw fail("holds \(count) parameters where the configuration has \(expected)") }
        var values = [Float]()
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try read(Float.self)) }
        return values
    }
}

/// The layout of TernEvo's arm records (`.ckpt`) and other checksummed state files:
///
/// ```
/// offset  size  field
///      0     4  magic (four ASCII letters naming the kind of file)
///      4     2  format version
///      6     8  configuration hash (FNV-1a of a text naming every setting; 0 when unused)
///     14     .  payload
///  end-4     4  CRC-32 (IEEE) of every byte before it
/// ```
/// Written to a temporary file and renamed, so a reader sees the old file or the new one.
public enum ChecksummedFile {
    public static func encode(magic: String, version: UInt16, configurationHash: UInt64, payload: [UInt8]) -> [UInt8] {
        precondition(magic.utf8.count == 4, "a magic is four ASCII letters")
        var writer = BinaryWriter()
        writer.bytes = Array(magic.utf8)
        writer.write(version)
        writer.write(configurationHash)
        writer.bytes += payload
        writer.write(CRC32.checksum(writer.bytes))
        return writer.bytes
    }

    /// Checks magic, checksum, version and (when given) the configuration hash, and returns a
    /// reader positioned at the payload. `what` names the kind of file in errors.
    public static func decode(
        _ bytes: [UInt8], path: String, magic: String, version: UInt16,
        configurationHash: UInt64?, what: String
    ) throws(FileFormatError) -> BinaryReader {
        let (reader, _, hash) = try open(bytes, path: path, magic: magic, versions: version...version, what: what)
        if let configurationHash, hash != configurationHash {
            throw FileFormatError(
                path: path,
                problem:
                    "was written by a different configuration (hash \(String(hash, radix: 16)), expected \(String(configurationHash, radix: 16))); resume with the configuration that started the run"
            )
        }
        return reader
    }

    /// Checks magic, checksum and version (one of `versions`), and returns a reader positioned
    /// at the payload with the version and the stored configuration hash, for a caller that
    /// reads more than one version or explains a mismatch itself.
    public static func open(
        _ bytes: [UInt8], path: String, magic: String, versions: ClosedRange<UInt16>,
        what: String
    ) throws(FileFormatError) -> (reader: BinaryReader, version: UInt16, hash: UInt64) {
        func fail(_ problem: String) -> FileFormatError { FileFormatError(path: path, problem: problem) }
        guard bytes.count >= 18, Array(bytes[0..<4]) == Array(magic.utf8) else {
            throw fail("not a TernEvo \(what) (the file does not start with \"\(magic)\")")
        }
        var tail = BinaryReader(bytes: bytes, path: path, offset: bytes.count - 4)
        let stored = try tail.read(UInt32.self)
        guard stored == CRC32.checksum(bytes[0..<(bytes.count - 4)]) else {
            throw fail("checksum mismatch: the \(what) is truncated or damaged")
        }
        var reader = BinaryReader(bytes: bytes, path: path, offset: 4, end: bytes.count - 4)
        let found = try reader.read(UInt16.self)
        guard versions.contains(found) else {
            throw fail(
                "\(what) format version \(found) is not supported; this build reads version\(versions.count > 1 ? "s \(versions.lowerBound) to \(versions.upperBound)" : " \(versions.lowerBound)")"
            )
        }
        let hash = try reader.read(UInt64.self)
        return (reader, found, hash)
    }

    /// A stable 64-bit FNV-1a hash of `text` (the configuration hash of a file).
    public static func hash(_ text: String) -> UInt64 { hash(text.utf8) }

    /// The same hash of bytes (a session state, compared across the ranks of a distributed run).
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
