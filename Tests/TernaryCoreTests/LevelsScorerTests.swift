import TernaryCore
import TestSupport
import Testing

/// The incremental scorer on levels networks (K-bit activations), against the reference
/// network's logits scored with the fixed-point loss, and against from-scratch rebuilds.
@Suite("IncrementalScorer, levels")
struct LevelsScorerTests {
    /// The expected score: the reference network's logits of every example, each turned into
    /// loss units and correctness by the loss table both evaluators use.
    func referenceScore(_ network: TernaryNetwork, _ data: QuantizedDataset) -> Score {
        let table = LossTable(layerSizes: network.layerSizes, temperature: nil)
        let batch = data.all
        var units: Int64 = 0, correct = 0
        for b in 0..<data.count {
            let z = ReferenceNetwork.logits(network, features: batch.features(of: b)).map { Int32($0) }
            let loss = table.exampleLoss(logits: z, label: data.labels[b], instructionSet: .portable)
            units &+= loss.units
            correct += loss.correct ? 1 : 0
        }
        return Score(correct: correct, count: data.count, lossUnits: units)
    }

    /// A random levels network; with token inputs (`context > 0`) first-layer thresholds and
    /// steps on the scale of sums of `context` trits, so first-layer levels change.
    func network(_ sizes: [Int], bits: Int, context: Int, using rng: inout Xoshiro256) -> TernaryNetwork {
        var network = randomNetwork(sizes, zeroFraction: 0.3, activation: .levels(bits: bits), using: &rng)
        if context > 0 {
            for k in 0..<sizes[1] { network.thresholds[0][k] = Int32(rng.uniformBelow(5)) - 3 }
            network.steps[0] = 1
            network.quantizer = InputQuantizer(
                tokens: TokenInput(context: context, symbols: (0..<(sizes[0] / context)).map { "s\($0)" }))
        }
        return network
    }

    /// Random examples: bytes, or windows of `context` symbols (vocabulary `sizes[0] / context`).
    func dataset(_ sizes: [Int], context: Int, count: Int, using rng: inout Xoshiro256) -> QuantizedDataset {
        if context > 0 {
            let vocabulary = sizes[0] / context
            let stream = TokenInputTests().stream(count: count + context, vocabulary: vocabulary, using: &rng)
            return QuantizedDataset(windows: TokenWindows(stream: stream, context: context, vocabulary: vocabulary))
        }
        return IncrementalScorerTests().dataset(sizes, count: count, using: &rng)
    }

    /// A random move: trits on every layer (the first more often), thresholds near the current
    /// value (a few steps away), and now and then a step move.
    func randomMove(_ network: TernaryNetwork, using rng: inout Xoshiro256) -> Move {
        let sizes = network.layerSizes, hidden = sizes.count - 2
        let draw = rng.uniformBelow(20)
        if draw < 4 {
            let layer = rng.uniformBelow(hidden), neuron = rng.uniformBelow(sizes[layer + 1])
            let reach = Int(network.steps[layer]) * 3
            return .threshold(
                layer: layer, neuron: neuron,
                value: network.thresholds[layer][neuron] + Int32(rng.uniformBelow(2 * reach + 1) - reach))
        }
        if draw == 4 {
            let layer = rng.uniformBelow(hidden), step = network.steps[layer]
            return .step(
                layer: layer,
                value: max(
                    1,
                    rng.uniformBelow(2) == 0
                        ? step + Int32(rng.uniformBelow(3)) - 1 : step * 2 / Int32(1 + rng.uniformBelow(3))))
        }
        let layer = rng.uniformBelow(2) == 0 ? 0 : rng.uniformBelow(sizes.count - 1)
        return .trit(
            layer: layer, row: rng.uniformBelow(sizes[layer + 1]), column: rng.uniformBelow(sizes[layer]),
            value: Int8(rng.uniformBelow(3)) - 1)
    }

    @Test("a fresh cache of a levels network scores as the reference", arguments: [2, 4, 8])
    func rebuildEqualsReference(bits: Int) {
        var rng = Xoshiro256(seed: 80 + UInt64(bits))
        for (sizes, context) in [([13, 65, 7], 0), ([129, 13, 65, 5], 0), ([33, 65, 11], 3), ([33, 13, 20, 11], 3)] {
            let data = dataset(sizes, context: context, count: 131, using: &rng)
            let network = network(sizes, bits: bits, context: context, using: &rng)
            let scorer = IncrementalScorer(layerSizes: sizes, threads: 2, shards: 2)
            scorer.rebuild(network, on: data)
            #expect(scorer.score == referenceScore(network, data), "\(sizes), \(bits) bits, context \(context)")
        }
    }

