import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryEvolution

/// Every input pattern of `bits` binary inputs (0 or 255), labelled by parity.
func parityData(bits: Int) -> QuantizedDataset {
    var features = [UInt8](), labels = [Int]()
    for pattern in 0..<(1 << bits) {
        for bit in 0..<bits { features.append(pattern >> bit & 1 == 1 ? 255 : 0) }
        labels.append(pattern.nonzeroBitCount & 1)
    }
    return QuantizedDataset(features: features, featureCount: bits, labels: labels, classCount: 2)
}

/// A small random classification task: two noisy clusters per class in `width` byte features.
func clusterData(count: Int, seed: UInt64, width: Int = 20) -> QuantizedDataset {
    var rng = Xoshiro256(seed: seed)
    var features = [UInt8](), labels = [Int]()
    for _ in 0..<count {
        let label = rng.uniformBelow(3)
        for f in 0..<width {
            let centre = (f + label * 7) % width < 7 * width / 20 ? 200 : 40
            features.append(UInt8(max(0, min(255, centre + rng.uniformBelow(81) - 40))))
        }
        labels.append(label)
    }
    return QuantizedDataset(features: features, featureCount: width, labels: labels, classCount: 3)
}

func smallGA(population: Int = 64) -> GeneticAlgorithm {
    GeneticAlgorithm(
        populationSize: population, eliteCount: 2, selection: .tournament(size: 3), crossover: .uniform,
        crossoverProbability: 0.5, mutation: Mutation(weightRate: 0.03, thresholdRate: 0.1, thresholdStep: 40),
        readout: false)
}

/// A session of `strategy` on `data` with fitness batches of `batch` examples (nil: all),
/// `cacheBudget` bytes for a GA's breeders' caches and hidden units of `activation`.
func session<S: SearchStrategy>(
    _ strategy: S, sizes: [Int], data: QuantizedDataset, batch: Int? = nil,
    rotateEvery: Int = 1, threads: Int = 2, seed: UInt64 = 1, cacheBudget: Int = 0, activation: Activation = .sign,
    firstLayer: FirstLayerStart = .random
) -> SearchRun<S> {
    let problem = SearchProblem(
        architecture: Architecture(layerSizes: sizes, activation: activation), train: data, batchSize: batch,
        rotateEvery: rotateEvery, cacheBudget: cacheBudget, threads: threads, firstLayer: firstLayer)
    return SearchRun(strategy: strategy, problem: problem, seed: seed)
}

/// Steps `run` `count` times and returns the reports.
@discardableResult
func steps<S>(_ run: SearchRun<S>, _ count: Int) -> [StepReport] {
    (0..<count).map { _ in try! run.advance() }
}

/// The encoded state of a session: equal bytes mean equal states.
func stateBytes(_ run: SearchSession) -> [UInt8] {
    var writer = BinaryWriter()
    run.encodeState(into: &writer)
    return writer.bytes
}

/// The plain (1 + lambda) search from random trits (the library's defaults are greedy, from the readout).
let localStrategy = LocalSearch(
    candidates: 16, movesPerCandidate: 2, thresholdProbability: 0.2, thresholdStep: 40, greedy: false, readout: false)
let esStrategy = SignVoteES(pairs: 8, perturbedTrits: 3, thresholdProbability: 0.1, thresholdStep: 40, readout: false)

@Suite("Strategies")
struct StrategyTests {
    func solves(bits: Int, hidden: Int, seed: UInt64) -> (Bool, Int) {
        let data = parityData(bits: bits)
        let run = session(smallGA(population: 128), sizes: [bits, hidden, 2], data: data, seed: seed)
        for generation in 1...400 {
            steps(run, 1)
            if run.score(on: data).accuracy == 1 { return (true, generation) }
        }
        return (false, 400)
    }

    @Test("the GA reaches 100% train accuracy on XOR")
    func xor() {
        let (solved, generations) = solves(bits: 2, hidden: 8, seed: 1)
        #expect(solved, "not solved in \(generations) generations")
    }

    @Test("the GA reaches 100% train accuracy on 4-bit parity")
    func parity() {
        let (solved, generations) = solves(bits: 4, hidden: 16, seed: 2)
        #expect(solved, "not solved in \(generations) generations")
    }

