import Foundation
import Testing
import TernaryCore
import TestSupport

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
        #expect(problem(wrongVersion) == "m.tern: format version 9 is not supported; this build reads version 1 (re-export the model with this build)")
        bytes.append(0)
        #expect(problem(bytes) == "m.tern: 1 unexpected bytes after the model; the file is damaged")
        #expect(throws: ModelFileError.self) { try TernaryNetwork(contentsOfFile: "/nonexistent/model.tern") }
    }
}
