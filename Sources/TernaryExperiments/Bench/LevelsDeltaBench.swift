import TernaryCore
import TernaryEvolution

extension Benchmarks {
    /// Incremental scoring of a levels network (4-bit activations) on 784-256-10 with B = 4000
    /// random MNIST-like images (80% zero pixels), kind "delta-levels": candidates of one random
    /// move each (`first-layer`, `output`, `threshold`, `step`) scored per second from one cache,
    /// against full evaluations per second of levels genomes of the same shape, bits and step on
    /// the same batch (the population evaluator's levels pass; the scored genome is the first)
    /// and against the scorer's own full pass of the levels genome (`rebuild`), taking turns in
    /// every round; all threads. The genomes: thresholds calibrated to the median of the sign
    /// network, and a step of about 2/15 of a first-layer sum's spread, so the levels spread.
    func levelDeltaRows() -> [BenchRow] {
        var rng = Xoshiro256(seed: 13)
        let threads = threadCounts.max()!, shape = [784, 256, 10], count = epochExamples ?? 4000
        let features = (0..<(count * shape[0])).map { _ in
            rng.uniformDouble() < 0.8 ? UInt8(0) : UInt8(1 + rng.uniformBelow(255))
        }
        let data = QuantizedDataset(
            features: features, featureCount: shape[0], labels: (0..<count).map { _ in rng.uniformBelow(10) },
            classCount: 10)
        progress("incremental scoring of 4-bit levels on 784-256-10, B = \(count)")
        let evaluator = PopulationEvaluator(layerSizes: shape, threads: threads)
        var genomes = (0..<(4 * threads)).map { _ in
            TernaryNetwork(layerSizes: shape, zeroFraction: 1.0 / 3, using: &rng)
        }
        calibrateThresholds(&genomes, on: data.all, evaluator: evaluator)
        let meanSquare = features.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(features.count)
        let step = Int32(max(1, (2.0 / 15 * (Double(shape[0]) * 2 / 3 * meanSquare).squareRoot()).rounded()))
        for i in genomes.indices {
            genomes[i].activation = .levels(bits: 4)
            genomes[i].steps[0] = step
        }
        let genome = genomes[0]
        let scorer = IncrementalScorer(layerSizes: shape, threads: threads)
        scorer.rebuild(genome, on: data)
        var rows = [BenchRow]()
        for kind in ["first-layer", "output", "threshold", "step"] {
            var candidates = MoveList()
            for _ in 0..<(kind == "step" ? 16 : 256) {
                switch kind {
                case "threshold":
                    let neuron = rng.uniformBelow(shape[1]), change = Int32(1 + rng.uniformBelow(200))
                    candidates.appendCandidate([
                        .threshold(
                            layer: 0, neuron: neuron,
                            value: genome.thresholds[0][neuron] + (rng.uniformBelow(2) == 0 ? change : -change))
                    ])
                case "step":
                    candidates.appendCandidate([
                        .step(layer: 0, value: max(1, genome.steps[0] + Int32(rng.uniformBelow(21)) - 10))
                    ])
                default:
                    let layer = kind == "first-layer" ? 0 : 1
                    let row = rng.uniformBelow(shape[layer + 1]), column = rng.uniformBelow(shape[layer])
                    let value = Int8((Int(genome.weights[layer][row, column]) + 2 + rng.uniformBelow(2)) % 3 - 1)
                    candidates.appendCandidate([.trit(layer: layer, row: row, column: column, value: value)])
                }
            }
            let timings = medianSeconds([
                { blackHole(scorer.scores(of: candidates)) },
                { blackHole(evaluator.scores(of: genomes, on: data.all)) },
                { scorer.rebuild(genome, on: data) },
            ])
            let perSecond = Double(candidates.count) / timings[0], full = Double(genomes.count) / timings[1]
            rows.append(
                BenchRow(
                    shape: "784-256-10", kind: "delta-levels", threads: threads,
                    extra: [
                        "move": kind, "bits": 4, "batch": count, "candidates_per_s": perSecond,
                        "full_evals_per_s": full, "ratio": perSecond / full,
                        "rebuilds_per_s": 1 / timings[2], "rebuild_ratio": perSecond * timings[2],
                    ]))
        }
        return rows
    }
}
