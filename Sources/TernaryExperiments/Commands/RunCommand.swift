import Foundation
import TernaryCore

/// `ternevo run CONFIG.json`: every arm for every seed, with logs, models and a plot.
enum RunCommand {
    static let spec = CommandSpec(
        name: "run", abstract: "Run an experiment config: every arm (ga, local, es, ste, float) for every seed.",
        usage:
            "ternevo run CONFIG.json [--out DIR] [--threads N] [--quiet | --verbose] [--dry-run] [--max-memory SIZE]",
        details: """
            Writes into the run folder (default results/runs/<name>/, ignored by git; the results
            the documentation quotes are committed elsewhere under results/): config.json (the config it ran),
            curves.csv (one row per logged point: method, seed, step, wall_s, evals, train_loss,
            train_acc, val_acc, test_acc, best_fitness, mean_fitness, int_ops, float_ops),
            summary.csv (per arm and seed: final accuracies, the validation-chosen point and its
            test accuracy, the time to 85/90/95% test accuracy and an energy estimate), the model
            chosen on validation per ternary arm and seed (<arm>-seed<N>.tern), one record per arm
            and seed (<arm>-seed<N>.ckpt: its state, rows and model, from which resume continues)
            and curves.svg. Files are replaced by renames as the run goes, records first, so a kill
            at any moment leaves a consistent folder. wall_s counts training time only (the
            full-split scoring that makes the log is excluded). Progress goes to stderr: on a
            terminal one line per arm, updated in place; on a pipe or file a line as each arm starts
            and ends. At the end the comparison table of 'ternevo compare' and the path of the chart
            go to stdout. Ctrl-C, SIGTERM and SIGHUP stop the run after the current step with every
            file written, and it exits with status 130, 143 or 129 (128 + the signal).
            In a build with MPI (TERNEVO_MPI=1), 'mpirun -n N ternevo run CONFIG' runs one
            experiment across N processes with the results of one process; rank 0 writes.
            'ternevo help run --keys' lists every config key with its type, range and default.

              --out DIR      the run folder
              --threads N    worker threads (default: all cores; results do not depend on it)
              --quiet        no progress lines
              --verbose      a progress line per logged point, also on a pipe
              --dry-run      validate the config, load the data and print the plan with the
                             memory estimate
              --max-memory SIZE  refuse a run whose estimated memory exceeds SIZE (bytes, or
                             with K, M or G: 512M, 8G); default: the memory available now
            """
    ) { arguments, console, communicator in
        var reader = ArgumentReader(arguments, command: "run")
        let maxMemory = try reader.memorySize("--max-memory")
        let out = try reader.string("--out")
        let threads = try reader.integer("--threads", in: 1...1024)
        let quiet = reader.flag("--quiet")
        let verbose = try verboseFlag(&reader, quiet: quiet)
        let dryRun = reader.flag("--dry-run")
        let path = try reader.positionals(expected: "one config file", count: 1...1)[0]
        let config: ExperimentConfig
        do { config = try ExperimentConfig.load(path, communicator: communicator) } catch {
            throw CommandError.data("\(error)")
        }
        let folder = out ?? defaultFolder(config.name)
        if dryRun {
            return try printPlan(config, folder: folder, threads: threads, communicator: communicator, console: console)
        }
        let runner = ExperimentRunner(
            config: config, folder: folder, threads: threads, console: console, quiet: quiet,
            communicator: communicator)
        runner.memoryLimit = maxMemory
        runner.verbose = verbose
        try execute(runner, console: console)
    }

    /// The run folder of an experiment named `name` when no --out is given: ignored by git, so
    /// a run never rewrites the committed results.
    static func defaultFolder(_ name: String) -> String { "results/runs/\(name)" }

    /// `--verbose`, which cannot go with `--quiet`.
    static func verboseFlag(_ reader: inout ArgumentReader, quiet: Bool) throws -> Bool {
        let verbose = reader.flag("--verbose")
        guard !(verbose && quiet) else { throw CommandError.usage("give --quiet or --verbose, not both") }
        return verbose
    }

