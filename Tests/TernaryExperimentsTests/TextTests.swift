import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

/// Text experiments (the TernaryExperiments article TextLanguageModelling) through the config, the runner and the commands.
@Suite("Text experiments")
struct TextTests {
    /// A small repetitive text with a rare character near the end (unseen in training).
    static let text: String = {
        var lines: [String] = []
        let words = ["and", "the", "of", "god", "said", "let", "there", "be", "light", "earth", "was", "good"]
        var state: UInt64 = 7
        for _ in 0..<120 {
            var line: [String] = []
            for _ in 0..<(4 + Int(state % 5)) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                line.append(words[Int(state >> 33) % words.count])
            }
            lines.append(line.joined(separator: " ") + ".")
        }
        lines.insert("Zion!", at: 115)
        return lines.joined(separator: "\n") + "\n"
    }()

    func write(_ text: String, _ name: String) throws -> String {
        let path = temporaryPath(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("splits are contiguous blocks; the vocabulary is the train block's characters plus an unseen symbol")
    func corpus() throws {
        let corpus = try TextCorpus(text: TextTests.text, context: 4, testFraction: 0.1, validationFraction: 0.05)
        let n = TextTests.text.unicodeScalars.count
        #expect(corpus.trainCharacters + corpus.validationCharacters + corpus.testCharacters == n)
        #expect(corpus.testCharacters == Int((Double(n) * 0.1).rounded()))
        #expect(corpus.train.count == corpus.trainCharacters - 4 && corpus.test.count == corpus.testCharacters - 4)
        let trainText = String(String.UnicodeScalarView(TextTests.text.unicodeScalars.prefix(corpus.trainCharacters)))
        #expect(
            corpus.tokens.symbols.dropLast()
                == Set(trainText.unicodeScalars).sorted { $0.value < $1.value }.map { String($0) })
        #expect(corpus.tokens.symbols.last == TokenInput.unseenSymbol)
        // "Z" and "!" appear only in the test block: they map to the unseen symbol.
        #expect(!corpus.tokens.symbols.contains("Z"))
        #expect(corpus.test.stream.contains(UInt16(corpus.tokens.vocabulary - 1)))
        // Example i of a split is the window at position i of its block.
        let data = QuantizedDataset(windows: corpus.validation)
        #expect(data.labels[3] == Int(corpus.validation.stream[3 + 4]))
        #expect(corpus.testText.unicodeScalars.count == corpus.testCharacters)
    }

    @Test(
        "image and table keys are refused by name for text", arguments: ["bits", "scaling", "split_seed", "test_csv"])
    func refusedKeys(key: String) throws {
        let file = temporaryPath("text.json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try
            #"{"dataset": {"text": "t.txt", "\#(key)": \#(key == "bits" || key == "split_seed" ? "4" : "\"x\"")}, "model": {"hidden": [4]}, "arms": {"ste": {"strategy": "ste", "epochs": 1}}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try ExperimentConfig.load(file)
            Issue.record("\(key) was accepted")
        } catch {
            #expect(error.description.contains("key 'dataset.\(key)': does not apply to a text dataset"), "\(error)")
        }
    }

    @Test(
        "a text run trains every arm, reports bits per character and reference lines, and its model samples and evaluates"
    )
    func run() throws {
        let textPath = try write(TextTests.text, "corpus.txt"), folder = temporaryPath("text-run"),
            file = temporaryPath("text.json")
        defer { for path in [textPath, folder, file] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"name": "t", "dataset": {"text": "\#(textPath)", "context": 3}, "model": {"hidden": [24]}, "seeds": [1],
         "arms": {"local": {"strategy": "local", "steps": 30, "eval_every": 10, "batch": 300, "rotate_every": 10},
                  "es": {"strategy": "es", "generations": 6, "eval_every": 3},
                  "ga": {"strategy": "ga", "generations": 4, "population": 8, "eval_every": 2},
                  "ste": {"strategy": "ste", "epochs": 3, "epoch_examples": 1000},
                  "float": {"strategy": "float", "epochs": 3, "epoch_examples": 1000}}}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["run", file, "--out", folder, "--quiet", "--threads", "2"])
        #expect(status == 0, "\(output.err)")
        let curves = try String(contentsOfFile: folder + "/curves.csv", encoding: .utf8).split(separator: "\n")
        let header = curves[0].split(separator: ",").map(String.init)
        #expect(
            Array(header.prefix(13))
                == "method,seed,step,wall_s,evals,train_loss,train_acc,val_acc,test_acc,best_fitness,mean_fitness,int_ops,float_ops"
                .split(separator: ",").map(String.init))
        let bpc = header.firstIndex(of: "test_bpc")!, temperature = header.firstIndex(of: "temperature")!
        for line in curves.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let bits = Double(fields[bpc])!
            #expect(bits > 0.5 && bits < 8, "\(line)")
            if !line.hasPrefix("float,") { #expect(Double(fields[temperature])! > 0, "\(line)") }
        }
        for arm in ["local", "es", "ga", "ste", "float"] {
            #expect(curves.contains { $0.hasPrefix("\(arm),") }, "no rows of \(arm)")
        }
        let summary = try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8)
        #expect(summary.contains("test_bpc_at_best_val"))
        let references = try String(contentsOfFile: folder + "/references.csv", encoding: .utf8)
        #expect(references.hasPrefix("reference,bpc,note\nunigram,"))
        #expect(references.contains("\ntrigram,") && references.contains("\ngzip -9,"))

        // The line an ended text arm prints gives bits per character, not accuracies.
        let recordPath = folder + "/local-seed1.ckpt"
        let recordBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: recordPath)))
        var (reader, _, _) = try ChecksummedFile.open(
            recordBytes, path: recordPath, magic: ArmRecord.magic, versions: 1...ArmRecord.version, what: "arm record")
        let record = try ArmRecord.decode(recordBytes, path: recordPath, key: try reader.readString(), legacyHash: 0)
        let arm = try ExperimentConfig.load(file).arms.first { $0.name == "local" }!
        let ended = ExperimentRunner.endedText(arm, seed: 1, record: record, interrupted: false, step: 30)
        #expect(ended.contains(" bpc") && ended.contains("chosen on validation") && !ended.contains("%"), "\(ended)")

        // The ternary models carry their vocabulary and temperature; sample is deterministic per seed.
        let model = try TernaryNetwork(contentsOfFile: folder + "/local-seed1.tern")
        #expect(model.tokens?.context == 3 && model.temperature != nil)
        let first = Captured.run([
            "sample", folder + "/ste-seed1.tern", "--prompt", "and the", "--length", "40", "--seed", "3",
        ])
        let again = Captured.run([
            "sample", folder + "/ste-seed1.tern", "--prompt", "and the", "--length", "40", "--seed", "3",
        ])
        let other = Captured.run([
            "sample", folder + "/ste-seed1.tern", "--prompt", "and the", "--length", "40", "--seed", "4",
        ])
        #expect(first.status == 0, "\(first.output.err)")
        let printed = first.output.lines.withLock { $0.out.joined() }
        #expect(printed.hasPrefix("and the") && printed.unicodeScalars.count >= 47)
        #expect(printed == again.output.lines.withLock { $0.out.joined() })
        #expect(printed != other.output.lines.withLock { $0.out.joined() })
        let evaluated = Captured.run(["eval", folder + "/ste-seed1.tern", "--data", textPath])
        #expect(
            evaluated.status == 0 && evaluated.output.lines.withLock { $0.out.joined() }.contains("bits per character"))
        let info = Captured.run(["info", folder + "/ste-seed1.tern"])
        #expect(info.output.lines.withLock { $0.out.joined() }.contains("one-hot tokens: context 3"))
    }

    @Test("a text run gives the same rows on 1 and 2 threads")
    func threads() throws {
        let textPath = try write(TextTests.text, "corpus.txt"), one = temporaryPath("one"), two = temporaryPath("two"),
            file = temporaryPath("t.json")
        defer { for path in [textPath, one, two, file] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"text": "\#(textPath)", "context": 4}, "model": {"hidden": [20]}, "seeds": [2],
         "arms": {"local": {"strategy": "local", "steps": 40, "eval_every": 20, "batch": 500, "rotate_every": 15},
                  "ste": {"strategy": "ste", "epochs": 2, "epoch_examples": 500}}}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        for (folder, threads) in [(one, "1"), (two, "2")] {
            #expect(Captured.run(["run", file, "--out", folder, "--quiet", "--threads", threads]).status == 0)
        }
        #expect(try curvesWithoutTime(one) == curvesWithoutTime(two))
        #expect(try curvesWithoutTime(one).count == 5)
    }

    @Test("an interrupted text run, resumed, gives the rows of an uninterrupted one")
    func resume() throws {
        let textPath = try write(TextTests.text, "corpus.txt"), straight = temporaryPath("straight"),
            cut = temporaryPath("cut"), file = temporaryPath("t.json")
        defer { for path in [textPath, straight, cut, file] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"text": "\#(textPath)", "context": 3}, "model": {"hidden": [16]}, "seeds": [1],
         "arms": {"es": {"strategy": "es", "generations": 12, "eval_every": 4, "batch": 400, "rotate_every": 5},
                  "ste": {"strategy": "ste", "epochs": 6, "epoch_examples": 300}}}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", file, "--out", straight, "--quiet"]).status == 0)
        let runner = ExperimentRunner(
            config: try ExperimentConfig.load(file), folder: cut, threads: 1,
            console: Console(out: { _ in }, err: { _ in }), quiet: true, communicator: nil)
        runner.interrupt = InterruptFlag(trippingAfter: 17)
        #expect(try runner.run() == false)
        #expect(Captured.run(["resume", cut, "--quiet"]).status == 0)
        #expect(try curvesWithoutTime(cut) == curvesWithoutTime(straight))
        #expect(
            FileManager.default.contents(atPath: cut + "/es-seed1.tern")
                == FileManager.default.contents(atPath: straight + "/es-seed1.tern"))
    }

    @Test("the n-gram reference lines follow their formula (unigram checked by hand)")
    func references() throws {
        let corpus = try TextCorpus(text: "abababab" + "aab", context: 2, testFraction: 0.3, validationFraction: 0)
        let lines = TextReferences(corpus: corpus, orders: 1...2, compressors: false).lines
        // Train "abababab": a 4, b 4 of 8, V = 3 (a, b, unseen). Test "aab": windows predict "b" only.
        let expected = -log2((4 + 0.01) / (8 + 0.03))
        #expect(abs(lines[0].bits! - expected) < 1e-12, "\(lines[0].bits!) vs \(expected)")
        // Bigram p(b | a): 4 "ab" of 4 "a" histories (the last "b" has no successor).
        #expect(abs(lines[1].bits! + log2((4 + 0.01) / (4 + 0.03))) < 1e-12)
    }
}
