import Foundation

/// The processes of one distributed run: every rank holds the same state, computes its share of
/// each step's examples, and the shares' Int64 totals are summed so every rank applies the same
/// update. Fitness totals (evolution arms), gradient totals (backprop arms), a stop flag, state
/// hashes and, at the start, the genomes' calibrated thresholds cross it (see <doc:Determinism>;
/// how to run one: `Sources/TernaryExperiments/TernaryExperiments.docc/ScaleOut.md`).
///
/// Every rank must make the same sequence of calls; a call returns when all ranks have made it.
public protocol Communicator: AnyObject, Sendable {
    /// This process's rank, `0 ..< size`; rank 0 alone writes files and progress.
    var rank: Int { get }
    var size: Int { get }
    /// Every rank passes its `values` (rank r exactly `counts[r]` of them); every rank gets all
    /// of them concatenated in rank order.
    func allGather(_ values: [Double], counts: [Int]) throws(CommunicationError) -> [Double]
    /// Every rank passes one word; every rank gets all of them in rank order.
    func allGather(_ value: UInt64) throws(CommunicationError) -> [UInt64]
    /// Every rank passes the same number of values; every rank gets their element-wise sums
    /// (wrapping Int64 adds, so exact and the same in any order): the totals of a data-parallel
    /// step, whose examples are split over the ranks.
    func allReduceSum(_ values: [Int64]) throws(CommunicationError) -> [Int64]
    /// Rank 0's `value` on every rank (the others' arguments are ignored).
    func broadcast(_ value: UInt64) throws(CommunicationError) -> UInt64
    /// Rank 0's `bytes` on every rank (a config or a record that rank 0 read from its disk).
    func broadcast(_ bytes: [UInt8]) throws(CommunicationError) -> [UInt8]
}

extension Communicator {
    /// `scores` of this rank's examples summed over the ranks in one all-reduce (loss units and
    /// correct counts, 16 bytes per score; each result a score of `count` examples), with one
    /// more integer summed alongside. A score without a loss total (not finite) on any rank makes
    /// every result's loss NaN.
    public func summed(
        _ scores: [Score], count: Int, extra: Int64 = 0
    ) throws(CommunicationError) -> (
        scores: [Score], extra: Int64
    ) {
        let n = scores.count
        let missing = Int64(scores.filter { $0.lossUnits == nil }.count)
        let totals = try allReduceSum(
            scores.map { $0.lossUnits ?? 0 } + scores.map { Int64($0.correct) } + [extra, missing])
        let scores = (0..<n).map {
            totals[2 * n + 1] == 0
                ? Score(correct: Int(totals[n + $0]), count: count, lossUnits: totals[$0])
                : Score(correct: Int(totals[n + $0]), count: count, loss: .nan)
        }
        return (scores, totals[2 * n])
    }
}

/// A collective failed (a peer died, or the transport reported an error).
public struct CommunicationError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Which candidates each rank scores: contiguous blocks in candidate order, the first
/// `count % size` ranks one longer, so the gathered values are in candidate order.
public enum WorkSplit {
    public static func range(count: Int, rank: Int, size: Int) -> Range<Int> {
        precondition(count >= 0 && size >= 1 && (0..<size).contains(rank))
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    public static func counts(count: Int, size: Int) -> [Int] {
        (0..<size).map { range(count: count, rank: $0, size: size).count }
    }
}

/// An in-process stand-in for MPI: `size` ranks that are threads of one process, meeting at a
/// shared rendezvous. Tests drive the distributed code paths with it on machines without MPI.
public final class ThreadCommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    let hub: Hub

    /// `size` communicators of one group; give each to its own thread.
    public static func group(size: Int) -> [ThreadCommunicator] {
        precondition(size >= 1)
        let hub = Hub(size: size)
        return (0..<size).map { ThreadCommunicator(rank: $0, size: size, hub: hub) }
    }

