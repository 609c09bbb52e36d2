import Foundation

/// The `.tern` model file, all integers little-endian. Version 1 (one global input range):
///
/// ```
/// offset  size  field
///      0     4  magic "TERN"
///      4     2  format version (1)
///      6     1  activation (0 = sign)
///      7     1  input bits (1 ... 8)
///      8     4  quantiser lo (Float32 bits)
///     12     4  quantiser hi (Float32 bits)
///     16     4  number of layer sizes, L + 1 (2 ... 64)
///     20  4(L+1) layer sizes n0 ... nL (each 1 ... 2^24)
///      .  4 n_l thresholds of each hidden layer (Int32)
///      .     .  weights of each layer, row-major, base-3 packed (see `Base3`), ceil(rows*cols/5) bytes
///    end-4   4  CRC-32 of every byte before it
/// ```
/// Version 2 (per-feature input scaling) inserts, after the layer sizes, one byte 1 and then
/// `n0` pairs of Float32 (lo, hi), one per feature. A global model is still written as version
/// 1, so files of earlier builds and of this one read the same; both versions load.
///
/// Version 3 (a token-input model or a fitted temperature, <doc:Semantics>) inserts, after the
/// layer sizes, one flags byte (bit 0: per-feature ranges follow, as in version 2; bit 1: token
/// inputs follow; bit 2: a temperature follows), then the ranges if any, then for tokens the
/// context (UInt32), the vocabulary size V (UInt32) and each symbol as a length byte and its
/// UTF-8 bytes (`n0` must equal context x V), then the temperature as Float64 bits. Models
/// without either are still written as version 1 or 2.
///
/// Version 4 (a multi-bit activation, <doc:Semantics>) has the layout of version 3 (its flags
/// byte may be 0 here) with the activation byte K (2 ... 8: K-bit levels) and, after the
/// temperature, each hidden layer's step (Int32, at least 1). `sign` models are still written
/// as version 1, 2 or 3, and every older file loads as `sign`.
extension TernaryNetwork {
    /// The first four bytes of every model file.
    public static let modelFileMagic: [UInt8] = Array("TERN".utf8)
    /// The newest format version this build writes and reads (it writes 1 for global scaling).
    public static let modelFileVersion: UInt16 = 4
    static let maxLayerCount = 64
    static let maxLayerSize = 1 << 24

    /// The format version this network's model file is written in: the oldest that holds it (1:
    /// one input range; 2: per-feature ranges; 3: tokens or a temperature; 4: a multi-bit
    /// activation), so files readable by older builds stay so.
    public var modelFileFormat: UInt16 {
        activation.isLevels ? 4 : tokens != nil || temperature != nil ? 3 : quantizer.isPerFeature ? 2 : 1
    }

    /// The bytes of this network's model file.
    public func modelFileBytes() -> [UInt8] {
        var out = BinaryWriter()
        out.bytes += TernaryNetwork.modelFileMagic
        let extended = tokens != nil || temperature != nil || activation.isLevels
        out.write(modelFileFormat)
        out.write(activation.code)
        out.write(UInt8(quantizer.bits))
        out.write(quantizer.low.bitPattern)
        out.write(quantizer.high.bitPattern)
        out.write(UInt32(layerSizes.count))
        for size in layerSizes { out.write(UInt32(size)) }
        if extended {
            out.write(UInt8((quantizer.isPerFeature ? 1 : 0) | (tokens != nil ? 2 : 0) | (temperature != nil ? 4 : 0)))
        } else if quantizer.isPerFeature {
            out.write(UInt8(1))
        }
        for range in quantizer.featureRanges {
            out.write(range.low.bitPattern)
            out.write(range.high.bitPattern)
        }
        if let tokens {
            out.write(UInt32(tokens.context))
            out.write(UInt32(tokens.vocabulary))
            for symbol in tokens.symbols {
                let utf8 = Array(symbol.utf8)
                out.write(UInt8(utf8.count))
                out.bytes += utf8
            }
        }
        if let temperature { out.write(temperature.bitPattern) }
        if activation.isLevels { for step in steps { out.write(UInt32(bitPattern: step)) } }
        for layer in thresholds { for t in layer { out.write(UInt32(bitPattern: t)) } }
        for matrix in weights { out.bytes += Base3.encode(matrix.trits) }
        out.write(CRC32.checksum(out.bytes))
        return out.bytes
    }

