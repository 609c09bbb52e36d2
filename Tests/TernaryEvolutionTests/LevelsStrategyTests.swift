import TernaryCore
import TestSupport
import Testing

@testable import TernaryEvolution

/// The strategies on K-bit levels networks: the guarantees of `StrategyTests` and
/// `CheckpointTests` (threads, resume, a fixed batch never loses fitness), and `local`'s step
/// candidates.
@Suite("Strategies on levels networks")
struct LevelsStrategyTests {
    let data = clusterData(count: 300, seed: 3)
    static let local = LocalSearch(
        candidates: 16, movesPerCandidate: 2, thresholdProbability: 0.2, thresholdStep: 40, readout: false,
        stepEvery: 3)

    func run<S: SearchStrategy>(
        _ strategy: S, bits: Int, threads: Int = 2, batch: Int? = 120, sizes: [Int] = [20, 33, 17, 3]
    ) -> SearchRun<S> {
        session(
            strategy, sizes: sizes, data: data, batch: batch, rotateEvery: 7, threads: threads, seed: 11,
            activation: .levels(bits: bits))
    }

    @Test(
        "1 thread and 2 threads give identical states and reports, and 10 + 10 steps through a saved state equal 20 (ga, local with step candidates, es; K = 2, 4)",
        arguments: [2, 4])
    func threadsAndResume(bits: Int) throws {
        func compare<S: SearchStrategy>(_ strategy: S) throws {
            let one = run(strategy, bits: bits, threads: 1), two = run(strategy, bits: bits)
            let reports = steps(one, 20)
            #expect(reports == steps(two, 20), "\(strategy.settingsDescription)")
            #expect(stateBytes(one) == stateBytes(two), "\(strategy.settingsDescription)")
            let first = run(strategy, bits: bits)
            steps(first, 10)
            var reader = BinaryReader(bytes: stateBytes(first), path: "state")
            let resumed = run(strategy, bits: bits)
            try resumed.restoreState(from: &reader)
            #expect(steps(resumed, 10) == Array(reports[10...]), "\(strategy.settingsDescription)")
            #expect(stateBytes(resumed) == stateBytes(one), "\(strategy.settingsDescription)")
        }
        try compare(smallGA(population: 16))
        try compare(Self.local)
        try compare(esStrategy)
    }

    @Test("local with step candidates on a fixed batch never loses fitness (scored exactly), and moves the steps")
    func stepCandidates() {
        let run = run(Self.local, bits: 4, batch: nil, sizes: [20, 33, 3])
        let start = run.state.current.steps
        var previous = -Double.infinity
        var stepChanges = 0
        for _ in 0..<150 {
            let before = run.state.current.steps
            steps(run, 1)
            if run.state.current.steps != before { stepChanges += 1 }
            let fitness = -run.score(on: data).loss
            #expect(fitness >= previous)
            previous = fitness
        }
        #expect(stepChanges > 0, "no step candidate was taken in 150 steps (start \(start))")
        #expect(run.score(on: data).accuracy > 0.8)
    }

    @Test("step candidates come every stepEvery steps, two of them, and never for sign")
    func stepProposals() {
        func proposals(_ activation: Activation, step: Int) -> [Move] {
            let problem = SearchProblem(
                architecture: Architecture(layerSizes: [20, 33, 17, 3], activation: activation), train: data,
                threads: 1)
            var state = Self.local.initialState(problem: problem, seed: 5, until: .never)!
            state.step = step
            guard case .moves(let list) = Self.local.ask(&state, problem: problem, seed: 5) else { return [] }
            return (0..<list.count).flatMap { Array(list[$0]) }.filter { $0.kind == .step }
        }
        #expect(proposals(.levels(bits: 4), step: 0).isEmpty && proposals(.levels(bits: 4), step: 1).isEmpty)
        let third = proposals(.levels(bits: 4), step: 2), sixth = proposals(.levels(bits: 4), step: 5)
        #expect(third.count == 2 && third.allSatisfy { $0.layer == 0 })
        #expect(sixth.count == 2 && sixth.allSatisfy { $0.layer == 1 })
        #expect(proposals(.sign, step: 2).isEmpty)
    }
}
