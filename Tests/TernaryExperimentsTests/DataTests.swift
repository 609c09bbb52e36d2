import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

@Suite("CSV loader")
struct CSVLoaderTests {
    func problem(_ text: String) -> String? {
        do {
            _ = try CSVLoader.parse(text, source: "d.csv")
            return nil
        } catch {
            return error.description
        }
    }

    @Test("reads features and labels, label column anywhere, CRLF and a final newline")
    func reads() throws {
        let data = try CSVLoader.parse("a,label,b\r\n1,0,2.5\r\n-3,2,4\r\n", source: "d.csv")
        #expect(data.features == [1, 2.5, -3, 4])
        #expect(data.labels == [0, 2])
        #expect(data.featureCount == 2 && data.classCount == 3)
    }

    @Test(
        "bad files name the line and column",
        arguments: [
            ("", "d.csv: is empty; expected a header row with a 'label' column"),
            ("a,b\n1,2\n", "d.csv: line 1: no 'label' column in the header (columns: a, b)"),
            ("a,label,label\n", "d.csv: line 1: 'label' appears 2 times in the header"),
            ("a,label\n1,0\n2\n", "d.csv: line 3 has 1 fields; the header has 2"),
            ("a,label\n1,0\nx,1\n", "d.csv: line 3, column 'a': 'x' is not a finite number"),
            ("a,label\nnan,0\n", "d.csv: line 2, column 'a': 'nan' is not a finite number"),
            ("a,label\ninf,0\n", "d.csv: line 2, column 'a': 'inf' is not a finite number"),
            ("a,label\n1,1.5\n", "d.csv: line 2, column 'label': '1.5' is not a non-negative integer class"),
            ("a,label\n1,-1\n", "d.csv: line 2, column 'label': '-1' is not a non-negative integer class"),
            ("a,label\n", "d.csv: has a header but no examples"),
        ])
    func errors(text: String, expected: String) {
        #expect(problem(text) == expected)
    }

    @Test("the stratified split keeps class shares and is repeatable")
    func split() {
        let labels = (0..<300).map { $0 % 3 }
        let data = LabeledData(
            features: labels.map(Float.init), featureCount: 1, labels: labels, classCount: 3, source: "x")
        let (train, test) = data.split(testFraction: 0.2, seed: 4)
        #expect(test.count == 60 && train.count == 240)
        #expect((0..<3).allSatisfy { c in test.labels.filter { $0 == c }.count == 20 })
        #expect(data.split(testFraction: 0.2, seed: 4).test.features == test.features)
        #expect(data.split(testFraction: 0.2, seed: 5).test.features != test.features)
    }
}

@Suite("evolve and train commands")
struct EvolveCommandTests {
    @Test("short runs of every kind on a CSV file write a run folder and a model that info can read")
    func shortRun() throws {
        var lines = ["x0,x1,x2,label"]
        var rng = Xoshiro256(seed: 1)
        for _ in 0..<120 {
            let label = rng.uniformBelow(2)
            lines.append("\(label * 10 + rng.uniformBelow(3)),\(rng.uniformBelow(10)),\(10 - label * 10),\(label)")
        }
        let csv = temporaryPath("data.csv"), model = temporaryPath("best.tern"), folder = temporaryPath("evolve")
        defer { for path in [csv, model, folder] { try? FileManager.default.removeItem(atPath: path) } }
        try lines.joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run([
            "evolve", csv, "--hidden", "8", "--steps", "20", "--population", "16",
            "--batch", "32", "--eval-every", "5", "--out", folder, "--model", model, "--quiet",
        ])
        #expect(status == 0, "\(output.err)")
        #expect(try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8).contains("\nga,1,20,"))
        #expect(output.out.contains("chart: \(folder)/curves.svg"))
        #expect(output.out.contains("saved \(model)"))
        #expect(try TernaryNetwork(contentsOfFile: model).layerSizes == [3, 8, 2])
        let config = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
        #expect(config.contains(#""population": 16"#))
        for (command, kind, extra) in [
            ("evolve", "local", ["--candidates", "8"]), ("evolve", "es", ["--pairs", "4"]),
            ("train", "ste", ["--lr", "0.01"]), ("train", "float", []),
        ] {
            let flag = command == "evolve" ? "--strategy" : "--arm"
            let (status, output) = Captured.run(
                [command, csv, flag, kind, "--hidden", "8", "--steps", "6", "--out", folder + kind, "--quiet"] + extra)
            defer { try? FileManager.default.removeItem(atPath: folder + kind) }
            #expect(status == 0, "\(kind): \(output.err)")
            #expect(
                try String(contentsOfFile: folder + kind + "/summary.csv", encoding: .utf8).contains("\n\(kind),1,6,"))
            #expect(output.out.contains("test at best val"), "the run ends with the comparison table: \(output.out)")
        }
    }

    @Test("bad options and data files are one-line errors that name the flag")
    func errors() throws {
        let folder = temporaryPath("never")
        let (status, output) = Captured.run(["evolve", "x.csv", "--crossover", "zip", "--out", folder])
        #expect(status == 64)
        #expect(output.err == "ternevo: --crossover: 'zip' is not one of uniform, neuron, two-point, none")
        // The reader names options, not the keys the options became.
        let unknown = Captured.run(["evolve", "x.csv", "--populaton", "4", "--out", folder]).output.err
        #expect(
            unknown.hasPrefix("ternevo: unknown option '--populaton' (known here: --batch, --cache-mb,"), "\(unknown)")
        let large = Captured.run([
            "evolve", "synthetic:parity:4", "--population", "100000", "--hidden", "5000", "--max-memory", "10M",
            "--out", folder,
        ])
        #expect(large.status == 65)
        #expect(large.output.err.hasPrefix("ternevo: --population: the run would need about"), "\(large.output.err)")
        #expect(Captured.run(["evolve", "x.csv", "--population", "4", "--elite", "4", "--out", folder]).status == 64)
        #expect(
            Captured.run(["evolve", "x.csv", "--strategy", "hill"]).output.err
                == "ternevo: --strategy 'hill' is not one of ga, local, es")
        let (missing, missingOutput) = Captured.run(["evolve", "/no/such.csv", "--out", folder])
        #expect(missing == 65)
        #expect(missingOutput.err == "ternevo: /no/such.csv: does not exist", "\(missingOutput.err)")
        #expect(!FileManager.default.fileExists(atPath: folder), "a failed start leaves no run folder")
    }
}