    /// Decodes a model file; `source` names it in errors.
    public init(modelFileBytes bytes: [UInt8], source: String = "model") throws(ModelFileError) {
        // Reads stop at the checksum; running out of bytes is "truncated at byte N".
        var reader = BinaryReader(bytes: bytes, path: source, end: max(0, bytes.count - 4))
        let header = try ModelFileHeader(&reader, bytes: bytes)
        let extras = try ModelFileExtras(&reader, bytes: bytes, header: header)
        try header.checkLengthAndChecksum(bytes, extrasEnd: reader.offset, reader: reader)
        let activation = try header.validated(extras: extras, reader: reader)
        var quantizer = InputQuantizer(low: header.low, high: header.high, bits: header.bits)
        quantizer.featureRanges = extras.ranges
        quantizer.tokens = extras.tokens
        self.init(layerSizes: header.sizes, activation: activation, quantizer: quantizer)
        temperature = extras.temperature
        steps = extras.steps
        try readPayload(&reader, bytes: bytes)
    }

    /// The thresholds and the base-3 weights that follow the header and its extras.
    private mutating func readPayload(_ reader: inout BinaryReader, bytes: [UInt8]) throws(ModelFileError) {
        for l in thresholds.indices {
            for i in thresholds[l].indices { thresholds[l][i] = Int32(bitPattern: try reader.read(UInt32.self)) }
        }
        for l in weights.indices {
            let count = Base3.byteCount(forTrits: weights[l].count)
            do {
                let trits = try Base3.decode(
                    bytes[reader.offset..<(reader.offset + count)], tritCount: weights[l].count)
                weights[l] = TernaryMatrix(
                    rowCount: weights[l].rowCount, columnCount: weights[l].columnCount, trits: trits)
            } catch {
                throw reader.fail("weights of layer \(l + 1): \(error)")
            }
            reader.offset += count
        }
    }

    /// Writes the model file atomically (a temporary file renamed over `path`).
    public func write(toFile path: String) throws {
        try AtomicFile.write(modelFileBytes(), to: path)
    }

    /// Reads a model file.
    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path: path, problem: "cannot be read (missing, a folder, or no permission)")
        }
        try self.init(modelFileBytes: [UInt8](data), source: path)
    }
}

/// A model file that could not be read: which file and what is wrong with it (the error of
/// every binary file TernEvo reads).
public typealias ModelFileError = FileFormatError

/// The fixed part of a model file: version, activation code, input bits and range, layer sizes.
private struct ModelFileHeader {
    var version: UInt16, activationCode: UInt8, bits: Int, low: Float, high: Float, sizes: [Int]

    init(_ reader: inout BinaryReader, bytes: [UInt8]) throws(ModelFileError) {
        guard bytes.count >= 24 else {
            throw reader.fail("file is truncated: \(bytes.count) bytes, shorter than the 24-byte header")
        }
        guard Array(bytes[0..<4]) == TernaryNetwork.modelFileMagic else {
            throw reader.fail(
                "not a TernEvo model: magic bytes \(bytes[0..<4].map { String(format: "%02x", $0) }.joined()), expected 5445524e (\"TERN\")"
            )
        }
        reader.offset = 4
        version = try reader.read(UInt16.self)
        guard version >= 1 && version <= 4 else {
            throw reader.fail(
                "format version \(version) is not supported; this build reads versions 1 to 4 (re-export the model with this build)"
            )
        }
        activationCode = try reader.read(UInt8.self)
        bits = Int(try reader.read(UInt8.self))
        low = try reader.read(Float.self)
        high = try reader.read(Float.self)
        let sizeCount = Int(try reader.read(UInt32.self))
        guard sizeCount >= 2 && sizeCount <= TernaryNetwork.maxLayerCount else {
            throw reader.fail(
                "layer count \(sizeCount) is outside 2 ... \(TernaryNetwork.maxLayerCount); the file is damaged")
        }
        guard bytes.count >= 20 + 4 * sizeCount + 4 else {
            throw reader.fail("file is truncated inside the layer sizes (\(bytes.count) bytes)")
        }
        sizes = []
        for _ in 0..<sizeCount {
            let size = Int(try reader.read(UInt32.self))
            guard size >= 1 && size <= TernaryNetwork.maxLayerSize else {
                throw reader.fail(
                    "layer size \(size) is outside 1 ... \(TernaryNetwork.maxLayerSize); the file is damaged")
            }
            sizes.append(size)
        }
    }

