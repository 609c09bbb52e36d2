import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

func ternevoBinary() throws -> String {
    try #require(ternevoBinaryPath, "no ternevo binary beside the tests or in .build; run 'swift build' first")
}

@Suite("kill -9 and resume", .serialized)
struct KillTests {
    /// curves.csv without wall_s, summary.csv without wall_s and the times to targets, and the
    /// bytes of every model: what must not depend on where the run was killed.
    func snapshot(_ folder: String) throws -> [String: String] {
        func lines(_ name: String, blank: [Int], columns: Int) throws -> String {
            try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n").map { line in
                var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if fields.count == columns { for index in blank { fields[index] = "" } }
                return fields.joined(separator: ",")
            }.joined(separator: "\n")
        }
        var result = [
            "curves": try lines("curves.csv", blank: [3], columns: 19),
            "summary": try lines("summary.csv", blank: [3, 10, 11, 12, 18, 19], columns: 20),
        ]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".tern") {
            result[name] = FileManager.default.contents(atPath: folder + "/" + name)?.base64EncodedString()
        }
        return result
    }

    /// Every arm kind with its shipped defaults (only the budgets and the network are set),
    /// small enough for the debug binary: an arm's defaults are what users resume.
    static let defaultsConfig = #"""
        {"dataset": {"synthetic": "parity:8"}, "model": {"hidden": [16]}, "seeds": [1],
         "arms": {"ga": {"strategy": "ga", "generations": 12},
                  "local": {"strategy": "local", "steps": 300},
                  "es": {"strategy": "es", "generations": 150},
                  "ste": {"strategy": "ste", "epochs": 20},
                  "float": {"strategy": "float", "epochs": 20}}}
        """#

    /// The same arms with 4-bit activations (the calibrated start, levels scoring, STE's
    /// learned steps and the float arm's ReLU), and `local` with step candidates.
    static let levelsConfig = defaultsConfig.replacingOccurrences(
        of: #""hidden": [16]}"#, with: #""hidden": [16], "activation": "relu4"}"#
    ).replacingOccurrences(of: #""steps": 300}"#, with: #""steps": 300, "step_every": 25}"#)

    /// The text task's arms with their defaults, on the first 20,000 characters of the shipped
    /// slice (written beside the config as `kill.txt`). Only the logging is sparser than the
    /// default: a text point fits a temperature, and logging every step took most of the run.
    static let textConfig = #"""
        {"dataset": {"text": "kill.txt", "context": 4}, "model": {"hidden": [16]}, "seeds": [1],
         "arms": {"ga": {"strategy": "ga", "generations": 12, "eval_every": 4},
                  "local": {"strategy": "local", "steps": 150, "eval_every": 50},
                  "es": {"strategy": "es", "generations": 50, "eval_every": 25},
                  "ste": {"strategy": "ste", "epochs": 3},
                  "float": {"strategy": "float", "epochs": 3}}}
        """#

    /// Runs a config uninterrupted; returns the snapshot and the duration.
    func uninterrupted(
        _ binary: String, _ config: String, _ straight: String, text: String = KillTests.defaultsConfig
    ) throws
        -> (expected: [String: String], seconds: Double)
    {
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let start = Date()
        let full = try spawn(binary, ["run", config, "--out", straight, "--quiet", "--threads", "2"])
        full.waitUntilExit()
        #expect(full.terminationStatus == 0)
        return (try snapshot(straight), Date().timeIntervalSince(start))
    }

    @Test(
        "a real process killed with SIGKILL at any moment, any number of times, also during resume, or stopped by SIGTERM or SIGHUP, resumes to the files of an uninterrupted run (every arm kind with its defaults; sign and 4-bit activations)",
        arguments: ["sign", "relu4"])
    func killAndResume(activation: String) throws {
        let binary = try ternevoBinary()
        let config = temporaryPath("kill-\(activation).json"), straight = temporaryPath("straight-\(activation)")
        defer { for path in [config, straight] { try? FileManager.default.removeItem(atPath: path) } }
        let text = activation == "sign" ? KillTests.defaultsConfig : KillTests.levelsConfig
        #expect(activation == "sign" || (text.contains(#""relu4""#) && text.contains("step_every")))
        let (expected, duration) = try uninterrupted(binary, config, straight, text: text)
        try kill(binary, config, expected: expected, duration: duration, trials: 4)
        try terminateAndResume(binary, config, expected: expected, duration: duration)
    }

    @Test(
        "the text task's arms, with their defaults, killed with SIGKILL and resumed, give the files of an uninterrupted run (release binary)",
        .enabled(
            if: freshReleaseBinary != nil,
            "needs a release binary newer than the sources (a debug build takes minutes here): run 'swift build -c release' first, as .ci/run does"
        ))
    func killText() throws {
        let binary = try #require(freshReleaseBinary)
        let folder = temporaryPath("kill-text")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let slice = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("experiments/data/kjv-pentateuch.txt").path
        let text = try String(contentsOfFile: slice, encoding: .utf8)
        try String(text.prefix(20_000)).write(toFile: folder + "/kill.txt", atomically: true, encoding: .utf8)
        let config = folder + "/kill.json"
        let (expected, duration) = try uninterrupted(binary, config, folder + "/straight", text: KillTests.textConfig)
        try kill(binary, config, expected: expected, duration: duration, trials: 2)
    }

    /// Kills runs of `config` at moments spread over `duration`, and each first resume once
    /// more, then resumes to the end and compares every file with `expected`.
    func kill(_ binary: String, _ config: String, expected: [String: String], duration: Double, trials: Int) throws {
        // Kill points spread over the run; after each kill, a resume that is itself killed once,
        // then a resume left to finish.
        var rng = Xoshiro256(seed: 7)
        var totalKills = 0
        for trial in 0..<trials {
            let folder = temporaryPath("killed")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var kills = 0
            var arguments = ["run", config, "--out", folder, "--quiet", "--threads", "2"]
            for delay in [
                duration * (Double(trial) + rng.uniformDouble()) / Double(trials), duration * 0.3 * rng.uniformDouble(),
            ] {
                let process = try spawn(binary, arguments)
                Thread.sleep(forTimeInterval: delay)
                if process.isRunning {
                    Foundation.kill(process.processIdentifier, SIGKILL)
                    kills += 1
                }
                process.waitUntilExit()
                // Killed before config.json was written: the user runs the config again.
                arguments =
                    FileManager.default.fileExists(atPath: folder + "/config.json")
                    ? ["resume", folder, "--quiet", "--threads", trial % 2 == 0 ? "1" : "2"] : arguments
            }
            totalKills += kills
            let last = try spawn(binary, arguments)
            last.waitUntilExit()
            #expect(last.terminationStatus == 0, "trial \(trial): the final \(arguments[0]) failed")
            let got = try snapshot(folder)
            #expect(got.keys.sorted() == expected.keys.sorted(), "trial \(trial), \(kills) kill(s)")
            for key in expected.keys.sorted() where got[key] != expected[key] {
                Issue.record("trial \(trial), \(kills) kill(s): \(key) differs from the uninterrupted run")
            }
        }
        // Every first kill lands inside the run's duration; allow for a slow start.
        #expect(totalKills >= trials - 1, "only \(totalKills) kills landed in \(trials) trials")
    }

    /// SIGTERM and SIGHUP stop a run like Ctrl-C: records written, status 128 + signal, and
    /// resume gives the uninterrupted files.
    func terminateAndResume(_ binary: String, _ config: String, expected: [String: String], duration: Double) throws {
        for (signal, status) in [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            let folder = temporaryPath("stopped")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let process = try spawn(binary, ["run", config, "--out", folder, "--quiet", "--threads", "2"])
            // Wait until the run has written its first record, then stop it mid-run.
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline
                && ((try? FileManager.default.contentsOfDirectory(atPath: folder))?.contains { $0.hasSuffix(".ckpt") }
                    ?? false) == false
            {
                Thread.sleep(forTimeInterval: 0.01)
            }
            Thread.sleep(forTimeInterval: duration * 0.2)
            guard process.isRunning else {
                Issue.record("the run ended before the signal could be sent")
                continue
            }
            Foundation.kill(process.processIdentifier, signal)
            process.waitUntilExit()
            #expect(
                process.terminationReason == .exit && process.terminationStatus == status,
                "signal \(signal): ended by \(process.terminationReason == .exit ? "exit status" : "signal") \(process.terminationStatus)"
            )
            let summary = try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8)
            #expect(
                summary.split(separator: "\n").count < 11, "a stopped run has fewer summary rows than a finished one")
            let resume = try spawn(binary, ["resume", folder, "--quiet"])
            resume.waitUntilExit()
            #expect(resume.terminationStatus == 0)
            #expect(try snapshot(folder) == expected, "signal \(signal): resume differs from the uninterrupted run")
        }
    }

    @Test(
        "a second run or resume on a folder being written is refused naming the holder; after a kill -9 the folder resumes"
    )
    func oneWriter() throws {
        let binary = try ternevoBinary()
        let config = temporaryPath("lock.json"), folder = temporaryPath("locked")
        defer { for path in [config, folder] { try? FileManager.default.removeItem(atPath: path) } }
        try
            #"{"dataset": {"synthetic": "parity:6"}, "model": {"hidden": [8]}, "arms": {"local": {"strategy": "local", "seconds": 60}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let holder = try spawn(binary, ["run", config, "--out", folder, "--quiet", "--threads", "1"])
        defer { if holder.isRunning { Foundation.kill(holder.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: folder + "/config.json") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(holder.isRunning)
        for arguments in [["resume", folder, "--quiet"], ["run", config, "--out", folder, "--quiet"]] {
            let (status, output) = Captured.run(arguments)
            #expect(status == 73, "\(arguments[0]): \(output.err)")
            #expect(
                output.err.contains(
                    "another ternevo process is writing this run folder (pid \(holder.processIdentifier), 'ternevo run'"
                ), "\(output.err)")
        }
        Foundation.kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        // The kernel dropped the lock with the process; a shorter time budget ends the arm at once.
        let text = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
        try text.replacingOccurrences(of: "\"seconds\": 60", with: "\"seconds\": 0.001").write(
            toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["resume", folder, "--quiet"])
        #expect(status == 0, "\(output.err)")
    }
}
