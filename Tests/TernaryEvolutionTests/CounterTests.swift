import TernaryCore
import TestSupport
import Testing

@testable import TernaryEvolution

/// `evals` and `int_ops` as `SearchProblem` counts them (the rules are in RunFolder.md).
@Suite("Counters")
struct CounterTests {
    @Test(
        "local search counts its candidates but not candidate 0, each greedy re-score, and a rebuild on the first step and each new batch"
    )
    func local() {
        let data = clusterData(count: 160, seed: 12)
        let problem = SearchProblem(
            architecture: Architecture(layerSizes: [20, 24, 3]), train: data, batchSize: 60, rotateEvery: 3, threads: 1)
        let strategy = LocalSearch(
            candidates: 12, movesPerCandidate: 1, thresholdProbability: 0.2, thresholdStep: 40, greedy: true,
            readout: false)
        var state = strategy.initialState(problem: problem, seed: 2)
        var rescored = 0
        for step in 0..<9 {
            let candidates = strategy.ask(&state, problem: problem, seed: 2)
            let (fitness, evaluations, _) = try! problem.stepFitness(
                of: candidates, incumbent: state.current, step: step, seed: 2)!
            #expect(evaluations == 12)
            strategy.tell(&state, fitness: fitness, problem: problem, seed: 2)
            let cost = problem.takeCost()
            // Greedy: every improving candidate after the best is re-scored once.
            let improving = fitness.dropFirst().count { $0 > fitness[0] }
            rescored += max(0, improving - 1)
            #expect(cost.evaluations == max(0, improving - 1) + (step % 3 == 0 ? 1 : 0), "step \(step)")
            #expect(
                cost.operations >= (step % 3 == 0 ? problem.fullOperations([state.current], examples: 60) * 0.5 : 0))
        }
        #expect(rescored > 0, "no step re-scored a candidate; the test does not exercise greedy re-scores")
    }

    @Test("a full evaluation counts each genome's own operations, not the first genome's for all")
    func perGenome() {
        let data = clusterData(count: 50, seed: 1)
        let problem = SearchProblem(architecture: Architecture(layerSizes: [20, 8, 3]), train: data, threads: 1)
        var rng = Xoshiro256(seed: 3)
        let sparse = randomNetwork([20, 8, 3], zeroFraction: 0.9, using: &rng),
            dense = randomNetwork([20, 8, 3], zeroFraction: 0, using: &rng)
        let (_, evaluations, operations) = try! problem.stepFitness(
            of: .genomes([sparse, dense]), incumbent: sparse, step: 0, seed: 1)!
        #expect(evaluations == 2)
        #expect(operations == (SearchProblem.integerOperations(sparse) + SearchProblem.integerOperations(dense)) * 50)
        #expect(SearchProblem.integerOperations(sparse) < SearchProblem.integerOperations(dense))
    }
}

@Suite("Readout start")
struct ReadoutTests {
    /// The readout layer written the obvious way: per example, per class, per hidden unit,
    /// the product h (C - 1 for the label, -1 otherwise; h = +-1 or a level), then sign and the
    /// zero cut.
    func reference(_ genome: TernaryNetwork, data: QuantizedDataset, zeroFraction: Double) -> TernaryNetwork {
        let sizes = genome.layerSizes, last = sizes.count - 2, width = sizes[last], classes = sizes.last!
        var result = genome
        for c in 0..<classes {
            var row = [Int](repeating: 0, count: width)
            for b in 0..<data.count {
                let features = Array(data.features[(b * data.featureCount)..<((b + 1) * data.featureCount)])
                let sums = ReferenceNetwork.sums(genome, features: features, layer: last - 1)
                for j in 0..<width {
                    let h = ReferenceNetwork.activation(genome, layer: last - 1, neuron: j, sum: sums[j])
                    row[j] += h * (data.labels[b] == c ? classes - 1 : -1)
                }
            }
            let cut = row.map(abs).sorted()[min(width - 1, Int(Double(width) * zeroFraction))]
            for j in 0..<width {
                result.weights[last][c, j] = abs(row[j]) < cut || row[j] == 0 ? 0 : (row[j] > 0 ? 1 : -1)
            }
        }
        return result
    }

    @Test(
        "the readout output layer equals the per-example reference (one and two hidden layers, widths around 64, sign and levels)",
        arguments: [
            ([20, 63, 3], Activation.sign), ([20, 65, 7], .sign), ([13, 24, 129, 5], .sign),
            ([20, 65, 7], .levels(bits: 4)), ([13, 24, 129, 5], .levels(bits: 2)),
        ])
    func readout(sizes: [Int], activation: Activation) {
        var rng = Xoshiro256(seed: 8)
        let examples = randomExamples(count: 90, features: sizes[0], classes: sizes.last!, maxValue: 4, using: &rng)
        let data = QuantizedDataset(
            features: examples.features, featureCount: sizes[0], labels: examples.labels, classCount: sizes.last!)
        let problem = SearchProblem(
            architecture: Architecture(layerSizes: sizes, activation: activation), train: data, threads: 1)
        var genome = randomNetwork(sizes, zeroFraction: 0.3, activation: activation, using: &rng)
        // Thresholds near the middle of the sums, so hidden units take both signs (several levels).
        for l in genome.thresholds.indices {
            for k in genome.thresholds[l].indices { genome.thresholds[l][k] = Int32(rng.uniformBelow(5)) - 2 }
        }
        if activation.isLevels { genome.steps = genome.steps.map { _ in 1 } }
        let got = problem.readoutInitialized(genome, zeroFraction: 0.25)
        #expect(got == reference(genome, data: data, zeroFraction: 0.25))
        #expect(got.weights.last!.zeroCount < got.weights.last!.count, "the readout must set some weights")
    }

    @Test("a K-bit start puts each neuron's median sum at its threshold and spreads the sample over the levels")
    func levelsCalibration() {
        var rng = Xoshiro256(seed: 9)
        let sizes = [30, 97, 4]
        let examples = randomExamples(count: 600, features: sizes[0], classes: 4, using: &rng)
        let data = QuantizedDataset(
            features: examples.features, featureCount: sizes[0], labels: examples.labels, classCount: 4)
        for bits in [2, 4, 8] {
            let problem = SearchProblem(
                architecture: Architecture(layerSizes: sizes, activation: .levels(bits: bits)), train: data, threads: 2)
            let genome = problem.initialGenomes(count: 1, zeroFraction: 0.3, seed: 3)[0]
            let top = (1 << bits) - 1
            var counts = [Int](repeating: 0, count: top + 1)
            for b in 0..<data.count {
                let features = Array(data.features[(b * sizes[0])..<((b + 1) * sizes[0])])
                let sums = ReferenceNetwork.sums(genome, features: features, layer: 0)
                for j in 0..<sizes[1] {
                    counts[ReferenceNetwork.activation(genome, layer: 0, neuron: j, sum: sums[j])] += 1
                }
            }
            let total = Double(data.count * sizes[1])
            // The sample is a third of the data here: about half of every neuron's sums below its threshold.
            #expect(abs(Double(counts[0]) / total - 0.5) < 0.1, "K=\(bits): \(counts)")
            #expect(Double(counts[top]) / total < 0.12, "K=\(bits): \(counts)")
            #expect(counts[1...].filter { $0 > 0 }.count >= min(top, 3), "K=\(bits): levels used \(counts)")
            #expect(genome.steps[0] >= 1)
        }
    }
}