    init(rank: Int, size: Int, hub: Hub) {
        self.rank = rank
        self.size = size
        self.hub = hub
    }

    public func allGather(_ values: [Double], counts: [Int]) throws(CommunicationError) -> [Double] {
        guard counts.count == size, counts[rank] == values.count else {
            throw CommunicationError("rank \(rank) passed \(values.count) values where the counts say \(counts[rank])")
        }
        let parts = try hub.exchange(rank: rank, values.map { $0.bitPattern })
        for (r, part) in parts.enumerated() where part.count != counts[r] {
            throw CommunicationError("rank \(r) sent \(part.count) values where the counts say \(counts[r])")
        }
        return parts.flatMap { $0.map(Double.init(bitPattern:)) }
    }

    public func allGather(_ value: UInt64) throws(CommunicationError) -> [UInt64] {
        try hub.exchange(rank: rank, [value]).map { $0[0] }
    }

    public func allReduceSum(_ values: [Int64]) throws(CommunicationError) -> [Int64] {
        let all = try hub.exchange(rank: rank, values.map { UInt64(bitPattern: $0) })
        guard all.allSatisfy({ $0.count == values.count }) else {
            throw CommunicationError("the ranks passed different numbers of values to a sum (\(all.map(\.count)))")
        }
        var sums = [Int64](repeating: 0, count: values.count)
        for words in all { for (k, word) in words.enumerated() { sums[k] &+= Int64(bitPattern: word) } }
        return sums
    }

    public func broadcast(_ value: UInt64) throws(CommunicationError) -> UInt64 {
        try hub.exchange(rank: rank, [value])[0][0]
    }

    public func broadcast(_ bytes: [UInt8]) throws(CommunicationError) -> [UInt8] {
        // The length, then the bytes packed eight to a word.
        var words = [UInt64(bytes.count)]
        if rank == 0 {
            for start in stride(from: 0, to: bytes.count, by: 8) {
                var word: UInt64 = 0
                for (k, byte) in bytes[start..<min(bytes.count, start + 8)].enumerated() {
                    word |= UInt64(byte) << (8 * k)
                }
                words.append(word)
            }
        }
        let received = try hub.exchange(rank: rank, words)[0]
        let count = Int(received[0])
        return (0..<count).map { UInt8(truncatingIfNeeded: received[1 + $0 / 8] >> (8 * ($0 % 8))) }
    }

    /// The rendezvous: each exchange is a round in which every rank deposits its words, waits
    /// for the others, takes a copy of all, and waits again until everyone has taken theirs.
    final class Hub: @unchecked Sendable {
        let size: Int
        let condition = NSCondition()
        var slots: [[UInt64]]
        var arrived = 0, departed = 0, round = 0
        var abandoned = false

        init(size: Int) {
            self.size = size
            slots = Array(repeating: [], count: size)
        }

        func exchange(rank: Int, _ words: [UInt64]) throws(CommunicationError) -> [[UInt64]] {
            condition.lock()
            defer { condition.unlock() }
            // Wait until the previous round has been fully read.
            while departed != 0 && !abandoned { condition.wait() }
            guard !abandoned else { throw CommunicationError("a rank left the group") }
            let myRound = round
            slots[rank] = words
            arrived += 1
            if arrived == size {
                round += 1
                condition.broadcast()
            } else {
                while round == myRound && !abandoned { condition.wait() }
                guard !abandoned else { throw CommunicationError("a rank left the group") }
            }
            let result = slots
            departed += 1
            if departed == size {
                arrived = 0
                departed = 0
                condition.broadcast()
            }
            return result
        }

        /// Wakes every waiting rank with an error (a rank failed and will make no more calls).
        func abandon() {
            condition.lock()
            abandoned = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Tells the other ranks that this one will make no more calls (their pending and later
    /// calls throw), as MPI_Abort would end them.
    public func abandon() { hub.abandon() }
}
