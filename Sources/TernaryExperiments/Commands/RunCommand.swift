import Foundation
import TernaryCore

/// `ternevo run CONFIG.json`: every arm for every seed, with logs, models and a plot.
enum RunCommand {
    static let spec = CommandSpec(
        name: "run", abstract: "Run an experiment config: every arm (ga, ste, float) for every seed.",
        usage: "ternevo run CONFIG.json [--out DIR] [--threads N] [--quiet] [--dry-run]",
        details: """
        Writes into the run folder (default results/<name>/): config.json (the config it ran),
        curves.csv (one row per logged point: method, seed, step, wall_s, evals, train_loss,
        train_acc, test_acc, best_fitness, mean_fitness, int_ops, float_ops), summary.csv (per
        method and seed, with the time to 90% and 95% test accuracy and an energy estimate),
        the best model per ternary arm and seed (<method>-seed<N>.tern) and curves.svg. Files
        are rewritten atomically as the run goes, so they are complete at any moment. wall_s
        counts training time only (the full-split scoring that produces the log is excluded).
        One progress line per logged point goes to stderr. Ctrl-C stops at the next logged
        point and exits with status 130.

          --out DIR      the run folder
          --threads N    worker threads (default: all cores)
          --quiet        no progress lines
          --dry-run      validate the config and print the plan without training
        """) { arguments, console in
            var reader = ArgumentReader(arguments, command: "run")
            let out = try reader.string("--out")
            let threads = try reader.integer("--threads", in: 1...1024)
            let quiet = reader.flag("--quiet")
            let dryRun = reader.flag("--dry-run")
            let path = try reader.positionals(expected: "one config file", count: 1...1)[0]
            let config: ExperimentConfig
            do { config = try ExperimentConfig.load(path) } catch { throw CommandError.data("\(error)") }
            let folder = out ?? "results/\(config.name)"
            if dryRun {
                let data: LabeledData
                do { data = try config.loadData() } catch { throw CommandError.data("\(error)") }
                let sizes = [data.featureCount] + config.hidden + [data.classCount]
                let weights = zip(sizes.dropFirst(), sizes).reduce(0) { $0 + $1.0 * $1.1 }
                var lines = ["experiment \(config.name): \(data.count) examples from \(data.source), test fraction \(config.testFraction), \(config.bits)-bit inputs",
                             "network \(sizes.map(String.init).joined(separator: "-")): \(grouped(weights)) weights, \(config.hidden.reduce(0, +)) thresholds",
                             "seeds \(config.seeds.map(String.init).joined(separator: ", ")); run folder \(folder)"]
                func budget(_ seconds: Double?, _ count: Int?, _ unit: String) -> String {
                    [seconds.map { String(format: "%g s", $0) }, count.map { "\($0) \(unit)" }].compactMap { $0 }.joined(separator: " or ")
                }
                if let ga = config.ga {
                    lines.append("  ga: \(budget(ga.seconds, ga.generations, "generations")), population \(ga.population), batch \(ga.batch), \(ga.crossover) crossover")
                }
                for arm in config.backprop {
                    lines.append("  \(arm.arm.rawValue): \(budget(arm.seconds, arm.epochs, "epochs")), lr \(arm.learningRate), batch \(arm.batch), \(arm.schedule.rawValue)")
                }
                lines.append("\((config.ga == nil ? 0 : 1) + config.backprop.count) arm(s) x \(config.seeds.count) seed(s)")
                console.out(lines.joined(separator: "\n"))
                return
            }
            let runner = ExperimentRunner(config: config, folder: folder, threads: threads, console: console, quiet: quiet)
            let finished: Bool
            do { finished = try runner.run() } catch let error as DataError { throw CommandError.data("\(error)") }
            console.out("wrote \(folder): config.json, curves.csv (\(runner.rows.count) rows), summary.csv, curves.svg\n"
                        + ([ExperimentRunner.summaryHeader] + runner.summaries).joined(separator: "\n"))
            if !finished { throw CommandError(message: "interrupted; the files in \(folder) are complete up to the last logged point", exitCode: 130) }
        }
}

/// `ternevo resume RUN_DIR`: continues an interrupted run.
enum ResumeCommand {
    static let spec = CommandSpec(
        name: "resume", abstract: "Continue an interrupted 'ternevo run' from its run folder.",
        usage: "ternevo resume RUN_DIR [--threads N] [--quiet]",
        details: """
        Reads RUN_DIR/config.json, curves.csv and summary.csv. Arms and seeds already in
        summary.csv are kept as they are. An unfinished arm continues exactly from its last
        checkpoint (<method>-seed<N>.tevc for the GA, .bpck for STE and float, written with every
        rewrite of the files and at the end of the arm), so its rows equal those of an
        uninterrupted run (wall_s aside); an arm without a checkpoint starts over.
        """) { arguments, console in
            var reader = ArgumentReader(arguments, command: "resume")
            let threads = try reader.integer("--threads", in: 1...1024)
            let quiet = reader.flag("--quiet")
            let folder = try reader.positionals(expected: "one run folder", count: 1...1)[0]
            let config: ExperimentConfig
            do { config = try ExperimentConfig.load(folder + "/config.json") } catch { throw CommandError.data("\(error)") }
            let runner = ExperimentRunner(config: config, folder: folder, threads: threads, console: console, quiet: quiet)
            let finished: Bool
            do {
                try runner.prepareResume()
                finished = try runner.run()
            } catch let error as DataError { throw CommandError.data("\(error)") }
            console.out("wrote \(folder): curves.csv (\(runner.rows.count) rows), summary.csv, curves.svg\n"
                        + ([ExperimentRunner.summaryHeader] + runner.summaries).joined(separator: "\n"))
            if !finished { throw CommandError(message: "interrupted again; resume once more to continue", exitCode: 130) }
        }
}
