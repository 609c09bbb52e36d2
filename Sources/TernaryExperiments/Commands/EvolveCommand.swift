import Foundation
import TernaryCore
import TernaryEvolution

/// `ternevo evolve DATA`: one genetic-algorithm run on a CSV, IDX or synthetic dataset, with progress,
/// checkpoints and the best model saved. The experiment runner (`ternevo run`) will run several
/// arms and seeds from a config; this is the direct way to launch one evolution.
enum EvolveCommand {
    static let spec = CommandSpec(
        name: "evolve", abstract: "Evolve a ternary network on a CSV, IDX or synthetic dataset with the genetic algorithm.",
        usage: "ternevo evolve DATA [--hidden SIZES] [--seconds S] [--generations N] [options]",
        details: """
        Splits DATA (a CSV file with a header row, numeric features and an integer 'label'
        column; an IDX pair: a folder holding one, or the images file; or a built-in task such
        as synthetic:parity:10) into train and test sets (stratified, seeded), quantises inputs
        on the train split, and runs the GA: every generation all genomes are scored on one
        seeded minibatch of the train split; every --eval-every generations the batch-best
        genome is scored on the whole train and test splits (one progress line on stderr).
        Stops at --seconds or --generations, whichever comes first (default: 60 seconds), or
        at Ctrl-C after the current generation.

          --hidden SIZES       hidden layer sizes, e.g. 128 or 256-64 (default 128)
          --seconds S          wall-time budget in seconds
          --generations N      generation budget
          --population P       genomes per generation (default 256)
          --batch B            examples per generation's minibatch (default 256)
          --elite E            genomes copied unchanged (default 2)
          --tournament K       tournament size (default 3)
          --crossover KIND     uniform, neuron, two-point or none (default uniform)
          --mutation R         per-weight mutation rate (default: 5 / number of weights,
                               about five mutated weights per offspring)
          --threshold-rate R   per-threshold mutation rate (default 0.02)
          --threshold-step S   largest threshold step (default: 2% of the first layer's sum range)
          --zeros F            fraction of zero weights at start (default 0.33)
          --fitness KIND       xent or accuracy (default xent)
          --bits N             input bits, 1...8 (default 8)
          --test-fraction F    share of each class held out for testing (default 0.2)
          --seed S             run seed: split, initial population, batches, operators (default 1)
          --threads N          worker threads (default: all cores)
          --eval-every N       generations between full evaluations (default 10)
          --out MODEL.tern     where to save the best genome (by full-train fitness)
          --checkpoint FILE    write the run state here (atomic: temporary file, then rename)
          --checkpoint-every N generations between checkpoints (default 100; rounded up to
                               a multiple of --eval-every), and at the end
          --resume FILE        continue from a checkpoint of the same configuration
        """) { arguments, console in
            var reader = ArgumentReader(arguments, command: "evolve")
            let hidden = try reader.hiddenSizes("--hidden") ?? [128]
            let seconds = try reader.number("--seconds", in: 0...1e9)
            let generations = try reader.integer("--generations", in: 1...1_000_000_000)
            let population = try reader.integer("--population", in: 2...1_000_000) ?? 256
            let batch = try reader.integer("--batch", in: 1...100_000_000) ?? 256
            let elite = try reader.integer("--elite", in: 0...1_000_000) ?? 2
            let tournament = try reader.integer("--tournament", in: 1...1_000_000) ?? 3
            let crossoverName = try reader.string("--crossover") ?? "uniform"
            let mutationRate = try reader.number("--mutation", in: 0...1)
            let thresholdRate = try reader.number("--threshold-rate", in: 0...1) ?? 0.02
            let thresholdStep = try reader.integer("--threshold-step", in: 1...1_000_000_000)
            let zeros = try reader.number("--zeros", in: 0...1) ?? 1.0 / 3
            let fitnessName = try reader.string("--fitness") ?? "xent"
            let bits = try reader.integer("--bits", in: 1...8) ?? 8
            let testFraction = try reader.number("--test-fraction", in: 0...0.9) ?? 0.2
            let seed = try reader.integer("--seed", in: 0...Int.max) ?? 1
            let threads = try reader.integer("--threads", in: 1...1024)
            let evalEvery = try reader.integer("--eval-every", in: 1...1_000_000) ?? 10
            let out = try reader.string("--out")
            let checkpoint = try reader.string("--checkpoint")
            let checkpointEvery = try reader.integer("--checkpoint-every", in: 1...1_000_000_000) ?? 100
            let resume = try reader.string("--resume")
            let path = try reader.positionals(expected: "one dataset (a CSV file, an IDX folder or images file, or synthetic:TASK)", count: 1...1)[0]
            guard elite < population else {
                throw CommandError.usage("--elite \(elite) must be smaller than --population \(population)")
            }
            guard let fitness = FitnessKind(rawValue: fitnessName) else {
                throw CommandError.usage("--fitness '\(fitnessName)' is not one of xent, accuracy")
            }
            guard crossoverName == "none" || Crossover(rawValue: crossoverName) != nil else {
                throw CommandError.usage("--crossover '\(crossoverName)' is not one of uniform, neuron, two-point, none")
            }

            let (train, test, quantizer) = try PreparedData.load(path, testFraction: testFraction, seed: UInt64(seed), bits: bits)
            let sizes = [train.featureCount] + hidden + [train.classCount]
            let arm = ExperimentConfig.GAArm(
                seconds: seconds, generations: generations, population: population, batch: batch, elite: elite,
                tournament: tournament, crossover: crossoverName, mutation: mutationRate, thresholdRate: thresholdRate,
                thresholdStep: thresholdStep, fitness: fitness, evalEvery: evalEvery)
            let strategy = arm.strategy(sizes: sizes, levels: quantizer.levels, zeroFraction: zeros)
            let evolution = Evolution(strategy: strategy,
                                      architecture: Architecture(layerSizes: sizes, quantizer: quantizer),
                                      train: train, test: test,
                                      settings: EvolutionSettings(batchSize: batch, fitness: fitness,
                                                                  evaluationInterval: evalEvery, seed: UInt64(seed)),
                                      threads: threads)
            if let resume {
                do { try evolution.restore(fromFile: resume) } catch { throw CommandError.data("\(error)") }
                console.err("resumed from \(resume) at generation \(evolution.generation)")
            }
            console.err("evolve: \(sizes.map(String.init).joined(separator: "-")) on \(path) (\(train.count) train, \(test.count) test), population \(population), batch \(batch), seed \(seed), \(evolution.threads) threads")

            func save(_ path: String) {
                do { try evolution.writeCheckpoint(to: path) } catch {
                    console.err("ternevo: could not write checkpoint \(path): \(error)")
                }
            }
            var reached: [Int: Double] = [:]
            let interrupt = InterruptFlag.install()
            evolution.run(generations: generations, seconds: generations == nil ? (seconds ?? 60) : seconds) { statistics in
                if let evaluation = statistics.evaluation {
                    let testAccuracy = evaluation.test?.accuracy ?? 0
                    for target in [90, 93, 95] where reached[target] == nil && testAccuracy * 100 >= Double(target) {
                        reached[target] = statistics.wallSeconds
                    }
                    console.err(String(format: "gen %6d  evals %@  %7.1f s  fitness best %.4f mean %.4f  train %.2f%%  test %.2f%%",
                                       statistics.generation, grouped(statistics.evaluations), statistics.wallSeconds,
                                       statistics.bestFitness, statistics.meanFitness,
                                       100 * evaluation.train.accuracy, 100 * testAccuracy))
                    if let checkpoint, statistics.generation % ((checkpointEvery + evalEvery - 1) / evalEvery * evalEvery) == 0 {
                        save(checkpoint)
                    }
                }
                return !interrupt.isSet
            }
            // Checkpoint first, so a resumed run continues exactly as an uninterrupted one would.
            if let checkpoint { save(checkpoint) }
            if evolution.generation % evalEvery != 0 {
                // The budget ended between evaluation points: score the latest batch-best too.
                evolution.evaluateLatest()
            }
            let genomesPerSecond = Double(evolution.evaluations) / max(1e-9, evolution.wallSeconds)
            var lines = [String(format: "generations %d, genome evaluations %@ (%.0f per second), %.1f s",
                                evolution.generation, grouped(evolution.evaluations), genomesPerSecond, evolution.wallSeconds)]
            if let best = evolution.bestEver {
                lines.append(String(format: "best genome (by full-train fitness): train accuracy %.2f%%, test accuracy %.2f%%",
                                    100 * best.evaluation.train.accuracy, 100 * (best.evaluation.test?.accuracy ?? 0)))
                if let out {
                    do { try best.genome.write(toFile: out) } catch { throw CommandError.data("could not write \(out): \(error)") }
                    lines.append("saved \(out)")
                }
            }
            for target in [90, 93, 95] {
                lines.append("time to \(target)% test accuracy: " + (reached[target].map { String(format: "%.1f s", $0) } ?? "not reached"))
            }
            console.out(lines.joined(separator: "\n"))
            if interrupt.isSet { throw CommandError(message: "interrupted; the files above are complete", exitCode: 130) }
        }
}

extension ArgumentReader {
    /// Hidden sizes after `--name` such as `128` or `256-64`.
    mutating func hiddenSizes(_ name: String) throws -> [Int]? {
        guard let text = try string(name) else { return nil }
        let sizes = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 20 }) else {
            throw CommandError.usage("\(name) '\(text)' is not hidden sizes such as 128 or 256-64")
        }
        return sizes.map { $0! }
    }
}
