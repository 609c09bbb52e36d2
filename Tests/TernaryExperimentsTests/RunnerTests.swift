import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import TernaryExperiments

@Suite("Experiment configs")
struct ConfigTests {
    func problem(_ json: String) -> String? {
        let path = temporaryPath("config.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try? json.write(toFile: path, atomically: true, encoding: .utf8)
        do { _ = try ExperimentConfig.load(path); return nil } catch {
            return error.description.replacingOccurrences(of: path + ": ", with: "")
        }
    }

    let valid = """
    {"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"generations": 5}}}
    """

    @Test("a minimal config is valid, with defaults")
    func minimal() throws {
        #expect(problem(valid) == nil)
    }

    @Test("each kind of error names its key", arguments: [
        ("{", "is not valid JSON"),
        ("[]", "must hold a JSON object at the top"),
        (#"{"model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1}}}"#, "missing key 'dataset'"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1}}, "sedes": [1]}"#, "unknown key 'sedes'"),
        (#"{"dataset": {"synthetic": "xor", "bits": 9}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1}}}"#, "key 'dataset.bits': 9.0 is outside 1.0 ... 8.0"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": "4"}, "arms": {"ga": {"seconds": 1}}}"#, "key 'model.hidden': expected a non-empty array of integers, found the string '4'"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1, "population": 1.5}}}"#, "key 'arms.ga.population'"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"population": 8}}}"#, "key 'arms.ga.seconds': missing: give seconds and/or generations"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ste": {"epochs": 2, "lr": true}}}"#, "key 'arms.ste.lr': expected a number, found a boolean"),
        (#"{"dataset": {"synthetic": "circles"}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1}}}"#, "key 'dataset.synthetic': 'circles' is not one of"),
        (#"{"dataset": {"csv": "a.csv", "idx": "b"}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1}}}"#, "give exactly one of csv, idx, synthetic"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1, "crossover": "zip"}}}"#, "key 'arms.ga.crossover': 'zip' is not one of uniform, neuron, two-point, none"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 1, "popsize": 3}}}"#, "unknown key 'arms.ga.popsize'"),
        (#"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {}}"#, "give at least one arm"),
    ])
    func errors(json: String, expected: String) {
        let message = problem(json)
        #expect(message?.contains(expected) == true, "\(message ?? "no error") does not contain \(expected)")
    }

    @Test("the shipped experiments are valid")
    func shipped() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["quickstart", "digits", "mnist5k"] {
            let config = try ExperimentConfig.load(root.appendingPathComponent("experiments/\(name).json").path)
            #expect(config.ga != nil && config.backprop.count == 2, "\(name)")
        }
    }
}

@Suite("Experiment runner")
struct RunnerTests {
    @Test("a tiny end-to-end run on xor writes the documented files and columns")
    func xorRun() throws {
        let folder = temporaryPath("run")
        let config = temporaryPath("xor.json")
        defer { for path in [folder, config] { try? FileManager.default.removeItem(atPath: path) } }
        try """
        {"name": "xor", "dataset": {"synthetic": "xor", "test_fraction": 0},
         "model": {"hidden": [8]}, "seeds": [1, 2],
         "arms": {"ga": {"generations": 20, "population": 32, "eval_every": 5, "mutation": 0.05},
                  "ste": {"epochs": 3, "batch": 4}, "float": {"epochs": 3, "batch": 4}}}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["run", config, "--out", folder, "--quiet"])
        #expect(status == 0, "\(output.err)")
        let curves = try String(contentsOfFile: folder + "/curves.csv", encoding: .utf8).split(separator: "\n")
        #expect(curves[0] == "method,seed,step,wall_s,evals,train_loss,train_acc,test_acc,best_fitness,mean_fitness,int_ops,float_ops")
        #expect(curves.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 12 })
        // ga: 4 evaluation points per seed; ste and float: 3 epochs per seed.
        #expect(curves.filter { $0.hasPrefix("ga,1,") }.count == 4)
        #expect(curves.filter { $0.hasPrefix("ste,2,") }.count == 3)
        #expect(curves.filter { $0.hasPrefix("float,1,") }.count == 3)
        let summary = try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8).split(separator: "\n")
        #expect(summary[0] == "method,seed,steps,wall_s,evals,final_train_acc,final_test_acc,best_test_acc,time_to_90_s,time_to_95_s,int_ops,float_ops,energy_j")
        #expect(summary.count == 1 + 3 * 2)
        for file in ["config.json", "ga-seed1.tern", "ga-seed2.tern", "ste-seed1.tern", "curves.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "\(file) missing")
        }
        let svg = try #require(FileManager.default.contents(atPath: folder + "/curves.svg"))
        #expect(XMLParser(data: svg).parse())
    }

    @Test("dry run prints the plan without writing")
    func dryRun() throws {
        let config = temporaryPath("plan.json"), folder = temporaryPath("never")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try #"{"dataset": {"synthetic": "xor"}, "model": {"hidden": [4]}, "arms": {"ga": {"seconds": 3}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["run", config, "--dry-run", "--out", folder])
        #expect(status == 0)
        #expect(output.out.contains("network 2-4-2: 16 weights, 4 thresholds"))
        #expect(output.out.contains("ga: 3 s, population 256"))
        #expect(!FileManager.default.fileExists(atPath: folder))
    }
}
