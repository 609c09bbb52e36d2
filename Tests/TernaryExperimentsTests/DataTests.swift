import Foundation
import Testing
import TernaryCore
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

    @Test("bad files name the line and column", arguments: [
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
        let data = LabeledData(features: labels.map(Float.init), featureCount: 1, labels: labels, classCount: 3, source: "x")
        let (train, test) = data.split(testFraction: 0.2, seed: 4)
        #expect(test.count == 60 && train.count == 240)
        #expect((0..<3).allSatisfy { c in test.labels.filter { $0 == c }.count == 20 })
        #expect(data.split(testFraction: 0.2, seed: 4).test.features == test.features)
        #expect(data.split(testFraction: 0.2, seed: 5).test.features != test.features)
    }
}

@Suite("evolve command")
struct EvolveCommandTests {
    @Test("a short run on a CSV file saves a model that info can read")
    func shortRun() throws {
        var lines = ["x0,x1,x2,label"]
        var rng = Xoshiro256(seed: 1)
        for _ in 0..<120 {
            let label = rng.uniformBelow(2)
            lines.append("\(label * 10 + rng.uniformBelow(3)),\(rng.uniformBelow(10)),\(10 - label * 10),\(label)")
        }
        let csv = temporaryPath("data.csv"), model = temporaryPath("best.tern"), checkpoint = temporaryPath("run.tevc")
        defer { for path in [csv, model, checkpoint] { try? FileManager.default.removeItem(atPath: path) } }
        try lines.joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["evolve", csv, "--hidden", "8", "--generations", "20", "--population", "16",
                                             "--batch", "32", "--eval-every", "5", "--out", model, "--checkpoint", checkpoint])
        #expect(status == 0, "\(output.err)")
        #expect(output.out.contains("generations 20"))
        #expect(output.out.contains("saved \(model)"))
        #expect(output.err.contains("gen     20"))
        #expect(try TernaryNetwork(contentsOfFile: model).layerSizes == [3, 8, 2])
        let (resumeStatus, resumed) = Captured.run(["evolve", csv, "--hidden", "8", "--generations", "5", "--population", "16",
                                                    "--batch", "32", "--eval-every", "5", "--resume", checkpoint])
        #expect(resumeStatus == 0, "\(resumed.err)")
        #expect(resumed.err.contains("resumed from \(checkpoint) at generation 20"))
        #expect(resumed.out.contains("generations 25"))
        let (mismatch, mismatched) = Captured.run(["evolve", csv, "--hidden", "9", "--generations", "5", "--population", "16",
                                                   "--resume", checkpoint])
        #expect(mismatch == 65)
        #expect(mismatched.err.contains("different configuration"))
    }

    @Test("bad options and data files are one-line errors")
    func errors() throws {
        #expect(Captured.run(["evolve", "x.csv", "--crossover", "zip"]).output.err
                == "ternevo: --crossover 'zip' is not one of uniform, neuron, two-point, none")
        #expect(Captured.run(["evolve", "x.csv", "--population", "4", "--elite", "4"]).status == 64)
        let (status, output) = Captured.run(["evolve", "/no/such.csv"])
        #expect(status == 65)
        #expect(output.err == "ternevo: /no/such.csv: cannot be read (missing, a folder, or no permission)")
    }
}
