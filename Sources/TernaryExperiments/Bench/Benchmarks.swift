import Foundation
import TernaryBackprop
import TernaryCore
import TernaryEvolution

/// One measured figure of `ternevo bench`; `json` gives the keys scripts read.
struct BenchRow {
    var shape: String?
    var kind: String
    var threads: Int
    var genomeEvalsPerSecond: Double?
    var synapticOpsPerSecond: Double?
    var peakFraction: Double?
    var extra: [String: Any] = [:]

    var json: [String: Any] {
        var object: [String: Any] = [
            "shape": shape ?? NSNull(), "kind": kind, "threads": threads,
            "genome_evals_per_s": genomeEvalsPerSecond ?? NSNull(),
            "synaptic_ops_per_s": synapticOpsPerSecond ?? NSNull(),
            "peak_fraction": peakFraction ?? NSNull(),
        ]
        object.merge(extra) { a, _ in a }
        return object
    }
}

/// The measurements behind `ternevo bench`.
struct Benchmarks {
    var population = 256
    var batchSize = 256
    var repeats = 5
    /// Least wall time of one repeat; short passes are repeated within it.
    var minimumSeconds = 0.25
    var shapes: [[Int]] = [[64, 128, 10], [784, 256, 10], [256, 1024, 1024, 10]]
    var threadCounts = Array(Set([1, Parallel.coreCount])).sorted()
    /// Examples of the epoch benchmarks (nil: the digits train split and 4000 MNIST-sized ones).
    var epochExamples: Int?
    /// Iterations of each register-only peak loop per repeat.
    var peakIterations = 20_000_000
    var memoryPopulation = 1000
    var memoryShape = [784, 256, 10]
    /// Measure only the shapes (no peak, no memory row).
    var onlyShapes = false
    /// Measure only the incremental-scoring rows.
    var onlyDelta = false
    /// Measure only the backprop epoch rows.
    var onlyEpochs = false
    /// Measure only the levels rows (sign against K-bit activations).
    var onlyLevels = false
    var progress: (String) -> Void = { _ in }

    /// Median of `repeats` timings of each body, in seconds per call. The bodies take turns
    /// (one timing of each per round), so a slow minute on a shared machine hurts all of them
    /// alike and their ratios stay fair.
    func medianSeconds(_ bodies: [() -> Void]) -> [Double] {
        for body in bodies { body() }  // warm up: caches, page faults, lazy buffers
        var samples = [[Double]](repeating: [], count: bodies.count)
        for _ in 0..<repeats {
            for (index, body) in bodies.enumerated() {
                var calls = 0
                let start = DispatchTime.now().uptimeNanoseconds
                var elapsed = 0.0
                repeat {
                    body()
                    calls += 1
                    elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                } while elapsed < minimumSeconds
                samples[index].append(elapsed / Double(calls))
            }
        }
        return samples.map { $0.sorted()[$0.count / 2] }
    }

    /// Register-loop peaks with `threads` threads running at once: the popcount and int16-add
    /// loops of the chosen instruction set's kernels, the float32 FMA loop at the width of our
    /// float kernels (8 lanes, AVX2), and at the chosen set's widest vectors (16 lanes).
    func peaks(threads: Int) -> (popcount: Double, add: Double, fma: Double, fmaWide: Double) {
        let iterations = peakIterations
        let isa = InstructionSet.active
        func best(_ loop: @escaping @Sendable (Int) -> Double) -> Double {
            (0..<max(1, repeats / 2)).map { _ in
                Parallel.map(count: threads, workers: threads) { _, _ in loop(iterations) }.reduce(0, +)
            }.max()!
        }
        return (
            best { isa.popcountPeak(iterations: $0) }, best { isa.addPeak(iterations: $0) },
            best(MachinePeak.fmaOpsPerSecond), best { isa.fmaPeak(iterations: $0) }
        )
    }

