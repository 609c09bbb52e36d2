import Foundation
import TernaryBackprop
import TernaryCore
import TernaryEvolution

/// One logged point of a run: a row of `curves.csv` (DESIGN section 6).
struct CurveRow {
    var method: String, seed: UInt64, step: Int, wallSeconds: Double, evals: Int
    var trainLoss: Double?, trainAccuracy: Double?, testAccuracy: Double?
    var bestFitness: Double?, meanFitness: Double?
    var intOps: Double, floatOps: Double

    static let header = "method,seed,step,wall_s,evals,train_loss,train_acc,test_acc,best_fitness,mean_fitness,int_ops,float_ops"

    /// A row read back from `curves.csv` (for resuming); nil if malformed.
    init?(csv line: Substring) {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 12, let seed = UInt64(f[1]), let step = Int(f[2]), let wall = Double(f[3]), let evals = Int(f[4]),
              let intOps = Double(f[10]), let floatOps = Double(f[11]) else { return nil }
        func d(_ text: String) -> Double? { text.isEmpty ? nil : Double(text) }
        self.init(method: f[0], seed: seed, step: step, wallSeconds: wall, evals: evals, trainLoss: d(f[5]),
                  trainAccuracy: d(f[6]), testAccuracy: d(f[7]), bestFitness: d(f[8]), meanFitness: d(f[9]),
                  intOps: intOps, floatOps: floatOps)
    }

    init(method: String, seed: UInt64, step: Int, wallSeconds: Double, evals: Int, trainLoss: Double?, trainAccuracy: Double?,
         testAccuracy: Double?, bestFitness: Double?, meanFitness: Double?, intOps: Double, floatOps: Double) {
        self.method = method; self.seed = seed; self.step = step; self.wallSeconds = wallSeconds; self.evals = evals
        self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy; self.testAccuracy = testAccuracy
        self.bestFitness = bestFitness; self.meanFitness = meanFitness; self.intOps = intOps; self.floatOps = floatOps
    }

    var csv: String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        return "\(method),\(seed),\(step),\(String(format: "%.4f", wallSeconds)),\(evals),\(f(trainLoss)),\(f(trainAccuracy)),\(f(testAccuracy)),\(f(bestFitness)),\(f(meanFitness)),\(String(format: "%.0f", intOps)),\(String(format: "%.0f", floatOps))"
    }
}

/// Energy per operation assumed by the estimate (Horowitz, ISSCC 2014, 45 nm): a 32-bit
/// integer add 0.1 pJ (also charged per xor, and or popcount word); a float32 multiply-add
/// 3.7 + 0.9 = 4.6 pJ. Memory traffic is not counted.
enum EnergyModel {
    static let integerOperation = 0.1e-12
    static let floatMultiplyAdd = 4.6e-12
}

/// Runs every arm of an experiment for every seed and writes the run folder.
final class ExperimentRunner {
    let config: ExperimentConfig
    let folder: String
    let threads: Int?
    let console: Console
    let quiet: Bool
    var rows: [CurveRow] = []
    var summaries: [String] = []
    var lastWrite = 0.0, lastWriteCost = 0.0
    /// Saves the running arm's checkpoint and sidecar with the files (set while an arm runs).
    var checkpointActiveArm: (() -> Void)?
    /// (method, seed) pairs already finished, from the summary of a resumed run.
    var finished: Set<String> = []
    var interrupt = InterruptFlag.install()
    let terminal = isatty(2) == 1

    /// Rows of the run being resumed (nil for a new run).
    var resumeRows: [CurveRow]?

    init(config: ExperimentConfig, folder: String, threads: Int?, console: Console, quiet: Bool) {
        self.config = config
        self.folder = folder
        self.threads = threads
        self.console = console
        self.quiet = quiet
    }

    static let summaryHeader = "method,seed,steps,wall_s,evals,final_train_acc,final_test_acc,best_test_acc,time_to_90_s,time_to_95_s,int_ops,float_ops,energy_j"

    /// Continues the run in `folder` (a run folder of `ternevo run`): finished (method, seed)
    /// pairs are kept; an unfinished arm continues exactly from its last checkpoint (written with
    /// every rewrite of the files, so it matches the last row, and when the arm ends or is interrupted).
    func prepareResume() throws(DataError) {
        let curvesPath = folder + "/curves.csv", summaryPath = folder + "/summary.csv"
        guard let curves = try? String(contentsOfFile: curvesPath, encoding: .utf8),
              let summary = try? String(contentsOfFile: summaryPath, encoding: .utf8) else {
            throw DataError(path: folder, problem: "holds no curves.csv and summary.csv; is it a run folder of 'ternevo run'?")
        }
        var parsed: [CurveRow] = []
        for (index, line) in curves.split(separator: "\n").enumerated().dropFirst() {
            guard let row = CurveRow(csv: line) else {
                throw DataError(path: curvesPath, problem: "line \(index + 1) is not a curves row of 12 columns")
            }
            parsed.append(row)
        }
        resumeRows = parsed
        summaries = summary.split(separator: "\n").dropFirst().map(String.init)
        finished = Set(summaries.map { $0.split(separator: ",").prefix(2).joined(separator: ",") })
    }

