import TernaryCore
import TestSupport
import Testing

@Suite("CachePool")
struct CachePoolTests {
    @Test(
        "derived slots and their candidates score as full evaluations, over generations, on 1 and 2 threads",
        arguments: [([13, 5], 1), ([70, 65, 3], 2), ([64, 17, 9, 4], 2)])
    func derivedEqualsFull(sizes: [Int], threads: Int) {
        var rng = Xoshiro256(seed: 41)
        let tests = IncrementalScorerTests()
        let data = tests.dataset(sizes, count: 97, using: &rng)
        let indices = [3, 5, 8, 13, 21, 34, 55, 89, 1, 2, 90, 60, 61, 62, 63, 64, 65, 66]
        let batch = data.batch(indices)
        let evaluator = PopulationEvaluator(layerSizes: sizes, threads: 1)
        let pool = CachePool(layerSizes: sizes, threads: threads)
        var genomes = (0..<4).map { _ in randomNetwork(sizes, zeroFraction: 0.3, using: &rng) }
        pool.replace(with: genomes.map { .rebuild($0) }, on: data, indices: indices)
        for _ in 0..<4 {
            #expect((0..<pool.count).map(pool.score) == evaluator.scores(of: genomes, on: batch))
            // Candidates: each slot plus a few random moves (some none).
            var list = MoveList(), slots: [Int] = [], children: [TernaryNetwork] = []
            for index in 0..<6 {
                let slot = index % 4
                var child = pool.genome(slot)
                let moves = (0..<(index % 4)).map { _ in tests.randomMove(child, using: &rng) }
                for move in moves { move.apply(to: &child) }
                list.appendCandidate(moves)
                slots.append(slot)
                children.append(child)
            }
            let scores = pool.scores(of: list, slots: slots, items: Array(0..<6))
            #expect(scores == evaluator.scores(of: children, on: batch))
            #expect(pool.scores(of: list, slots: slots, items: [4, 1]) == [scores[4], scores[1]])
            // The next slots: children 0, 3, 5 and 4 derived (0 and 4 from one slot: a copy, then
            // the slot's cache itself; the pool grows from 4 to 5 slots), one genome rebuilt.
            let fresh = randomNetwork(sizes, zeroFraction: 0.3, using: &rng)
            pool.replace(
                with: [
                    .derive(slot: slots[0], moves: list[0]), .rebuild(fresh), .derive(slot: slots[3], moves: list[3]),
                    .derive(slot: slots[5], moves: list[5]), .derive(slot: slots[4], moves: list[4]),
                ],
                on: data, indices: indices)
            genomes = [children[0], fresh, children[3], children[5], children[4]]
            #expect(slots[0] == slots[4])
            #expect((0..<pool.count).map(pool.genome) == genomes)
        }
    }
}

extension CachePoolTests {
    @Test("token inputs: a derived slot (its windows and index copied) scores as a full evaluation")
    func tokens() {
        let tokens = TokenInputTests()
        var rng = Xoshiro256(seed: 5)
        let (context, vocabulary) = (3, 11)
        let windows = TokenWindows(
            stream: tokens.stream(count: 120, vocabulary: vocabulary, using: &rng), context: context,
            vocabulary: vocabulary)
        let data = QuantizedDataset(windows: windows)
        let sizes = [context * vocabulary, 20, vocabulary]
        let indices = Array(stride(from: 0, to: data.count, by: 3))
        let evaluator = PopulationEvaluator(layerSizes: sizes, threads: 1)
        let pool = CachePool(layerSizes: sizes, threads: 2)
        var genome = tokens.network(sizes, context: context, using: &rng)
        pool.replace(
            with: [.rebuild(genome), .rebuild(tokens.network(sizes, context: context, using: &rng))], on: data,
            indices: indices)
        for _ in 0..<5 {
            let parent = genome
            let moves = (0..<4).map { _ in tokens.randomMove(genome, using: &rng) }
            for move in moves { move.apply(to: &genome) }
            var list = MoveList()
            list.appendCandidate(moves)
            let score = pool.scores(of: list, slots: [0], items: [0])[0]
            #expect(score == evaluator.scores(of: [genome], on: data.batch(indices))[0])
            // Both new slots derive from slot 0: the child, and the parent copied as it is.
            pool.replace(
                with: [.derive(slot: 0, moves: list[0]), .derive(slot: 0, moves: [])], on: data, indices: indices)
            #expect(pool.score(0) == score && pool.genome(0) == genome)
            #expect(
                pool.genome(1) == parent && pool.score(1) == evaluator.scores(of: [parent], on: data.batch(indices))[0])
        }
    }
}
