import Foundation
import TernaryCore
import TestSupport
import Testing

@Suite("IncrementalScorer")
struct IncrementalScorerTests {
    /// A random dataset of `count` examples for `sizes`.
    func dataset(_ sizes: [Int], count: Int, maxValue: Int = 255, using rng: inout Xoshiro256) -> QuantizedDataset {
        let data = randomExamples(
            count: count, features: sizes[0], classes: sizes.last!, maxValue: maxValue, using: &rng)
        return QuantizedDataset(
            features: data.features, featureCount: sizes[0], labels: data.labels, classCount: sizes.last!)
    }

    /// A random move: mostly trits (first layer more often), sometimes thresholds, with
    /// threshold values near the current one so that signs do flip.
    func randomMove(_ network: TernaryNetwork, using rng: inout Xoshiro256) -> Move {
        let sizes = network.layerSizes
        let hidden = sizes.count - 2
        if hidden > 0 && rng.uniformBelow(5) == 0 {
            let layer = rng.uniformBelow(hidden)
            let neuron = rng.uniformBelow(sizes[layer + 1])
            let step = layer == 0 ? 300 : 4
            let value = network.thresholds[layer][neuron] + Int32(rng.uniformBelow(2 * step + 1) - step)
            return .threshold(layer: layer, neuron: neuron, value: value)
        }
        let layer = rng.uniformBelow(3) == 0 ? rng.uniformBelow(sizes.count - 1) : 0
        return .trit(
            layer: layer, row: rng.uniformBelow(sizes[layer + 1]), column: rng.uniformBelow(sizes[layer]),
            value: Int8(rng.uniformBelow(3)) - 1)
    }

    func fullScore(_ network: TernaryNetwork, _ data: QuantizedDataset) -> Score {
        PopulationEvaluator(layerSizes: network.layerSizes, threads: 1).scores(of: [network], on: data.all)[0]
    }

    @Test(
        "a fresh cache scores the genome as the full evaluator does",
        arguments: [[13, 5], [64, 65, 3], [129, 63, 65, 10], [70, 128, 64, 1, 4]])
    func rebuildEqualsFull(sizes: [Int]) {
        var rng = Xoshiro256(seed: 3)
        let data = dataset(sizes, count: 131, using: &rng)
        let network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        let scorer = IncrementalScorer(layerSizes: sizes, threads: 2)
        scorer.rebuild(network, on: data)
        #expect(scorer.score == fullScore(network, data))
        #expect(scorer.score(EmptyCollection()) == scorer.score)
    }

    @Test("score(moves) equals a full evaluation of the changed genome on random shapes", arguments: 0..<16)
    func scoreEqualsFull(trial: Int) {
        var rng = Xoshiro256(seed: 500 + UInt64(trial))
        let depth = rng.uniformBelow(4)  // 0 to 3 hidden layers
        let pick = { (rng: inout Xoshiro256) in
            boundarySizes[rng.uniformBelow(boundarySizes.count)] + (rng.uniformBelow(3) == 0 ? 64 : 0)
        }
        var sizes = [pick(&rng)]
        for _ in 0..<depth { sizes.append(pick(&rng)) }
        sizes.append(2 + rng.uniformBelow(9))
        let count = [1, 63, 64, 65, 127, 200][rng.uniformBelow(6)]
        let data = dataset(sizes, count: count, using: &rng)
        let network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        // 1 to 4 shards (more shards than examples for the 1-example batch), both splits.
        let scorer = IncrementalScorer(
            layerSizes: sizes, threads: 2, shards: 1 + trial % 4,
            split: trial % 8 < 4 ? .shards : .candidates)
        scorer.rebuild(network, on: data)
        var candidates = MoveList()
        var expected: [Score] = []
        for _ in 0..<40 {
            let moves = (0..<(1 + rng.uniformBelow(rng.uniformBelow(2) == 0 ? 3 : 12))).map { _ in
                randomMove(network, using: &rng)
            }
            var changed = network
            for move in moves { move.apply(to: &changed) }
            candidates.appendCandidate(moves)
            expected.append(fullScore(changed, data))
        }
        let got = scorer.scores(of: candidates)
        for index in 0..<candidates.count where got[index] != expected[index] {
            Issue.record(
                "sizes \(sizes), \(count) examples, moves \(Array(candidates[index])): delta \(got[index]), full \(expected[index])"
            )
        }
        #expect(scorer.score == fullScore(network, data), "scoring must not change the cache")
    }

    /// The shapes of `longSequences`, each on one of the instruction sets this host can run in
    /// turn, so every set's loss kernels see long sequences without running every shape on each.
    static let sequenceCases: [([Int], Int, Int, InstructionSet)] = {
        let sets = InstructionSet.supported.reversed().map { $0 }
        return [([784, 37, 10], 1, 1), ([100, 129, 65, 7], 2, 3), ([64, 65, 64, 63, 5], 2, 2), ([65, 10], 1, 3)]
            .enumerated().map { ($1.0, $1.1, $1.2, sets[$0 % sets.count]) }
    }()

