import Foundation
import TernaryCore
import TestSupport
import Testing

@Suite("Model file")
struct ModelFileTests {
    func sample() -> TernaryNetwork {
        var rng = Xoshiro256(seed: 21)
        var network = randomNetwork([65, 129, 64, 10], zeroFraction: 0.3, using: &rng)
        network.quantizer = InputQuantizer(low: -1.5, high: 16, bits: 5)
        return network
    }

    func problem(_ bytes: [UInt8]) -> String? {
        do {
            _ = try TernaryNetwork(modelFileBytes: bytes, source: "m.tern")
            return nil
        } catch {
            return error.description
        }
    }

    @Test("write then read gives the same network")
    func roundTrip() throws {
        let network = sample()
        let bytes = network.modelFileBytes()
        #expect(try TernaryNetwork(modelFileBytes: bytes) == network)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID()).tern").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try network.write(toFile: path)
        #expect(try TernaryNetwork(contentsOfFile: path) == network)
        // 1.6 bits per weight plus a small header.
        let weightBytes = network.weights.reduce(0) { $0 + ($1.count + 4) / 5 }
        #expect(bytes.count == 20 + 4 * 4 + 4 * (129 + 64) + weightBytes + 4)
    }

    /// A 4-bit-levels network with text-like extras (a temperature), written as version 4.
    func levelsSample() -> TernaryNetwork {
        var rng = Xoshiro256(seed: 22)
        var network = randomNetwork([65, 129, 64, 10], zeroFraction: 0.3, activation: .levels(bits: 4), using: &rng)
        network.quantizer = InputQuantizer(low: 0, high: 16, bits: 5)
        return network
    }

    @Test("a multi-bit network is written as version 4 with its kind and steps, and reads back equal")
    func levelsRoundTrip() throws {
        for bits in Activation.levelBits {
            var rng = Xoshiro256(seed: UInt64(bits))
            var network = randomNetwork([13, 65, 3], zeroFraction: 0.3, activation: .levels(bits: bits), using: &rng)
            network.temperature = bits == 8 ? 2.5 : nil
            let bytes = network.modelFileBytes()
            #expect(bytes[4] == 4 && bytes[5] == 0 && bytes[6] == UInt8(bits))
            let read = try TernaryNetwork(modelFileBytes: bytes)
            #expect(read == network && read.activation == .levels(bits: bits) && read.steps == network.steps)
        }
        // A sign network keeps the version it had (1 here): older builds read it.
        #expect(sample().modelFileBytes()[4] == 1)
    }

    @Test("a version 4 file with a damaged step, kind or length is refused in one line")
    func levelsDamaged() {
        let bytes = levelsSample().modelFileBytes()
        for length in 0..<bytes.count {
            #expect(problem(Array(bytes[0..<length]))?.contains("truncated") == true, "\(length)")
        }
        var rng = Xoshiro256(seed: 5)
        for position in 0..<bytes.count {
            var damaged = bytes
            damaged[position] ^= UInt8(1 + rng.uniformBelow(255))
            #expect(problem(damaged) != nil, "flipping byte \(position) went unnoticed")
        }
        // A zero step, re-checksummed: named.
        var network = levelsSample()
        network.steps[1] = 0
        #expect(problem(network.modelFileBytes())?.contains("step of hidden layer 2 is 0") == true)
        // A levels kind in a version 3 header, re-checksummed: named.
        var relabelled = sample().modelFileBytes()
        relabelled[6] = 4
        relabelled.replaceSubrange(
            (relabelled.count - 4)...,
            with: withUnsafeBytes(of: CRC32.checksum(relabelled.dropLast(4)).littleEndian, Array.init))
        #expect(problem(relabelled)?.contains("activation code 4") == true)
    }

    @Test("every truncation gives a clear error, never a crash")
    func truncated() {
        let bytes = sample().modelFileBytes()
        for length in 0..<bytes.count {
            let message = problem(Array(bytes[0..<length]))
            #expect(message?.hasPrefix("m.tern: ") == true)
            #expect(message?.contains("truncated") == true, "\(length): \(message ?? "no error")")
        }
    }

    @Test("every flipped byte is caught")
    func corrupted() {
        let bytes = sample().modelFileBytes()
        var rng = Xoshiro256(seed: 4)
        for position in 0..<bytes.count {
            var damaged = bytes
            damaged[position] ^= UInt8(1 + rng.uniformBelow(255))
            #expect(problem(damaged) != nil, "flipping byte \(position) went unnoticed")
        }
    }

