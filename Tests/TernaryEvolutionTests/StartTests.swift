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

@Suite("The n-gram first layer of token networks")
struct NgramStartTests {
    static let (context, vocabulary) = (5, 7)
    let data: QuantizedDataset = {
        var rng = Xoshiro256(seed: 4)
        let stream = (0..<2_000).map { _ in UInt16(rng.uniformBelow(NgramStartTests.vocabulary)) }
        return QuantizedDataset(
            windows: TokenWindows(
                stream: stream, context: NgramStartTests.context, vocabulary: NgramStartTests.vocabulary))
    }()

    func problem(_ start: FirstLayerStart, sizes: [Int] = [35, 24, 7], threads: Int = 2) -> SearchProblem {
        SearchProblem(
            architecture: Architecture(layerSizes: sizes, activation: .levels(bits: 2)), train: data, batchSize: 500,
            rotateEvery: 5, threads: threads, firstLayer: start)
    }

    @Test(
        "every unit detects the last 1 ... 4 symbols of a train window (+1 for its symbol, -1 for the others there, 0 before; level 0 without them, step 1); later layers are the random start's"
    )
    func unitsAreDetectors() throws {
        let (C, V) = (Self.context, Self.vocabulary)
        let stream = try #require(data.windows).stream
        let genomes = problem(.ngrams).initialGenomes(count: 3, zeroFraction: 0.3, seed: 9)
        let random = problem(.random).initialGenomes(count: 3, zeroFraction: 0.3, seed: 9)
        var lengths = Set<Int>()
        for (genome, plain) in zip(genomes, random) {
            #expect(Array(genome.weights.dropFirst()) == Array(plain.weights.dropFirst()))
            #expect(genome.weights[0] != plain.weights[0])
            for unit in 0..<genome.layerSizes[1] {
                var run: [UInt16] = []
                for position in 0..<C {
                    let trits = (0..<V).map { genome.weights[0][unit, position * V + $0] }
                    if trits.allSatisfy({ $0 == 0 }) {
                        #expect(run.isEmpty, "a zero position after a detecting one")
                        continue
                    }
                    #expect(trits.filter { $0 == 1 }.count == 1 && trits.filter { $0 == -1 }.count == V - 1)
                    run.append(UInt16(trits.firstIndex(of: 1)!))
                }
                #expect((1...4).contains(run.count))
                lengths.insert(run.count)
                // A detector: none of the run at level 0; the whole run at the top (3) or 2L.
                #expect(genome.thresholds[0][unit] == Int32(max(run.count - 3, -run.count)))
                let occurs = (0...(stream.count - C)).contains { Array(stream[($0 + C - run.count)..<($0 + C)]) == run }
                #expect(occurs, "unit \(unit) detects a run that is in no window")
            }
        }
        #expect(lengths == [1, 2, 3, 4])
        #expect(genomes.allSatisfy { $0.steps[0] == 1 })
    }

    @Test("a sign unit fires on its whole run alone; a second hidden layer is calibrated as from random trits")
    func signAndDeeper() {
        let problem = problem(.ngrams, sizes: [35, 24, 10, 7])
        let genome = problem.initialGenomes(count: 1, zeroFraction: 0.3, seed: 2)[0]
        let sign = SearchProblem(
            architecture: Architecture(layerSizes: [35, 24, 7]), train: data, batchSize: 500, threads: 2,
            firstLayer: .ngrams)
        let detector = sign.initialGenomes(count: 1, zeroFraction: 0.3, seed: 2)[0]
        for unit in 0..<24 {
            let length = (0..<Self.context).filter { position in
                (0..<Self.vocabulary).contains { detector.weights[0][unit, position * Self.vocabulary + $0] != 0 }
            }.count
            #expect(detector.thresholds[0][unit] == Int32(length))
        }
        // Layer 1: calibrated on the start's sample from the detectors' levels, as for any start.
        var rng = Xoshiro256(seed: 2, stream: StreamPath.calibration)
        let sample = data.batch(data.sampleIndices(500, using: &rng))
        var recalibrated = [genome]
        recalibrated[0].thresholds[1] = [Int32](repeating: 0, count: 10)
        recalibrated[0].steps[1] = 1
        calibrateThresholds(&recalibrated, on: sample, sums: LayerSums(problem.evaluator), from: 1)
        #expect(recalibrated[0] == genome)
        var fromZero = [genome]
        calibrateThresholds(&fromZero, on: sample, sums: LayerSums(problem.evaluator))
        #expect(fromZero[0].thresholds[0] != genome.thresholds[0], "the median calibration would move the detectors")
    }

    @Test(
        "1 thread and 2 threads give the same start and local steps; non-token inputs keep the random start; the settings name it"
    )
    func deterministicAndNamed() {
        let one = SearchRun(strategy: LocalSearch(candidates: 8), problem: problem(.ngrams, threads: 1), seed: 3)
        let two = SearchRun(strategy: LocalSearch(candidates: 8), problem: problem(.ngrams), seed: 3)
        #expect(steps(one, 6) == steps(two, 6))
        #expect(stateBytes(one) == stateBytes(two))
        #expect(problem(.ngrams).settingsDescription.hasSuffix(" first_layer=ngrams"))
        #expect(!problem(.random).settingsDescription.contains("first_layer"))
        let images = clusterData(count: 100, seed: 3)
        let architecture = Architecture(layerSizes: [20, 9, 3])
        let dense = SearchProblem(
            architecture: architecture, train: images, batchSize: 64, threads: 2, firstLayer: .ngrams)
        #expect(
            dense.initialGenomes(count: 2, zeroFraction: 0.3, seed: 5)
                == SearchProblem(architecture: architecture, train: images, batchSize: 64, threads: 2)
                .initialGenomes(count: 2, zeroFraction: 0.3, seed: 5))
    }
}
