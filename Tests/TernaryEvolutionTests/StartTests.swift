import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryEvolution

/// The starts and the steps of the evolution arms in slices that a stop signal can end.
@Suite("Starts and stopped steps")
struct StartTests {
    let data = clusterData(count: 300, seed: 3)

    @Test("a population's start built in blocks equals each genome's readout made alone")
    func blockStartIsExact() {
        let problem = SearchProblem(
            architecture: Architecture(layerSizes: [20, 9, 3]), train: data, batchSize: 64, threads: 2)
        // 130 genomes: two full blocks and a partial one.
        let started = problem.initialGenomes(count: 130, zeroFraction: 0.3, readout: true, seed: 5, until: .never)!
        let calibrated = problem.initialGenomes(count: 130, zeroFraction: 0.3, seed: 5)
        #expect(started.count == 130)
        for (genome, plain) in zip(started, calibrated) {
            #expect(genome == problem.readoutInitialized(plain, zeroFraction: 0.3))
        }
        #expect(started[0] == problem.startingPoint(zeroFraction: 0.3, readout: true, seed: 5))
    }

    @Test("a stopped start or step leaves the session as it was, and stepping on gives an uninterrupted run's steps")
    func stoppedStepsChangeNothing() {
        let raised = StopSignal { true }
        for strategy in [
            AnyStrategy(smallGA(population: 8)), AnyStrategy(LocalSearch(candidates: 8)), AnyStrategy(SignVoteES()),
        ] {
            let straight = strategy.session(data), stopped = strategy.session(data)
            #expect(try! stopped.advance(until: raised) == nil)
            #expect(!stopped.hasStarted && stateBytes(stopped).isEmpty, "stopped inside the start: nothing built")
            for _ in 0..<3 {
                let before = stateBytes(stopped)
                #expect(try! stopped.advance(until: raised) == nil)
                #expect(stateBytes(stopped) == before, "\(strategy.name): a stopped step changes no state")
                #expect(try! stopped.advance() == (try! straight.advance()), "\(strategy.name)")
                #expect(stateBytes(stopped) == stateBytes(straight), "\(strategy.name)")
            }
        }
    }
}

/// A strategy and the session it makes on `data` (batches of 64, 2 threads).
struct AnyStrategy {
    let name: String
    let session: (QuantizedDataset) -> SearchSession

    init<S: SearchStrategy>(_ strategy: S) {
        name = "\(S.self)"
        session = { TernaryEvolutionTests.session(strategy, sizes: [20, 9, 3], data: $0, batch: 64) }
    }
}

@Suite("Fitness temperature of multi-bit networks")
struct LevelsTemperatureTests {
    @Test("sign keeps the evaluator's default; K-bit levels divide it by the rms of a calibrated level")
    func temperature() {
        var rng = Xoshiro256(seed: 1)
        let examples = randomExamples(count: 10, features: 6, classes: 3, using: &rng)
        let data = QuantizedDataset(
            features: examples.features, featureCount: 6, labels: examples.labels, classCount: 3)
        let sign = SearchProblem(architecture: Architecture(layerSizes: [6, 16, 3]), train: data, threads: 1)
        #expect(sign.temperature == nil)
        let levels = SearchProblem(
            architecture: Architecture(layerSizes: [6, 16, 3], activation: .levels(bits: 4)), train: data, threads: 1)
        #expect(abs(levels.temperature! - 0.25 * 6.0.squareRoot() / 15) < 1e-12)
        let given = SearchProblem(
            architecture: Architecture(layerSizes: [6, 16, 3], activation: .levels(bits: 4)), train: data,
            temperature: 0.5, threads: 1)
        #expect(given.temperature == 0.5)
    }
}