    /// The host: CPU model, the instruction set the kernels run on and those it could run.
    static var hostRow: BenchRow {
        BenchRow(
            kind: "host", threads: Parallel.coreCount,
            extra: [
                "cpu": InstructionSet.cpuName, "isa": InstructionSet.active.rawValue,
                "isa_supported": InstructionSet.supported.map(\.rawValue),
            ])
    }

    func ternaryRows(peaks: [Int: (popcount: Double, add: Double, fma: Double, fmaWide: Double)]) -> [BenchRow] {
        var rows = [BenchRow]()
        for shape in shapes {
            var rng = Xoshiro256(seed: 2024)
            let networks = (0..<population).map { _ in
                TernaryNetwork(layerSizes: shape, zeroFraction: 1.0 / 3, using: &rng)
            }
            let features = (0..<(batchSize * shape[0])).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let labels = (0..<batchSize).map { _ in rng.uniformBelow(shape.last!) }
            let batch = ExampleBatch(features: features, featureCount: shape[0], labels: labels)
            let synapses = zip(shape.dropFirst(), shape).reduce(0) { $0 + $1.0 * $1.1 }
            let name = shape.map(String.init).joined(separator: "-")
            progress("ternary \(name), \(threadCounts.map(String.init).joined(separator: " and ")) thread(s) in turn")
            let timings = medianSeconds(
                threadCounts.map { threads in
                    let evaluator = PopulationEvaluator(layerSizes: shape, threads: threads)
                    return { blackHole(evaluator.scores(of: networks, on: batch)) }
                })
            for (threads, seconds) in zip(threadCounts, timings) {
                let ops = Double(population * batchSize * synapses) / seconds
                rows.append(
                    BenchRow(
                        shape: name, kind: "ternary", threads: threads,
                        genomeEvalsPerSecond: Double(population) / seconds, synapticOpsPerSecond: ops,
                        peakFraction: peaks[threads].map { ops / $0.popcount },
                        extra: ["population": population, "batch": batchSize, "seconds": seconds]))
            }
        }
        return rows
    }

