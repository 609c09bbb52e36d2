import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

@Suite("Distributed runs through the runner (ranks as threads)")
struct DistributedRunTests {
    /// Runs `body(rank, communicator)` for `size` ranks, each on its own thread, and returns
    /// their results in rank order; a rank that fails (`failed`) abandons the group so the others
    /// do not wait for it in a collective.
    func onRanks<Result>(
        _ size: Int, failed: @escaping @Sendable (Result) -> Bool,
        _ body: @escaping @Sendable (Int, ThreadCommunicator) -> Result
    ) -> [Result] {
        let group = ThreadCommunicator.group(size: size)
        let lock = NSLock(), done = DispatchGroup()
        nonisolated(unsafe) var results = [Result?](repeating: nil, count: size)
        for rank in 0..<size {
            done.enter()
            Thread.detachNewThread {
                let result = body(rank, group[rank])
                if failed(result) { group[rank].abandon() }
                lock.withLock { results[rank] = result }
                done.leave()
            }
        }
        done.wait()
        return lock.withLock { results.map { $0! } }
    }

    /// Runs `config` as `size` ranks on threads, each with its own runner (rank 0 writes `folder`).
    /// Rank r runs `configs[r]` (or `configs[0]`); returns "ok" per rank that finished, or
    /// its error.
    func runRanks(_ configs: [ExperimentConfig], size: Int, folder: String, resuming: Bool = false) -> [String] {
        let configBox = UncheckedSendable(configs)
        return onRanks(size, failed: { $0 != "ok" && $0 != "interrupted" }) { rank, communicator in
            let config = rank < configBox.value.count ? configBox.value[rank] : configBox.value[0]
            let runner = ExperimentRunner(
                config: config, folder: folder, threads: 1, console: .standard, quiet: true,
                resuming: resuming, communicator: communicator)
            do { return try runner.run() ? "ok" : "interrupted" } catch { return "\(error)" }
        }
    }

