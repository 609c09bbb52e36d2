import Foundation
import TernaryCore
import TestSupport
import Testing

@Suite("PopulationEvaluator")
struct EvaluatorTests {
    /// Checks every logit of every network against the reference, on every instruction set this
    /// host can run (or only `only`); returns the largest error.
    func compare(
        _ sizes: [Int], population: Int, batchSize: Int, zeroFraction: Double,
        maxValue: Int = 255, threads: Int = 2, seed: UInt64, only: InstructionSet? = nil
    ) -> Int {
        let (networks, batch) = randomProblem(
            sizes, population: population, examples: batchSize,
            zeroFraction: zeroFraction, maxValue: maxValue, seed: seed)
        let expected = networks.map { network in
            (0..<batchSize).map { ReferenceNetwork.logits(network, features: batch.features(of: $0)) }
        }
        var largest = 0
        for isa in only.map({ [$0] }) ?? InstructionSet.supported {
            let logits = PopulationEvaluator(layerSizes: sizes, threads: threads, instructionSet: isa)
                .logits(of: networks, on: batch)
            let classes = sizes.last!
            for p in networks.indices {
                for b in 0..<batchSize {
                    for c in 0..<classes {
                        largest = max(largest, abs(expected[p][b][c] - Int(logits[p][b * classes + c])))
                    }
                }
            }
        }
        return largest
    }

    /// One path on shapes whose widths straddle the 64-bit words and 512-bit vectors, and on
    /// batches around the 8-, 16- and 32-example groups of the popcount kernels.
    func checkPath(_ isa: InstructionSet) {
        for (index, sizes) in [[1, 1, 1], [63, 65, 2], [64, 512, 10], [129, 513, 127, 3], [5, 7]].enumerated() {
            for batch in [1, 31, 65, 129] {
                let error = compare(
                    sizes, population: 1, batchSize: batch, zeroFraction: 0.33, seed: UInt64(70 + index), only: isa)
                #expect(error == 0, "\(isa): sizes \(sizes), batch \(batch): largest logit error \(error)")
            }
        }
    }

    // One test per instruction set, so a host that lacks one reports that path as skipped.
    @Test("the portable kernels equal the reference")
    func portablePath() { checkPath(.portable) }

    @Test(
        "the AVX2 kernels equal the reference",
        .enabled(if: InstructionSet.avx2.isSupported, "this CPU or build lacks AVX2"))
    func avx2Path() { checkPath(.avx2) }

    @Test(
        "the AVX-512 kernels equal the reference",
        .enabled(if: InstructionSet.avx512.isSupported, "this CPU or build lacks AVX-512 with VPOPCNTDQ"))
    func avx512Path() { checkPath(.avx512) }

