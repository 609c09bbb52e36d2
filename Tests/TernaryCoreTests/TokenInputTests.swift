import Foundation
import TernaryCore
import TestSupport
import Testing

/// Token networks (the TernaryCore article Semantics) against the obviously correct path: the same windows
/// materialised as one-hot bytes and scored by the dense evaluator or the reference network.
@Suite("Token inputs")
struct TokenInputTests {
    /// A random symbol stream with skewed frequencies (a few common symbols, as in text), so
    /// index lists have very different lengths.
    func stream(count: Int, vocabulary: Int, using rng: inout Xoshiro256) -> [UInt16] {
        (0..<count).map { _ in
            UInt16(rng.uniformBelow(2) == 0 ? rng.uniformBelow(min(3, vocabulary)) : rng.uniformBelow(vocabulary))
        }
    }

    /// The windows as a dense dataset of one-hot bytes.
    func dense(_ data: QuantizedDataset) -> QuantizedDataset {
        let all = data.all
        var features = [UInt8]()
        for b in 0..<data.count { features += all.features(of: b) }
        return QuantizedDataset(
            features: features, featureCount: data.featureCount, labels: data.labels, classCount: data.classCount)
    }

    /// A random token network: first-layer thresholds on the scale of sums of `context` trits.
    func network(_ sizes: [Int], context: Int, using rng: inout Xoshiro256) -> TernaryNetwork {
        var network = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
        if sizes.count > 2 {
            for k in 0..<sizes[1] { network.thresholds[0][k] = Int32(rng.uniformBelow(5)) - 2 }
        }
        network.quantizer = InputQuantizer(
            tokens: TokenInput(
                context: context,
                symbols: (0..<(sizes[0] / context)).map {
                    String(UnicodeScalar(UInt8(33 + $0 % 90))) + ($0 >= 90 ? "\($0)" : "")
                }))
        return network
    }

    func randomMove(_ network: TernaryNetwork, using rng: inout Xoshiro256) -> Move {
        let sizes = network.layerSizes
        let hidden = sizes.count - 2
        if hidden > 0 && rng.uniformBelow(6) == 0 {
            let layer = rng.uniformBelow(hidden)
            let neuron = rng.uniformBelow(sizes[layer + 1])
            return .threshold(
                layer: layer, neuron: neuron, value: network.thresholds[layer][neuron] + Int32(rng.uniformBelow(5) - 2))
        }
        let layer = rng.uniformBelow(4) == 0 ? rng.uniformBelow(sizes.count - 1) : 0
        return .trit(
            layer: layer, row: rng.uniformBelow(sizes[layer + 1]), column: rng.uniformBelow(sizes[layer]),
            value: Int8(rng.uniformBelow(3)) - 1)
    }

    func full(_ network: TernaryNetwork, _ data: QuantizedDataset, threads: Int = 1) -> Score {
        PopulationEvaluator(layerSizes: network.layerSizes, threads: threads).scores(of: [network], on: data.all)[0]
    }

