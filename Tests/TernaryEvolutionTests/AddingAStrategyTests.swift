import Foundation
import TernaryCore
import Testing

@testable import TernaryEvolution

// The worked example of the article AddingAStrategy, written by following it: the strategy is
// this one file (in Sources it would be Sources/TernaryEvolution/Strategies/FirstImprovement.swift;
// `@testable` gives it what a file inside the module sees), and its tests are the article's
// step 3.

/// First-improvement hill climbing: each step proposes `candidates` single-trit moves of the
/// current genome and takes the first, in proposal order, that beats the current point on the
/// step's batch (local search takes the best).
struct FirstImprovement: SearchStrategy {
    /// The defaults, the one place that holds them (an arm's config keys read them from here).
    enum Defaults {
        static let candidates = 8
        static let initialZeroFraction = 1.0 / 3
        static let readout = true
    }

    var candidates: Int
    var initialZeroFraction: Double
    var readout: Bool

    init(
        candidates: Int = Defaults.candidates, initialZeroFraction: Double = Defaults.initialZeroFraction,
        readout: Bool = Defaults.readout
    ) {
        precondition(candidates >= 1, "candidates must be positive")
        (self.candidates, self.initialZeroFraction, self.readout) = (candidates, initialZeroFraction, readout)
    }

    struct State: Sendable {
        var current: TernaryNetwork
        var step: Int
        /// The last `ask`'s proposals (rebuilt by every `ask`, so not encoded).
        var proposals = MoveList()
    }

    var settingsDescription: String {
        "first-improvement candidates=\(candidates) zeros=\(initialZeroFraction) readout=\(readout)"
    }

    func initialState(problem: SearchProblem, seed: UInt64, until stop: StopSignal) -> State? {
        problem.startingPoint(zeroFraction: initialZeroFraction, readout: readout, seed: seed, until: stop)
            .map { State(current: $0, step: 0) }
    }

    func ask(_ state: inout State, problem: SearchProblem, seed: UInt64) -> Candidates {
        let positions = GenomePositions(layerSizes: state.current.layerSizes, thresholdStep: 1)
        state.proposals.removeAll()
        state.proposals.endCandidate()  // candidate 0: the current point, no moves, no cost
        for candidate in 1...candidates {
            // The same kind of draw as local search's (the moves of candidate c of step s).
            var rng = Xoshiro256(seed: seed, stream: StreamPath.localMoves(state.step, candidate))
            state.proposals.append(
                positions.randomTritMove(
                    positions.randomWeight(outputShare: nil, using: &rng), of: state.current, using: &rng))
            state.proposals.endCandidate()
        }
        return .moves(state.proposals)
    }

    func tell(_ state: inout State, fitness: [Double], problem: SearchProblem, seed: UInt64) {
        precondition(fitness.count == candidates + 1, "one fitness per candidate")
        state.step += 1
        guard let first = (1...candidates).first(where: { isBetter(fitness[$0], than: fitness[0]) }) else { return }
        let moves = Array(state.proposals[first])
        for move in moves { move.apply(to: &state.current) }
        state.current.checkInvariants()
        problem.incumbentMoved(moves)
    }

    func incumbent(_ state: State) -> TernaryNetwork { state.current }

    func encode(_ state: State, into writer: inout BinaryWriter) {
        writer.write(state.current)
        writer.writeCount(state.step)
    }

    func decode(from reader: inout BinaryReader, problem: SearchProblem) throws(FileFormatError) -> State {
        State(current: try reader.readNetwork(), step: try reader.readCount(limit: Int(Int32.max)))
    }
}

/// The example's own test; it is also in "local search, es and the article's example reach 100%
/// train accuracy", "1 thread and 2 threads give identical states" and "10 steps, save, load, 10
/// more equals 20 straight" (EvolutionTests.swift), as the article's step 3 says.
@Suite("adding a strategy (the article's worked example)")
struct AddingAStrategyTests {
    @Test("a truncated state of the example is an error, never a trap")
    func truncated() {
        let data = clusterData(count: 200, seed: 12)
        let run = session(FirstImprovement(), sizes: [20, 9, 3], data: data, batch: 64)
        steps(run, 2)
        let bytes = stateBytes(run)
        for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 31)) {
            var reader = BinaryReader(bytes: Array(bytes[0..<cut]), path: "state")
            #expect(throws: FileFormatError.self) {
                try session(FirstImprovement(), sizes: [20, 9, 3], data: data).restoreState(from: &reader)
            }
        }
    }
}