    /// Prints the plan of `--dry-run` (under `mpirun`, rank 0 alone; every rank loads the data).
    static func printPlan(
        _ config: ExperimentConfig, folder: String, threads: Int?, communicator: Communicator?, console: Console
    ) throws {
        let text = try plan(config, folder: folder, threads: threads, communicator: communicator)
        if (communicator?.rank ?? 0) == 0 { console.out(text) }
    }

    /// The plan of `--dry-run`: data, splits, network, arms.
    static func plan(
        _ config: ExperimentConfig, folder: String, threads: Int?, communicator: Communicator?
    ) throws -> String {
        let splits: ExperimentRunner.Splits
        let runner = ExperimentRunner(
            config: config, folder: folder, threads: threads, console: .standard, quiet: true,
            communicator: communicator)
        do { splits = try runner.loadSplits() } catch { throw CommandError.data("\(error)") }
        let ranks = runner.communicator?.size ?? 1
        let context = ArmContext(
            layerSizes: splits.layerSizes, activation: config.activation, quantizer: splits.quantizer,
            train: splits.train,
            zeroFraction: config.zeroFraction, threads: threads, ranks: ranks)
        let (total, estimates) = runner.memoryEstimate(context, splits: splits)
        let sizes = splits.layerSizes
        let weights = zip(sizes.dropFirst(), sizes).reduce(0) { $0 + $1.0 * $1.1 }
        let inputs =
            splits.quantizer.tokens.map {
                "text: context \($0.context), vocabulary \($0.vocabulary) (one-hot token inputs)"
            }
            ?? "\(config.bits)-bit inputs, \(splits.quantizer.scalingName) scaling"
        var lines = [
            "experiment \(config.name): \(splits.train.count) train, \(splits.validation.count) validation, \(splits.test.count) test examples, \(inputs)",
            "network \(sizes.map(String.init).joined(separator: "-")): \(grouped(weights)) weights, \(config.hidden.reduce(0, +)) thresholds",
            "seeds \(config.seeds.map(String.init).joined(separator: ", ")); run folder \(folder)",
            "kernels: \(InstructionSet.active) on \(InstructionSet.cpuName.isEmpty ? "this CPU" : InstructionSet.cpuName) (TERNEVO_ISA=NAME chooses among \(InstructionSet.supported.map(\.rawValue).joined(separator: ", ")))",
        ]
        let starts = config.arms.map { $0.settings.startAdditions(context) }
        let rate = starts.contains { $0 > 0 } ? context.measuredStartRate() : nil
        for (arm, start) in zip(config.arms, starts) {
            let bytes = estimates.first { $0.arm.name == arm.name }?.bytes ?? 0
            lines.append(
                "  \(arm.name) (\(arm.kind)): \(arm.budgetText); about \(gigabytes(bytes))\(startText(start, rate: rate))"
            )
            lines.append("    \(arm.keysText)")
        }
        let limit = MemoryLimits.tightest
        let share =
            ranks > 1
            ? " per process (\(ranks) processes; the evolution arms cache only their block of each batch)" : ""
        lines.append(
            "\(config.arms.count) arm(s) x \(config.seeds.count) seed(s); memory estimate \(gigabytes(total))\(share) (\(gigabytes(limit.bytes)) \(limit.source))"
        )
        return lines.joined(separator: "\n")
    }

    /// The work of an arm's start (random genomes, calibration, readout) and, at the measured
    /// `rate` (additions per second), its time: `; start 2.1e+09 additions, about 0.8 s here`.
    /// A start is sliced: it answers to Ctrl-C and the seconds budget, so a long one is told,
    /// not refused (memory is what refuses a run).
    static func startText(_ additions: Int, rate: Double?) -> String {
        guard additions > 0 else { return "" }
        let time =
            rate.map { rate in
                let seconds = Double(additions) / rate
                return seconds < 60
                    ? String(format: ", about %.2g s here", seconds)
                    : String(format: ", about %.1f min here", seconds / 60)
            } ?? ""
        return String(format: "; start %.2g additions", Double(additions)) + time
    }

