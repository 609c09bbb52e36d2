import Foundation
import Synchronization
import TernaryCore
import TernaryExperiments
import TestSupport
import Testing

@Suite("Command line")
struct CommandLineTests {
    @Test("help lists the commands and explains one")
    func help() {
        let (status, output) = Captured.run(["help"])
        #expect(status == 0)
        #expect(output.out.contains("info") && output.out.contains("bench"))
        let (benchStatus, bench) = Captured.run(["help", "bench"])
        #expect(benchStatus == 0)
        #expect(bench.out.contains("usage: ternevo bench"))
        #expect(Captured.run(["bench", "--help"]).output.out.contains("--json"))
    }

    @Test("unknown commands and flags are usage errors that name them")
    func usageErrors() {
        let (status, output) = Captured.run(["frobnicate"])
        #expect(status == 64)
        #expect(output.err == "ternevo: unknown command 'frobnicate'; run 'ternevo help' for the list")
        let (flagStatus, flag) = Captured.run(["bench", "--fast"])
        #expect(flagStatus == 64)
        #expect(flag.err.contains("unknown option '--fast' for 'bench'"))
        let (repeatsStatus, repeats) = Captured.run(["bench", "--repeats", "zero"])
        #expect(repeatsStatus == 64)
        #expect(repeats.err.contains("--repeats 'zero' is not an integer in 1...100"))
        let (shapeStatus, shape) = Captured.run(["bench", "--shape", "64-x-10"])
        #expect(shapeStatus == 64)
        #expect(shape.err.contains("--shape '64-x-10'"))
        #expect(Captured.run(["info"]).status == 64)
    }

    @Test("info describes a saved model")
    func info() throws {
        var rng = Xoshiro256(seed: 12)
        var network = randomNetwork([64, 130, 10], zeroFraction: 0.25, using: &rng)
        network.quantizer = InputQuantizer(low: 0, high: 16, bits: 4)
        let path = temporaryPath("info.tern")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try network.write(toFile: path)
        let (status, output) = Captured.run(["info", path])
        #expect(status == 0)
        #expect(output.out.contains("layers:      64-130-10 (sign activation)"))
        #expect(output.out.contains("quantised to 4 bits (lo 0.0, hi 16.0, Q = 15)"))
        #expect(output.out.contains("weights:     9,620"))
        #expect(output.out.contains("layer 1:     130 x 64"))
        #expect(output.out.contains("layer 2:     10 x 130"))
        #expect(output.out.contains("bits per weight"))
    }

    @Test("info on a damaged model names the file and exits 65")
    func infoDamaged() throws {
        var rng = Xoshiro256(seed: 13)
        var bytes = randomNetwork([10, 8, 3], zeroFraction: 0.5, using: &rng).modelFileBytes()
        bytes[30] ^= 0xFF
        let path = temporaryPath("damaged.tern")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (status, output) = Captured.run(["info", path])
        #expect(status == 65)
        #expect(output.err.hasPrefix("ternevo: \(path): "))
        #expect(!output.err.contains("\n"))
        let (missingStatus, missing) = Captured.run(["info", "/no/such/model.tern"])
        #expect(missingStatus == 65)
        #expect(missing.err.contains("/no/such/model.tern"))
    }

    @Test("bench --quick --json prints rows with the documented keys")
    func benchJSON() throws {
        let (status, output) = Captured.run(["bench", "--quick", "--json"])
        #expect(status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(output.out.utf8)) as? [[String: Any]])
        let ternary = rows.filter { $0["kind"] as? String == "ternary" }
        #expect(Set(ternary.compactMap { $0["shape"] as? String }) == ["64-128-10", "784-256-10", "256-1024-1024-10"])
        for row in ternary {
            for key in ["shape", "kind", "threads", "genome_evals_per_s", "synaptic_ops_per_s", "peak_fraction"] {
                #expect(row[key] != nil, "missing \(key)")
            }
            #expect((row["genome_evals_per_s"] as? Double ?? 0) > 0)
            #expect((row["synaptic_ops_per_s"] as? Double ?? 0) > 0)
        }
        let float = rows.filter { $0["kind"] as? String == "float" }
        #expect(Set(float.compactMap { $0["shape"] as? String }) == ["64-128-10", "784-256-10", "256-1024-1024-10"])
        #expect(float.allSatisfy { ($0["genome_evals_per_s"] as? Double ?? 0) > 0 })
        for kind in ["ste-epoch", "float-epoch"] {
            let epochs = rows.filter { $0["kind"] as? String == kind }
            #expect(epochs.count == 2)
            #expect(epochs.allSatisfy { ($0["seconds_per_epoch"] as? Double ?? 0) > 0 })
        }
        #expect(rows.contains { $0["kind"] as? String == "ga" })
        #expect(rows.contains { $0["kind"] as? String == "peak-popcount" })
        #expect(rows.contains { $0["kind"] as? String == "peak-fma" })
        let memory = try #require(rows.first { $0["kind"] as? String == "memory" })
        #expect((memory["counted_bytes"] as? Int ?? 0) > 0)
    }
}