    @Test(
        "long random sequences of scored and applied moves stay exact (1 and 2 threads, 1 to 3 shards, every instruction set)",
        arguments: sequenceCases)
    func longSequences(sizes: [Int], threads: Int, shards: Int, isa: InstructionSet) {
        var rng = Xoshiro256(seed: UInt64(sizes.reduce(0, +)))
        let data = dataset(sizes, count: 150, maxValue: 16, using: &rng)
        var network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        // Thresholds on the scale of 0..16 inputs so first-layer signs flip.
        for k in 0..<sizes[1] where sizes.count > 2 { network.thresholds[0][k] /= 16 }
        let scorer = IncrementalScorer(layerSizes: sizes, threads: threads, shards: shards, instructionSet: isa)
        scorer.rebuild(network, on: data)
        let steps = 2_500
        for step in 0..<steps {
            var candidates = MoveList()
            for _ in 0..<4 {
                candidates.appendCandidate(
                    (0..<(1 + rng.uniformBelow(3))).map { _ in randomMove(network, using: &rng) })
            }
            let scores = scorer.scores(of: candidates)
            let chosen = rng.uniformBelow(4)
            scorer.apply(candidates[chosen])
            for move in candidates[chosen] { move.apply(to: &network) }
            #expect(scorer.genome == network)
            #expect(scorer.score == scores[chosen], "step \(step): applied score differs from the scored one")
            if step % 250 == 0 || step == steps - 1 {
                let full = fullScore(network, data)
                #expect(scorer.score == full, "step \(step): cache \(scorer.score), full \(full)")
                if scorer.score != full { return }
            }
        }
    }

    @Test(
        "output-layer moves priced from the kept normalisers stay exact, ties for the top included (1 and 2 threads, every instruction set)",
        arguments: [1, 2], InstructionSet.supported)
    func outputMoves(threads: Int, isa: InstructionSet) {
        var rng = Xoshiro256(seed: 70 + UInt64(threads))
        // Three hidden signs: logits lie in -3 ... 3, so moved logits often reach, pass or
        // leave the top, and ties for it are common (every branch of the O(1) path and its
        // O(C) fallback).
        let sizes = [40, 3, 6]
        let data = dataset(sizes, count: 130, using: &rng)
        var network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        let scorer = IncrementalScorer(layerSizes: sizes, threads: threads, shards: 2, instructionSet: isa)
        scorer.rebuild(network, on: data)
        var operations = 0, candidatesScored = 0
        for step in 0..<1_500 {
            var candidates = MoveList()
            for _ in 0..<4 {
                candidates.appendCandidate(
                    (0..<(1 + rng.uniformBelow(3))).map { _ in
                        Move.trit(
                            layer: 1, row: rng.uniformBelow(6), column: rng.uniformBelow(3),
                            value: Int8(rng.uniformBelow(3)) - 1)
                    })
            }
            let scores = scorer.scores(of: candidates)
            operations += scorer.lastOperations
            candidatesScored += candidates.count
            if step % 10 == 0 {
                for index in 0..<candidates.count {
                    var changed = network
                    for move in candidates[index] { move.apply(to: &changed) }
                    let full = fullScore(changed, data)
                    #expect(scores[index] == full, "step \(step), moves \(Array(candidates[index]))")
                    if scores[index] != full { return }
                }
            }
            let chosen = rng.uniformBelow(4)
            scorer.apply(candidates[chosen])
            for move in candidates[chosen] { move.apply(to: &network) }
            #expect(scorer.score == scores[chosen], "step \(step): applied score differs from the scored one")
        }
        #expect(scorer.score == fullScore(network, data))
        // The O(C) path counts C (count + 2) = 12 operations per example; most examples must
        // have taken the O(1) path (about 3 each).
        #expect(
            operations < candidatesScored * 130 * 8, "\(operations) operations: the O(1) output path was rarely taken")
    }

    @Test("any thread count, shard count and split gives identical scores, rebuilds and applied caches")
    func threadCounts() {
        var rng = Xoshiro256(seed: 9)
        let sizes = [129, 65, 10]
        let data = dataset(sizes, count: 300, using: &rng)
        let network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        var candidates = MoveList()
        for _ in 0..<64 { candidates.appendCandidate([randomMove(network, using: &rng)]) }
        let settings: [(threads: Int, shards: Int, split: IncrementalScorer.ScoringSplit)] =
            [
                (1, 1, .candidates), (2, 1, .candidates), (2, 2, .shards), (2, 3, .shards), (2, 7, .candidates),
                (1, 4, .shards),
            ]
        var reference: [Score]? = nil, applied: Score? = nil
        for setting in settings {
            let scorer = IncrementalScorer(
                layerSizes: sizes, threads: setting.threads, shards: setting.shards, split: setting.split)
            scorer.rebuild(network, on: data, indices: Array(stride(from: 299, to: 0, by: -2)))
            let scores = scorer.scores(of: candidates)
            scorer.apply(candidates[5])
            if let reference, let applied {
                #expect(scores == reference, "\(setting) differs from one thread and one shard")
                #expect(scorer.score == applied, "\(setting): the applied cache differs")
            } else {
                reference = scores
                applied = scorer.score
            }
            #expect(scorer.score == scores[5])
        }
    }

    @Test("the last move at a position wins, and a no-op move changes nothing")
    func moveOrder() {
        var rng = Xoshiro256(seed: 4)
        let sizes = [20, 9, 3]
        let data = dataset(sizes, count: 70, using: &rng)
        let network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        let scorer = IncrementalScorer(layerSizes: sizes, threads: 1)
        scorer.rebuild(network, on: data)
        let current = network.weights[0][2, 5]
        let other: Int8 = current == 1 ? -1 : 1
        #expect(
            scorer.score([
                .trit(layer: 0, row: 2, column: 5, value: other), .trit(layer: 0, row: 2, column: 5, value: current),
            ]) == scorer.score)
        #expect(
            scorer.score([
                .trit(layer: 0, row: 2, column: 5, value: current), .trit(layer: 0, row: 2, column: 5, value: other),
            ])
                == scorer.score([.trit(layer: 0, row: 2, column: 5, value: other)]))
        #expect(scorer.score([.threshold(layer: 0, neuron: 1, value: network.thresholds[0][1])]) == scorer.score)
    }

    @Test("a rebuild on the examples at given indices equals a rebuild on those examples alone")
    func indices() {
        var rng = Xoshiro256(seed: 12)
        let sizes = [30, 17, 4]
        let data = dataset(sizes, count: 90, using: &rng)
        let network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        let picked = [5, 88, 3, 40, 41, 0]
        let scorer = IncrementalScorer(layerSizes: sizes, threads: 1, shards: 4)
        scorer.rebuild(network, on: data, indices: picked)
        let batch = data.batch(picked)
        #expect(scorer.score == PopulationEvaluator(layerSizes: sizes, threads: 1).scores(of: [network], on: batch)[0])
    }
}

