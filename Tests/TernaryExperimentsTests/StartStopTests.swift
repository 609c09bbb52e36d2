import Foundation
import Testing
import TestSupport
@testable import TernaryExperiments

/// Long starts answer to Ctrl-C, to `kill -9` and to the seconds budget (issue 39), with the
/// real binary: the release one when it is fresh (a GA population of 100,000 on digits, whose
/// start took 16 s before), else the debug one on a population it starts in a few seconds.
@Suite("Stopping inside a start", .serialized)
struct StartStopTests {
    static let digits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("experiments/data/digits.csv").path

    /// A GA arm with a large population (the readout start is the GA default) and `budget`.
    static func config(population: Int, budget: String) -> String {
        #"{"name": "bigstart", "dataset": {"csv": "\#(digits)", "test_fraction": 0.2, "validation_fraction": 0.1, "split_seed": 1}, "#
            + #""model": {"hidden": [16]}, "seeds": [1], "#
            + #""arms": {"ga": {"strategy": "ga", \#(budget), "population": \#(population), "batch": 32}}}"#
    }

    func binaryAndPopulation() throws -> (String, Int) {
        if let release = freshReleaseBinary { return (release, 100_000) }
        return (try ternevoBinary(), 20_000)
    }

    func write(_ text: String) throws -> String {
        let path = temporaryPath("bigstart.json")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Waits for `process`; returns the seconds it took from now.
    func secondsToExit(_ process: Process) -> Double {
        let start = Date()
        process.waitUntilExit()
        return Date().timeIntervalSince(start)
    }

    @Test("Ctrl-C or kill -9 inside a GA start, then resume: the files of an uninterrupted run")
    func interruptInsideStart() throws {
        let (binary, population) = try binaryAndPopulation()
        let config = try write(StartStopTests.config(population: population, budget: #""generations": 1"#))
        let straight = temporaryPath("straight"), stopped = temporaryPath("stopped"), killed = temporaryPath("killed")
        #expect(try launch(binary, ["run", config, "--out", straight, "--quiet"]).status == 0)
        let interrupted = try spawn(binary, ["run", config, "--out", stopped, "--quiet"])
        let victim = try spawn(binary, ["run", config, "--out", killed, "--quiet"])
        Thread.sleep(forTimeInterval: 1.2)
        kill(interrupted.processIdentifier, SIGINT)
        kill(victim.processIdentifier, SIGKILL)
        // 1 s of work; generous on a shared, noisy machine (it took 28 s before).
        #expect(secondsToExit(interrupted) < 4)
        victim.waitUntilExit()
        #expect(interrupted.terminationStatus == 130)
        #expect(try curvesWithoutTime(stopped).count == 1, "stopped in the start: no point logged yet")
        for folder in [stopped, killed] {
            #expect(try launch(binary, ["resume", folder, "--quiet"]).status == 0)
            #expect(try curvesWithoutTime(folder) == curvesWithoutTime(straight))
            #expect(FileManager.default.contents(atPath: folder + "/ga-seed1.tern") == FileManager.default.contents(atPath: straight + "/ga-seed1.tern"))
        }
    }

    @Test("A seconds budget spent inside the start ends the arm on time and says so")
    func budgetInsideStart() throws {
        let (binary, population) = try binaryAndPopulation()
        let config = try write(StartStopTests.config(population: population, budget: #""seconds": 1"#))
        let folder = temporaryPath("budget")
        let start = Date()
        let (status, errors) = try launch(binary, ["run", config, "--out", folder])
        #expect(status == 0)
        // 1 s budget + the commit; generous bound (the start alone took over 100 s before).
        #expect(Date().timeIntervalSince(start) < 6)
        #expect(errors.contains("spent in its start, before its first step"), "\(errors)")
        let summary = try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8).split(separator: "\n")
        #expect(summary.count == 2 && summary[1].hasPrefix("ga,1,0,"), "0 steps: \(summary)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/ga-seed1.tern"))
    }
}
