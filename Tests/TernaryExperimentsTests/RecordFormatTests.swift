import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

/// The arm record stores typed rows and a typed summary (version 3); records of version 2,
/// which stored their CSV text, still resume to the same files.
@Suite("arm record format")
struct RecordFormatTests {
    let config = #"""
        {"dataset": {"synthetic": "parity:4", "test_fraction": 0.25, "validation_fraction": 0.25, "split_seed": 1}, "model": {"hidden": [8]},
         "seeds": [1], "arms": {"local": {"strategy": "local", "steps": 30, "eval_every": 5}}}
        """#

    /// Rewrites the record at `path` as version 2 wrote it: rows and summary as CSV text.
    func downgrade(_ path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var (reader, found, _) = try ChecksummedFile.open(
            bytes, path: path, magic: ArmRecord.magic, versions: 1...ArmRecord.version, what: "arm record")
        #expect(found == 3)
        let record = try ArmRecord.decode(bytes, path: path, key: try reader.readString(), legacyHash: 0)
        var writer = BinaryWriter()
        writer.write(record.key)
        writer.write(Int64(record.steps ?? -1))
        writer.write(record.seconds ?? -1)
        writer.writeCount(record.rows.count)
        for row in record.rows { writer.write(row.csv) }
        writer.write(record.searchSeconds)
        writer.write(record.summary != nil)
        writer.write(record.summary?.csv ?? "")
        writer.write(record.bestSelection)
        writer.writeCount(record.bestStep)
        writer.write(record.bestModel != nil)
        if let model = record.bestModel { writer.write(model) }
        writer.write(bytes: record.sessionState)
        try Data(
            ChecksummedFile.encode(
                magic: ArmRecord.magic, version: 2, configurationHash: ChecksummedFile.hash(record.key),
                payload: writer.bytes)
        ).write(to: URL(fileURLWithPath: path))
    }

    func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test("version 2 records, finished or interrupted, resume to the files of version 3 and are rewritten as version 3")
    func olderRecords() throws {
        let file = temporaryPath("record.json"), straight = temporaryPath("straight"), cut = temporaryPath("cut")
        defer { for path in [file, straight, cut] { try? FileManager.default.removeItem(atPath: path) } }
        try config.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", file, "--out", straight, "--quiet"]).status == 0)
        let (curves, summary) = (try text(straight + "/curves.csv"), try text(straight + "/summary.csv"))
        // Finished: the derived files are rewritten from the older record byte for byte.
        try downgrade(straight + "/local-seed1.ckpt")
        #expect(Captured.run(["resume", straight, "--quiet"]).status == 0)
        #expect(try text(straight + "/curves.csv") == curves)
        #expect(try text(straight + "/summary.csv") == summary)
        // Interrupted: the arm continues from the older record to the rows of a straight run.
        let runner = ExperimentRunner(
            config: try ExperimentConfig.load(file), folder: cut, threads: 1,
            console: Console(out: { _ in }, err: { _ in }), quiet: true, communicator: nil)
        runner.interrupt = InterruptFlag(trippingAfter: 12)
        #expect(try runner.run() == false)
        try downgrade(cut + "/local-seed1.ckpt")
        #expect(Captured.run(["resume", cut, "--quiet"]).status == 0)
        #expect(try curvesWithoutTime(cut) == curvesWithoutTime(straight))
        #expect(try ResumeTests().summaryWithoutTime(cut) == ResumeTests().summaryWithoutTime(straight))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cut + "/local-seed1.ckpt")))
        #expect(
            try ChecksummedFile.open(
                bytes, path: "r", magic: ArmRecord.magic, versions: 1...ArmRecord.version, what: "arm record"
            ).version == 3)
    }

    @Test(
        "typed rows and summaries survive the record exactly; older summary lines (16 columns) read with empty text columns"
    )
    func typedRows() throws {
        var rng = Xoshiro256(seed: 7)
        for _ in 0..<200 {
            func maybe() -> Double? { rng.uniformBelow(3) == 0 ? nil : rng.uniformDouble() * 1e6 - 5e5 }
            var row = CurveRow(
                method: "arm\(rng.uniformBelow(9))", seed: rng.next(), step: rng.uniformBelow(1 << 30),
                wallSeconds: rng.uniformDouble() * 100, evals: rng.uniformBelow(1 << 40), trainLoss: maybe(),
                trainAccuracy: maybe(),
                validationAccuracy: maybe(), testAccuracy: maybe(), bestFitness: maybe(), meanFitness: maybe(),
                intOps: Double(rng.uniformBelow(1 << 50)), floatOps: Double(rng.uniformBelow(1 << 50)))
            (row.validationLoss, row.testLoss, row.trainBits, row.validationBits, row.testBits, row.temperature) = (
                maybe(), maybe(), maybe(), maybe(), maybe(), maybe()
            )
            var writer = BinaryWriter()
            row.encode(into: &writer)
            var reader = BinaryReader(bytes: writer.bytes, path: "row")
            #expect(try CurveRow(from: &reader) == row)
            #expect(reader.isAtEnd)
            let summary = SummaryRow(method: row.method, seed: row.seed, rows: [row], bestStep: row.step)
            writer = BinaryWriter()
            summary.encode(into: &writer)
            reader = BinaryReader(bytes: writer.bytes, path: "summary")
            #expect(try SummaryRow(from: &reader) == summary)
            // The CSV text of a version 2 record reads back to the same text.
            #expect(SummaryRow(csv: summary.csv)?.csv == summary.csv)
        }
        let older = "local,1,30,0.0123,900,0.75,0.5,0.625,0.75,0.5,,,,12345,0,1.2345e-09"
        #expect(SummaryRow(csv: older)?.csv == older + ",,,,")
        #expect(SummaryRow(csv: "local,1,30") == nil)
        var damaged = BinaryWriter()
        damaged.write("m")
        damaged.write(UInt64(1))
        damaged.writeCount(1)
        damaged.write(0.5)
        damaged.writeCount(1)
        damaged.write(0.0)
        damaged.write(0.0)
        damaged.write(UInt32(1 << 20))
        var reader = BinaryReader(bytes: damaged.bytes, path: "r.ckpt")
        #expect(throws: FileFormatError.self) { try CurveRow(from: &reader) }
    }
}
