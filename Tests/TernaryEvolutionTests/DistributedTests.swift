import Foundation
import Testing
import TernaryCore
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

    @Test("the stand-in communicator gathers every rank's values in rank order, round after round")
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
                }
                return all
            }
            var expected: [Double] = []
            for round in 0..<50 {
                for rank in 0..<size { expected += (0..<((rank + round) % 3)).map { Double(round * 1000 + rank * 10 + $0) } }
            }
            for result in results { #expect(try result.get() == expected, "\(size) ranks") }
        }
    }

    @Test("a rank that leaves makes the others' calls fail instead of hanging")
    func abandon() {
        let group = ThreadCommunicator.group(size: 3)
        let results = onRanks(3) { rank -> Int in
            if rank == 2 { group[rank].abandon(); return 0 }
            _ = try group[rank].allGather(UInt64(rank))
            return 1
        }
        #expect((try? results[0].get()) == nil && (try? results[1].get()) == nil)
    }

    @Test("N ranks give the states and reports of one process (ga, local, es; 1 to 7 ranks, populations not divisible by N)")
    func sameAsOneProcess() {
        let data = clusterData(count: 300, seed: 5)
        func compare<S: SearchStrategy>(_ strategy: S, batch: Int?, sizes: [Int] = [20, 37, 3], steps count: Int = 12) {
            let alone = session(strategy, sizes: sizes, data: data, batch: batch, rotateEvery: 5, threads: 1, seed: 4)
            let reports = steps(alone, count)
            let expected = stateBytes(alone)
            for size in [2, 3, 7] {
                let group = ThreadCommunicator.group(size: size)
                let results = onRanks(size) { rank -> ([StepReport], [UInt8], Double) in
                    let run = session(strategy, sizes: sizes, data: data, batch: batch, rotateEvery: 5, threads: 1, seed: 4)
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
        compare(smallGA(population: 29), batch: 100)
        compare(LocalSearch(candidates: 13, movesPerCandidate: 2, thresholdProbability: 0.2, thresholdStep: 40), batch: 120)
        compare(SignVoteES(pairs: 5, perturbedTrits: 3, thresholdProbability: 0.1, thresholdStep: 40), batch: nil)
    }
}