    @Test("local search, es and the article's example reach 100% train accuracy on 4-bit parity")
    func parityIncremental() {
        let data = parityData(bits: 4)
        for (name, run) in [
            ("local", session(localStrategy, sizes: [4, 16, 2], data: data) as SearchSession),
            ("es", session(esStrategy, sizes: [4, 16, 2], data: data) as SearchSession),
            ("first", session(FirstImprovement(candidates: 16), sizes: [4, 16, 2], data: data) as SearchSession),
        ] {
            var solved = false
            for _ in 0..<3000 where !solved {
                _ = try! run.advance()
                solved = run.score(on: data).accuracy == 1
            }
            #expect(solved, "\(name) did not solve 4-bit parity in 3000 steps")
        }
    }

    @Test("1 thread and 2 threads give identical states and reports (ga, local, es, first)")
    func threadsAgree() {
        let data = clusterData(count: 300, seed: 3)
        func compare<S: SearchStrategy>(_ strategy: S, batch: Int?) {
            let one = session(
                strategy, sizes: [20, 70, 3], data: data, batch: batch, rotateEvery: 7, threads: 1, seed: 11)
            let two = session(
                strategy, sizes: [20, 70, 3], data: data, batch: batch, rotateEvery: 7, threads: 2, seed: 11)
            #expect(steps(one, 20) == steps(two, 20), "\(strategy.settingsDescription)")
            #expect(stateBytes(one) == stateBytes(two), "\(strategy.settingsDescription)")
            #expect(one.step == 20)
        }
        compare(smallGA(), batch: 100)
        compare(localStrategy, batch: nil)
        compare(localStrategy, batch: 120)
        compare(esStrategy, batch: 120)
        compare(FirstImprovement(), batch: 120)
    }

    @Test("GA fitness improves on a learnable task")
    func improves() {
        let data = clusterData(count: 400, seed: 4)
        let run = session(smallGA(), sizes: [20, 40, 3], data: data, batch: 128, seed: 5)
        let reports = steps(run, 30)
        #expect(reports.last!.meanFitness! > reports.first!.meanFitness!)
        #expect(run.score(on: data).accuracy > 0.8, "train accuracy \(run.score(on: data).accuracy)")
        // Elites are free, cache rebuilds count (OffspringTests checks the exact count).
        #expect(run.evaluations > 29 * 60, "\(run.evaluations) evaluations")
    }

    /// Steps `run` `count` times on the whole of `data` as its fixed batch, requiring the
    /// fitness on it never to fall.
    func neverLosesFitness<S>(_ run: SearchRun<S>, on data: QuantizedDataset, steps count: Int) {
        var previous = -Double.infinity
        for _ in 0..<count {
            steps(run, 1)
            let fitness = -run.score(on: data).loss
            #expect(fitness >= previous)
            previous = fitness
        }
    }

    @Test("es on a fixed batch never loses fitness: an update is taken only when one of its prefixes improves")
    func esMonotone() {
        let data = clusterData(count: 300, seed: 8)
        let run = session(esStrategy, sizes: [20, 33, 3], data: data)
        neverLosesFitness(run, on: data, steps: 150)
        #expect(run.state.moved > 10)
        #expect(run.score(on: data).accuracy > 0.8)
    }

    @Test("local search on a fixed batch never loses fitness, and its cache is never rebuilt")
    func localMonotone() {
        let data = clusterData(count: 300, seed: 8)
        let run = session(localStrategy, sizes: [20, 33, 3], data: data)
        neverLosesFitness(run, on: data, steps: 200)
        #expect(run.problem.rebuilds == 1)
        #expect(run.state.accepted > 10)
        #expect(run.score(on: data).accuracy > 0.8)
    }

    @Test("es moves the current genome and improves it")
    func esLearns() {
        let data = clusterData(count: 300, seed: 9)
        let run = session(esStrategy, sizes: [20, 33, 3], data: data)
        let before = run.score(on: data).loss
        steps(run, 300)
        #expect(run.state.moved > 0)
        #expect(run.score(on: data).loss < before)
        #expect(run.problem.rebuilds == 1)
    }

    @Test("the upper median by selection equals the sorted array's middle element, for any size and spread of values")
    func upperMedianBySelection() {
        var rng = Xoshiro256(seed: 31)
        for trial in 0..<2000 {
            let count = trial < 20 ? trial + 1 : 1 + rng.uniformBelow(trial < 1980 ? 300 : 20_000)
            // Spreads: all equal, the text range (-8 ... 8), below and above the counting limit, the full Int32 range.
            let spread = [0, 17, 4095, 4097, 1 << 20][trial % 5]
            var values = (0..<count).map { _ -> Int32 in
                trial % 5 == 4
                    ? Int32(truncatingIfNeeded: rng.next()) : Int32(rng.uniformBelow(spread + 1)) - Int32(spread / 2)
            }
            let expected = values.sorted()[count / 2]
            #expect(upperMedian(&values) == expected, "trial \(trial): \(count) values of spread \(spread)")
        }
        var extremes: [Int32] = [.max, .min, .max, .min, 0]
        #expect(upperMedian(&extremes) == 0)
    }

