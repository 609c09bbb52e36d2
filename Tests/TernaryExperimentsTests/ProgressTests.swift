import Foundation
import Synchronization
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

/// What a run prints: progress on stderr (by arm, in place on a terminal, per point with
/// --verbose) and, on stdout, the comparison table and the chart's path.
@Suite("Run output")
struct ProgressTests {
    /// A config of two arms, one seed, with a known number of logged points per arm.
    static let config = """
        {"name": "tiny", "dataset": {"synthetic": "parity:3", "test_fraction": 0.25, "validation_fraction": 0.25}, "model": {"hidden": [8]},
         "seeds": [1], "arms": {"local": {"strategy": "local", "steps": 30, "eval_every": 5},
                                "ste": {"strategy": "ste", "epochs": 4, "batch": 4}}}
        """

    /// Runs `ternevo` in-process; `terminal` gives the console a status line, as on a terminal.
    static func run(
        _ arguments: [String], terminal: Bool
    ) -> (status: Int32, out: [String], err: [String], statusLines: [String]) {
        let captured = Mutex<(out: [String], err: [String], status: [String])>(([], [], []))
        let out: @Sendable (String) -> Void = { text in
            captured.withLock {
                $0.out += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
        }
        let err: @Sendable (String) -> Void = { text in captured.withLock { $0.err.append(text) } }
        let statusLine: @Sendable (String) -> Void = { text in captured.withLock { $0.status.append(text) } }
        let console = Console(out: out, err: err, status: terminal ? statusLine : nil)
        let status = TernEvoCommandLine.main(arguments, console: console)
        return captured.withLock { (status, $0.out, $0.err, $0.status) }
    }

    func withRun(_ body: (_ config: String, _ folder: String) throws -> Void) throws {
        let config = temporaryPath("tiny.json"), folder = temporaryPath("tiny")
        defer { for path in [config, folder] { try? FileManager.default.removeItem(atPath: path) } }
        try ProgressTests.config.write(toFile: config, atomically: true, encoding: .utf8)
        try body(config, folder)
    }

    @Test("on a pipe, a line as each arm starts and ends; the run ends with the table and the chart")
    func pipe() throws {
        try withRun { config, folder in
            let result = ProgressTests.run(["run", config, "--out", folder, "--threads", "1"], terminal: false)
            #expect(result.status == 0, "\(result.err)")
            #expect(result.err.count == 4, "\(result.err)")
            #expect(result.err[0] == "local seed 1: started (budget 30 steps)")
            #expect(result.err[1].hasPrefix("local seed 1: done, 30 steps in "), "\(result.err[1])")
            #expect(result.err[1].contains("; chosen on validation at "), "\(result.err[1])")
            #expect(result.err[2] == "ste seed 1: started (budget 4 epochs)")
            #expect(result.err[3].hasPrefix("ste seed 1: done, 4 epochs in "), "\(result.err[3])")
            // stdout: the table of 'ternevo compare' (header and one row per arm), then the chart.
            let table = try CompareCommand.table([folder], markdown: false)
            #expect(result.out.count == 1 + 2 + 1, "\(result.out)")
            #expect(result.out.dropLast().joined(separator: "\n") == table)
            #expect(result.out[0].hasPrefix("run ") && result.out[0].contains("test at best val"))
            #expect(result.out[1].contains(" local ") && result.out[2].contains(" ste "))
            #expect(result.out.last!.hasPrefix("chart: \(folder)/curves.svg"))
        }
    }

    @Test("--verbose adds a line per logged point; --quiet prints no progress but still the table")
    func verboseAndQuiet() throws {
        try withRun { config, folder in
            let verbose = ProgressTests.run(
                ["run", config, "--out", folder, "--threads", "1", "--verbose"], terminal: false)
            #expect(verbose.status == 0, "\(verbose.err)")
            // local logs steps 5...30 (6 points), ste its 4 epochs: 10 points, plus a start and an end line per arm.
            let rows =
                try String(contentsOfFile: folder + "/curves.csv", encoding: .utf8).split(separator: "\n").count - 1
            #expect(rows == 10)
            #expect(verbose.err.count == rows + 4, "\(verbose.err)")
            #expect(
                verbose.err.contains {
                    $0.hasPrefix("local seed 1  ") && $0.contains(" s  step 30 of 30  train ") && $0.contains("  val ")
                        && $0.contains("  test ")
                },
                "\(verbose.err)")
            let quiet = ProgressTests.run(
                ["run", config, "--out", folder + "q", "--threads", "1", "--quiet"], terminal: false)
            defer { try? FileManager.default.removeItem(atPath: folder + "q") }
            #expect(quiet.status == 0 && quiet.err.isEmpty, "\(quiet.err)")
            #expect(quiet.out.last!.hasPrefix("chart: \(folder)q/curves.svg"))
            let both = ProgressTests.run(["run", config, "--quiet", "--verbose"], terminal: false)
            #expect(both.status == 64 && both.err == ["ternevo: give --quiet or --verbose, not both"])
        }
    }