    @Test("TERNEVO_ISA chooses a set, and names that are unknown or unsupported are refused")
    func chooseFromEnvironment() throws {
        #expect(try InstructionSet.choose(environment: [:]).get() == InstructionSet.best)
        #expect(try InstructionSet.choose(environment: ["TERNEVO_ISA": "portable"]).get() == .portable)
        #expect(
            try InstructionSet.choose(environment: ["TERNEVO_ISA": "AVX2"]).get() == .avx2
                || !InstructionSet.avx2.isSupported)
        guard case .failure(let error) = InstructionSet.choose(environment: ["TERNEVO_ISA": "sse9"]) else {
            Issue.record("an unknown name was accepted")
            return
        }
        #expect(error.message.contains("TERNEVO_ISA=sse9"))
        for isa in InstructionSet.allCases where !isa.isSupported {
            guard case .failure = InstructionSet.choose(environment: ["TERNEVO_ISA": isa.rawValue]) else {
                Issue.record("\(isa) was accepted on a host that lacks it")
                continue
            }
        }
    }

    @Test(
        "logits equal the reference at batch sizes around the 128-example tile, and on an empty batch",
        arguments: [0, 127, 128, 129, 256])
    func tileBoundaries(batch: Int) {
        for (index, sizes) in [[65, 33, 10], [130, 64, 65, 3]].enumerated() {
            #expect(
                compare(sizes, population: 2, batchSize: batch, zeroFraction: 0.3, seed: UInt64(40 + index)) == 0,
                "\(sizes) batch \(batch)")
        }
    }

    @Test("all-zero and all-nonzero rows, 1 to 3 hidden layers, boundary widths")
    func extremeRows() {
        for zeros in [0.0, 1.0] {
            for sizes in [[129, 65, 10], [64, 128, 63, 7], [300, 64, 129, 65, 3]] {
                #expect(
                    compare(sizes, population: 2, batchSize: 70, zeroFraction: zeros, seed: 5) == 0,
                    "\(sizes) zeros \(zeros)")
            }
        }
    }

    @Test("the Int16 first-layer lanes do not overflow on saturated inputs")
    func saturatedInputs() {
        // All inputs 255 and all weights +1 over 784 inputs: sums reach 199,920.
        var network = TernaryNetwork(layerSizes: [784, 3, 2])
        network.weights[0] = TernaryMatrix(rowCount: 3, columnCount: 784, trits: [Int8](repeating: 1, count: 3 * 784))
        network.thresholds[0] = [199_920, 199_921, -199_920]
        let batch = ExampleBatch(features: [UInt8](repeating: 255, count: 784), featureCount: 784, labels: [0])
        for isa in InstructionSet.supported {
            let logits = PopulationEvaluator(layerSizes: [784, 3, 2], threads: 1, instructionSet: isa).logits(
                of: [network], on: batch)[0]
            #expect(logits.map(Int.init) == ReferenceNetwork.logits(network, features: batch.features(of: 0)), "\(isa)")
        }
    }

    @Test("no hidden layer: logits are the first-layer sums")
    func noHidden() {
        #expect(compare([130, 5], population: 2, batchSize: 67, zeroFraction: 0.3, seed: 11) == 0)
    }

    @Test("parallel evaluation equals serial, scores included")
    func parallelEqualsSerial() {
        let sizes = [64, 128, 10]
        let (networks, batch) = randomProblem(sizes, population: 37, examples: 150, zeroFraction: 0.3, seed: 77)
        let serial = PopulationEvaluator(layerSizes: sizes, threads: 1)
        let parallel = PopulationEvaluator(layerSizes: sizes, threads: 4)
        #expect(serial.logits(of: networks, on: batch) == parallel.logits(of: networks, on: batch))
        #expect(serial.scores(of: networks, on: batch) == parallel.scores(of: networks, on: batch))
    }

    @Test("accuracy and cross-entropy equal the reference formulas")
    func scoresMatchReference() {
        let sizes = [20, 65, 33, 4]
        let (networks, batch) = randomProblem(sizes, population: 5, examples: 90, zeroFraction: 0.2, seed: 5)
        let tau = 1 / Double(33).squareRoot()
        let scores = PopulationEvaluator(layerSizes: sizes, threads: 2).scores(of: networks, on: batch)
        for (network, score) in zip(networks, scores) {
            let logits = (0..<90).map { ReferenceNetwork.logits(network, features: batch.features(of: $0)) }
            let correct = zip(logits, batch.labels).filter { ReferenceNetwork.argmax($0.0) == $0.1 }.count
            #expect(score.correct == correct)
            let loss = ReferenceNetwork.loss(logits, labels: batch.labels, tau: tau)
            // Each example's loss is rounded to 2^-24 nats (fixed point, see LossTable): the mean is
            // within 2^-25 = 3e-8 of the direct formula, plus Double rounding.
            #expect(abs(score.loss - loss) <= 4e-8 * max(1, abs(loss)), "loss \(score.loss) vs \(loss)")
        }
    }

    @Test(
        "layer sums equal the reference at every layer, for sign and levels networks, on every set",
        arguments: [Activation.sign, .levels(bits: 3), .levels(bits: 8)])
    func layerSums(kind: Activation) {
        let sizes = [200, 65, 129, 64, 7]
        let (networks, batch) = randomProblem(
            sizes, population: 2, examples: 131, zeroFraction: 0.25, activation: kind, seed: 31)
        for isa in InstructionSet.supported {
            let evaluator = PopulationEvaluator(layerSizes: sizes, threads: 2, instructionSet: isa)
            for layer in 0..<(sizes.count - 1) {
                let sums = evaluator.layerSums(of: networks, on: batch, layer: layer)
                let width = sizes[layer + 1]
                for (p, network) in networks.enumerated() {
                    for b in [0, 64, 127, 128, 130] {
                        let expected = ReferenceNetwork.sums(network, features: batch.features(of: b), layer: layer)
                        #expect(
                            Array(sums[p][(b * width)..<((b + 1) * width)]).map(Int.init) == expected,
                            "\(isa) layer \(layer) example \(b)")
                    }
                }
            }
        }
    }

    @Test("argmax ties go to the lowest class index")
    func ties() {
        let network = TernaryNetwork(layerSizes: [3, 2, 4])  // all weights zero: every logit 0
        let batch = ExampleBatch(features: [1, 2, 3, 4, 5, 6], featureCount: 3, labels: [0, 1])
        let score = PopulationEvaluator(layerSizes: [3, 2, 4], threads: 1).scores(of: [network], on: batch)[0]
        #expect(score.correct == 1)
        #expect(abs(score.loss - log(4)) < 4e-8)
    }

    @Test("a network without hidden layers is scored within its loss table (gaps up to 2 * 255 * n0)")
    func noHiddenScores() {
        // Saturated inputs and opposite rows give logit gaps of 2 * 255 * 784, past any table
        // sized for hidden-layer gaps; the loss must still equal the direct formula.
        var network = TernaryNetwork(layerSizes: [784, 3])
        network.weights[0] = TernaryMatrix(
            rowCount: 3, columnCount: 784,
            trits: [Int8](repeating: 1, count: 784) + [Int8](repeating: -1, count: 784)
                + [Int8](repeating: 0, count: 784))
        let features = [UInt8](repeating: 255, count: 784) + [UInt8](repeating: 7, count: 784)
        let batch = ExampleBatch(features: features, featureCount: 784, labels: [1, 2])
        let score = PopulationEvaluator(layerSizes: [784, 3], threads: 1).scores(of: [network], on: batch)[0]
        let logits = (0..<2).map { ReferenceNetwork.logits(network, features: batch.features(of: $0)) }
        let expected = ReferenceNetwork.loss(logits, labels: [1, 2], tau: 1 / Double(784).squareRoot())
        #expect(score.correct == 0)
        #expect(abs(score.loss - expected) <= 4e-8 * expected, "loss \(score.loss) vs \(expected)")
    }
}
