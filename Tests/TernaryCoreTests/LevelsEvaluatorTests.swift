import Foundation
import TernaryCore
import TestSupport
import Testing

/// The evaluator on K-bit levels networks (and sign ones, through the same checks) against the
/// plain reference network, on every instruction set this host runs, with 1 and 2 threads.
@Suite("PopulationEvaluator on levels networks")
struct LevelsEvaluatorTests {
    static let kinds: [Activation] = [.levels(bits: 2), .levels(bits: 3), .levels(bits: 4), .levels(bits: 8), .sign]

    /// Hidden widths 1, 63, 64, 65, 127, 128, 129 in 1 to 3 hidden layers, odd input and class counts.
    static let shapes: [[Int]] = [[5, 1, 2], [63, 64, 3], [65, 65, 127, 10], [129, 128, 129, 63, 4], [1, 129, 1]]

    /// The largest logit error of `networks` on `batch` against `expected` (`[P][B][C]`), over
    /// every supported instruction set and 1 and 2 threads.
    func largestError(_ networks: [TernaryNetwork], _ batch: ExampleBatch, expected: [[[Int]]]) -> (Int, String) {
        let sizes = networks[0].layerSizes
        var largest = (0, "")
        for isa in InstructionSet.supported {
            for threads in [1, 2] {
                let logits = PopulationEvaluator(layerSizes: sizes, threads: threads, instructionSet: isa).logits(
                    of: networks, on: batch)
                for p in networks.indices {
                    for b in 0..<batch.count {
                        for c in 0..<sizes.last! {
                            let error = abs(expected[p][b][c] - Int(logits[p][b * sizes.last! + c]))
                            if error > largest.0 {
                                largest = (error, "\(isa), \(threads) thread(s), genome \(p), example \(b)")
                            }
                        }
                    }
                }
            }
        }
        return largest
    }

    /// Every level of hidden layer 0 over a batch, by the reference.
    func firstLevels(_ network: TernaryNetwork, _ batch: ExampleBatch) -> Set<Int> {
        var levels = Set<Int>()
        for b in 0..<batch.count {
            let sums = ReferenceNetwork.sums(network, features: batch.features(of: b), layer: 0)
            for (j, sum) in sums.enumerated() {
                levels.insert(ReferenceNetwork.activation(network, layer: 0, neuron: j, sum: sum))
            }
        }
        return levels
    }

    @Test("logits equal the reference at boundary widths and odd batches, every set, 1 and 2 threads", arguments: kinds)
    func byteInputs(kind: Activation) {
        var seen = Set<Int>()
        for (index, sizes) in Self.shapes.enumerated() {
            let batchSize = [200, 129, 131, 70, 1][index]
            let (networks, batch) = randomProblem(
                sizes, population: 1, examples: batchSize, zeroFraction: 0.3,
                activation: kind, seed: UInt64(900 + index))
            seen.formUnion(firstLevels(networks[0], batch))
            let expected = networks.map { network in
                (0..<batchSize).map { ReferenceNetwork.logits(network, features: batch.features(of: $0)) }
            }
            let (error, where_) = largestError(networks, batch, expected: expected)
            #expect(error == 0, "\(kind.name) \(sizes), batch \(batchSize): largest logit error \(error) (\(where_))")
        }
        // The cases cover the zero level and the clamped one (sign: both -1 and +1).
        #expect(
            seen.contains(kind.isLevels ? 0 : -1) && seen.contains(Int(kind.maxLevel)), "levels seen: \(seen.sorted())")
    }

    @Test(
        "an empty batch, a network without hidden layers, and all-zero rows",
        arguments: [Activation.levels(bits: 2), .levels(bits: 8)])
    func edges(kind: Activation) {
        for (sizes, zeros, count) in [([65, 64, 3], 0.3, 0), ([130, 5], 0.3, 67), ([64, 128, 63, 7], 1.0, 70)] {
            let (networks, batch) = randomProblem(
                sizes, population: 2, examples: count, zeroFraction: zeros, activation: kind, seed: 17)
            let expected = networks.map { network in
                (0..<count).map { ReferenceNetwork.logits(network, features: batch.features(of: $0)) }
            }
            #expect(largestError(networks, batch, expected: expected).0 == 0, "\(kind.name) \(sizes) zeros \(zeros)")
        }
    }

    @Test(
        "token inputs: logits equal the reference on the same windows as one-hot bytes",
        arguments: [
            (Activation.levels(bits: 2), 8, 9, [65]), (.levels(bits: 3), 3, 21, [63, 129]),
            (.levels(bits: 8), 4, 33, [130, 1, 64]),
            (.levels(bits: 4), 1, 5, [128]), (.sign, 2, 17, [65, 3]),
        ])
    func tokenInputs(kind: Activation, context: Int, vocabulary: Int, hidden: [Int]) {
        var rng = Xoshiro256(seed: UInt64(context * 31 + vocabulary))
        let stream = (0..<(150 + context)).map { _ in UInt16(rng.uniformBelow(vocabulary)) }
        let data = QuantizedDataset(windows: TokenWindows(stream: stream, context: context, vocabulary: vocabulary))
        let sizes = [context * vocabulary] + hidden + [vocabulary]
        let networks = (0..<2).map { _ in
            var network = randomNetwork(sizes, zeroFraction: 0.3, activation: kind, using: &rng)
            // First-layer sums of `context` trits lie in -context ... context.
            for j in 0..<sizes[1] { network.thresholds[0][j] = Int32(rng.uniformBelow(context + 1)) - Int32(context) }
            network.steps[0] = 1
            network.quantizer = InputQuantizer(
                tokens: TokenInput(context: context, symbols: (0..<vocabulary).map { "s\($0)" }))
            return network
        }
        let batch = data.all
        if kind.isLevels && context >= 4 {
            let levels = firstLevels(networks[0], batch)
            #expect(levels.contains(0) && levels.count > 2, "levels \(levels.sorted())")
        }
        let expected = networks.map { network in
            (0..<batch.count).map { ReferenceNetwork.logits(network, features: batch.features(of: $0)) }
        }
        let (error, where_) = largestError(networks, batch, expected: expected)
        #expect(error == 0, "\(kind.name) \(sizes), context \(context): largest logit error \(error) (\(where_))")
    }

    @Test("scores of levels networks are the same for 1 and 4 threads and every set")
    func scoresAgree() {
        let sizes = [64, 129, 65, 10]
        let (networks, batch) = randomProblem(
            sizes, population: 9, examples: 150, zeroFraction: 0.3, activation: .levels(bits: 4), seed: 8)
        let reference = PopulationEvaluator(layerSizes: sizes, threads: 1, instructionSet: .portable).scores(
            of: networks, on: batch)
        for isa in InstructionSet.supported {
            #expect(
                PopulationEvaluator(layerSizes: sizes, threads: 4, instructionSet: isa).scores(of: networks, on: batch)
                    == reference, "\(isa)")
        }
    }
}
