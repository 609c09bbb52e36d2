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
        let strategy = LocalSearch(candidates: 12, movesPerCandidate: 1, thresholdProbability: 0.2, thresholdStep: 40, greedy: true)
        var state = strategy.initialState(problem: problem, seed: 2)
        var rescored = 0
        for step in 0..<9 {
            let candidates = strategy.ask(&state, problem: problem, seed: 2)
            let (fitness, evaluations, _) = try! problem.stepFitness(of: candidates, incumbent: state.current, step: step, seed: 2)
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
        let (_, evaluations, operations) = try! problem.stepFitness(of: .genomes([sparse, dense]), incumbent: sparse, step: 0, seed: 1)
        #expect(evaluations == 2)
        #expect(operations == (SearchProblem.integerOperations(sparse) + SearchProblem.integerOperations(dense)) * 50)
        #expect(SearchProblem.integerOperations(sparse) < SearchProblem.integerOperations(dense))
    }
}