    @Test("initial thresholds make each hidden neuron fire for about half of the sample")
    func calibration() {
        let data = clusterData(count: 256, seed: 6)
        var rng = Xoshiro256(seed: 7)
        var genomes = (0..<3).map { _ in TernaryNetwork(layerSizes: [20, 65, 64, 3], zeroFraction: 0.3, using: &rng) }
        let evaluator = PopulationEvaluator(layerSizes: [20, 65, 64, 3], threads: 2)
        calibrateThresholds(&genomes, on: data.all, evaluator: evaluator)
        for genome in genomes {
            for layer in 0..<2 {
                let sums = evaluator.layerSums(of: [genome], on: data.all, layer: layer)[0]
                let width = genome.layerSizes[layer + 1]
                for neuron in 0..<width {
                    let fired = (0..<256).filter { sums[$0 * width + neuron] >= genome.thresholds[layer][neuron] }.count
                    // At least the upper half fires; ties at the median can add more, never fewer.
                    #expect(fired >= 128)
                    let distinct = Set((0..<256).map { sums[$0 * width + neuron] }).count
                    if distinct > 40 { #expect(fired <= 160, "layer \(layer) neuron \(neuron) fires \(fired)/256") }
                }
            }
        }
    }
}

@Suite("Session checkpoints")
struct CheckpointTests {
    let data = clusterData(count: 200, seed: 12)

    func check<S: SearchStrategy>(_ strategy: S) throws {
        let straight = session(strategy, sizes: [20, 65, 3], data: data, batch: 64, rotateEvery: 3, seed: 21)
        let straightReports = steps(straight, 20)
        let first = session(strategy, sizes: [20, 65, 3], data: data, batch: 64, rotateEvery: 3, seed: 21)
        steps(first, 10)
        var reader = BinaryReader(bytes: stateBytes(first), path: "state")
        let resumed = session(strategy, sizes: [20, 65, 3], data: data, batch: 64, rotateEvery: 3, seed: 21)
        try resumed.restoreState(from: &reader)
        #expect(reader.isAtEnd)
        #expect(resumed.step == 10)
        #expect(steps(resumed, 10) == Array(straightReports[10...]), "\(strategy.settingsDescription)")
        #expect(stateBytes(resumed) == stateBytes(straight), "\(strategy.settingsDescription)")
    }

    @Test("10 steps, save, load, 10 more equals 20 straight, bit for bit (ga, local, es, first)")
    func resumeEqualsStraight() throws {
        try check(smallGA(population: 32))
        try check(localStrategy)
        try check(esStrategy)
        try check(FirstImprovement())
    }

    @Test("greedy local search, which applies several candidates a step, resumes from its state")
    func greedyResumes() throws {
        let greedy = LocalSearch(
            candidates: 16, movesPerCandidate: 2, thresholdProbability: 0.2, thresholdStep: 40, greedy: true,
            readout: false)
        let run = session(greedy, sizes: [20, 65, 3], data: data, batch: 64, rotateEvery: 3, seed: 21)
        steps(run, 10)
        try #require(run.state.accepted > run.state.step, "the case under test: more candidates applied than steps")
        try check(greedy)
    }

    @Test("a truncated state is an error, never a trap")
    func truncated() {
        let run = session(smallGA(population: 8), sizes: [20, 9, 3], data: data, batch: 64)
        steps(run, 2)
        let bytes = stateBytes(run)
        // No bytes at all: the state of a session whose start was never built (stopped inside it).
        var empty = BinaryReader(bytes: [], path: "state")
        let unstarted = session(smallGA(population: 8), sizes: [20, 9, 3], data: data)
        #expect(throws: Never.self) { try unstarted.restoreState(from: &empty) }
        #expect(!unstarted.hasStarted && stateBytes(unstarted).isEmpty)
        for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 97)) {
            var reader = BinaryReader(bytes: Array(bytes[0..<cut]), path: "state")
            #expect(throws: FileFormatError.self) {
                try session(smallGA(population: 8), sizes: [20, 9, 3], data: data).restoreState(from: &reader)
            }
        }
    }
}
