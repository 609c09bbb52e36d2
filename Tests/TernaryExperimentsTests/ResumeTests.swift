import Foundation
import Testing
@testable import TernaryExperiments

@Suite("resume command")
struct ResumeTests {
    func lines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }

    /// Curves rows without the wall_s column (timing is not deterministic).
    func rowsWithoutTime(_ path: String) throws -> [String] {
        try lines(path).map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.count == 12 { fields[3] = "" }
            return fields.joined(separator: ",")
        }
    }

    @Test("resuming a run cut after seed 1 gives the rows of an uninterrupted run")
    func resume() throws {
        let straight = temporaryPath("straight"), cut = temporaryPath("cut"), config = temporaryPath("resume.json")
        defer { for path in [straight, cut, config] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"synthetic": "parity:3", "test_fraction": 0}, "model": {"hidden": [8]}, "seeds": [1, 2],
         "arms": {"ga": {"generations": 30, "population": 16, "eval_every": 5, "mutation": 0.05},
                  "ste": {"epochs": 2, "batch": 4}}}
        """#.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", config, "--out", straight, "--quiet"]).status == 0)
        #expect(Captured.run(["run", config, "--out", cut, "--quiet"]).status == 0)
        // As if stopped during seed 2's STE arm before its first checkpoint: seed 2 is not in the
        // summary, its STE rows are partial (one epoch) and it has no checkpoint; its GA rows and
        // checkpoint are complete.
        let summary = try lines(cut + "/summary.csv")
        try (summary.filter { !$0.contains(",2,") || $0.hasPrefix("method") }.joined(separator: "\n") + "\n")
            .write(toFile: cut + "/summary.csv", atomically: true, encoding: .utf8)
        let curves = try lines(cut + "/curves.csv").filter { !$0.hasPrefix("ste,2,2,") }
        try (curves.joined(separator: "\n") + "\n").write(toFile: cut + "/curves.csv", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: cut + "/ste-seed2.resume")

        let (status, output) = Captured.run(["resume", cut, "--quiet"])
        #expect(status == 0, "\(output.err)")
        #expect(try rowsWithoutTime(cut + "/curves.csv") == rowsWithoutTime(straight + "/curves.csv"))
        #expect(try lines(cut + "/summary.csv").count == lines(straight + "/summary.csv").count)
        #expect(output.out.contains("ste,2,2,"))
    }

    @Test("Ctrl-C during the GA or during STE, then resume, gives the rows of an uninterrupted run",
          arguments: [20, 150])
    func interrupted(after reads: Int) throws {
        let straight = temporaryPath("straight"), cut = temporaryPath("cut"), file = temporaryPath("interrupt.json")
        defer { for path in [straight, cut, file] { try? FileManager.default.removeItem(atPath: path) } }
        // 250 STE epochs of 8 examples: logged every epoch to 100, then every 10th.
        try #"""
        {"dataset": {"synthetic": "parity:3", "test_fraction": 0}, "model": {"hidden": [8]}, "seeds": [1],
         "arms": {"ga": {"generations": 30, "population": 16, "eval_every": 7, "mutation": 0.05},
                  "ste": {"epochs": 250, "batch": 4}}}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", file, "--out", straight, "--quiet"]).status == 0)
        let config = try ExperimentConfig.load(file)
        let runner = ExperimentRunner(config: config, folder: cut, threads: 1, console: Console(out: { _ in }, err: { _ in }), quiet: true)
        runner.interrupt = InterruptFlag(trippingAfter: reads)
        #expect(try runner.run() == false)
        let summary = try lines(cut + "/summary.csv")
        #expect(summary.count == (reads == 20 ? 1 : 2), "the interrupted arm has no summary row: \(summary)")

        let (status, output) = Captured.run(["resume", cut, "--quiet"])
        #expect(status == 0, "\(output.err)")
        let rows = try rowsWithoutTime(cut + "/curves.csv")
        #expect(rows == (try rowsWithoutTime(straight + "/curves.csv")))
        #expect(rows.filter { $0.hasPrefix("ste,") }.count == 100 + 15)
        #expect(try lines(cut + "/summary.csv").count == 3)
    }

    @Test("a folder that is not a run folder is a clear error")
    func notARun() {
        let (status, output) = Captured.run(["resume", "/no/such/run"])
        #expect(status == 65)
        #expect(output.err == "ternevo: /no/such/run/config.json: cannot be read (missing, a folder, or no permission)")
    }
}
