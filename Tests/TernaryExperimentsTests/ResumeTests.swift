import Foundation
import TestSupport
import Testing

@testable import TernaryExperiments

@Suite("resume command")
struct ResumeTests {
    func lines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }

    /// Summary rows without wall_s and the times to 85/90/95% (timing is not deterministic).
    func summaryWithoutTime(_ folder: String) throws -> [String] {
        try lines(folder + "/summary.csv").map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.count == 20 { for index in [3, 10, 11, 12, 18, 19] { fields[index] = "" } }
            return fields.joined(separator: ",")
        }
    }

    @Test("resume rebuilds damaged CSV files from the records and runs an arm whose record is missing")
    func resume() throws {
        let straight = temporaryPath("straight"), cut = temporaryPath("cut"), config = temporaryPath("resume.json")
        defer { for path in [straight, cut, config] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"synthetic": "parity:3", "test_fraction": 0, "validation_fraction": 0}, "model": {"hidden": [8]}, "seeds": [1, 2],
         "arms": {"ga": {"strategy": "ga", "generations": 30, "population": 16, "eval_every": 5, "mutation": 0.05},
                  "local": {"strategy": "local", "steps": 25, "eval_every": 5},
                  "ste": {"strategy": "ste", "epochs": 2, "batch": 4}}}
        """#.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", config, "--out", straight, "--quiet"]).status == 0)
        #expect(Captured.run(["run", config, "--out", cut, "--quiet"]).status == 0)
        // As if killed before seed 2's STE arm wrote anything, and with derived files lost.
        try FileManager.default.removeItem(atPath: cut + "/ste-seed2.ckpt")
        try "method\n".write(toFile: cut + "/curves.csv", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: cut + "/summary.csv")
        try FileManager.default.removeItem(atPath: cut + "/local-seed1.tern")

        let (status, output) = Captured.run(["resume", cut, "--quiet"])
        #expect(status == 0, "\(output.err)")
        #expect(try curvesWithoutTime(cut) == curvesWithoutTime(straight))
        #expect(try summaryWithoutTime(cut) == summaryWithoutTime(straight))
        #expect(try String(contentsOfFile: cut + "/summary.csv", encoding: .utf8).contains("\nste,2,2,"))
        #expect(output.out.contains("chart: \(cut)/curves.svg"))
        #expect(
            FileManager.default.contents(atPath: cut + "/local-seed1.tern")
                == FileManager.default.contents(atPath: straight + "/local-seed1.tern"),
            "a finished arm's model is rewritten from its record")
    }

    @Test(
        "Ctrl-C during the GA, local search or STE, then resume, gives the rows of an uninterrupted run",
        arguments: [20, 60, 150])
    func interrupted(after reads: Int) throws {
        let straight = temporaryPath("straight"), cut = temporaryPath("cut"), file = temporaryPath("interrupt.json")
        defer { for path in [straight, cut, file] { try? FileManager.default.removeItem(atPath: path) } }
        // 250 STE epochs of 8 examples: logged every epoch to 100, then every 10th.
        try #"""
        {"dataset": {"synthetic": "parity:3", "test_fraction": 0, "validation_fraction": 0}, "model": {"hidden": [8]}, "seeds": [1],
         "arms": {"ga": {"strategy": "ga", "generations": 30, "population": 16, "eval_every": 7, "mutation": 0.05},
                  "local": {"strategy": "local", "steps": 40, "eval_every": 5},
                  "ste": {"strategy": "ste", "epochs": 250, "batch": 4}}}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", file, "--out", straight, "--quiet"]).status == 0)
        let config = try ExperimentConfig.load(file)
        let runner = ExperimentRunner(
            config: config, folder: cut, threads: 1, console: Console(out: { _ in }, err: { _ in }), quiet: true,
            communicator: nil)
        runner.interrupt = InterruptFlag(trippingAfter: reads)
        #expect(try runner.run() == false)
        // Reads of the flag: 33 for the GA arm (one per step, one at its start and end), 43 for local.
        let finishedArms = reads == 20 ? 0 : reads == 60 ? 1 : 2
        let summary = try lines(cut + "/summary.csv")
        #expect(summary.count == 1 + finishedArms, "the interrupted arm has no summary row: \(summary)")

        let (status, output) = Captured.run(["resume", cut, "--quiet"])
        #expect(status == 0, "\(output.err)")
        let rows = try curvesWithoutTime(cut)
        #expect(rows == (try curvesWithoutTime(straight)))
        #expect(rows.filter { $0.hasPrefix("ste,") }.count == 100 + 15)
        #expect(try summaryWithoutTime(cut) == summaryWithoutTime(straight))
    }

    @Test("a folder that is not a run folder is a clear error")
    func notARun() {
        let (status, output) = Captured.run(["resume", "/no/such/run"])
        #expect(status == 65)
        #expect(output.err == "ternevo: /no/such/run: holds no config.json; is it a run folder of 'ternevo run'?")
    }
}