    @Test("wrong magic, wrong version and trailing bytes are named")
    func header() {
        var bytes = sample().modelFileBytes()
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(problem(wrongMagic)?.contains("not a TernEvo model") == true)
        var wrongVersion = bytes
        wrongVersion[4] = 9
        #expect(
            problem(wrongVersion)
                == "m.tern: format version 9 is not supported; this build reads versions 1 to 4 (re-export the model with this build)"
        )
        bytes.append(0)
        #expect(problem(bytes) == "m.tern: 1 unexpected bytes after the model; the file is damaged")
        #expect(throws: ModelFileError.self) { try TernaryNetwork(contentsOfFile: "/nonexistent/model.tern") }
    }
}

@Suite("safetensors export")
struct SafetensorsTests {
    @Test("header, offsets and values match the model, for 0 to 2 hidden layers")
    func layout() throws {
        var rng = Xoshiro256(seed: 8)
        for sizes in [[7, 3], [13, 65, 4], [70, 9, 33, 10]] {
            var network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
            network.quantizer = InputQuantizer(low: -1.5, high: 0.1, bits: 6)
            let bytes = network.safetensorsBytes()
            let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
            #expect(length % 8 == 0)
            let header = try #require(
                try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
            let body = Array(bytes[(8 + length)...])
            let metadata = try #require(header["__metadata__"] as? [String: String])
            #expect(
                metadata["format"] == "ternevo"
                    && metadata["layer_sizes"] == sizes.map(String.init).joined(separator: ","))
            #expect(
                Float(metadata["input_low"]!) == -1.5 && Float(metadata["input_high"]!) == 0.1
                    && metadata["input_bits"] == "6")
            var end = 0
            for l in 0..<(sizes.count - 1) {
                let weight = try #require(header["layers.\(l).weight"] as? [String: Any])
                #expect(weight["dtype"] as? String == "I8")
                #expect(weight["shape"] as? [Int] == [sizes[l + 1], sizes[l]])
                let offsets = try #require(weight["data_offsets"] as? [Int])
                #expect(offsets[0] == end && offsets[1] - offsets[0] == sizes[l] * sizes[l + 1])
                #expect(body[offsets[0]..<offsets[1]].map { Int8(bitPattern: $0) } == network.weights[l].trits)
                end = offsets[1]
                if l < sizes.count - 2 {
                    let threshold = try #require(header["layers.\(l).threshold"] as? [String: Any])
                    let range = try #require(threshold["data_offsets"] as? [Int])
                    #expect(threshold["dtype"] as? String == "I32" && range[0] == end)
                    let values = stride(from: range[0], to: range[1], by: 4).map { offset in
                        Int32(
                            bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(body[offset + $1]) << (8 * UInt32($1)) }
                        )
                    }
                    #expect(values == network.thresholds[l])
                    end = range[1]
                } else {
                    #expect(header["layers.\(l).threshold"] == nil)
                }
            }
            #expect(end == body.count)
        }
    }
}

@Suite("Per-feature input scaling")
struct PerFeatureScalingTests {
    @Test("each column gets its own range; a constant column maps to 0")
    func fit() {
        // Two examples, three features: one in 0...1, one in 1000...3000, one constant.
        let quantizer = InputQuantizer(fittingPerFeature: [0, 1000, 7, 1, 3000, 7], featureCount: 3)
        #expect(quantizer.isPerFeature && quantizer.scalingName == "per_feature")
        #expect(quantizer.quantize(features: [0.5, 2000, 7], featureCount: 3) == [128, 128, 0])
        let global = InputQuantizer(fitting: [0, 1000, 7, 1, 3000, 7])
        #expect(global.quantize(features: [0.5, 2000, 7], featureCount: 3) == [0, 170, 1])
    }

    @Test("a per-feature model is written as version 2 and reads back equal; a global one stays version 1")
    func roundTrip() throws {
        var rng = Xoshiro256(seed: 5)
        var network = randomNetwork([3, 8, 2], zeroFraction: 0.3, using: &rng)
        #expect(network.modelFileBytes()[4] == 1)
        network.quantizer = InputQuantizer(fittingPerFeature: [0, 1000, 7, 1, 3000, 7], featureCount: 3, bits: 6)
        let bytes = network.modelFileBytes()
        #expect(bytes[4] == 2)
        #expect(try TernaryNetwork(modelFileBytes: bytes) == network)
        for index in stride(from: 0, to: bytes.count, by: 3) {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(throws: ModelFileError.self) { try TernaryNetwork(modelFileBytes: damaged) }
        }
    }
}