@Suite("IDX loader")
struct IDXLoaderTests {
    func idx(_ magic: UInt32, _ dims: [UInt32], _ payload: [UInt8]) -> [UInt8] {
        var bytes = [UInt8]()
        for word in [magic] + dims {
            bytes += [UInt8(word >> 24), UInt8(word >> 16 & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word & 0xFF)]
        }
        return bytes + payload
    }

    func write(_ images: [UInt8], _ labels: [UInt8]) throws -> (String, String) {
        let folder = temporaryPath("idx")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let imagesPath = folder + "/train-images-idx3-ubyte", labelsPath = folder + "/train-labels-idx1-ubyte"
        try Data(images).write(to: URL(fileURLWithPath: imagesPath))
        try Data(labels).write(to: URL(fileURLWithPath: labelsPath))
        return (imagesPath, labelsPath)
    }

    func problem(_ images: [UInt8], _ labels: [UInt8]) throws -> String? {
        let (i, l) = try write(images, labels)
        do {
            _ = try IDXLoader.load(images: i, labels: l)
            return nil
        } catch {
            return error.description.replacingOccurrences(of: (i as NSString).deletingLastPathComponent + "/", with: "")
        }
    }

    @Test("reads a valid pair, by folder, by images file and through DatasetFile")
    func reads() throws {
        let (images, labels) = try write(idx(0x803, [2, 2, 3], Array(0..<12)), idx(0x801, [2], [1, 0]))
        let data = try IDXLoader.load(images: images, labels: labels)
        #expect(data.featureCount == 6 && data.labels == [1, 0] && data.classCount == 2)
        #expect(data.features == (0..<12).map(Float.init))
        #expect(try DatasetFile.load((images as NSString).deletingLastPathComponent).labels == [1, 0])
        #expect(try DatasetFile.load(images).labels == [1, 0])
        #expect(try DatasetFile.load("synthetic:parity:3").labels == [0, 1, 1, 0, 1, 0, 0, 1])
        #expect(throws: DataError.self) { try DatasetFile.load("synthetic:parity:99") }
        // evolve and train turn their data argument into a config key by the same rules: an
        // IDX images file whatever its name, a folder, a task, else CSV.
        let renamed = (images as NSString).deletingLastPathComponent + "/digits-images"
        try FileManager.default.copyItem(atPath: images, toPath: renamed)
        #expect(DatasetFile.configKey(renamed).key == "idx")
        #expect(DatasetFile.configKey((images as NSString).deletingLastPathComponent).key == "idx")
        #expect(DatasetFile.configKey("synthetic:parity:3") == ("synthetic", "parity:3"))
        #expect(DatasetFile.configKey("/no/such.csv").key == "csv")
        // The commands' loader (evolve, train) takes the same forms.
        let prepared = try PreparedData.load(
            (images as NSString).deletingLastPathComponent, testFraction: 0.5, seed: 1, bits: 8)
        #expect(prepared.train.count + prepared.test.count == 2 && prepared.train.featureCount == 6)
    }