    @Test(
        "the full evaluator on windows equals the dense evaluator and the reference on one-hot bytes",
        arguments: [(1, 5, [Int]()), (3, 21, [63]), (8, 8, [65]), (2, 65, [1, 7]), (4, 33, [130])])
    func fullEqualsDense(context: Int, vocabulary: Int, hidden: [Int]) {
        var rng = Xoshiro256(seed: UInt64(context * 100 + vocabulary))
        let windows = TokenWindows(
            stream: stream(count: 200 + context, vocabulary: vocabulary, using: &rng), context: context,
            vocabulary: vocabulary)
        let data = QuantizedDataset(windows: windows)
        let sizes = [context * vocabulary] + hidden + [vocabulary]
        let networks = (0..<3).map { _ in network(sizes, context: context, using: &rng) }
        let oneHot = dense(data)
        let evaluator = PopulationEvaluator(layerSizes: sizes, threads: 2)
        #expect(evaluator.logits(of: networks, on: data.all) == evaluator.logits(of: networks, on: oneHot.all))
        #expect(evaluator.scores(of: networks, on: data.all) == evaluator.scores(of: networks, on: oneHot.all))
        let logits = evaluator.logits(of: [networks[0]], on: data.batch([0, 199]))[0]
        #expect(
            logits.map(Int.init) == ReferenceNetwork.logits(networks[0], features: oneHot.all.features(of: 0))
                + ReferenceNetwork.logits(networks[0], features: oneHot.all.features(of: 199)))
    }

    @Test(
        "incremental scores equal full evaluations on long random move sequences (1 and 2 threads, 1 to 5 shards)",
        arguments: [
            (8, 13, [65], 1, 1), (3, 40, [63, 5], 2, 3), (5, 7, [1], 2, 2), (2, 30, [Int](), 1, 5),
            (4, 17, [129], 2, 1),
        ])
    func incrementalEqualsFull(context: Int, vocabulary: Int, hidden: [Int], threads: Int, shards: Int) {
        var rng = Xoshiro256(seed: UInt64(7 * context + vocabulary))
        let windows = TokenWindows(
            stream: stream(count: 190 + context, vocabulary: vocabulary, using: &rng), context: context,
            vocabulary: vocabulary)
        let data = QuantizedDataset(windows: windows)
        let sizes = [context * vocabulary] + hidden + [vocabulary]
        var network = network(sizes, context: context, using: &rng)
        let oneHot = dense(data)
        let scorer = IncrementalScorer(layerSizes: sizes, threads: threads, shards: shards)
        scorer.rebuild(network, on: data)
        #expect(scorer.score == full(network, oneHot))
        for step in 0..<600 {
            var candidates = MoveList()
            var expected: [Score] = []
            for _ in 0..<3 {
                let moves = (0..<(1 + rng.uniformBelow(rng.uniformBelow(2) == 0 ? 2 : 8))).map { _ in
                    randomMove(network, using: &rng)
                }
                candidates.appendCandidate(moves)
                if step % 20 == 0 {
                    var changed = network
                    for move in moves { move.apply(to: &changed) }
                    expected.append(full(changed, oneHot))
                }
            }
            let scores = scorer.scores(of: candidates)
            if step % 20 == 0 {
                for index in 0..<3 where scores[index] != expected[index] {
                    Issue.record(
                        "step \(step) \(sizes): moves \(Array(candidates[index])): incremental \(scores[index]), full \(expected[index])"
                    )
                    return
                }
            }
            let chosen = rng.uniformBelow(3)
            scorer.apply(candidates[chosen])
            for move in candidates[chosen] { move.apply(to: &network) }
            #expect(scorer.score == scores[chosen], "step \(step): applied score differs from the scored one")
        }
        #expect(scorer.genome == network)
        #expect(scorer.score == full(network, oneHot))
        #expect(scorer.score == full(network, data, threads: 2))
    }

    @Test("a rebuild on a sample of windows equals a rebuild on that batch")
    func indices() {
        var rng = Xoshiro256(seed: 31)
        let data = QuantizedDataset(
            windows: TokenWindows(stream: stream(count: 300, vocabulary: 9, using: &rng), context: 6, vocabulary: 9))
        let sizes = [54, 70, 9]
        let network = network(sizes, context: 6, using: &rng)
        let picked = [5, 288, 3, 40, 41, 0, 100]
        let scorer = IncrementalScorer(layerSizes: sizes, threads: 1, shards: 3)
        scorer.rebuild(network, on: data, indices: picked)
        #expect(
            scorer.score
                == PopulationEvaluator(layerSizes: sizes, threads: 1).scores(of: [network], on: data.batch(picked))[0])
    }

    @Test("a token model with its vocabulary and temperature survives the model file; version 1 files still load")
    func modelFile() throws {
        var rng = Xoshiro256(seed: 2)
        var model = network([3 * 5, 7, 5], context: 3, using: &rng)
        model.quantizer = InputQuantizer(
            tokens: TokenInput(context: 3, symbols: ["a", "é", "\n", " ", TokenInput.unseenSymbol]))
        model.temperature = 1.75
        let bytes = model.modelFileBytes()
        #expect(bytes[4] == 3)
        let loaded = try TernaryNetwork(modelFileBytes: bytes)
        #expect(loaded == model)
        #expect(loaded.tokens?.symbols == ["a", "é", "\n", " ", TokenInput.unseenSymbol])
        var plain = model
        plain.quantizer = InputQuantizer(low: 0, high: 1, bits: 1)
        plain.temperature = nil
        #expect(plain.modelFileBytes()[4] == 1)
        #expect(try TernaryNetwork(modelFileBytes: plain.modelFileBytes()) == plain)
        var damaged = bytes
        damaged[damaged.count - 30] ^= 0x40
        #expect(throws: ModelFileError.self) { try TernaryNetwork(modelFileBytes: damaged) }
    }
}