    /// Refuses a file whose length is not what the header and extras announce, or whose
    /// checksum differs.
    func checkLengthAndChecksum(_ bytes: [UInt8], extrasEnd: Int, reader: BinaryReader) throws(ModelFileError) {
        let thresholdCount = sizes.dropFirst().dropLast().reduce(0, +)
        let weightBytes = zip(sizes.dropFirst(), sizes).reduce(0) { $0 + Base3.byteCount(forTrits: $1.0 * $1.1) }
        let expected = extrasEnd + 4 * thresholdCount + weightBytes + 4
        guard bytes.count >= expected else {
            throw reader.fail(
                "file is truncated: \(bytes.count) bytes where layer sizes \(sizes.map(String.init).joined(separator: "-")) need \(expected)"
            )
        }
        guard bytes.count == expected else {
            throw reader.fail("\(bytes.count - expected) unexpected bytes after the model; the file is damaged")
        }
        var tail = BinaryReader(bytes: bytes, path: reader.path, offset: expected - 4)
        let stored = try tail.read(UInt32.self)
        let computed = CRC32.checksum(bytes[0..<(expected - 4)])
        guard stored == computed else {
            throw reader.fail(
                String(format: "checksum mismatch (stored %08x, computed %08x): the file is damaged", stored, computed))
        }
    }

    /// The activation, once the checksum holds: the kind, the steps and the quantiser's values.
    func validated(extras: ModelFileExtras, reader: BinaryReader) throws(ModelFileError) -> Activation {
        guard let activation = Activation(code: activationCode), (version == 4) == activation.isLevels else {
            throw reader.fail(
                "activation code \(activationCode) is not one a version \(version) file holds; this build knows \(Activation.allKinds.map { "\($0.code) (\($0.name))" }.joined(separator: ", ")), the levels in version 4 only"
            )
        }
        if let l = extras.steps.firstIndex(where: { $0 < 1 }) {
            throw reader.fail(
                "the step of hidden layer \(l + 1) is \(extras.steps[l]), not at least 1; the file is damaged")
        }
        guard bits >= 1 && bits <= 8 else { throw reader.fail("input bits \(bits) outside 1 ... 8") }
        guard low.isFinite && high.isFinite && low <= high else {
            throw reader.fail("quantiser range lo \(low), hi \(high) is not finite with lo <= hi")
        }
        return activation
    }
}

/// The parts of versions 2 to 4 after the layer sizes: the flags byte, per-feature ranges, the
/// token inputs, the temperature and (version 4) the hidden layers' steps.
private struct ModelFileExtras {
    var ranges: [InputQuantizer.Range] = []
    var tokens: TokenInput?
    var temperature: Double?
    var steps: [Int32]

    init(_ reader: inout BinaryReader, bytes: [UInt8], header: ModelFileHeader) throws(ModelFileError) {
        let sizes = header.sizes
        let flags = try ModelFileExtras.flags(&reader, bytes: bytes, version: header.version)
        if flags & 1 != 0 { ranges = try ModelFileExtras.ranges(&reader, bytes: bytes, features: sizes[0]) }
        if flags & 2 != 0 { tokens = try ModelFileExtras.tokens(&reader, bytes: bytes, inputs: sizes[0]) }
        if flags & 4 != 0 {
            guard bytes.count >= reader.offset + 8 + 4 else {
                throw reader.fail("file is truncated inside the temperature")
            }
            let value = try reader.read(Double.self)
            guard value.isFinite && value > 0 else {
                throw reader.fail("temperature \(value) is not positive and finite; the file is damaged")
            }
            temperature = value
        }
        // Version 4: the hidden layers' steps (checked with the activation, after the checksum).
        steps = [Int32](repeating: 1, count: sizes.count - 2)
        if header.version == 4 {
            guard bytes.count >= reader.offset + 4 * steps.count + 4 else {
                throw reader.fail("file is truncated inside the hidden layers' steps")
            }
            for l in steps.indices { steps[l] = Int32(bitPattern: try reader.read(UInt32.self)) }
        }
    }