    @Test("wrong magic, truncation, extra bytes and count mismatches name the file")
    func errors() throws {
        let labels = idx(0x801, [2], [1, 0])
        #expect(
            try problem(idx(0x804, [2, 2, 3], Array(0..<12)), labels)
                == "train-images-idx3-ubyte: byte 0: IDX magic 0x00000804; expected 0x00000803 (unsigned-byte images, 3 dimensions)"
        )
        #expect(
            try problem(idx(0x803, [2, 2, 3], Array(0..<11)), labels)
                == "train-images-idx3-ubyte: is truncated: 27 bytes where its header announces 28")
        #expect(
            try problem(idx(0x803, [2, 2, 3], Array(0..<13)), labels)
                == "train-images-idx3-ubyte: has 1 bytes after the 28 its header announces")
        #expect(
            try problem(idx(0x803, [2, 2, 3], Array(0..<12)), idx(0x801, [3], [1, 0, 1]))?
                .hasPrefix("train-labels-idx1-ubyte: holds 3 labels but") == true)
        #expect(
            try problem([0, 0, 8], labels) == "train-images-idx3-ubyte: is 3 bytes, shorter than its 16-byte IDX header"
        )
    }
}

@Suite("Synthetic tasks")
struct SyntheticTests {
    @Test("names parse and the tasks have the documented shapes")
    func tasks() {
        #expect(SyntheticTask(name: "xor") == .xor)
        #expect(SyntheticTask(name: "parity:4") == .parity(4))
        #expect(SyntheticTask(name: "spirals:200") == .spirals(count: 200))
        #expect(SyntheticTask(name: "parity:0") == nil && SyntheticTask(name: "circles") == nil)
        #expect(SyntheticTask.xor.generate(seed: 1).labels == [0, 1, 1, 0])
        let parity = SyntheticTask.parity(4).generate(seed: 1)
        #expect(parity.count == 16 && parity.featureCount == 4 && parity.labels.filter { $0 == 1 }.count == 8)
        let spirals = SyntheticTask.spirals(count: 200).generate(seed: 3)
        #expect(spirals.count == 200 && spirals.featureCount == 2)
        #expect(spirals.features == SyntheticTask.spirals(count: 200).generate(seed: 3).features)
        #expect(spirals.features != SyntheticTask.spirals(count: 200).generate(seed: 4).features)
    }
}

@Suite("eval command")
struct EvalCommandTests {
    @Test("prints accuracy and a confusion matrix, and rejects mismatched data")
    func eval() throws {
        // A [2, 2] network without hidden layers: logit 0 = x0 - x1, logit 1 = x1 - x0.
        var network = TernaryNetwork(layerSizes: [2, 2], quantizer: InputQuantizer(low: 0, high: 1, bits: 1))
        network.weights[0] = TernaryMatrix(rowCount: 2, columnCount: 2, trits: [1, -1, -1, 1])
        let model = temporaryPath("m.tern"), csv = temporaryPath("d.csv"), wide = temporaryPath("w.csv")
        defer { for path in [model, csv, wide] { try? FileManager.default.removeItem(atPath: path) } }
        try network.write(toFile: model)
        try "a,b,label\n1,0,0\n0,1,1\n1,0,1\n".write(toFile: csv, atomically: true, encoding: .utf8)
        try "a,b,c,label\n1,0,0,0\n".write(toFile: wide, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["eval", model, "--data", csv])
        #expect(status == 0, "\(output.err)")
        #expect(output.out.hasPrefix("accuracy 66.67% (2 of 3)"))
        #expect(output.out.contains("    0    1    0"))
        #expect(output.out.contains("    1    1    1"))
        let (bad, mismatch) = Captured.run(["eval", model, "--data", wide])
        #expect(bad == 65)
        #expect(mismatch.err.contains("examples have 3 features; the model"))
        #expect(Captured.run(["eval", model]).status == 64)
    }
}

@Suite("Input scaling in runs")
struct ScalingTests {
    @Test("dataset.scaling per_feature fits one range per column on the train split")
    func perFeature() throws {
        var lines = ["small,large,label"]
        var rng = Xoshiro256(seed: 2)
        for _ in 0..<60 {
            let label = rng.uniformBelow(2)
            lines.append("\(Double(rng.uniformBelow(100)) / 1000),\(1000 + rng.uniformBelow(5000)),\(label)")
        }
        let csv = temporaryPath("units.csv"), config = temporaryPath("units.json")
        defer { for path in [csv, config] { try? FileManager.default.removeItem(atPath: path) } }
        try lines.joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        for (scaling, smallRange) in [("per_feature", 255), ("global", 0)] {
            try
                #"{"dataset": {"csv": "\#(csv)", "scaling": "\#(scaling)"}, "model": {"hidden": [4]}, "arms": {"ga": {"strategy": "ga", "seconds": 1}}}"#
                .write(toFile: config, atomically: true, encoding: .utf8)
            let runner = ExperimentRunner(
                config: try ExperimentConfig.load(config), folder: "unused", threads: 1, console: .standard,
                quiet: true, communicator: nil)
            let train = try runner.loadSplits().train
            let small = stride(from: 0, to: train.features.count, by: 2).map { Int(train.features[$0]) }
            #expect(small.max()! - small.min()! == smallRange, "\(scaling)")
        }
    }
}