    func runRanks(_ config: ExperimentConfig, size: Int, folder: String, resuming: Bool = false) -> [Bool] {
        runRanks([config], size: size, folder: folder, resuming: resuming).map { $0 == "ok" }
    }

    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test("2, 3 and 5 ranks write the files of one process (ga, local, es, ste, float), and resume on another count")
    func sameFiles() throws {
        let file = temporaryPath("distributed.json"), alone = temporaryPath("alone")
        var folders = [file, alone]
        defer { for path in folders { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"synthetic": "parity:5", "test_fraction": 0.2, "validation_fraction": 0.1}, "model": {"hidden": [12]}, "seeds": [1, 2],
         "arms": {"ga": {"strategy": "ga", "generations": 12, "population": 19, "eval_every": 4},
                  "local": {"strategy": "local", "steps": 30, "candidates": 11, "eval_every": 10},
                  "es": {"strategy": "es", "generations": 10, "pairs": 7, "eval_every": 5},
                  "ste": {"strategy": "ste", "epochs": 3, "batch": 4},
                  "float": {"strategy": "float", "epochs": 3, "batch": 4}}}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try ExperimentConfig.load(file)
        let single = ExperimentRunner(
            config: config, folder: alone, threads: 2, console: .standard, quiet: true, communicator: nil)
        #expect(try single.run())
        let resume = ResumeTests()
        for size in [2, 3, 5] {
            let folder = temporaryPath("ranks\(size)")
            folders.append(folder)
            #expect(runRanks(config, size: size, folder: folder) == Array(repeating: true, count: size))
            #expect(try curvesWithoutTime(folder) == curvesWithoutTime(alone), "\(size) ranks")
            #expect(try resume.summaryWithoutTime(folder) == resume.summaryWithoutTime(alone), "\(size) ranks")
            for arm in ["ga", "local", "es", "ste"] {
                for seed in [1, 2] {
                    let model = "/\(arm)-seed\(seed).tern"
                    #expect(
                        contents(folder + model) != nil && contents(folder + model) == contents(alone + model),
                        "\(size) ranks: \(model)")
                }
            }
        }
        // A run of 3 ranks cut after seed 1, resumed by 2 ranks, equals the single process.
        let cut = temporaryPath("cut")
        folders.append(cut)
        #expect(runRanks(config, size: 3, folder: cut) == [true, true, true])
        for arm in ["ga", "local", "es", "ste", "float"] {
            try FileManager.default.removeItem(atPath: cut + "/\(arm)-seed2.ckpt")
        }
        #expect(runRanks(config, size: 2, folder: cut, resuming: true) == [true, true])
        #expect(try curvesWithoutTime(cut) == curvesWithoutTime(alone))
        #expect(try resume.summaryWithoutTime(cut) == resume.summaryWithoutTime(alone))
    }

    @Test("ranks whose states differ stop with an error naming the divergence, never a silent run")
    func divergence() throws {
        let one = temporaryPath("one.json"), other = temporaryPath("other.json"), folder = temporaryPath("diverged")
        defer { for path in [one, other, folder] { try? FileManager.default.removeItem(atPath: path) } }
        let text = #"""
            {"dataset": {"synthetic": "parity:4"}, "model": {"hidden": [8]}, "seeds": [1],
             "arms": {"ga": {"strategy": "ga", "generations": 20, "population": 10, "eval_every": 5, "mutation": MUTATION}}}
            """#
        try text.replacingOccurrences(of: "MUTATION", with: "0.05").write(
            toFile: one, atomically: true, encoding: .utf8)
        try text.replacingOccurrences(of: "MUTATION", with: "0.2").write(
            toFile: other, atomically: true, encoding: .utf8)
        let outcomes = runRanks(
            [try ExperimentConfig.load(one), try ExperimentConfig.load(other)], size: 2, folder: folder)
        #expect(outcomes.allSatisfy { $0 != "ok" }, "\(outcomes)")
        #expect(outcomes.contains { $0.contains("differs from rank 0's") && $0.contains("diverged") }, "\(outcomes)")
    }

    @Test("the command line hands its communicator to the config reader, the plan and the runner")
    func commandLine() throws {
        let file = temporaryPath("cli.json"), alone = temporaryPath("cli-alone"), ranks = temporaryPath("cli-ranks")
        defer { for path in [file, alone, ranks] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"synthetic": "parity:4", "test_fraction": 0.25, "validation_fraction": 0.25}, "model": {"hidden": [8]}, "seeds": [1],
         "arms": {"local": {"strategy": "local", "steps": 20, "eval_every": 5}, "ga": {"strategy": "ga", "generations": 6, "population": 6, "elite": 2, "parents": 2}}}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", file, "--out", alone, "--quiet"]).status == 0)
        /// Runs `ternevo ARGUMENTS` as two ranks on threads; rank 1 is given a config path that
        /// does not exist, so it can only have the config rank 0 read and sent.
        func twoRanks(_ arguments: [String]) -> [(status: Int32, out: String)] {
            onRanks(2, failed: { $0.status != 0 }) { rank, communicator in
                let mine = rank == 0 ? arguments : arguments.map { $0 == file ? "/nonexistent/cli.json" : $0 }
                let captured = Captured()
                let console = Console(out: { text in captured.lines.withLock { $0.out.append(text) } }, err: { _ in })
                return (TernEvoCommandLine.main(mine, console: console, communicator: communicator), captured.out)
            }
        }
        let plan = twoRanks(["run", file, "--out", ranks, "--dry-run"])
        #expect(plan.map(\.status) == [0, 0])
        #expect(plan[0].out.contains("per process (2 processes"), "\(plan[0].out)")
        #expect(plan[1].out.isEmpty, "rank 1 prints no plan: \(plan[1].out)")
        #expect(twoRanks(["run", file, "--out", ranks, "--quiet"]).map(\.status) == [0, 0])
        #expect(try curvesWithoutTime(ranks) == curvesWithoutTime(alone))
        for arm in ["local", "ga"] {
            #expect(contents(ranks + "/\(arm)-seed1.tern") == contents(alone + "/\(arm)-seed1.tern"), "\(arm)")
        }
    }
}