    /// Genome evaluations per second of the genetic algorithm (selection, crossover, mutation,
    /// batch drawing, bookkeeping and scoring) on `shape` with all threads, over the evaluator
    /// alone scoring the same population on fresh batches of the same data. Both are timed back
    /// to back in each of `repeats` rounds and the median ratio is kept (1.0: the operators cost
    /// nothing).
    func evolutionOverheadRow(shape: [Int]) -> BenchRow {
        let threads = threadCounts.max()!
        var rng = Xoshiro256(seed: 99)
        let count = max(batchSize, 1438)
        let data = QuantizedDataset(
            features: (0..<(count * shape[0])).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
            featureCount: shape[0], labels: (0..<count).map { _ in rng.uniformBelow(shape.last!) },
            classCount: shape.last!)
        let weights = zip(shape.dropFirst(), shape).reduce(0) { $0 + $1.0 * $1.1 }
        let strategy = GeneticAlgorithm(
            populationSize: population, eliteCount: min(2, population - 1),
            mutation: Mutation(weightRate: 5 / Double(weights), thresholdRate: 0.02, thresholdStep: 8))
        let problem = SearchProblem(
            architecture: Architecture(layerSizes: shape), train: data, batchSize: batchSize,
            rotateEvery: 1, threads: threads)
        let evolution = SearchRun(strategy: strategy, problem: problem, seed: 1)
        let evaluator = PopulationEvaluator(layerSizes: shape, threads: threads)
        for _ in 0..<3 { _ = try? evolution.advance() }  // warm up
        var gaRates = [Double](), evaluatorRates = [Double](), ratios = [Double]()
        for round in 0..<repeats {
            let before = evolution.evaluations, start = DispatchTime.now().uptimeNanoseconds
            var seconds = 0.0
            repeat {
                _ = try? evolution.advance()
                seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while seconds < minimumSeconds
            let gaRate = Double(evolution.evaluations - before) / seconds
            let genomes = evolution.state.genomes
            var batchRng = Xoshiro256(seed: 7, stream: [UInt64(round)])
            var scored = 0
            let clock = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                let batch = data.batch(data.sampleIndices(batchSize, using: &batchRng))
                blackHole(evaluator.scores(of: genomes, on: batch))
                scored += genomes.count
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
            } while elapsed < minimumSeconds
            gaRates.append(gaRate)
            evaluatorRates.append(Double(scored) / elapsed)
            ratios.append(gaRate / (Double(scored) / elapsed))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return BenchRow(
            shape: shape.map(String.init).joined(separator: "-"), kind: "ga", threads: threads,
            genomeEvalsPerSecond: median(gaRates),
            extra: [
                "population": population, "batch": batchSize,
                "evaluator_genome_evals_per_s": median(evaluatorRates), "ratio": median(ratios),
            ])
    }

    /// The same population-batched forward in float32 through the backprop module's SIMD
    /// kernels (matrix product, bias, ReLU), at most 64 genomes (hidden-heavy float genomes
    /// take 5 MB each); `peak_fraction` is of the FMA loop's peak.
    func floatRows(peaks: [Int: (popcount: Double, add: Double, fma: Double, fmaWide: Double)]) -> [BenchRow] {
        var rows = [BenchRow]()
        let count = min(population, 64)
        for shape in shapes {
            let name = shape.map(String.init).joined(separator: "-")
            progress("float32 \(name)")
            let networks = FloatPopulation(layerSizes: shape, count: count, seed: 5)
            var rng = Xoshiro256(seed: 6)
            let inputs = (0..<(batchSize * shape[0])).map { _ in Float(rng.uniformBelow(256)) / 255 }
            let synapses = zip(shape.dropFirst(), shape).reduce(0) { $0 + $1.0 * $1.1 }
            let timings = medianSeconds(
                threadCounts.map { threads in
                    { blackHole(networks.forward(inputs: inputs, batchSize: batchSize, threads: threads)) }
                })
            for (threads, seconds) in zip(threadCounts, timings) {
                let ops = Double(count * batchSize * synapses) / seconds
                rows.append(
                    BenchRow(
                        shape: name, kind: "float", threads: threads,
                        genomeEvalsPerSecond: Double(count) / seconds, synapticOpsPerSecond: ops,
                        peakFraction: peaks[threads].map { ops / $0.fma },
                        extra: ["population": count, "batch": batchSize, "source": "swift"]))
            }
        }
        return rows
    }

    /// Seconds per training epoch of the backprop baselines (batch 64, all threads): 64-128-10 on
    /// the shipped digits set (random data of the same size if it is not found) and 784-256-10
    /// on 4000 random MNIST-sized examples. The median epoch of `repeats + 1`, the first dropped.
    func epochRows() -> [BenchRow] {
        var rows = [BenchRow]()
        var rng = Xoshiro256(seed: 8)
        func random(_ count: Int, _ features: Int, _ classes: Int) -> QuantizedDataset {
            QuantizedDataset(
                features: (0..<(count * features)).map { _ in UInt8(rng.uniformBelow(256)) },
                featureCount: features, labels: (0..<count).map { _ in rng.uniformBelow(classes) },
                classCount: classes)
        }
        var digits = random(epochExamples ?? 1438, 64, 10)
        var digitsSource = "random"
        if epochExamples == nil, let data = try? CSVLoader.load(path: "experiments/data/digits.csv") {
            let train = data.split(testFraction: 0.2, seed: 1).train
            digits = train.quantized(with: InputQuantizer(fitting: train.features))
            digitsSource = "experiments/data/digits.csv"
        }
        let cases: [(BackpropArm, [Int], QuantizedDataset, String)] = [
            (.ste, [64, 128, 10], digits, digitsSource), (.float, [64, 128, 10], digits, digitsSource),
            (.ste, [784, 256, 10], random(epochExamples ?? 4000, 784, 10), "random MNIST-sized"),
            (.float, [784, 256, 10], random(epochExamples ?? 4000, 784, 10), "random MNIST-sized"),
        ]
        for (arm, shape, data, source) in cases {
            let name = shape.map(String.init).joined(separator: "-")
            progress("\(arm.rawValue) epochs on \(name)")
            let threads = threadCounts.max()!
            let trainer = BackpropTrainer(
                configuration: BackpropConfiguration(layerSizes: shape, arm: arm, threads: threads),
                train: data, levels: 255)
            var seconds = [Double]()
            for _ in 0...max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                trainer.trainEpoch()
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let kept = seconds.dropFirst().sorted()
            rows.append(
                BenchRow(
                    shape: name, kind: "\(arm.rawValue)-epoch", threads: threads,
                    extra: [
                        "seconds_per_epoch": kept[kept.count / 2], "examples": data.count,
                        "batch": 64, "data": source,
                    ]))
        }
        return rows
    }

    /// Incremental scoring against full evaluation (TernaryCore's article `Sources/TernaryCore/TernaryCore.docc/IncrementalEvaluation.md`): candidates scored per
    /// second from one genome's cache, each candidate one random move of a kind (`first-layer`,
    /// `hidden`, `output` trits or a `threshold`), and full evaluations per second of genomes of
    /// the same shape on the same batch; both with all threads, taking turns in every round.
    /// 64-128-10 on the digits train split (1437 examples; random bytes if the file is missing),
    /// 784-256-10 on B = 4000 (the MNIST-5k train split when exported, else random MNIST-like
    /// images: 80% zero pixels).
    func deltaRows() -> [BenchRow] {
        var rows = [BenchRow]()
        var rng = Xoshiro256(seed: 11)
        let threads = threadCounts.max()!
        func random(_ count: Int, _ features: Int, zeros: Double) -> QuantizedDataset {
            QuantizedDataset(
                features: (0..<(count * features)).map { _ in
                    rng.uniformDouble() < zeros ? 0 : UInt8(1 + rng.uniformBelow(255))
                },
                featureCount: features, labels: (0..<count).map { _ in rng.uniformBelow(10) }, classCount: 10)
        }
        func trainSplit(_ path: String) -> QuantizedDataset? {
            guard epochExamples == nil, let data = try? CSVLoader.load(path: path) else { return nil }
            let train = data.split(testFraction: 0.2, seed: 1).train
            return train.quantized(with: InputQuantizer(fitting: train.features))
        }
        let small = epochExamples ?? 1437, large = epochExamples ?? 4000
        let digits = trainSplit("experiments/data/digits.csv")
        let mnist = trainSplit("experiments/data/mnist5k/mnist5k.csv")
        let cases: [([Int], QuantizedDataset, String)] = [
            ([64, 128, 10], digits ?? random(small, 64, zeros: 0.3), digits == nil ? "random" : "digits train split"),
            (
                [784, 256, 10], mnist ?? random(large, 784, zeros: 0.8),
                mnist == nil ? "random MNIST-like" : "MNIST-5k train split"
            ),
        ]
        for (shape, data, source) in cases {
            let name = shape.map(String.init).joined(separator: "-")
            progress("incremental scoring on \(name), B = \(data.count)")
            let genomeCount = 4 * threads
            var genomes = (0..<genomeCount).map { _ in
                TernaryNetwork(layerSizes: shape, zeroFraction: 1.0 / 3, using: &rng)
            }
            let evaluator = PopulationEvaluator(layerSizes: shape, threads: threads)
            calibrateThresholds(&genomes, on: data.all, evaluator: evaluator)
            // The default scorer (one shard, candidates split over the threads) against one shard
            // per thread scored shard by shard (the layout of a data-parallel process group).
            let scorer = IncrementalScorer(layerSizes: shape, threads: threads)
            let sharded = IncrementalScorer(layerSizes: shape, threads: threads, shards: threads, split: .shards)
            let rebuilds = medianSeconds([
                { scorer.rebuild(genomes[0], on: data) }, { sharded.rebuild(genomes[0], on: data) },
            ])
            rows.append(
                BenchRow(
                    shape: name, kind: "delta-rebuild", threads: threads,
                    extra: [
                        "batch": data.count, "shards": sharded.shardCount, "seconds": rebuilds[0],
                        "sharded_seconds": rebuilds[1], "data": source,
                    ]))
            let batch = data.all
            let kinds = ["first-layer"] + (shape.count > 3 ? ["hidden"] : []) + ["output", "threshold"]
            for kind in kinds {
                var candidates = MoveList()
                let genome = genomes[0]
                for _ in 0..<256 {
                    switch kind {
                    case "threshold":
                        let layer = rng.uniformBelow(shape.count - 2), neuron = rng.uniformBelow(shape[layer + 1])
                        let step = Int32(layer == 0 ? 1 + rng.uniformBelow(200) : 1 + rng.uniformBelow(4))
                        candidates.appendCandidate([
                            .threshold(
                                layer: layer, neuron: neuron,
                                value: genome.thresholds[layer][neuron] + (rng.uniformBelow(2) == 0 ? step : -step))
                        ])
                    default:
                        let layer =
                            kind == "first-layer"
                            ? 0 : kind == "output" ? shape.count - 2 : 1 + rng.uniformBelow(shape.count - 3)
                        let row = rng.uniformBelow(shape[layer + 1]), column = rng.uniformBelow(shape[layer])
                        let current = Int(genome.weights[layer][row, column])
                        let value = Int8((current + 2 + rng.uniformBelow(2)) % 3 - 1)
                        candidates.appendCandidate([.trit(layer: layer, row: row, column: column, value: value)])
                    }
                }
                let timings = medianSeconds([
                    { blackHole(scorer.scores(of: candidates)) },
                    { blackHole(evaluator.scores(of: genomes, on: batch)) },
                    { blackHole(sharded.scores(of: candidates)) },
                ])
                let candidatesPerSecond = Double(candidates.count) / timings[0]
                let fullPerSecond = Double(genomeCount) / timings[1]
                rows.append(
                    BenchRow(
                        shape: name, kind: "delta", threads: threads,
                        extra: [
                            "move": kind, "batch": data.count, "candidates_per_s": candidatesPerSecond,
                            "full_evals_per_s": fullPerSecond, "ratio": candidatesPerSecond / fullPerSecond,
                            "shards": sharded.shardCount,
                            "sharded_candidates_per_s": Double(candidates.count) / timings[2], "data": source,
                        ]))
            }
        }
        return rows + textDeltaRows() + levelDeltaRows()
    }

    /// A first-layer move of the text shape (<doc:TextLanguageModelling>: context 8, 64 symbols, 512
    /// one-hot inputs, hidden 256, 64 classes) on B = 20,000 windows of the shipped KJV slice,
    /// scored with token inputs (the column index: only the windows holding the moved column)
    /// and with the same windows as dense one-hot bytes (every example), taking turns in every
    /// round; also output-layer and threshold moves on tokens. All threads.
    func textDeltaRows() -> [BenchRow] {
        let threads = threadCounts.max()!
        let count = epochExamples ?? 20_000
        var rng = Xoshiro256(seed: 12)
        let corpus = try? TextCorpus.load(
            path: "experiments/data/kjv-pentateuch.txt", context: 8, testFraction: 0.1, validationFraction: 0.05)
        let V = corpus?.tokens.vocabulary ?? 63
        let stream =
            corpus.map { Array($0.train.stream.prefix(count + 8)) }
            ?? (0..<(count + 8)).map { _ in UInt16(rng.uniformBelow(V)) }
        let tokens = QuantizedDataset(windows: TokenWindows(stream: stream, context: 8, vocabulary: V))
        let all = tokens.all
        var features = [UInt8]()
        features.reserveCapacity(tokens.count * tokens.featureCount)
        for b in 0..<tokens.count { features += all.features(of: b) }
        let dense = QuantizedDataset(
            features: features, featureCount: tokens.featureCount, labels: tokens.labels, classCount: V)
        let shape = [8 * V, 256, V]
        let name = shape.map(String.init).joined(separator: "-")
        progress("incremental scoring on text \(name), B = \(tokens.count)")
        var genome = TernaryNetwork(layerSizes: shape, zeroFraction: 1.0 / 3, using: &rng)
        var calibrated = [genome]
        calibrateThresholds(&calibrated, on: all, evaluator: PopulationEvaluator(layerSizes: shape, threads: threads))
        genome = calibrated[0]
        genome.quantizer = InputQuantizer(
            tokens: TokenInput(
                context: 8, symbols: (0..<V).map { "\(UnicodeScalar(UInt8(32 + $0 % 90)))\($0 >= 90 ? "\($0)" : "")" }))
        let tokenScorer = IncrementalScorer(layerSizes: shape, threads: threads)
        tokenScorer.rebuild(genome, on: tokens)
        let denseScorer = IncrementalScorer(layerSizes: shape, threads: threads)
        denseScorer.rebuild(genome, on: dense)
        // A dense-input network of the same shape and batch: random bytes (80% zeros, as
        // MNIST-like images), thresholds calibrated on them.
        let bytes = QuantizedDataset(
            features: (0..<(tokens.count * shape[0])).map { _ in
                rng.uniformDouble() < 0.8 ? 0 : UInt8(1 + rng.uniformBelow(255))
            },
            featureCount: shape[0], labels: tokens.labels, classCount: V)
        var byteGenome = [TernaryNetwork(layerSizes: shape, zeroFraction: 1.0 / 3, using: &rng)]
        calibrateThresholds(
            &byteGenome, on: bytes.all, evaluator: PopulationEvaluator(layerSizes: shape, threads: threads))
        let byteScorer = IncrementalScorer(layerSizes: shape, threads: threads)
        byteScorer.rebuild(byteGenome[0], on: bytes)
        func moves(_ kind: String) -> MoveList {
            var candidates = MoveList()
            for _ in 0..<256 {
                if kind == "threshold" {
                    let neuron = rng.uniformBelow(256)
                    candidates.appendCandidate([
                        .threshold(
                            layer: 0, neuron: neuron,
                            value: genome.thresholds[0][neuron] + (rng.uniformBelow(2) == 0 ? 1 : -1))
                    ])
                    continue
                }
                let layer = kind == "first-layer" ? 0 : 1
                let row = rng.uniformBelow(shape[layer + 1]), column = rng.uniformBelow(shape[layer])
                let current = Int(genome.weights[layer][row, column])
                candidates.appendCandidate([
                    .trit(
                        layer: layer, row: row, column: column, value: Int8((current + 2 + rng.uniformBelow(2)) % 3 - 1)
                    )
                ])
            }
            return candidates
        }
        var rows = [BenchRow]()
        let first = moves("first-layer")
        var byteMoves = MoveList()
        for _ in 0..<256 {
            let row = rng.uniformBelow(shape[1]), column = rng.uniformBelow(shape[0])
            let current = Int(byteGenome[0].weights[0][row, column])
            byteMoves.appendCandidate([
                .trit(layer: 0, row: row, column: column, value: Int8((current + 2 + rng.uniformBelow(2)) % 3 - 1))
            ])
        }
        let timings = medianSeconds([
            { blackHole(tokenScorer.scores(of: first)) }, { blackHole(denseScorer.scores(of: first)) },
            { blackHole(byteScorer.scores(of: byteMoves)) },
        ])
        let tokenRate = Double(first.count) / timings[0], denseRate = Double(first.count) / timings[1]
        let byteRate = Double(byteMoves.count) / timings[2]
        rows.append(
            BenchRow(
                shape: name, kind: "delta-text", threads: threads,
                extra: [
                    "move": "first-layer", "batch": tokens.count, "inputs": "tokens", "candidates_per_s": tokenRate,
                    "dense_candidates_per_s": denseRate, "ratio": tokenRate / denseRate,
                    "byte_candidates_per_s": byteRate, "byte_ratio": tokenRate / byteRate,
                    "data": corpus == nil ? "random symbols" : "KJV slice train windows",
                ]))
        for kind in ["output", "threshold"] {
            let candidates = moves(kind)
            let seconds = medianSeconds([{ blackHole(tokenScorer.scores(of: candidates)) }])[0]
            rows.append(
                BenchRow(
                    shape: name, kind: "delta-text", threads: threads,
                    extra: [
                        "move": kind, "batch": tokens.count, "inputs": "tokens",
                        "candidates_per_s": Double(candidates.count) / seconds,
                    ]))
        }
        return rows
    }

    /// Bytes of `memoryPopulation` genomes of `memoryShape`: counted, and the growth of the
    /// resident set while building them (Linux only).
    func memoryRow() -> BenchRow {
        let before = residentBytes()
        var rng = Xoshiro256(seed: 7)
        let genomes = (0..<memoryPopulation).map { _ in
            TernaryNetwork(layerSizes: memoryShape, zeroFraction: 1.0 / 3, using: &rng)
        }
        let after = residentBytes()
        let counted = genomes.reduce(0) { $0 + $1.byteCount }
        var extra: [String: Any] = ["population": memoryPopulation, "counted_bytes": counted]
        if let before, let after { extra["resident_growth_bytes"] = max(0, after - before) }
        return BenchRow(
            shape: memoryShape.map(String.init).joined(separator: "-"), kind: "memory",
            threads: 1, extra: extra)
    }

    func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func run() -> [BenchRow] {
        var peakByThreads = [Int: (popcount: Double, add: Double, fma: Double, fmaWide: Double)]()
        var rows = [BenchRow]()
        rows.append(Benchmarks.hostRow)
        if onlyLevels { return rows + levelsRows() }
        if onlyShapes { return rows + ternaryRows(peaks: [:]) + floatRows(peaks: [:]) }
        if onlyDelta { return rows + deltaRows() }
        if onlyEpochs { return rows + epochRows() }
        // Memory first, while the allocator holds nothing freed that it could hand back.
        progress("memory of \(memoryPopulation) genomes")
        let memory = memoryRow()
        for threads in threadCounts {
            progress("machine peak, \(threads) thread(s)")
            let peak = peaks(threads: threads)
            peakByThreads[threads] = peak
            rows.append(BenchRow(kind: "peak-popcount", threads: threads, synapticOpsPerSecond: peak.popcount))
            rows.append(BenchRow(kind: "peak-add", threads: threads, synapticOpsPerSecond: peak.add))
            rows.append(BenchRow(kind: "peak-fma", threads: threads, synapticOpsPerSecond: peak.fma))
            rows.append(BenchRow(kind: "peak-fma-wide", threads: threads, synapticOpsPerSecond: peak.fmaWide))
        }
        rows += ternaryRows(peaks: peakByThreads)
        rows += levelsRows()
        rows += floatRows(peaks: peakByThreads)
        rows += epochRows()
        rows += deltaRows()
        let gaShape = shapes[0]
        progress("genetic algorithm on \(gaShape.map(String.init).joined(separator: "-"))")
        rows.append(evolutionOverheadRow(shape: gaShape))
        rows.append(memory)
        return rows
    }
}