    /// Shapes, bits, threads, shards and token context of `longSequences`, each on one of the
    /// host's instruction sets in turn.
    static let sequenceCases: [([Int], Int, Int, Int, Int, InstructionSet)] = {
        let sets = InstructionSet.supported.reversed().map { $0 }
        return [
            ([65, 129, 7], 4, 1, 1, 0), ([129, 13, 65, 5], 2, 2, 3, 0), ([13, 65, 10], 8, 2, 2, 0),
            ([33, 65, 11], 4, 2, 2, 3), ([33, 13, 20, 11], 8, 1, 1, 3), ([40, 65, 13, 6], 8, 2, 1, 0),
        ]
        .enumerated().map { ($1.0, $1.1, $1.2, $1.3, $1.4, sets[$0 % sets.count]) }
    }()

    @Test(
        "long random sequences of scored and applied trit, threshold and step moves stay exact (K = 2, 4, 8; bytes and tokens; 1 and 2 threads; shards)",
        arguments: sequenceCases)
    func longSequences(sizes: [Int], bits: Int, threads: Int, shards: Int, context: Int, isa: InstructionSet) {
        var rng = Xoshiro256(seed: UInt64(sizes.reduce(0, +) * 10 + bits))
        let data = dataset(sizes, context: context, count: 100, using: &rng)
        var network = network(sizes, bits: bits, context: context, using: &rng)
        let scorer = IncrementalScorer(layerSizes: sizes, threads: threads, shards: shards, instructionSet: isa)
        let fresh = IncrementalScorer(layerSizes: sizes, threads: threads, shards: shards, instructionSet: isa)
        scorer.rebuild(network, on: data)
        #expect(scorer.score == referenceScore(network, data))
        let steps = 100
        var differing = 0
        defer {
            #expect(
                differing > steps / 2,
                "only \(differing) candidates changed the score: the moves barely reach the levels")
        }
        for step in 0..<steps {
            var candidates = MoveList(), changed: [TernaryNetwork] = []
            for _ in 0..<3 {
                let moves = (0..<(1 + rng.uniformBelow(3))).map { _ in randomMove(network, using: &rng) }
                var child = network
                for move in moves { move.apply(to: &child) }
                candidates.appendCandidate(moves)
                changed.append(child)
            }
            let scores = scorer.scores(of: candidates)
            differing += scores.filter { $0 != scorer.score }.count
            // Every candidate against a rebuild of its genome on every third step.
            for index in 0..<candidates.count where step % 3 == 0 {
                fresh.rebuild(changed[index], on: data)
                #expect(scores[index] == fresh.score, "step \(step), moves \(Array(candidates[index]))")
                if scores[index] != fresh.score { return }
            }
            let chosen = rng.uniformBelow(candidates.count)
            scorer.apply(candidates[chosen])
            network = changed[chosen]
            #expect(scorer.genome == network)
            fresh.rebuild(network, on: data)
            #expect(
                scorer.score == scores[chosen] && scorer.score == fresh.score,
                "step \(step): applied \(scorer.score), scored \(scores[chosen]), rebuilt \(fresh.score)")
            if step % 25 == 0 || step == steps - 1 {
                let expected = referenceScore(network, data)
                #expect(scorer.score == expected, "step \(step): cache \(scorer.score), reference \(expected)")
                if scorer.score != expected { return }
            }
        }
    }

    @Test("a breeder pool of levels networks: derived slots and their candidates score as the reference")
    func pool() {
        var rng = Xoshiro256(seed: 33)
        let sizes = [65, 13, 20, 5]
        let data = dataset(sizes, context: 0, count: 97, using: &rng)
        let indices = Array(stride(from: 0, to: 97, by: 2))
        let batch = QuantizedDataset(
            features: indices.flatMap { data.all.features(of: $0) }, featureCount: sizes[0],
            labels: indices.map { data.labels[$0] }, classCount: sizes.last!)
        let pool = CachePool(layerSizes: sizes, threads: 2)
        var genomes = (0..<3).map { _ in network(sizes, bits: 4, context: 0, using: &rng) }
        pool.replace(with: genomes.map { .rebuild($0) }, on: data, indices: indices)
        for _ in 0..<4 {
            #expect((0..<pool.count).map(pool.score) == genomes.map { referenceScore($0, batch) })
            var list = MoveList(), children: [TernaryNetwork] = []
            for slot in 0..<3 {
                var child = genomes[slot]
                let moves = (0..<4).map { _ in randomMove(child, using: &rng) }
                for move in moves { move.apply(to: &child) }
                list.appendCandidate(moves)
                children.append(child)
            }
            #expect(
                pool.scores(of: list, slots: [0, 1, 2], items: [0, 1, 2]) == children.map { referenceScore($0, batch) })
            pool.replace(
                with: [
                    .derive(slot: 0, moves: list[0]), .derive(slot: 2, moves: list[2]), .derive(slot: 2, moves: []),
                ],
                on: data, indices: indices)
            genomes = [children[0], children[2], genomes[2]]
            #expect((0..<pool.count).map(pool.genome) == genomes)
        }
    }
}
