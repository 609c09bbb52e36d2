import Foundation
import Testing
import TernaryCore
@testable import TernaryExperiments

/// The `ternevo` binary: beside the test bundle, or the debug or release build (`.ci/run`
/// builds the release binary before it runs the tests).
func ternevoBinary() throws -> String {
    // Beside the test bundle first (the same build), then the debug and release builds.
    let candidates = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("ternevo").path,
                      ".build/debug/ternevo", ".build/release/ternevo"]
    guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw SkipInfo("no ternevo binary found beside the tests (looked at \(candidates)); run 'swift build' first")
    }
    return binary
}

struct SkipInfo: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Starts the binary; returns the process (output discarded).
func spawn(_ binary: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
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
        var result = ["curves": try lines("curves.csv", blank: [3], columns: 19),
                      "summary": try lines("summary.csv", blank: [3, 10, 11, 12, 18, 19], columns: 20)]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".tern") {
            result[name] = FileManager.default.contents(atPath: folder + "/" + name)?.base64EncodedString()
        }
        return result
    }

    @Test("a real process killed with SIGKILL at any moment, any number of times, resumes to the files of an uninterrupted run")
    func killAndResume() throws {
        let binary = try ternevoBinary()
        let config = temporaryPath("kill.json"), straight = temporaryPath("straight")
        defer { for path in [config, straight] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"synthetic": "parity:4", "test_fraction": 0.25, "validation_fraction": 0.25}, "model": {"hidden": [12]}, "seeds": [1, 2],
         "arms": {"ga": {"strategy": "ga", "generations": 40, "population": 24, "eval_every": 5},
                  "local": {"strategy": "local", "steps": 150, "eval_every": 10},
                  "es": {"strategy": "es", "generations": 60, "eval_every": 10},
                  "ste": {"strategy": "ste", "epochs": 120, "batch": 4},
                  "float": {"strategy": "float", "epochs": 60, "batch": 4}}}
        """#.write(toFile: config, atomically: true, encoding: .utf8)
        let start = Date()
        let full = try spawn(binary, ["run", config, "--out", straight, "--quiet", "--threads", "2"])
        full.waitUntilExit()
        #expect(full.terminationStatus == 0)
        let duration = Date().timeIntervalSince(start)
        let expected = try snapshot(straight)

        // Kill points spread over the run; after each kill, a resume that is itself killed once,
        // then a resume left to finish.
        var rng = Xoshiro256(seed: 7)
        var totalKills = 0
        for trial in 0..<6 {
            let folder = temporaryPath("killed")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var kills = 0
            var arguments = ["run", config, "--out", folder, "--quiet", "--threads", "2"]
            for delay in [duration * (Double(trial) + rng.uniformDouble()) / 6, duration * 0.3 * rng.uniformDouble()] {
                let process = try spawn(binary, arguments)
                Thread.sleep(forTimeInterval: delay)
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    kills += 1
                }
                process.waitUntilExit()
                // Killed before config.json was written: the user runs the config again.
                arguments = FileManager.default.fileExists(atPath: folder + "/config.json")
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
        // Every first kill lands inside the run's duration; allow for a slow start or two.
        #expect(totalKills >= 5, "only \(totalKills) kills landed in 6 trials")
    }
}
