import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

/// Hostile input as users and clusters produce it: damaged files of every format we write,
/// labels and configs that would exhaust the machine, devices and folders where files belong.
/// Every case must end in one line naming the file and key or line, with a usage or data exit
/// status; none may trap, hang or allocate gigabytes.
@Suite("Hostile input")
struct HostileInputTests {
    func write(_ text: String, _ name: String) throws -> String {
        let path = temporaryPath(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the command line and checks the refusal: status in `statuses`, one line.
    @discardableResult
    func refused(_ arguments: [String], statuses: Set<Int32> = [64, 65], containing expected: String) -> String {
        let (status, output) = Captured.run(arguments)
        #expect(statuses.contains(status), "\(arguments): status \(status), \(output.err)")
        #expect(
            !output.err.contains("\n") || output.err.split(separator: "\n").count == 1,
            "more than one line: \(output.err)")
        #expect(output.err.contains(expected), "\(output.err) does not contain \(expected)")
        return output.err
    }

    @Test("labels far above any class count are refused at load, naming the line")
    func hugeLabels() throws {
        for label in ["100000000000", "1000000"] {
            let csv = try write("a,b,label\n1,2,0\n3,4,\(label)\n", "labels.csv")
            defer { try? FileManager.default.removeItem(atPath: csv) }
            refused(
                ["evolve", csv, "--seconds", "1", "--out", temporaryPath("never")],
                containing: "line 3, column 'label': class \(label) is not below the limit of 65536 classes")
        }
    }

    @Test("labels that are not numbered 0 ... C-1 are refused before a network is sized for them")
    func sparseLabels() throws {
        let csv = try write("a,b,label\n1,2,0\n3,4,65535\n", "sparse.csv")
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let started = Date()
        refused(
            ["evolve", csv, "--seconds", "1", "--out", temporaryPath("never")],
            containing: "labels run up to 65535, but only 2 of the 65536 classes 0 ... 65535 occur")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a byte-order mark before the header is skipped")
    func byteOrderMark() throws {
        let data = try CSVLoader.parse("\u{FEFF}label,a\n0,1\n1,2\n", source: "bom.csv")
        #expect(data.labels == [0, 1] && data.features == [1, 2])
    }

    @Test("a CSV file with a 100 MB header line is refused within a small memory limit, not trapped on")
    func hugeHeader() throws {
        let binary = try ternevoBinary()
        let csv = temporaryPath("header.csv")
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let handle = try #require(
            {
                _ = FileManager.default.createFile(atPath: csv, contents: nil)
                return FileHandle(forWritingAtPath: csv)
            }())
        let block = Data(String(repeating: "a123456,", count: 1 << 17).utf8)  // 1 MiB of column names
        for _ in 0..<100 { handle.write(block) }
        handle.write(Data("label\n1,0\n".utf8))
        try handle.close()
        // The whole file in memory, as text and as names, would need several times its size.
        let (status, message) = try runLimited(
            binary, ["evolve", csv, "--seconds", "1", "--out", "/nonexistent/never"], kilobytes: 400_000)
        #expect(status == 65, "\(message)")
        #expect(message.contains("line 1 is longer than 64 MiB"), "\(message)")
    }

    @Test(
        "messages say what is wrong: a derived IDX labels file, --out on a file or under one, an unwritable --model before training, the kind's own budget flag, --dry-run of a one-arm command"
    )
    func messages() throws {
        let digits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("experiments/data/digits.csv").path
        let file = try write("not a folder", "a-file")
        defer { try? FileManager.default.removeItem(atPath: file) }
        refused(
            ["evolve", digits, "--seconds", "1", "--out", file], statuses: [73],
            containing: "\(file): cannot create the run folder (it exists and is a file, not a folder)")
        refused(
            ["evolve", digits, "--seconds", "1", "--out", file + "/run"], statuses: [73],
            containing: "(\(file) is a file, not a folder)")
        let started = Date()
        refused(
            ["evolve", digits, "--seconds", "60", "--model", file + "/x.tern"], statuses: [73],
            containing: "--model \(file)/x.tern: \(file) is not an existing folder")
        #expect(Date().timeIntervalSince(started) < 10, "refused before training")
        refused(
            ["train", digits, "--arm", "float", "--epochs", "1", "--model", temporaryPath("m.tern")], statuses: [64],
            containing: "the float arm has no ternary model")

        let images = temporaryPath("ok-images.idx")
        defer { try? FileManager.default.removeItem(atPath: images) }
        try Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5]).write(to: URL(fileURLWithPath: images))
        let model = temporaryPath("m")
        defer { try? FileManager.default.removeItem(atPath: model) }
        #expect(
            Captured.run(["train", digits, "--epochs", "1", "--out", model, "--quiet"]).status == 0,
            "--epochs is the train command's budget")
        refused(
            ["eval", model + "/ste-seed1.tern", "--data", images], statuses: [65],
            containing: "\(images): is an IDX images file, but its labels file")

        let dry = Captured.run(["evolve", digits, "--dry-run", "--population", "64"])
        #expect(dry.status == 0 && dry.output.out.contains("memory estimate"), "\(dry.output.err)")
        refused(
            ["evolve", digits, "--steps", "5", "--generations", "5"], statuses: [64],
            containing: "--generations is given twice")
    }

    @Test("a one-class dataset is an error")
    func oneClass() throws {
        let csv = try write("a,b,label\n" + (0..<20).map { "\($0),1,3" }.joined(separator: "\n") + "\n", "one.csv")
        defer { try? FileManager.default.removeItem(atPath: csv) }
        refused(
            ["evolve", csv, "--seconds", "1", "--out", temporaryPath("never")], containing: "holds a single class (3)")
    }

    @Test("configs that would need far more memory than the machine has are refused before allocating, naming the key")
    func memory() throws {
        let config = try write(
            #"{"dataset": {"synthetic": "parity:8"}, "model": {"hidden": [4096]}, "arms": {"big": {"strategy": "ga", "seconds": 1, "population": 1000000}}}"#,
            "big.json")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let folder = temporaryPath("never")
        let started = Date()
        refused(["run", config, "--out", folder], containing: "key 'arms.big.population': the run would need about")
        #expect(Date().timeIntervalSince(started) < 10)
        refused(["run", config, "--out", folder, "--max-memory", "64M"], containing: "allowed by --max-memory")
        let dry = Captured.run(["run", config, "--dry-run"])
        #expect(dry.output.out.contains("memory estimate"), "\(dry.output.out)")
        let wide = try write(
            #"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [1048576]}, "arms": {"ga": {"strategy": "ga", "seconds": 1}}}"#,
            "wide.json")
        defer { try? FileManager.default.removeItem(atPath: wide) }
        refused(["run", wide], containing: "key 'model.hidden[0]'")
        #expect(!FileManager.default.fileExists(atPath: folder))
    }

    @Test("under an address-space limit (ulimit -v) a run that would not fit is refused, not trapped on")
    func addressSpaceLimit() throws {
        let binary = try ternevoBinary()
        let config = try write(
            #"{"dataset": {"synthetic": "parity:8"}, "model": {"hidden": [1024]}, "arms": {"big": {"strategy": "ga", "generations": 2, "population": 20000}}}"#,
            "limited.json")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let (status, message) = try runLimited(
            binary, ["run", config, "--out", temporaryPath("never"), "--quiet"], kilobytes: 600_000)
        #expect(status == 65, "\(message)")
        #expect(
            message.contains("key 'arms.big.population'") && message.contains("address-space limit (ulimit -v)"),
            "\(message)")
    }

    /// Runs the binary under `ulimit -v`; returns its exit status (128 + signal when killed) and stderr.
    func runLimited(_ binary: String, _ arguments: [String], kilobytes: Int) throws -> (Int32, String) {
        try launch("/bin/bash", ["-c", "ulimit -v \(kilobytes); exec \"$@\"", "bash", binary] + arguments)
    }

    @Test(
        "the memory estimate of every arm kind bounds its measured peak, for the settings that allocate (release binary)",
        .enabled(
            if: freshReleaseBinary != nil,
            "needs a release binary newer than the sources: run 'swift build -c release' first, as .ci/run does"))
    func estimatesBoundPeaks() throws {
        // Each config makes one setting dominate: population, candidates x moves, pairs x
        // trits, a batch far above the train split with a wide hidden layer.
        let binary = try #require(freshReleaseBinary)
        let digits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("experiments/data/digits.csv").path
        let arms: [(String, Int, String)] = [
            ("ga", 512, #"{"strategy": "ga", "generations": 1, "population": 300, "batch": 64}"#),
            ("local", 128, #"{"strategy": "local", "steps": 1, "candidates": 10000, "moves": 200}"#),
            ("es", 128, #"{"strategy": "es", "generations": 1, "pairs": 2500, "trits": 200}"#),
            ("ste", 2048, #"{"strategy": "ste", "epochs": 1, "batch": 1000000}"#),
            ("float", 2048, #"{"strategy": "float", "epochs": 1, "batch": 1000000}"#),
            ("base", 8, #"{"strategy": "local", "steps": 1}"#),
        ]
        var peaks: [String: (estimate: Double, peak: Double)] = [:]
        for (kind, hidden, arm) in arms {
            let config = try write(
                #"{"dataset": {"csv": "\#(digits)"}, "model": {"hidden": [\#(hidden)]}, "arms": {"a": \#(arm)}}"#,
                "peak-\(kind).json")
            let folder = temporaryPath("peak")
            defer { for path in [config, folder] { try? FileManager.default.removeItem(atPath: path) } }
            let plan = Captured.run(["run", config, "--dry-run"]).output.out
            let estimate = try #require(
                plan.split(separator: "\n").last.flatMap { line in
                    line.range(of: #"memory estimate [0-9.]+ [MG]B"#, options: .regularExpression).map { line[$0] }
                })
            let figure = estimate.split(separator: " ")
            let megabytes = Double(figure[2])! * (figure[3] == "GB" ? 1000 : 1)
            peaks[kind] = (megabytes, try peakMegabytes(binary, ["run", config, "--out", folder, "--quiet"]))
        }
        let base = peaks["base"]!.peak
        print(
            "memory estimate against measured peak (MB, base \(base)): "
                + peaks.keys.sorted().map { "\($0) \(peaks[$0]!.estimate)/\(peaks[$0]!.peak - base)" }.joined(
                    separator: ", "))
        for (kind, figures) in peaks where kind != "base" {
            #expect(
                figures.peak - base > 20,
                "\(kind): the config allocates too little to test the estimate (\(figures.peak) MB)")
            #expect(
                figures.peak - base <= figures.estimate * 1.1 + 4,
                "\(kind): measured peak \(figures.peak) MB over a base of \(base) MB; estimate \(figures.estimate) MB")
        }
    }

    /// The peak resident memory of a run of the binary, in MB, read from /proc while it runs
    /// (VmHWM is the high-water mark, so a late read still sees an early peak).
    func peakMegabytes(_ binary: String, _ arguments: [String]) throws -> Double {
        let process = try spawn(binary, arguments)
        var peak = 0
        while process.isRunning {
            if let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
            {
                peak = max(peak, kilobytes)
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        #expect(process.terminationStatus == 0)
        return Double(peak) / 1000
    }

    @Test("devices, folders and missing paths in a config name the config and key")
    func paths() throws {
        for (path, expected) in [
            ("/dev/zero", "is not a regular file"), ("/tmp", "is a folder"), ("/no/such.csv", "does not exist"),
        ] {
            let config = try write(
                #"{"dataset": {"csv": "\#(path)"}, "model": {"hidden": [4]}, "arms": {"ga": {"strategy": "ga", "seconds": 1}}}"#,
                "paths.json")
            defer { try? FileManager.default.removeItem(atPath: config) }
            let message = refused(
                ["run", config, "--out", temporaryPath("never")], statuses: [65], containing: expected)
            #expect(message.contains(config) && message.contains("key 'dataset'"), "\(message)")
        }
    }

    @Test("an IDX images file is recognised by its magic number, whatever its name")
    func idxByMagic() throws {
        let folder = temporaryPath("idx")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3, 4]
        let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 2, 0, 1]
        try Data(images).write(to: URL(fileURLWithPath: folder + "/digits-images.idx3"))
        try Data(labels).write(to: URL(fileURLWithPath: folder + "/digits-labels.idx1"))
        let data = try DatasetFile.load(folder + "/digits-images.idx3")
        #expect(data.count == 2 && data.featureCount == 2 && data.labels == [0, 1])
        try Data(images).write(to: URL(fileURLWithPath: folder + "/pixels.bin"))
        #expect(throws: DataError.self) { try DatasetFile.load(folder + "/pixels.bin") }
    }

    @Test("plot axes take bounded time on any finite range")
    func plotAxes() throws {
        for (low, high) in [
            (1e18, 1e18 + 4096), (0.0, 1e308), (-1e-300, 1e-300), (5.0, 5.0), (1e18, 1.0000000000000002e18),
        ] {
            let ticks = LineChart.ticks(low, high)
            #expect(ticks.count <= 14, "\(low) ... \(high): \(ticks.count) ticks")
        }
        let curves = try write(
            "method,seed,wall_s,test_acc\nga,1,1e18,0.5\nga,1,1.0000000000000002e18,0.6\n", "far.csv")
        defer { try? FileManager.default.removeItem(atPath: curves) }
        let (status, output) = Captured.run(["plot", curves, "--out", curves + ".svg"])
        #expect(status == 0, "\(output.err)")
        try? FileManager.default.removeItem(atPath: curves + ".svg")
    }

    @Test("an unwritable run folder is one line with exit 73")
    func unwritable() throws {
        let config = try write(
            #"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"strategy": "ga", "generations": 2}}}"#,
            "out.json")
        defer { try? FileManager.default.removeItem(atPath: config) }
        refused(
            ["run", config, "--out", "/proc/ternevo/run"], statuses: [73], containing: "cannot create the run folder")
    }

    @Test(
        "seeded damage to arm records: truncations, flips and edited headers with recomputed checksums are refused, never trusted or trapped on"
    )
    func damagedRecords() throws {
        let config = try write(
            #"{"dataset": {"synthetic": "parity:3", "test_fraction": 0, "validation_fraction": 0}, "model": {"hidden": [6]}, "arms": {"ga": {"strategy": "ga", "generations": 8, "population": 8}, "local": {"strategy": "local", "steps": 8}}}"#,
            "damage.json")
        let folder = temporaryPath("damage")
        defer { for path in [config, folder] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(Captured.run(["run", config, "--out", folder, "--quiet"]).status == 0)
        let path = folder + "/local-seed1.ckpt"
        let original = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        func withChecksum(_ bytes: [UInt8]) -> [UInt8] {
            var body = Array(bytes.dropLast(4))
            let crc = CRC32.checksum(body)
            for k in 0..<4 { body.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k)))) }
            return body
        }
        var rng = Xoshiro256(seed: 3)
        var cases: [[UInt8]] = []
        for _ in 0..<12 { cases.append(Array(original[0..<rng.uniformBelow(original.count)])) }
        for _ in 0..<12 {
            var flipped = original
            flipped[rng.uniformBelow(flipped.count)] ^= UInt8(1 << rng.uniformBelow(8))
            cases.append(flipped)
        }
        for offset in [0, 4, 6, 14] {  // magic, version, hash, the row count
            var edited = original
            for k in 0..<8 where offset + k < edited.count - 4 { edited[offset + k] = 0xFF }
            cases.append(withChecksum(edited))
        }
        for damaged in cases {
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            // A finished arm's record is read on resume too: damage must be reported, not trusted.
            refused(["resume", folder, "--quiet"], statuses: [65], containing: path)
        }
        try Data(original).write(to: URL(fileURLWithPath: path))
        #expect(Captured.run(["resume", folder, "--quiet"]).status == 0)
    }

    @Test("--restart-damaged starts a damaged arm over instead of stopping")
    func restartDamaged() throws {
        let config = try write(
            #"{"dataset": {"synthetic": "parity:3", "test_fraction": 0, "validation_fraction": 0}, "model": {"hidden": [6]}, "arms": {"ga": {"strategy": "ga", "generations": 8, "population": 8}}}"#,
            "restart.json")
        let folder = temporaryPath("restart")
        defer { for path in [config, folder] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(Captured.run(["run", config, "--out", folder, "--quiet"]).status == 0)
        let curves = try String(contentsOfFile: folder + "/curves.csv", encoding: .utf8)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: folder + "/ga-seed1.ckpt"))
        let (status, output) = Captured.run(["resume", folder, "--quiet", "--restart-damaged"])
        #expect(status == 0)
        #expect(output.err.contains("starting ga seed 1 over (--restart-damaged)"))
        let redone = try String(contentsOfFile: folder + "/curves.csv", encoding: .utf8)
        #expect(
            redone.split(separator: "\n").map { $0.split(separator: ",").filter { _ in true }.count }
                == curves.split(separator: "\n").map { $0.split(separator: ",").count })
    }
}
