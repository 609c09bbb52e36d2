import Foundation
import Testing
import TernaryCore
@testable import TernaryEvolution
import TestSupport

/// Every input pattern of `bits` binary inputs (0 or 255), labelled by parity.
func parityData(bits: Int) -> QuantizedDataset {
    var features = [UInt8](), labels = [Int]()
    for pattern in 0..<(1 << bits) {
        for bit in 0..<bits { features.append(pattern >> bit & 1 == 1 ? 255 : 0) }
        labels.append(pattern.nonzeroBitCount & 1)
    }
    return QuantizedDataset(features: features, featureCount: bits, labels: labels, classCount: 2)
}

/// A small random classification task: two noisy clusters per class in 20 byte features.
func clusterData(count: Int, seed: UInt64) -> QuantizedDataset {
    var rng = Xoshiro256(seed: seed)
    var features = [UInt8](), labels = [Int]()
    for _ in 0..<count {
        let label = rng.uniformBelow(3)
        for f in 0..<20 {
            let centre = (f + label * 7) % 20 < 7 ? 200 : 40
            features.append(UInt8(max(0, min(255, centre + rng.uniformBelow(81) - 40))))
        }
        labels.append(label)
    }
    return QuantizedDataset(features: features, featureCount: 20, labels: labels, classCount: 3)
}

func smallGA(population: Int = 64) -> GeneticAlgorithm {
    GeneticAlgorithm(populationSize: population, eliteCount: 2, selection: .tournament(size: 3), crossover: .uniform,
                     crossoverProbability: 0.5, mutation: Mutation(weightRate: 0.03, thresholdRate: 0.1, thresholdStep: 40))
}

@Suite("Evolution")
struct EvolutionTests {
    func solves(bits: Int, hidden: Int, seed: UInt64) -> (Bool, Int) {
        let data = parityData(bits: bits)
        let run = Evolution(strategy: smallGA(population: 128), architecture: Architecture(layerSizes: [bits, hidden, 2]),
                            train: data, settings: EvolutionSettings(batchSize: data.count, evaluationInterval: 1, seed: seed),
                            threads: 2)
        var solved = false
        run.run(generations: 400) { statistics in
            solved = statistics.evaluation?.train.accuracy == 1
            return !solved
        }
        return (solved, run.generation)
    }

    @Test("XOR reaches 100% train accuracy")
    func xor() {
        let (solved, generations) = solves(bits: 2, hidden: 8, seed: 1)
        #expect(solved, "not solved in \(generations) generations")
    }

    @Test("4-bit parity reaches 100% train accuracy")
    func parity() {
        let (solved, generations) = solves(bits: 4, hidden: 16, seed: 2)
        #expect(solved, "not solved in \(generations) generations")
    }

    @Test("1 thread and 2 threads give identical populations and scores after 20 generations")
    func threadsAgree() {
        let data = clusterData(count: 300, seed: 3)
        func run(threads: Int) -> (GeneticAlgorithm.State, [GenerationStatistics]) {
            let evolution = Evolution(strategy: smallGA(), architecture: Architecture(layerSizes: [20, 70, 3]), train: data,
                                      settings: EvolutionSettings(batchSize: 100, evaluationInterval: 5, seed: 11), threads: threads)
            var log: [GenerationStatistics] = []
            evolution.run(generations: 20) { statistics in
                var s = statistics
                s.wallSeconds = 0
                log.append(s)
                return true
            }
            return (evolution.state, log)
        }
        let (one, oneLog) = run(threads: 1)
        let (two, twoLog) = run(threads: 2)
        #expect(one.genomes == two.genomes)
        #expect(one.fitness == two.fitness)
        #expect(oneLog == twoLog)
        #expect(one.generation == 20)
    }

    @Test("fitness improves on a learnable task")
    func improves() {
        let data = clusterData(count: 400, seed: 4)
        let evolution = Evolution(strategy: smallGA(), architecture: Architecture(layerSizes: [20, 40, 3]), train: data,
                                  settings: EvolutionSettings(batchSize: 128, evaluationInterval: 30, seed: 5), threads: 2)
        var first: Double?, last: GenerationStatistics?
        evolution.run(generations: 30) { statistics in
            if first == nil { first = statistics.meanFitness }
            last = statistics
            return true
        }
        #expect(last!.meanFitness > first!)
        #expect(last!.evaluation!.train.accuracy > 0.8, "train accuracy \(last!.evaluation!.train.accuracy)")
        #expect(evolution.bestEver != nil)
        #expect(evolution.evaluations == 30 * 64)
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

@Suite("Checkpoints")
struct CheckpointTests {
    let data = clusterData(count: 200, seed: 12)

    func makeRun(seed: UInt64 = 21) -> Evolution<GeneticAlgorithm> {
        Evolution(strategy: smallGA(population: 32), architecture: Architecture(layerSizes: [20, 65, 3]), train: data,
                  test: clusterData(count: 50, seed: 13),
                  settings: EvolutionSettings(batchSize: 64, evaluationInterval: 4, seed: seed), threads: 2)
    }

    @Test("10 generations, save, load, 10 more equals 20 straight, bit for bit")
    func resumeEqualsStraight() throws {
        let straight = makeRun()
        straight.run(generations: 20)

        let first = makeRun()
        first.run(generations: 10)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID()).tevc").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.writeCheckpoint(to: path)
        let resumed = makeRun()
        try resumed.restore(fromFile: path)
        #expect(resumed.generation == 10)
        resumed.run(generations: 10)

        #expect(resumed.state.genomes == straight.state.genomes)
        #expect(resumed.state.fitness == straight.state.fitness)
        #expect(resumed.evaluations == straight.evaluations)
        #expect(resumed.bestEver?.genome == straight.bestEver?.genome)
        #expect(resumed.bestEver?.evaluation == straight.bestEver?.evaluation)
    }

    @Test("a damaged, truncated or foreign checkpoint gives a clear error")
    func damaged() throws {
        let run = makeRun()
        run.run(generations: 4)
        let bytes = run.checkpointBytes()
        func problem(_ damaged: [UInt8], into target: Evolution<GeneticAlgorithm>? = nil) -> String? {
            do {
                try (target ?? makeRun()).restore(from: damaged, source: "run.tevc")
                return nil
            } catch {
                return error.description
            }
        }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        #expect(problem(flipped) == "run.tevc: checksum mismatch: the file is truncated or damaged")
        #expect(problem(Array(bytes[0..<(bytes.count - 7)])) == "run.tevc: checksum mismatch: the file is truncated or damaged")
        #expect(problem(Array("hello world".utf8))?.contains("not a TernEvo checkpoint") == true)
        #expect(problem(bytes, into: makeRun(seed: 99))?.contains("different configuration") == true)
        #expect(problem(bytes) == nil)
        #expect(throws: CheckpointError.self) { try makeRun().restore(fromFile: "/no/such/file.tevc") }
    }
}
