import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

/// A config changed between a stop and a resume never continues silently: the resume equals a
/// fresh run of the new config, or it is refused naming what changed.
@Suite("resume under a changed config")
struct ResumeChangeTests {
    let base = #"""
        {"dataset": {"synthetic": "parity:4", "test_fraction": 0.25, "validation_fraction": 0.25, "split_seed": 1}, "model": {"hidden": [8]},
         "seeds": [1], "arms": {"local": {"strategy": "local", "steps": 30, "eval_every": 5}}}
        """#

    /// Runs `config` into a new folder, interrupted after `reads` reads of the stop flag (0: not at all).
    func run(_ config: String, reads: Int = 0) throws -> String {
        let file = temporaryPath("change.json"), folder = temporaryPath("change")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try config.write(toFile: file, atomically: true, encoding: .utf8)
        let runner = ExperimentRunner(
            config: try ExperimentConfig.load(file), folder: folder, threads: 1,
            console: Console(out: { _ in }, err: { _ in }), quiet: true, communicator: nil)
        if reads > 0 { runner.interrupt = InterruptFlag(trippingAfter: reads) }
        #expect(try runner.run() == (reads == 0))
        return folder
    }

    func edit(_ folder: String, _ change: (String) -> String) throws {
        let text = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
        try change(text).write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
    }

    @Test("another split seed, on an interrupted or a finished arm, is refused naming the data")
    func splitSeed() throws {
        for reads in [10, 0] {
            let folder = try run(base, reads: reads)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try edit(folder) { $0.replacingOccurrences(of: "\"split_seed\": 1", with: "\"split_seed\": 2") }
            let (status, output) = Captured.run(["resume", folder, "--quiet"])
            #expect(status == 65)
            #expect(
                output.err.contains(
                    "local-seed1.ckpt: was written for a different configuration: the data or its split"),
                "\(output.err)")
            #expect(output.err.split(separator: "\n").count == 1)
        }
    }

    @Test("another setting of the arm is refused naming the settings")
    func settings() throws {
        let folder = try run(base, reads: 10)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try edit(folder) { $0.replacingOccurrences(of: "\"steps\": 30,", with: "\"steps\": 30, \"candidates\": 5,") }
        let (status, output) = Captured.run(["resume", folder, "--quiet"])
        #expect(status == 65)
        #expect(output.err.contains("settings changed from 'local candidates=32"), "\(output.err)")
    }

    @Test(
        "a key that only the arm's settings value holds (the GA's cache budget) is refused naming the keys; a record written before that line resumes"
    )
    func keysLine() throws {
        let ga = base.replacingOccurrences(
            of: #""local": {"strategy": "local", "steps": 30, "eval_every": 5}"#,
            with:
                #""ga": {"strategy": "ga", "generations": 30, "eval_every": 5, "population": 6, "elite": 2, "parents": 2}"#
        )
        let folder = try run(ga, reads: 10)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try edit(folder) {
            $0.replacingOccurrences(of: "\"population\": 6,", with: "\"population\": 6, \"cache_mb\": 1,")
        }
        let (status, output) = Captured.run(["resume", folder, "--quiet"])
        #expect(status == 65)
        #expect(
            output.err.contains(
                "ga-seed1.ckpt: was written for a different configuration: keys changed from 'cache_mb 256' to 'cache_mb 1'"
            ), "\(output.err)")
        // The record as an older build wrote it (no keys line) resumes under the same config.
        try edit(folder) {
            $0.replacingOccurrences(of: "\"population\": 6, \"cache_mb\": 1,", with: "\"population\": 6,")
        }
        let path = folder + "/ga-seed1.ckpt"
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var (reader, _, _) = try ChecksummedFile.open(
            bytes, path: path, magic: ArmRecord.magic, versions: 1...ArmRecord.version, what: "arm record")
        let key = try reader.readString()
        var older = try ArmRecord.decode(bytes, path: path, key: key, legacyHash: 0)
        older.key = String(key[..<key.range(of: "\nkeys: ")!.lowerBound])
        try Data(older.encode()).write(to: URL(fileURLWithPath: path))
        #expect(Captured.run(["resume", folder, "--quiet"]).status == 0)
    }

    @Test("a local record written before step_every existed resumes; one with another step_every is refused")
    func keyAddedLater() throws {
        let folder = try run(base)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".ckpt") }
                .map { folder + "/" + $0 })
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var (reader, _, _) = try ChecksummedFile.open(
            bytes, path: path, magic: ArmRecord.magic, versions: 1...ArmRecord.version, what: "arm record")
        let key = try reader.readString()
        try #require(key.contains(", step_every auto"), "the case under test: \(key)")
        var older = try ArmRecord.decode(bytes, path: path, key: key, legacyHash: 0)
        older.key = key.replacingOccurrences(of: ", step_every auto", with: "")
        #expect(try ArmRecord.decode(older.encode(), path: path, key: key, legacyHash: 0).key == older.key)
        older.key = key.replacingOccurrences(of: ", step_every auto", with: ", step_every 5")
        #expect(throws: FileFormatError.self) {
            try ArmRecord.decode(older.encode(), path: path, key: key, legacyHash: 0)
        }
        // A value the config gives now, which the older record cannot have had, is a change.
        older.key = key.replacingOccurrences(of: ", step_every auto", with: "")
        let given = key.replacingOccurrences(of: ", step_every auto", with: ", step_every 5")
        #expect(throws: FileFormatError.self) {
            try ArmRecord.decode(older.encode(), path: path, key: given, legacyHash: 0)
        }
    }

    @Test("a finished arm's budget is neither extended nor cut silently")
    func finishedBudget() throws {
        let folder = try run(base)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for steps in [45, 20] {
            try edit(folder) { $0.replacingOccurrences(of: "\"steps\": 30,", with: "\"steps\": \(steps),") }
            let (status, output) = Captured.run(["resume", folder, "--quiet"])
            #expect(status == 65)
            #expect(
                output.err.contains("finished under the budget steps 30, but the config now gives steps \(steps)"),
                "\(output.err)")
            try edit(folder) { $0.replacingOccurrences(of: "\"steps\": \(steps),", with: "\"steps\": 30,") }
        }
        #expect(Captured.run(["resume", folder, "--quiet"]).status == 0)
    }

    @Test(
        "an interrupted arm given a longer budget ends as a fresh run of the new config; one past a shorter budget is refused"
    )
    func unfinishedBudget() throws {
        let longer = base.replacingOccurrences(of: "\"steps\": 30,", with: "\"steps\": 45,")
        let fresh = try run(longer)
        let cut = try run(base, reads: 10)
        defer { for path in [fresh, cut] { try? FileManager.default.removeItem(atPath: path) } }
        try edit(cut) { $0.replacingOccurrences(of: "\"steps\": 30,", with: "\"steps\": 45,") }
        let (status, output) = Captured.run(["resume", cut, "--quiet"])
        #expect(status == 0, "\(output.err)")
        #expect(try curvesWithoutTime(cut) == curvesWithoutTime(fresh))

        let past = try run(base, reads: 25)
        defer { try? FileManager.default.removeItem(atPath: past) }
        try edit(past) { $0.replacingOccurrences(of: "\"steps\": 30,", with: "\"steps\": 5,") }
        let refused = Captured.run(["resume", past, "--quiet"])
        #expect(refused.status == 65)
        #expect(refused.output.err.contains("past the config's budget of 5"), "\(refused.output.err)")
    }

    @Test("data paths are read from the config's folder, and a run folder resumes from any working directory")
    func workingDirectory() throws {
        let binary = try ternevoBinary()
        let root = temporaryPath("paths")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/configs/data", withIntermediateDirectories: true)
        var csv = "a,b,label\n"
        for index in 0..<40 { csv += "\(index % 7),\(index % 3),\(index % 2)\n" }
        try csv.write(toFile: root + "/configs/data/small.csv", atomically: true, encoding: .utf8)
        try
            #"{"dataset": {"csv": "data/small.csv"}, "model": {"hidden": [4]}, "arms": {"local": {"strategy": "local", "steps": 5}}}"#
            .write(toFile: root + "/configs/small.json", atomically: true, encoding: .utf8)
        func run(_ arguments: [String], in folder: String) throws -> Int32 {
            try launch(binary, arguments, directory: folder).status
        }
        // Started from the root with a relative config path, resumed from two other folders.
        #expect(try run(["run", "configs/small.json", "--out", "runs/one", "--quiet"], in: root) == 0)
        let copy = try String(contentsOfFile: root + "/runs/one/config.json", encoding: .utf8)
        #expect(copy.contains(#""csv": "../../configs/data/small.csv""#), "\(copy)")
        try FileManager.default.removeItem(atPath: root + "/runs/one/summary.csv")
        #expect(try run(["resume", root + "/runs/one", "--quiet"], in: "/") == 0)
        #expect(try run(["resume", "one", "--quiet"], in: root + "/runs") == 0)
        #expect(FileManager.default.fileExists(atPath: root + "/runs/one/summary.csv"))
    }
}

/// An arm whose session fails at its third step, as a diverging trainer does (a NaN loss).
struct FailingSettings: ArmSettings {
    static let kind = "float", countKey = "epochs"
    static let defaultEvalEvery: Int? = nil
    static var keys: [KeyDescription] { [] }
    var inner: BackpropSettings<FloatKind>
    static func read(_ reader: inout ConfigReader) throws(DataError) -> FailingSettings {
        FailingSettings(inner: try .read(&reader))
    }
    func makeSession(_ context: ArmContext, seed: UInt64) -> SearchSession {
        FailingSession(inner.makeSession(context, seed: seed))
    }
    func estimatedBytes(_ context: ArmContext) -> (bytes: Int, key: String) { inner.estimatedBytes(context) }
}

final class FailingSession: SearchSession {
    let inner: SearchSession
    init(_ inner: SearchSession) { self.inner = inner }
    var step: Int { inner.step }
    var evaluations: Int { inner.evaluations }
    var integerOperations: Double { inner.integerOperations }
    var floatOperations: Double { inner.floatOperations }
    var settingsDescription: String { inner.settingsDescription }
    func advance(until stop: StopSignal) throws(SessionError) -> StepReport? {
        guard inner.step < 2 else {
            throw SessionError("the training loss became nan in epoch 3; lower the learning rate (key 'lr')")
        }
        return try inner.advance()
    }
    func incumbent() -> TernaryNetwork? { inner.incumbent() }
    func score(on data: QuantizedDataset) -> Score { inner.score(on: data) }
    func encodeState(into writer: inout BinaryWriter) { inner.encodeState(into: &writer) }
    func restoreState(from reader: inout BinaryReader) throws(FileFormatError) { try inner.restoreState(from: &reader) }
}

@Suite("a failing arm")
struct FailingArmTests {
    @Test("a NaN loss names the config, the arm's key and its record, and the run exits 65 after the other arms")
    func nanNamesTheRecord() throws {
        let file = temporaryPath("nan.json"), folder = temporaryPath("nan")
        defer { for path in [file, folder] { try? FileManager.default.removeItem(atPath: path) } }
        try
            #"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"f": {"strategy": "float", "epochs": 5}, "g": {"strategy": "ga", "generations": 2, "population": 8}}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        var config = try ExperimentConfig.load(file)
        config.arms[0].settings = FailingSettings(inner: config.arms[0].settings as! BackpropSettings<FloatKind>)
        let runner = ExperimentRunner(
            config: config, folder: folder, threads: 1, console: Console(out: { _ in }, err: { _ in }), quiet: true,
            communicator: nil)
        var failure: RunFailure?
        do { _ = try runner.run() } catch let error as RunFailure { failure = error }
        let message = try #require(failure?.message)
        #expect(failure?.exitCode == 65)
        #expect(
            message.hasPrefix("\(file): arm f (key 'arms.f') seed 1 stopped at step 3: the training loss became nan"),
            "\(message)")
        #expect(
            message.contains("its record \(folder)/f-seed1.ckpt keeps the arm up to its last logged point (step 2)"),
            "\(message)")
        #expect(runner.summaries.count == 1, "the other arm ran on")
    }
}
