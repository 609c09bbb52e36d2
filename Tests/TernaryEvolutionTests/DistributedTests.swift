import Foundation
import TernaryCore
import Testing

@testable import TernaryEvolution

/// Runs `body(rank)` on `size` threads at once (real threads: the ranks block on each other)
/// and returns the results in rank order.
func onRanks<T: Sendable>(_ size: Int, _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, Error>] {
    let slots = Slots<T>(size), lock = NSLock(), group = DispatchGroup()
    for rank in 0..<size {
        group.enter()
        Thread.detachNewThread {
            let result = Result { try body(rank) }
            lock.withLock { slots.results[rank] = result }
            group.leave()
        }
    }
    group.wait()
    return lock.withLock { slots.results.map { $0! } }
}

/// Per-rank results, written under a lock.
final class Slots<T>: @unchecked Sendable {
    var results: [Result<T, Error>?]
    init(_ count: Int) { results = Array(repeating: nil, count: count) }
}

@Suite("Distributed runs (ranks as threads)")
struct DistributedTests {
    @Test("the work split covers every candidate once, in order, for any count and 1 to 7 ranks")
    func workSplit() {
        for size in 1...7 {
            for count in [0, 1, 2, 5, 6, 7, 13, 64, 100, 257] {
                let ranges = (0..<size).map { WorkSplit.range(count: count, rank: $0, size: size) }
                #expect(ranges.flatMap { Array($0) } == Array(0..<count), "count \(count), \(size) ranks")
                let lengths = ranges.map(\.count)
                #expect(lengths.max()! - lengths.min()! <= 1)
                #expect(WorkSplit.counts(count: count, size: size) == lengths)
            }
        }
    }

