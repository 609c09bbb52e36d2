import Foundation
import TestSupport
import Testing

@testable import TernaryExperiments

/// Long starts answer to Ctrl-C, to `kill -9` and to the seconds budget (issue 39), with the
/// real binary: the release one when it is fresh (a GA population of 60,000 on digits, whose
/// start takes a few seconds; 100,000, as before, made this suite the longest of the tests),
/// else the debug one on a population it starts in a few seconds.
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
        if let release = freshReleaseBinary { return (release, 60_000) }
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

    /// Runs `config` to its end, then twice more at once: one stopped by Ctrl-C and one killed
    /// with `kill -9`, `delay` seconds after their data is loaded. Returns the three folders, and how long the stopped
    /// run took to exit after the signal and its status.
    func straightStoppedKilled(
        _ binary: String, _ config: String, after delay: Double
    ) throws
        -> (straight: String, stopped: String, killed: String, exit: (seconds: Double, status: Int32))
    {
        let straight = temporaryPath("straight"), stopped = temporaryPath("stopped"), killed = temporaryPath("killed")
        #expect(try launch(binary, ["run", config, "--out", straight, "--quiet"]).status == 0)
        let interrupted = try spawn(binary, ["run", config, "--out", stopped, "--quiet"])
        let victim = try spawn(binary, ["run", config, "--out", killed, "--quiet"])
        // Counted from the end of loading (config.json written): a loaded machine loads slowly.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline
            && ![stopped, killed].allSatisfy({ FileManager.default.fileExists(atPath: $0 + "/config.json") })
        {
            Thread.sleep(forTimeInterval: 0.01)
        }
        Thread.sleep(forTimeInterval: delay)
        kill(interrupted.processIdentifier, SIGINT)
        kill(victim.processIdentifier, SIGKILL)
        let seconds = secondsToExit(interrupted)
        victim.waitUntilExit()
        return (straight, stopped, killed, (seconds, interrupted.terminationStatus))
    }

    @Test("Ctrl-C or kill -9 inside a GA start, then resume: the files of an uninterrupted run")
    func interruptInsideStart() throws {
        let (binary, population) = try binaryAndPopulation()
        let config = try write(StartStopTests.config(population: population, budget: #""generations": 1"#))
        let (straight, stopped, killed, exit) = try straightStoppedKilled(binary, config, after: 1)
        // 1 s of work; generous on a shared, noisy machine (it took 28 s before).
        #expect(exit.seconds < 4)
        #expect(exit.status == 130)
        #expect(try curvesWithoutTime(stopped).count == 1, "stopped in the start: no point logged yet")
        for folder in [stopped, killed] {
            #expect(try launch(binary, ["resume", folder, "--quiet"]).status == 0)
            #expect(try curvesWithoutTime(folder) == curvesWithoutTime(straight))
            #expect(
                FileManager.default.contents(atPath: folder + "/ga-seed1.tern")
                    == FileManager.default.contents(atPath: straight + "/ga-seed1.tern"))
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

    static let kjv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("experiments/data/kjv-pentateuch.txt").path

    /// `local`, `es` and a text `local` arm whose first step (the start and the cache on a large
    /// fitness batch) takes about 3 s with the release binary on 2 cores (several seconds for the
    /// debug binary, with smaller sizes and the first 150,000 characters of the text, written to
    /// `textPath`); `budget` replaces the budget of 3 steps.
    static func firstStepConfigs(
        release: Bool, textPath: String, budget: String? = nil
    ) throws -> [(name: String, text: String)] {
        let (examples, batch, hidden, textHidden, textBatch) =
            release ? (80_000, 50_000, 1024, 512, 300_000) : (40_000, 20_000, 512, 128, 40_000)
        let corpus = try String(contentsOfFile: kjv, encoding: .utf8)
        try (release ? corpus : String(corpus.prefix(150_000))).write(
            toFile: textPath, atomically: true, encoding: .utf8)
        let steps = budget ?? #""steps": 3"#
        func spirals(_ arm: String) -> String {
            #"{"name": "first", "dataset": {"synthetic": "spirals:\#(examples)", "test_fraction": 0.1, "validation_fraction": 0.1}, "#
                + #""model": {"hidden": [\#(hidden)]}, "seeds": [1], "arms": {"\#(arm)": {"strategy": "\#(arm)", \#(steps), "batch": \#(batch)}}}"#
        }
        let text =
            #"{"name": "first", "dataset": {"text": "\#(textPath)", "context": 8}, "model": {"hidden": [\#(textHidden)]}, "seeds": [1], "#
            + #""arms": {"local": {"strategy": "local", \#(steps), "batch": \#(textBatch)}}}"#
        return [
            ("local", spirals("local")),
            ("es", spirals("es").replacingOccurrences(of: #""steps""#, with: #""generations""#)), ("text", text),
        ]
    }

    @Test(
        "Ctrl-C or kill -9 inside the first step of local, es and a text arm with a large batch (and kill -9 inside the resume's), then resume: the files of an uninterrupted run"
    )
    func interruptInsideFirstStep() throws {
        let binary = try freshReleaseBinary ?? ternevoBinary(), textPath = temporaryPath("first.txt")
        defer { try? FileManager.default.removeItem(atPath: textPath) }
        for (name, text) in try StartStopTests.firstStepConfigs(release: freshReleaseBinary != nil, textPath: textPath)
        {
            let config = try write(text)
            let (straight, stopped, killed, exit) = try straightStoppedKilled(binary, config, after: 1.5)
            defer {
                for path in [config, straight, stopped, killed] { try? FileManager.default.removeItem(atPath: path) }
            }
            // The readout start and the cache on the batch are each built in one piece (1.4 to 1.9 s
            // here on a quiet machine); generous on a shared, loaded one.
            #expect(exit.seconds < 10, "\(name)")
            #expect(exit.status == 130, "\(name)")
            // The killed run's resume is killed in turn inside its first step.
            let resume = try spawn(binary, ["resume", killed, "--quiet"])
            Thread.sleep(forTimeInterval: 1.5)
            kill(resume.processIdentifier, SIGKILL)
            resume.waitUntilExit()
            let expected = try KillTests().snapshot(straight)
            for folder in [stopped, killed] {
                #expect(try launch(binary, ["resume", folder, "--quiet"]).status == 0, "\(name)")
                #expect(
                    try KillTests().snapshot(folder) == expected,
                    "\(name): \(folder) differs from the uninterrupted run")
            }
        }
    }

    @Test(
        "a seconds budget of 3 on local, es and a text arm with a large batch ends within the budget plus about a second and the final point"
    )
    func budgetOnFirstStepConfigs() throws {
        let release = freshReleaseBinary != nil
        let binary = try freshReleaseBinary ?? ternevoBinary(), textPath = temporaryPath("first.txt")
        defer { try? FileManager.default.removeItem(atPath: textPath) }
        for (name, text) in try StartStopTests.firstStepConfigs(
            release: release, textPath: textPath, budget: #""seconds": 3"#)
        {
            let config = try write(text), folder = temporaryPath("budget")
            defer { for path in [config, folder] { try? FileManager.default.removeItem(atPath: path) } }
            #expect(try launch(binary, ["run", config, "--out", folder, "--quiet"]).status == 0, "\(name)")
            // The training seconds of the arm's last row: the budget plus what could not be cut
            // (the cache on a new batch), generously bounded on a shared machine. A step cut by the
            // budget is not counted, so the last row can be that of the step before (2.9 s seen).
            let summary = try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8).split(separator: "\n")
            let wall = try #require(Double(summary[1].split(separator: ",", omittingEmptySubsequences: false)[3]))
            #expect(wall >= 2 && wall < 3 + (release ? 3 : 10), "\(name): \(wall) s")
        }
    }
}