    static func flags(_ reader: inout BinaryReader, bytes: [UInt8], version: UInt16) throws(ModelFileError) -> UInt8 {
        guard version >= 2 else { return 0 }
        guard bytes.count >= reader.offset + 1 + 4 else {
            throw reader.fail("file is truncated after the layer sizes (\(bytes.count) bytes)")
        }
        let flags = try reader.read(UInt8.self)
        if version == 2 {
            guard flags == 1 else {
                throw reader.fail("input scaling code \(flags) is not 1 (per feature); the file is damaged")
            }
        } else if version == 3 {
            guard flags & ~7 == 0, flags != 0 else {
                throw reader.fail(
                    "version 3 flags \(flags) are not a nonzero combination of 1, 2 and 4; the file is damaged")
            }
        } else {
            guard flags & ~7 == 0 else {
                throw reader.fail("version 4 flags \(flags) are not a combination of 1, 2 and 4; the file is damaged")
            }
        }
        return flags
    }

    static func ranges(
        _ reader: inout BinaryReader, bytes: [UInt8], features: Int
    ) throws(ModelFileError) -> [InputQuantizer.Range] {
        guard bytes.count >= reader.offset + 8 * features + 4 else {
            throw reader.fail("file is truncated inside the per-feature input ranges (\(bytes.count) bytes)")
        }
        var ranges: [InputQuantizer.Range] = []
        for feature in 0..<features {
            let low = try reader.read(Float.self), high = try reader.read(Float.self)
            guard low.isFinite && high.isFinite && low <= high else {
                throw reader.fail(
                    "input range of feature \(feature), lo \(low), hi \(high), is not finite with lo <= hi")
            }
            ranges.append(InputQuantizer.Range(low: low, high: high))
        }
        return ranges
    }

    static func tokens(_ reader: inout BinaryReader, bytes: [UInt8], inputs: Int) throws(ModelFileError) -> TokenInput {
        guard bytes.count >= reader.offset + 8 + 4 else {
            throw reader.fail("file is truncated inside the token input header (\(bytes.count) bytes)")
        }
        let context = Int(try reader.read(UInt32.self)), vocabulary = Int(try reader.read(UInt32.self))
        guard context >= 1, vocabulary >= 1, vocabulary <= TokenInput.maxVocabulary, context * vocabulary == inputs
        else {
            throw reader.fail(
                "token inputs of context \(context) and vocabulary \(vocabulary) do not make the \(inputs) inputs of the first layer; the file is damaged"
            )
        }
        var symbols: [String] = []
        for index in 0..<vocabulary {
            guard bytes.count >= reader.offset + 1 + 4 else {
                throw reader.fail("file is truncated inside symbol \(index) of the vocabulary")
            }
            let length = Int(try reader.read(UInt8.self))
            guard bytes.count >= reader.offset + length + 4,
                let symbol = String(validating: bytes[reader.offset..<(reader.offset + length)], as: UTF8.self),
                symbol.unicodeScalars.count == 1
            else {
                throw reader.fail(
                    "symbol \(index) of the vocabulary is truncated or not one UTF-8 character; the file is damaged")
            }
            reader.offset += length
            symbols.append(symbol)
        }
        guard Set(symbols.map { $0.unicodeScalars.first!.value }).count == symbols.count else {
            throw reader.fail("the vocabulary lists a symbol twice; the file is damaged")
        }
        return TokenInput(context: context, symbols: symbols)
    }
}