    @Test("the stand-in communicator gathers every rank's values in rank order and sums them, round after round")
    func gather() throws {
        for size in 1...7 {
            let group = ThreadCommunicator.group(size: size)
            let results = onRanks(size) { rank -> [Double] in
                var all: [Double] = []
                for round in 0..<50 {
                    let counts = (0..<size).map { ($0 + round) % 3 }
                    let mine = (0..<counts[rank]).map { Double(round * 1000 + rank * 10 + $0) }
                    all += try group[rank].allGather(mine, counts: counts)
                    #expect(try group[rank].broadcast(UInt64(rank + round)) == UInt64(round))
                    #expect(try group[rank].allGather(UInt64(rank)) == (0..<size).map(UInt64.init))
                    // Rank 0's bytes, of every length around a word's 8.
                    let bytes = (0..<(round % 19)).map { UInt8(truncatingIfNeeded: $0 * 37 + round) }
                    #expect(try group[rank].broadcast(rank == 0 ? bytes : [7]) == bytes)
                    // Element-wise sums, wrapping like Int64 arithmetic (the totals of a data-parallel step).
                    let values = (0..<(round % 5)).map { Int64(rank * 1_000 + $0) &* (round == 7 ? Int64.max / 3 : 1) }
                    let sums = (0..<(round % 5)).map { k in
                        (0..<size).reduce(Int64(0)) {
                            $0 &+ (Int64($1 * 1_000 + k) &* (round == 7 ? Int64.max / 3 : 1))
                        }
                    }
                    #expect(try group[rank].allReduceSum(values) == sums)
                }
                return all
            }
            var expected: [Double] = []
            for round in 0..<50 {
                for rank in 0..<size {
                    expected += (0..<((rank + round) % 3)).map { Double(round * 1000 + rank * 10 + $0) }
                }
            }
            for result in results { #expect(try result.get() == expected, "\(size) ranks") }
        }
    }

    @Test("a rank that leaves makes the others' calls fail instead of hanging")
    func abandon() {
        let group = ThreadCommunicator.group(size: 3)
        let results = onRanks(3) { rank -> Int in
            if rank == 2 {
                group[rank].abandon()
                return 0
            }
            _ = try group[rank].allGather(UInt64(rank))
            return 1
        }
        #expect((try? results[0].get()) == nil && (try? results[1].get()) == nil)
    }

    /// Runs `strategy` alone (on `threads` threads) and on 2, 3 and 7 ranks of one thread each,
    /// and expects every rank's reports, state and operation count to equal the lone run's.
    func compareWithRanks<S: SearchStrategy>(
        _ strategy: S, data: QuantizedDataset, batch: Int?, sizes: [Int], steps count: Int = 12,
        threads: Int = 1, cacheBudget: Int = 0, firstLayer: FirstLayerStart = .random
    ) {
        let alone = session(
            strategy, sizes: sizes, data: data, batch: batch, rotateEvery: 5, threads: threads, seed: 4,
            cacheBudget: cacheBudget, firstLayer: firstLayer)
        let reports = steps(alone, count)
        let expected = stateBytes(alone)
        for size in [2, 3, 7] {
            let group = ThreadCommunicator.group(size: size)
            let results = onRanks(size) { rank -> ([StepReport], [UInt8], Double) in
                let run = session(
                    strategy, sizes: sizes, data: data, batch: batch, rotateEvery: 5, threads: 1, seed: 4,
                    cacheBudget: cacheBudget, firstLayer: firstLayer)
                run.distribute(over: group[rank])
                let mine = try (0..<count).map { _ in try run.advance() }
                return (mine, stateBytes(run), run.integerOperations)
            }
            for (rank, result) in results.enumerated() {
                guard let (mine, state, operations) = try? result.get() else {
                    Issue.record("rank \(rank) of \(size) failed: \(result)")
                    continue
                }
                #expect(mine == reports, "\(strategy.settingsDescription): rank \(rank) of \(size)")
                #expect(state == expected, "\(strategy.settingsDescription): rank \(rank) of \(size)")
                #expect(operations == alone.integerOperations)
            }
        }
    }

    @Test(
        "N ranks give the states and reports of one process (ga in full and from caches, local, es; 1 to 7 ranks, batches not divisible by N)"
    )
    func sameAsOneProcess() {
        let data = clusterData(count: 300, seed: 5)
        compareWithRanks(smallGA(population: 29), data: data, batch: 100, sizes: [20, 37, 3])
        // The defaults' scheme: children scored from breeders' caches that hold each rank's block.
        var cached = GeneticAlgorithm(
            populationSize: 13, eliteCount: 3, selection: .truncation(count: 3), crossover: .neuron,
            crossoverProbability: 0.3, mutation: Mutation(weightRate: 0.004, thresholdRate: 0.05, thresholdStep: 30),
            readout: true)
        cached.cachedChildFraction = 1.0 / 16
        compareWithRanks(cached, data: data, batch: 101, sizes: [20, 37, 3], cacheBudget: 1 << 26)
        compareWithRanks(
            LocalSearch(candidates: 13, movesPerCandidate: 2, thresholdProbability: 0.2, thresholdStep: 40), data: data,
            batch: 121, sizes: [20, 37, 3])
        compareWithRanks(
            SignVoteES(pairs: 5, perturbedTrits: 3, thresholdProbability: 0.1, thresholdStep: 40), data: data,
            batch: nil, sizes: [20, 37, 3])
    }

    @Test(
        "data-parallel local and es on text windows (and local and the GA from the n-gram first layer): ranks hold blocks of a batch they do not divide; alone, 2 threads shard it"
    )
    func textSameAsOneProcess() {
        var rng = Xoshiro256(seed: 8)
        let (context, vocabulary) = (3, 11)
        let stream = (0..<8_400).map { _ in
            UInt16(rng.uniformBelow(2) == 0 ? rng.uniformBelow(3) : rng.uniformBelow(vocabulary))
        }
        let data = QuantizedDataset(windows: TokenWindows(stream: stream, context: context, vocabulary: vocabulary))
        let sizes = [context * vocabulary, 16, vocabulary]
        // 8,201 examples: a shard per thread for the lone 2-thread run (4,096 or more per shard).
        compareWithRanks(
            LocalSearch(candidates: 7, movesPerCandidate: 1, thresholdProbability: 0.2, thresholdStep: 2), data: data,
            batch: 8_201, sizes: sizes, steps: 6, threads: 2)
        compareWithRanks(
            SignVoteES(pairs: 3, perturbedTrits: 2, thresholdProbability: 0.1, thresholdStep: 2), data: data,
            batch: 8_201, sizes: sizes, steps: 6, threads: 2)
        // The n-gram first layer: every rank draws every genome's detectors from the same windows.
        compareWithRanks(
            LocalSearch(candidates: 7, movesPerCandidate: 1, thresholdProbability: 0.2, thresholdStep: 2), data: data,
            batch: 8_201, sizes: sizes, steps: 6, threads: 2, firstLayer: .ngrams)
        compareWithRanks(
            smallGA(population: 9), data: data, batch: 500, sizes: sizes, steps: 4, firstLayer: .ngrams)
    }
}
