import Testing
import TernaryCore
@testable import TernaryEvolution
import TestSupport

/// `evals` and `int_ops` as `SearchProblem` counts them (the rules are in RunFolder.md).
@Suite("Counters")
struct CounterTests {
    @Test("local search counts its candidates but not candidate 0, each greedy re-score, and a rebuild on the first step and each new batch")
    func local() {
        let data = clusterData(count: 160, seed: 12)
        let problem = SearchProblem(architecture: Architecture(layerSizes: [20, 24, 3]), train: data, batchSize: 60, rotateEvery: 3, threads: 1)
        let strategy = LocalSearch(candidates: 12, movesPerCandidate: 1, thresholdProbability: 0.2, thresholdStep: 40, greedy: true, readout: false)
        var state = strategy.initialState(problem: problem, seed: 2)
        var rescored = 0
        for step in 0..<9 {
            let candidates = strategy.ask(&state, problem: problem, seed: 2)
            let (fitness, evaluations, _) = try! problem.stepFitness(of: candidates, incumbent: state.current, step: step, seed: 2)!
            #expect(evaluations == 12)
            strategy.tell(&state, fitness: fitness, problem: problem, seed: 2)
            let cost = problem.takeCost()
            // Greedy: every improving candidate after the best is re-scored once.
            let improving = fitness.dropFirst().count { $0 > fitness[0] }
            rescored += max(0, improving - 1)
            #expect(cost.evaluations == max(0, improving - 1) + (step % 3 == 0 ? 1 : 0), "step \(step)")
            #expect(cost.operations >= (step % 3 == 0 ? problem.fullOperations([state.current], examples: 60) * 0.5 : 0))
        }
        #expect(rescored > 0, "no step re-scored a candidate; the test does not exercise greedy re-scores")
    }

    @Test("a full evaluation counts each genome's own operations, not the first genome's for all")
    func perGenome() {
        let data = clusterData(count: 50, seed: 1)
        let problem = SearchProblem(architecture: Architecture(layerSizes: [20, 8, 3]), train: data, threads: 1)
        var rng = Xoshiro256(seed: 3)
        let sparse = randomNetwork([20, 8, 3], zeroFraction: 0.9, using: &rng), dense = randomNetwork([20, 8, 3], zeroFraction: 0, using: &rng)
        let (_, evaluations, operations) = try! problem.stepFitness(of: .genomes([sparse, dense]), incumbent: sparse, step: 0, seed: 1)!
        #expect(evaluations == 2)
        #expect(operations == (SearchProblem.integerOperations(sparse) + SearchProblem.integerOperations(dense)) * 50)
        #expect(SearchProblem.integerOperations(sparse) < SearchProblem.integerOperations(dense))
    }
}

@Suite("Readout start")
struct ReadoutTests {
    /// The readout layer written the obvious way: per example, per class, per hidden unit,
    /// the product h (C - 1 for the label, -1 otherwise), then sign and the zero cut.
    func reference(_ genome: TernaryNetwork, data: QuantizedDataset, zeroFraction: Double) -> TernaryNetwork {
        let sizes = genome.layerSizes, last = sizes.count - 2, width = sizes[last], classes = sizes.last!
        var result = genome
        for c in 0..<classes {
            var row = [Int](repeating: 0, count: width)
            for b in 0..<data.count {
                let features = Array(data.features[(b * data.featureCount)..<((b + 1) * data.featureCount)])
                let sums = ReferenceNetwork.sums(genome, features: features, layer: last - 1)
                for j in 0..<width {
                    let h = sums[j] >= Int(genome.thresholds[last - 1][j]) ? 1 : -1
                    row[j] += h * (data.labels[b] == c ? classes - 1 : -1)
                }
            }
            let cut = row.map(abs).sorted()[min(width - 1, Int(Double(width) * zeroFraction))]
            for j in 0..<width { result.weights[last][c, j] = abs(row[j]) < cut || row[j] == 0 ? 0 : (row[j] > 0 ? 1 : -1) }
        }
        return result
    }

    @Test("the readout output layer equals the per-example reference (one and two hidden layers, widths around 64)",
          arguments: [[20, 63, 3], [20, 65, 7], [13, 24, 129, 5]])
    func readout(sizes: [Int]) {
        var rng = Xoshiro256(seed: 8)
        let examples = randomExamples(count: 90, features: sizes[0], classes: sizes.last!, maxValue: 4, using: &rng)
        let data = QuantizedDataset(features: examples.features, featureCount: sizes[0], labels: examples.labels, classCount: sizes.last!)
        let problem = SearchProblem(architecture: Architecture(layerSizes: sizes), train: data, threads: 1)
        var genome = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        // Thresholds near the middle of the sums, so hidden units take both signs.
        for l in genome.thresholds.indices { for k in genome.thresholds[l].indices { genome.thresholds[l][k] = Int32(rng.uniformBelow(5)) - 2 } }
        let got = problem.readoutInitialized(genome, zeroFraction: 0.25)
        #expect(got == reference(genome, data: data, zeroFraction: 0.25))
        #expect(got.weights.last!.zeroCount < got.weights.last!.count, "the readout must set some weights")
    }
}