    /// Runs everything; returns false if interrupted (files are complete either way).
    func run() throws -> Bool {
        let data = try config.loadData()
        let (trainRaw, testRaw) = data.split(testFraction: config.testFraction, seed: config.splitSeed)
        let quantizer = InputQuantizer(fitting: trainRaw.features, bits: config.bits)
        let train = trainRaw.quantized(with: quantizer), test = testRaw.quantized(with: quantizer)
        let sizes = [data.featureCount] + config.hidden + [data.classCount]
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if resumeRows == nil {
            try AtomicFile.write([UInt8](FileManager.default.contents(atPath: config.file) ?? Data()), to: folder + "/config.json")
        } else {
            rows = resumeRows!.filter { finished.contains("\($0.method),\($0.seed)") }
        }
        for seed in config.seeds {
            if let ga = config.ga, !interrupt.isSet, !finished.contains("ga,\(seed)") {
                runGA(ga, seed: seed, sizes: sizes, quantizer: quantizer, train: train, test: test)
            }
            for arm in config.backprop where !interrupt.isSet && !finished.contains("\(arm.arm.rawValue),\(seed)") {
                runBackprop(arm, seed: seed, sizes: sizes, quantizer: quantizer, train: train, test: test)
            }
        }
        try writeFiles(force: true)
        if terminal && !quiet { console.err("") }
        return !interrupt.isSet
    }

