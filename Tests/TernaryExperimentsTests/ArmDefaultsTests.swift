import Foundation
import TernaryCore
import TernaryEvolution
import TestSupport
import Testing

@testable import TernaryExperiments

/// The strategies' defaults have one home (`GeneticAlgorithm.Defaults`, ...), which the config
/// keys read; the plan and the record key speak the config's words; records keyed by the
/// settings' reflection text (earlier builds) still resume.
@Suite("arm defaults and the config's words")
struct ArmDefaultsTests {
    let config = #"""
        {"dataset": {"synthetic": "parity:6", "test_fraction": 0.25, "validation_fraction": 0.25, "split_seed": 1}, "model": {"hidden": [8]},
         "seeds": [1], "arms": {"ga": {"strategy": "ga", "generations": 6}, "local": {"strategy": "local", "steps": 6},
                                "es": {"strategy": "es", "generations": 6}, "ste": {"strategy": "ste", "epochs": 16}}}
        """#

    func load() throws -> (ExperimentConfig, ArmContext) {
        let file = temporaryPath("defaults.json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try config.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try ExperimentConfig.load(file)
        let runner = ExperimentRunner(
            config: config, folder: "unused", threads: 1, console: .standard, quiet: true, communicator: nil)
        let splits = try runner.loadSplits()
        let context = ArmContext(
            layerSizes: splits.layerSizes, activation: config.activation, quantizer: splits.quantizer,
            train: splits.train, zeroFraction: config.zeroFraction, threads: 1)
        return (config, context)
    }

    /// Six steps of `session`: the reports' fitness and the state's bytes.
    func trajectory(_ session: SearchSession) throws -> ([Double?], [UInt8]) {
        var fitness: [Double?] = []
        for _ in 0..<6 { fitness.append(try session.advance().bestFitness) }
        var writer = BinaryWriter()
        session.encodeState(into: &writer)
        return (fitness, writer.bytes)
    }

    @Test("GeneticAlgorithm(), LocalSearch() and SignVoteES() run the algorithms of ternevo's ga, local and es arms")
    func libraryDefaultsAreTheArms() throws {
        let (config, context) = try load()
        let architecture = Architecture(
            layerSizes: context.layerSizes, activation: context.activation, quantizer: context.quantizer)
        typealias GA = GeneticAlgorithm.Defaults
        let gaProblem = SearchProblem(
            architecture: architecture, train: context.train, batchSize: GA.batchSize,
            rotateEvery: GA.rotateEvery, cacheBudget: GA.cacheMegabytes << 20, threads: 1)
        // local and es: the whole train split, redrawn every 100 steps (the incremental arms' batch
        // keys); a problem per session (it holds the session's caches and counters).
        func pointProblem() -> SearchProblem {
            SearchProblem(architecture: architecture, train: context.train, rotateEvery: 100, threads: 1)
        }
        let library: [String: SearchSession] = [
            "ga": SearchRun(strategy: GeneticAlgorithm(), problem: gaProblem, seed: 1),
            "local": SearchRun(strategy: LocalSearch(), problem: pointProblem(), seed: 1),
            "es": SearchRun(strategy: SignVoteES(), problem: pointProblem(), seed: 1),
        ]
        #expect(Set(config.arms.map(\.name)).isSuperset(of: library.keys))
        for arm in config.arms where library[arm.name] != nil {
            let (armFitness, armState) = try trajectory(arm.settings.makeSession(context, seed: 1))
            let (libraryFitness, libraryState) = try trajectory(library[arm.name]!)
            #expect(armFitness == libraryFitness, "\(arm.name)")
            #expect(armState == libraryState, "\(arm.name)")
        }
    }

    @Test("--dry-run prints each arm's budget in its unit, its start's work and its keys as a config writes them")
    func planInTheUsersWords() throws {
        let (config, _) = try load()
        let plan = try RunCommand.plan(config, folder: "x", threads: 1, communicator: nil)
        #expect(plan.contains("ste (ste): 16 epochs; about "), "\(plan)")
        #expect(plan.contains("ga (ga): 6 generations; about "), "\(plan)")
        #expect(
            plan.contains(
                "    ga: population 32, batch 1000, rotate_every 200, cache_mb 256, elite 4, tournament 3, parents 4, crossover none, mutation auto, threshold_rate 0.004"
            ), "\(plan)")
        #expect(
            plan.contains(
                "    local: candidates 32, moves 1, threshold_probability 0.1, threshold_step auto, neutral false, greedy true"
            ), "\(plan)")
        #expect(
            plan.contains("    ste: lr 0.003, batch 64, schedule constant, weight_decay 0, window scaled"), "\(plan)")
        #expect(!plan.contains("Settings("), "\(plan)")
        // A start's work: 32 genomes x (a calibration sample of min(train, 1000) + the readout's
        // train split) x 6 x 8 additions, and its time at the measured rate.
        let (_, context) = try load()
        let train = context.train.count
        let ga = config.arms.first { $0.name == "ga" }!
        #expect(ga.settings.startAdditions(context) == 32 * (min(train, 1000) + train) * 48)
        let line = try #require(plan.split(separator: "\n").first { $0.hasPrefix("  ga (ga)") })
        #expect(
            line.contains(
                String(format: "; start %.2g additions, about ", Double(32 * (min(train, 1000) + train) * 48))),
            "\(line)")
    }

    @Test("the record key names the keys and values as a config writes them")
    func recordKeyInTheUsersWords() throws {
        let (config, context) = try load()
        let runner = ExperimentRunner(
            config: config, folder: "unused", threads: 1, console: .standard, quiet: true, communicator: nil)
        let arm = config.arms.first { $0.name == "local" }!
        let key = runner.recordKey(arm, arm.settings.makeSession(context, seed: 1))
        #expect(
            key.hasSuffix(
                "\nkeys: local: candidates 32, moves 1, threshold_probability 0.1, threshold_step auto, neutral false, greedy true, readout true, output_share auto, step_every auto, batch auto, rotate_every 100, fitness xent, temperature auto, first_layer auto"
            ), "\(key)")
    }

    /// Rewrites the record at `path` with the key an earlier build wrote: its `keys:` line the
    /// settings value printed by reflection.
    func rekeyAsEarlierBuilds(_ path: String, arm: ExperimentConfig.Arm) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var (reader, _, _) = try ChecksummedFile.open(
            bytes, path: path, magic: ArmRecord.magic, versions: 1...ArmRecord.version, what: "arm record")
        var record = try ArmRecord.decode(bytes, path: path, key: try reader.readString(), legacyHash: 0)
        let keys = try #require(record.key.range(of: "\nkeys: "))
        record.key = String(record.key[..<keys.upperBound]) + String(describing: arm.settings)
        #expect(record.key.contains("keys: LocalSettings(candidates: 32"))
        try Data(record.encode()).write(to: URL(fileURLWithPath: path))
    }

    @Test(
        "a record keyed by the settings' reflection text (earlier builds) resumes to the files of a straight run; a changed key is still refused"
    )
    func earlierRecordsResume() throws {
        let file = temporaryPath("legacy.json"), straight = temporaryPath("straight"), cut = temporaryPath("cut")
        defer { for path in [file, straight, cut] { try? FileManager.default.removeItem(atPath: path) } }
        let oneArm = #"""
            {"dataset": {"synthetic": "parity:4", "test_fraction": 0.25, "validation_fraction": 0.25, "split_seed": 1}, "model": {"hidden": [8]},
             "seeds": [1], "arms": {"local": {"strategy": "local", "steps": 30, "eval_every": 5}}}
            """#
        try oneArm.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(Captured.run(["run", file, "--out", straight, "--quiet"]).status == 0)
        let config = try ExperimentConfig.load(file)
        let runner = ExperimentRunner(
            config: config, folder: cut, threads: 1, console: Console(out: { _ in }, err: { _ in }), quiet: true,
            communicator: nil)
        runner.interrupt = InterruptFlag(trippingAfter: 12)
        #expect(try runner.run() == false)
        try rekeyAsEarlierBuilds(cut + "/local-seed1.ckpt", arm: config.arms[0])
        #expect(Captured.run(["resume", cut, "--quiet"]).status == 0)
        #expect(try curvesWithoutTime(cut) == curvesWithoutTime(straight))
        // The resumed record carries the new key.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cut + "/local-seed1.ckpt")))
        var (reader, _, _) = try ChecksummedFile.open(
            bytes, path: "r", magic: ArmRecord.magic, versions: 1...ArmRecord.version, what: "arm record")
        #expect(try reader.readString().hasSuffix("keys: \(config.arms[0].keysText)"))
        // A reflection key of other settings is another configuration.
        try rekeyAsEarlierBuilds(cut + "/local-seed1.ckpt", arm: config.arms[0])
        var changed = try String(contentsOfFile: cut + "/config.json", encoding: .utf8)
        changed = changed.replacingOccurrences(
            of: #""strategy": "local""#, with: #""strategy": "local", "candidates": 16"#)
        changed = changed.replacingOccurrences(
            of: #""strategy" : "local""#, with: #""strategy" : "local", "candidates" : 16"#)
        try changed.write(toFile: cut + "/config.json", atomically: true, encoding: .utf8)
        let refused = Captured.run(["resume", cut, "--quiet"])
        #expect(refused.status != 0 && refused.output.err.contains("different configuration"), "\(refused.output.err)")
    }

    @Test("evolve and train take their kinds from the registry")
    func commandsListTheRegistry() {
        #expect(EvolveCommand.kinds == ["ga", "local", "es"])
        #expect(TrainCommand.kinds == ["ste", "float"])
        #expect(Set(EvolveCommand.kinds + TrainCommand.kinds) == Set(ArmKinds.names))
        #expect(alternatives(["a", "b", "c"]) == "a, b or c" && alternatives(["a"]) == "a")
    }
}