    /// Runs or resumes, prints the summary, maps failures to exit codes.
    static func execute(_ runner: ExperimentRunner, console: Console) throws {
        let finished: Bool
        do { finished = try runner.run() } catch let error as DataError {
            throw CommandError.data("\(error)")
        } catch let error as RunFailure {
            throw CommandError(message: error.message, exitCode: error.exitCode)
        }
        guard runner.writes else { return }
        // The answer: the table 'ternevo compare' prints, then where the chart is.
        if !runner.summaries.isEmpty { console.out(try CompareCommand.table([runner.folder], markdown: false)) }
        console.out(
            "chart: \(runner.folder)/curves.svg (curves.csv: \(grouped(runner.rows.count)) rows; summary.csv, models and records in \(runner.folder))"
        )
        if !finished {
            throw CommandError(
                message:
                    "interrupted (\(runner.interrupt.signalName)); the files in \(runner.folder) are complete up to the last logged point; continue with 'ternevo resume \(runner.folder)'",
                exitCode: runner.interrupt.exitStatus)
        }
    }
}

/// `ternevo resume RUN_DIR`: continues an interrupted run.
enum ResumeCommand {
    static let spec = CommandSpec(
        name: "resume", abstract: "Continue an interrupted or killed 'ternevo run' from its run folder.",
        usage: "ternevo resume RUN_DIR [--threads N] [--quiet | --verbose] [--restart-damaged] [--max-memory SIZE]",
        details: """
            Reads RUN_DIR/config.json and the arm records (<arm>-seed<N>.ckpt). Finished arms are
            kept; an unfinished arm continues exactly from its record (written with every rewrite
            of the files), so its rows equal those of an uninterrupted run (wall_s aside); an arm
            without a record starts. curves.csv, summary.csv, the models and curves.svg are
            rewritten from the records. A damaged record stops the resume with a message naming
            it; --restart-damaged starts such an arm over instead. Progress and the closing table
            are as for 'ternevo run' (--quiet, --verbose).
            """
    ) { arguments, console, communicator in
        var reader = ArgumentReader(arguments, command: "resume")
        let threads = try reader.integer("--threads", in: 1...1024)
        let quiet = reader.flag("--quiet")
        let verbose = try RunCommand.verboseFlag(&reader, quiet: quiet)
        let restartDamaged = reader.flag("--restart-damaged")
        let maxMemory = try reader.memorySize("--max-memory")
        let folder = try reader.positionals(expected: "one run folder", count: 1...1)[0]
        // Rank 0 reads the config for every rank (the others need no copy of the folder).
        guard (communicator?.rank ?? 0) != 0 || FileManager.default.fileExists(atPath: folder + "/config.json") else {
            throw CommandError.data("\(folder): holds no config.json; is it a run folder of 'ternevo run'?")
        }
        let config: ExperimentConfig
        do { config = try ExperimentConfig.load(folder + "/config.json", communicator: communicator) } catch {
            throw CommandError.data("\(error)")
        }
        let runner = ExperimentRunner(
            config: config, folder: folder, threads: threads, console: console, quiet: quiet,
            resuming: true, restartDamaged: restartDamaged, communicator: communicator)
        runner.memoryLimit = maxMemory
        runner.verbose = verbose
        try RunCommand.execute(runner, console: console)
    }
}

/// A one-arm experiment from command-line options: what `evolve` and `train` run. The options
/// become a config file (written to the run folder as config.json) and the runner runs it, so
/// budgets, splits, flags and files mean the same as in `ternevo run`.
enum OneArmCommand {
    /// What messages about the options' config name instead of a file.
    static let commandLine = "the command line"