    func progress(_ text: String) {
        guard !quiet else { return }
        if terminal { FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8)) } else { console.err(text) }
    }

    func log(_ row: CurveRow) {
        rows.append(row)
        let test = row.testAccuracy.map { String(format: "  test %.2f%%", 100 * $0) } ?? ""
        let train = row.trainAccuracy.map { String(format: "  train %.2f%%", 100 * $0) } ?? ""
        progress(String(format: "%@ seed %d  step %d  %.1f s%@%@", row.method, row.seed, row.step, row.wallSeconds, train, test))
        try? writeFiles(force: false)
    }

    /// Rewrites curves.csv, summary.csv and curves.svg atomically, with the running arm's
    /// checkpoint, which matches the last row. Unless forced, at most once a second and never
    /// more than a tenth of the time: a rewrite grows with the rows, so a long run does not
    /// spend its wall time rewriting files.
    func writeFiles(force: Bool) throws {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        guard force || now - lastWrite >= max(1, 10 * lastWriteCost) else { return }
        defer {
            lastWrite = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
            lastWriteCost = lastWrite - now
        }
        checkpointActiveArm?()
        try AtomicFile.write(Array(([CurveRow.header] + rows.map(\.csv)).joined(separator: "\n").appending("\n").utf8), to: folder + "/curves.csv")
        try AtomicFile.write(Array(([ExperimentRunner.summaryHeader] + summaries).joined(separator: "\n").appending("\n").utf8), to: folder + "/summary.csv")
        var order: [String] = []
        var points: [String: [UInt64: [(x: Double, y: Double)]]] = [:]
        for row in rows {
            guard let y = row.testAccuracy else { continue }
            if points[row.method] == nil { order.append(row.method); points[row.method] = [:] }
            points[row.method]![row.seed, default: []].append((row.wallSeconds, y))
        }
        let chart = LineChart(series: order.map { method in
            LineChart.Series(method: method, seeds: points[method]!.keys.sorted().map { points[method]![$0]! })
        }, xLabel: "wall_s (training seconds)", yLabel: "test_acc", title: "\(config.name): test accuracy against training time")
        try AtomicFile.write(Array(chart.svg().utf8), to: folder + "/curves.svg")
    }

    func summarize(method: String, seed: UInt64) {
        let mine = rows.filter { $0.method == method && $0.seed == seed }
        guard let last = mine.last else { return }
        func f(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        func reach(_ target: Double) -> Double? { mine.first { ($0.testAccuracy ?? 0) >= target }?.wallSeconds }
        let best = mine.compactMap(\.testAccuracy).max()
        let energy = last.intOps * EnergyModel.integerOperation + last.floatOps * EnergyModel.floatMultiplyAdd
        summaries.append("\(method),\(seed),\(last.step),\(String(format: "%.4f", last.wallSeconds)),\(last.evals),\(f(last.trainAccuracy)),\(f(last.testAccuracy)),\(f(best)),\(f(reach(0.9))),\(f(reach(0.95))),\(String(format: "%.0f", last.intOps)),\(String(format: "%.0f", last.floatOps)),\(String(format: "%.6g", energy))")
    }

    /// Integer operations of one forward pass of `network` on one example: an add or subtract
    /// per nonzero first-layer weight, and xor, and, popcount per 64-weight word after.
    static func integerOperations(_ network: TernaryNetwork) -> Double {
        var ops = Double(network.weights[0].count - network.weights[0].zeroCount)
        for matrix in network.weights.dropFirst() { ops += 3 * Double(matrix.rowCount * matrix.wordsPerRow) }
        return ops
    }

    /// Clears the rows of (method, seed) and, when resuming, restores the arm: reads its sidecar
    /// `<method>-seed<N>.resume` (step and two more numbers), asks `restore` to load the
    /// checkpoint (it returns the restored step, or nil if the checkpoint does not match), and
    /// keeps the saved rows up to that step. Returns the sidecar's numbers, or nil to start over.
    func resumeArm(method: String, seed: UInt64, restore: ([Double]) -> Int?) -> [Double]? {
        rows.removeAll { $0.method == method && $0.seed == seed }
        guard let saved = resumeRows?.filter({ $0.method == method && $0.seed == seed }),
              let text = try? String(contentsOfFile: folder + "/\(method)-seed\(seed).resume", encoding: .utf8) else { return nil }
        let numbers = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard numbers.count == 3, let step = restore(numbers) else { return nil }
        rows += saved.filter { $0.step <= step }
        progress("\(method) seed \(seed): resumed at step \(step)")
        return numbers
    }

    /// Writes the sidecar of an arm's checkpoint: its step and two more numbers.
    func saveArm(method: String, seed: UInt64, numbers: [Double]) {
        try? AtomicFile.write(Array((numbers.map { "\($0)" }.joined(separator: " ") + "\n").utf8),
                              to: folder + "/\(method)-seed\(seed).resume")
    }

    func runGA(_ arm: ExperimentConfig.GAArm, seed: UInt64, sizes: [Int], quantizer: InputQuantizer,
               train: QuantizedDataset, test: QuantizedDataset) {
        let strategy = arm.strategy(sizes: sizes, levels: quantizer.levels, zeroFraction: config.zeroFraction)
        let evolution = Evolution(strategy: strategy, architecture: Architecture(layerSizes: sizes, quantizer: quantizer),
                                  train: train, test: test.count > 0 ? test : nil,
                                  settings: EvolutionSettings(batchSize: arm.batch, fitness: arm.fitness,
                                                              evaluationInterval: arm.evalEvery, seed: seed),
                                  threads: threads)
        let batch = min(arm.batch, train.count)
        var intOps = 0.0
        // Search time before this process (from a checkpoint) and the wall clock at the restore.
        var priorSearch = 0.0, restoredWall = 0.0
        let checkpoint = folder + "/ga-seed\(seed).tevc"
        if let numbers = resumeArm(method: "ga", seed: seed, restore: { numbers in
            guard (try? evolution.restore(fromFile: checkpoint)) != nil, evolution.generation == Int(numbers[0]) else { return nil }
            return evolution.generation
        }) {
            intOps = numbers[1]
            priorSearch = numbers[2]
            restoredWall = evolution.wallSeconds
        }
        func searchSeconds() -> Double { priorSearch + evolution.wallSeconds - restoredWall - evolution.evaluationSeconds }
        checkpointActiveArm = {
            guard evolution.generation > 0 else { return }
            try? evolution.writeCheckpoint(to: checkpoint)
            self.saveArm(method: "ga", seed: seed, numbers: [Double(evolution.generation), intOps, searchSeconds()])
        }
        defer { checkpointActiveArm = nil }
        while !interrupt.isSet {
            if let seconds = arm.seconds, searchSeconds() >= seconds { break }
            if let generations = arm.generations, evolution.generation >= generations { break }
            let statistics = evolution.step()
            // Counted from the first genome (an elite) for the whole population: recounting every
            // genome's nonzero weights each generation would cost more than the estimate is worth.
            intOps += ExperimentRunner.integerOperations(evolution.state.genomes[0]) * Double(batch * arm.population)
            if let evaluation = statistics.evaluation {
                log(CurveRow(method: "ga", seed: seed, step: statistics.generation, wallSeconds: searchSeconds(),
                             evals: statistics.evaluations, trainLoss: evaluation.train.loss,
                             trainAccuracy: evaluation.train.accuracy, testAccuracy: evaluation.test?.accuracy,
                             bestFitness: statistics.bestFitness, meanFitness: statistics.meanFitness, intOps: intOps, floatOps: 0))
            }
        }
        let interrupted = interrupt.isSet
        if !interrupted, evolution.generation % arm.evalEvery != 0, let evaluation = evolution.evaluateLatest() {
            log(CurveRow(method: "ga", seed: seed, step: evolution.generation, wallSeconds: searchSeconds(),
                         evals: evolution.evaluations, trainLoss: evaluation.train.loss, trainAccuracy: evaluation.train.accuracy,
                         testAccuracy: evaluation.test?.accuracy, bestFitness: nil, meanFitness: nil, intOps: intOps, floatOps: 0))
        }
        checkpointActiveArm?()
        if let best = evolution.bestEver { try? best.genome.write(toFile: folder + "/ga-seed\(seed).tern") }
        // Interrupted: no extra row and no summary row, so `ternevo resume` continues from the
        // checkpoint and logs the points an uninterrupted run would.
        guard !interrupted else { return }
        summarize(method: "ga", seed: seed)
    }

    func runBackprop(_ arm: ExperimentConfig.BackpropArmConfig, seed: UInt64, sizes: [Int], quantizer: InputQuantizer,
                     train: QuantizedDataset, test: QuantizedDataset) {
        let method = arm.arm.rawValue
        let trainer = BackpropTrainer(
            configuration: BackpropConfiguration(layerSizes: sizes, arm: arm.arm, learningRate: arm.learningRate,
                                                 weightDecay: arm.weightDecay, batchSize: arm.batch, schedule: arm.schedule,
                                                 epochs: arm.epochs ?? 100, seed: seed, threads: threads),
            train: train, levels: quantizer.levels)
        let evaluator = PopulationEvaluator(layerSizes: sizes, threads: threads)
        let synapses = Double(zip(sizes.dropFirst(), sizes).reduce(0) { $0 + $1.0 * $1.1 })
        var seconds = 0.0
        var best: (accuracy: Double, network: TernaryNetwork?) = (-1, nil)
        let model = folder + "/\(method)-seed\(seed).tern"
        let checkpoint = folder + "/\(method)-seed\(seed).bpck"
        if let numbers = resumeArm(method: method, seed: seed, restore: { numbers in
            guard (try? trainer.restore(fromFile: checkpoint)) != nil, trainer.epoch == Int(numbers[0]) else { return nil }
            return trainer.epoch
        }) {
            seconds = numbers[1]
            best = (numbers[2], try? TernaryNetwork(contentsOfFile: model))
        }
        checkpointActiveArm = {
            guard trainer.epoch > 0 else { return }
            try? trainer.writeCheckpoint(to: checkpoint)
            self.saveArm(method: method, seed: seed, numbers: [Double(trainer.epoch), seconds, best.accuracy])
        }
        defer { checkpointActiveArm = nil }
        func exhausted() -> Bool {
            if let budget = arm.seconds, seconds >= budget { return true }
            if let epochs = arm.epochs, trainer.epoch >= epochs { return true }
            return false
        }
        while !interrupt.isSet && !exhausted() {
            let start = DispatchTime.now().uptimeNanoseconds
            let loss = trainer.trainEpoch()
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard arm.logs(epoch: trainer.epoch) || exhausted() else { continue }
            let network = trainer.exportTernary(quantizer: quantizer)
            let trainScore = network.map { evaluator.scores(of: [$0], on: train.all)[0] } ?? trainer.score(train)
            let testScore = test.count == 0 ? nil : (network.map { evaluator.scores(of: [$0], on: test.all)[0] } ?? trainer.score(test))
            let selection = testScore?.accuracy ?? trainScore.accuracy
            if selection > best.accuracy {
                best = (selection, network)
                if let network { try? network.write(toFile: model) }
            }
            let examples = trainer.epoch * train.count
            log(CurveRow(method: method, seed: seed, step: trainer.epoch, wallSeconds: seconds, evals: examples,
                         trainLoss: loss, trainAccuracy: trainScore.accuracy, testAccuracy: testScore?.accuracy,
                         bestFitness: nil, meanFitness: nil, intOps: 0, floatOps: 3 * synapses * Double(examples)))
        }
        checkpointActiveArm?()
        // Interrupted before the budget ran out: no summary row, so `ternevo resume` continues
        // from the checkpoint.
        if exhausted() { summarize(method: method, seed: seed) }
    }
}