    @Test("on a terminal, one status line per arm, updated in place, then its result as a line")
    func terminal() throws {
        try withRun { config, folder in
            let result = ProgressTests.run(["run", config, "--out", folder, "--threads", "1"], terminal: true)
            #expect(result.status == 0, "\(result.err)")
            #expect(result.err.count == 2, "only the arms' results stay: \(result.err)")
            #expect(result.err[0].hasPrefix("local seed 1: done") && result.err[1].hasPrefix("ste seed 1: done"))
            // Per arm: the start, one update per logged point, and the clearing before its result line.
            #expect(result.statusLines.count == 2 * (1 + 1) + 10, "\(result.statusLines)")
            #expect(result.statusLines.first == "local seed 1: started (budget 30 steps)")
            #expect(result.statusLines.filter { $0.isEmpty }.count == 2)
            #expect(result.statusLines.contains { $0.hasPrefix("ste seed 1  ") && $0.contains("step 4 of 4") })
        }
    }

    @Test("an interrupted arm says where it stopped; the next arm does not start")
    func interrupted() throws {
        try withRun { config, folder in
            let lines = Mutex<[String]>([])
            let console = Console(out: { _ in }, err: { text in lines.withLock { $0.append(text) } })
            let runner = ExperimentRunner(
                config: try ExperimentConfig.load(config), folder: folder, threads: 1, console: console, quiet: false,
                communicator: nil)
            runner.interrupt = InterruptFlag(trippingAfter: 10)
            #expect(try runner.run() == false)
            let err = lines.withLock { $0 }
            #expect(err.count == 2, "\(err)")
            #expect(err.first == "local seed 1: started (budget 30 steps)")
            #expect(
                err.last?.hasPrefix("local seed 1: interrupted at step ") == true
                    && err.last?.contains("(last logged point: step ") == true,
                "\(err)")
        }
    }

    @Test("resume prints the table of the whole run")
    func resume() throws {
        try withRun { config, folder in
            #expect(ProgressTests.run(["run", config, "--out", folder, "--quiet"], terminal: false).status == 0)
            let result = ProgressTests.run(["resume", folder], terminal: false)
            #expect(result.status == 0, "\(result.err)")
            #expect(result.err == ["local seed 1: finished before, kept", "ste seed 1: finished before, kept"])
            #expect(result.out.count == 4 && result.out.last!.hasPrefix("chart: \(folder)/curves.svg"), "\(result.out)")
        }
    }

    @Test("a run's default folder is results/runs/<name>, which git ignores")
    func defaultFolder() throws {
        try withRun { config, _ in
            let plan = ProgressTests.run(["run", config, "--dry-run"], terminal: false)
            #expect(plan.status == 0, "\(plan.err)")
            #expect(plan.out.contains { $0.hasSuffix("run folder results/runs/tiny") }, "\(plan.out)")
        }
        // The package's .gitignore covers it (the committed results sit beside it, added with -f).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let ignore = try String(contentsOf: root.appendingPathComponent(".gitignore"), encoding: .utf8)
        #expect(ignore.split(separator: "\n").contains("results/runs/"))
    }
}

@Suite("Version")
struct VersionTests {
    @Test("--version and version print one line with the version and the build; help lists it")
    func version() {
        for arguments in [["--version"], ["version"]] {
            let (status, output) = Captured.run(arguments)
            #expect(status == 0)
            let architecture = output.out.contains("arm64") ? "arm64" : "x86_64"
            #expect(
                output.out
                    == "ternevo \(VersionCommand.version) (debug build, \(architecture), \(InstructionSet.active.rawValue) kernels)"
                    || output.out.hasPrefix("ternevo \(VersionCommand.version) (release build"), "\(output.out)")
            #expect(!output.out.contains("\n"))
        }
        #expect(
            VersionCommand.version.split(separator: ".").count == 3
                && VersionCommand.version.split(separator: ".").allSatisfy { Int($0) != nil })
        #expect(Captured.run(["help"]).output.out.contains("  version "))
        let (status, output) = Captured.run(["--version", "extra"])
        #expect(status == 64 && output.err == "ternevo: --version takes no arguments")
        #expect(Captured.run(["version", "extra"]).status == 64)
    }

    @Test(
        "TERNEVO_ISA picks the kernels the binary names; an unknown set or one the CPU lacks is a usage error naming it"
    )
    func instructionSetVariable() throws {
        let binary = try ternevoBinary()
        for isa in InstructionSet.supported {
            let (status, errors) = try launch(binary, ["--version"], environment: ["TERNEVO_ISA": isa.rawValue])
            #expect(status == 0 && errors.isEmpty, "\(isa): \(errors)")
        }
        for command in [["--version"], ["bench", "--quick"], ["help"]] {
            let (status, errors) = try launch(binary, command, environment: ["TERNEVO_ISA": "avx9"])
            #expect(
                status == 64
                    && errors
                        == "ternevo: TERNEVO_ISA=avx9 is not an instruction set; use one of portable, avx2, avx512 (this host: \(InstructionSet.supported.map(\.rawValue).joined(separator: ", ")))\n",
                "\(command): \(errors)")
        }
        if let missing = InstructionSet.allCases.first(where: { !$0.isSupported }) {
            let (status, errors) = try launch(binary, ["--version"], environment: ["TERNEVO_ISA": missing.rawValue])
            #expect(status == 64 && errors.contains("this CPU cannot run \(missing.rawValue)"))
        }
    }
}