    /// Refuses, before any work, an output file whose folder does not exist or is not a
    /// writable folder (exit 73).
    static func checkWritable(_ path: String, option: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        let parent = folder.isEmpty ? "." : folder
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder), isFolder.boolValue else {
            throw CommandError(
                message:
                    "\(option) \(path): \(parent) is not an existing folder; create it first or choose another path",
                exitCode: 73)
        }
        guard FileManager.default.isWritableFile(atPath: parent) else {
            throw CommandError(
                message: "\(option) \(path): the folder \(parent) is not writable; choose another path", exitCode: 73)
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw CommandError(
                message: "\(option) \(path): is a folder; give a file name such as \(path)/model.tern", exitCode: 73)
        }
    }

    static let commonOptions = """
          --hidden SIZES            hidden layer sizes, e.g. 128 or 256-64 (default 128)
          --seconds S               training-time budget
          --steps N                 step budget (generations, local-search steps or epochs;
                                    --generations N and --epochs N say the same)
          --seed S                  split seed and run seed (default 1)
          --test-fraction F         share of each class held out for testing (default 0.2)
          --validation-fraction F   share of the rest held out for model selection (default 0.1)
          --bits N                  input bits, 1...8 (default 8)
          --scaling KIND            auto (default: chosen on the train split), global (one
                                    input range) or per_feature
          --zeros F                 fraction of zero weights at start (default 0.33)
          --activation KIND         hidden units: sign (default) or relu2 ... relu8 (K-bit levels)
          --eval-every N            steps between logged points
          --patience N              stop after N logged points without a better validation
                                    accuracy (early stopping; default: run the whole budget)
          --threads N               worker threads (default: all cores)
          --out DIR                 the run folder (default results/runs/<command>-<arm>)
          --model FILE.tern         also copy the model chosen on validation here
          --quiet                   no progress lines
          --verbose                 a progress line per logged point, also on a pipe
          --max-memory SIZE         refuse a run estimated to need more (default: available)
          --dry-run                 load the data and print the plan with its memory estimate
          --KEY VALUE               any setting of the arm's kind, as in a config file
                                    (--population 512, --candidates 64, --lr 0.01, ...);
                                    'ternevo help run --keys' lists them with their defaults
        Resume an interrupted run with 'ternevo resume DIR'.
        """

    static func run(
        command: String, kind: String, defaultBudget: (String, String), arguments: [String], console: Console,
        communicator: Communicator?
    ) throws {
        var reader = ArgumentReader(arguments, command: command)
        let hidden = try reader.hiddenSizes("--hidden") ?? [128]
        let seconds = try reader.number("--seconds", in: 0.001...1e9)
        let countKey = ArmKinds.all.first { $0.kind == kind }!.countKey
        // The kind's own budget name (--epochs, --generations) means what --steps means.
        let steps =
            try reader.integer("--steps", in: 1...1_000_000_000)
            ?? reader.integer("--\(countKey)", in: 1...1_000_000_000)
        let seed = try reader.integer("--seed", in: 0...Int(Int32.max)) ?? 1
        let testFraction = try reader.number("--test-fraction", in: 0...0.9)
        let validationFraction = try reader.number("--validation-fraction", in: 0...0.9)
        let bits = try reader.integer("--bits", in: 1...8)
        let scaling = try reader.string("--scaling")
        let zeros = try reader.number("--zeros", in: 0...1)
        let activation = try reader.string("--activation")
        let evalEvery = try reader.integer("--eval-every", in: 1...1_000_000)
        let threads = try reader.integer("--threads", in: 1...1024)
        let out = try reader.string("--out")
        let model = try reader.string("--model")
        let quiet = reader.flag("--quiet")
        let verbose = try RunCommand.verboseFlag(&reader, quiet: quiet)
        let dryRun = reader.flag("--dry-run")
        let maxMemory = try reader.memorySize("--max-memory")
        let settings = try reader.remainingOptions()
        let data = try reader.positionals(
            expected: "one dataset (a CSV file, an IDX folder or images file, or synthetic:TASK)", count: 1...1)[0]

        // The data argument takes the forms 'eval --data' takes, by the same rules.
        let form = DatasetFile.configKey(data)
        var dataset: [(String, Any)] = [(form.key, form.value)]
        dataset.append(("split_seed", NSNumber(value: seed)))
        if let testFraction { dataset.append(("test_fraction", NSNumber(value: testFraction))) }
        if let validationFraction { dataset.append(("validation_fraction", NSNumber(value: validationFraction))) }
        if let bits { dataset.append(("bits", NSNumber(value: bits))) }
        if let scaling { dataset.append(("scaling", scaling)) }
        var arm: [(String, Any)] = [("strategy", kind)]
        if seconds == nil && steps == nil { arm.append((defaultBudget.0, literal(defaultBudget.1))) }
        if let seconds { arm.append(("seconds", NSNumber(value: seconds))) }
        if let steps { arm.append((countKey, NSNumber(value: steps))) }
        if let evalEvery { arm.append(("eval_every", NSNumber(value: evalEvery))) }
        for (name, value) in settings {
            let key = name.replacingOccurrences(of: "-", with: "_")
            guard !arm.contains(where: { $0.0 == key }) else {
                throw CommandError.usage("--\(name) is given twice (or also as a budget); give it once")
            }
            arm.append((key, literal(value)))
        }
        var modelKeys: [(String, Any)] = [("hidden", hidden.map { NSNumber(value: $0) })]
        if let zeros { modelKeys.append(("zero_fraction", NSNumber(value: zeros))) }
        if let activation { modelKeys.append(("activation", activation)) }
        let root = object([
            ("name", "\(command)-\(kind)"), ("dataset", object(dataset)), ("model", object(modelKeys)),
            ("seeds", [NSNumber(value: seed)]), ("arms", object([(kind, object(arm))])),
        ])
        let folder = out ?? "results/runs/\(command)-\(kind)"

        // Errors of the options name the option (the reader labels keys as options); an error
        // in a file the options name (the data) names that file.
        let config: ExperimentConfig
        do {
            config = try ExperimentConfig.read(
                ConfigReader(file: commandLine, path: "", object: root, fromOptions: true))
        } catch {
            throw CommandError.usage(error.path == commandLine ? error.problem : "\(error)")
        }
        // Where the model goes is checked before training, not after it.
        if let model {
            guard kind != "float" else {
                throw CommandError.usage(
                    "--model: the float arm has no ternary model to save; use --arm ste, or drop --model")
            }
            try checkWritable(model, option: "--model")
        }
        if dryRun {
            return try RunCommand.printPlan(
                config, folder: folder, threads: threads, communicator: communicator, console: console)
        }
        let runner = ExperimentRunner(
            config: config, folder: folder, threads: threads, console: console, quiet: quiet,
            communicator: communicator)
        runner.memoryLimit = maxMemory
        runner.verbose = verbose
        try RunCommand.execute(runner, console: console)
        if let model { try copyModel(from: folder + "/\(kind)-seed\(seed).tern", to: model, console: console) }
    }

    /// A value as JSON: a number or true/false as it is, anything else as a string.
    static func literal(_ text: String) -> Any {
        if text == "true" || text == "false" { return NSNumber(value: text == "true") }
        if text.range(of: #"^-?[0-9.]+([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil,
            let number = Double(text)
        {
            return NSNumber(value: number)
        }
        return text
    }

    /// A JSON object with its members in order.
    static func object(_ members: [(String, Any)]) -> JSONObject {
        JSONObject(keys: members.map(\.0), values: Dictionary(members, uniquingKeysWith: { $1 }))
    }

    /// Copies the chosen model of a finished run to `model` (`--model`), by a rename.
    static func copyModel(from chosen: String, to model: String, console: Console) throws {
        guard let bytes = FileManager.default.contents(atPath: chosen) else {
            throw CommandError.data("\(chosen): no model was written (the float arm has no ternary model)")
        }
        do { try AtomicFile.write([UInt8](bytes), to: model) } catch {
            throw CommandError(message: "\(model): cannot be written (\(reason(error)))", exitCode: 74)
        }
        console.out("saved \(model)")
    }
}