@Suite("Fixed-point loss")
struct LossTests {
    @Test("our log agrees with the C library's to 1e-15 relative on the range losses use, and beyond")
    func log() {
        var rng = Xoshiro256(seed: 1)
        var worst = 0.0
        for k in 0..<200_000 {
            // Sums of exponentials lie in [1, C]; cover them densely, then a wide range.
            let x = k < 100_000 ? 1 + 1023 * rng.uniformDouble() : Foundation.exp(700 * (2 * rng.uniformDouble() - 1))
            let error = abs(deterministicLog(x) - Foundation.log(x)) / max(1e-300, abs(Foundation.log(x)))
            if Foundation.log(x) != 0 { worst = max(worst, error) }
        }
        #expect(deterministicLog(1) == 0)
        #expect(worst < 1e-15, "largest relative error \(worst)")
    }

    @Test(
        "the loss kernels give the Swift formula's bits on every instruction set", arguments: InstructionSet.supported)
    func kernels(isa: InstructionSet) {
        var rng = Xoshiro256(seed: 5)
        for trial in 0..<60 {
            // Class counts around the 16-lane vectors, temperatures from sharp to flat, logits
            // with gaps inside and past the table.
            let classes = [1, 2, 15, 16, 17, 31, 33, 63, 64, 65, 100][trial % 11]
            let table = LossTable(
                temperature: [1.0 / 32, 1.0 / 16, 0.3, 2.0][trial % 4], largestGap: 2_048, classes: classes)
            let spread = [3, 40, 2_000][trial % 3]
            for _ in 0..<50 {
                let logits = (0..<classes).map { _ in Int32(rng.uniformBelow(2 * spread + 1) - spread) }
                let label = rng.uniformBelow(classes)
                let top = logits.max()!
                let best = logits.firstIndex(of: top)!
                let sum = logits.reduce(UInt64(0)) { sum, z in
                    let gap = Int(top - z)
                    return sum + (gap < table.exponentials.count ? table.exponentials[gap] : 0)
                }
                let loss = table.exampleLoss(logits: logits, label: label, instructionSet: isa)
                #expect(
                    loss.top == top && Int(loss.best) == best && loss.normaliser == sum
                        && loss.correct == (best == label),
                    "\(isa), \(classes) classes: \(loss) for top \(top), best \(best), normaliser \(sum)")
                #expect(loss.units == table.units(top: top, labelLogit: logits[label], normaliser: sum))
            }
            // Units of 8k + 3 examples: normalisers over the range a sum of C terms takes, and beyond.
            let count = 8 * (trial % 5) + 3
            let gaps = (0..<count).map { k in Int32(k % 7 == 0 ? rng.uniformBelow(1 << 30) : rng.uniformBelow(4_096)) }
            let one = table.exponentials[0]
            let normalisers = (0..<count).map { k in
                k % 3 == 0
                    ? one + rng.next() % (UInt64(classes) * one) : 1 + rng.next() >> UInt64(1 + rng.uniformBelow(62))
            }
            let expected = (0..<count).map { table.units(top: gaps[$0], labelLogit: 0, normaliser: normalisers[$0]) }
            #expect(
                table.kernelUnits(gaps: gaps, normalisers: normalisers, instructionSet: isa) == expected,
                "\(isa), trial \(trial)")
        }
    }
}
