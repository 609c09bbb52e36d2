import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryExperiments

@Suite("compare command and early stopping")
struct CompareTests {
    @Test("compare prints mean ± sd over seeds and draws the runs' curves in one chart")
    func compare() throws {
        let config = temporaryPath("compare.json"), first = temporaryPath("first"), second = temporaryPath("second"),
            svg = temporaryPath("both.svg")
        defer { for path in [config, first, second, svg] { try? FileManager.default.removeItem(atPath: path) } }
        try #"""
        {"dataset": {"synthetic": "parity:4", "test_fraction": 0.25, "validation_fraction": 0.25}, "model": {"hidden": [8]}, "seeds": [1, 2],
         "arms": {"local": {"strategy": "local", "steps": 40, "eval_every": 10}, "ste": {"strategy": "ste", "epochs": 3}}}
        """#.write(toFile: config, atomically: true, encoding: .utf8)
        for folder in [first, second] {
            #expect(Captured.run(["run", config, "--out", folder, "--quiet"]).status == 0)
        }
        let (status, output) = Captured.run(["compare", first, second, "--out", svg])
        #expect(status == 0, "\(output.err)")
        let table = output.out
        #expect(table.contains("final val") && table.contains("final test"))
        // Two seeds per arm: a mean and a sample standard deviation, checked against summary.csv.
        let summary = try CompareCommand.readSummary(first + "/summary.csv").filter { $0["method"] == "local" }
        let finals = summary.map { Double($0["final_test_acc"]!)! }
        #expect(table.contains(CompareCommand.meanAndDeviation(finals)), "\(table)")
        let chart = try String(contentsOfFile: svg, encoding: .utf8)
        let firstName = (first as NSString).lastPathComponent, secondName = (second as NSString).lastPathComponent
        for name in ["\(firstName)/local", "\(secondName)/local", "\(firstName)/ste", "\(secondName)/ste"] {
            #expect(chart.contains(name), "\(name) is not in the chart")
        }
        #expect(CompareCommand.meanAndDeviation([0.5, 0.7]) == "60.0 ± 14.1%")
        #expect(Captured.run(["compare", first, "--out", "/nonexistent-folder/x.svg"]).status == 74)
    }

    @Test("patience stops an arm after that many logged points without a better validation accuracy")
    func patience() throws {
        let config = temporaryPath("patience.json"), folder = temporaryPath("patience")
        defer { for path in [config, folder] { try? FileManager.default.removeItem(atPath: path) } }
        // XOR is solved within a few dozen generations; then validation cannot improve.
        try #"""
        {"dataset": {"synthetic": "xor"}, "model": {"hidden": [8]}, "seeds": [1],
         "arms": {"ga": {"strategy": "ga", "generations": 100000, "population": 32, "eval_every": 10, "patience": 3}}}
        """#.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["run", config, "--out", folder, "--quiet"])
        #expect(status == 0, "\(output.err)")
        let rows = try String(contentsOfFile: folder + "/curves.csv", encoding: .utf8).split(separator: "\n")
            .dropFirst()
        // XOR's four examples leave no validation split: selection uses train accuracy (column 7).
        let validation = rows.map { row -> Double in
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            return Double(fields[7]) ?? Double(fields[6])!
        }
        let best = validation.firstIndex(of: validation.max()!)!
        #expect(validation.count - 1 - best == 3, "stopped \(validation.count - 1 - best) points after the best")
        #expect(validation.count < 1000)
    }
}

@Suite("scaling and launch checks")
struct LaunchTests {
    @Test("auto scaling picks per-feature ranges for columns in different units, one range for pixels")
    func autoScaling() {
        // Two columns in the same unit (0-16, like digits' pixels): one range.
        #expect(!InputQuantizer.fitsPerFeature([0, 16, 3, 0, 16, 9, 8, 1], featureCount: 2))
        // Wine-like: one column in the thousands, the others in units.
        #expect(InputQuantizer.fitsPerFeature([1200, 1.2, 3.1, 400, 2.5, 2.2, 900, 0.8, 2.9], featureCount: 3))
        // Constant columns do not count; an all-constant table keeps one range.
        #expect(!InputQuantizer.fitsPerFeature([5, 5, 5, 5], featureCount: 2))
    }

    @Test(
        "a build without MPI started as one of several MPI processes refuses, instead of running the experiment N times"
    )
    func mpiWithoutMPI() throws {
        let (status, message) = try launch(try ternevoBinary(), ["help"], environment: ["OMPI_COMM_WORLD_SIZE": "2"])
        #expect(status == 64)
        #expect(message.contains("TERNEVO_MPI=1"), "\(message)")
    }
}
