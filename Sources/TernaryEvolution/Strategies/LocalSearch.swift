import TernaryCore

/// (1 + lambda) local search over trits and thresholds, scored incrementally.
///
/// Each step proposes `candidates` move sets from seeded streams (one per step and candidate):
/// `movesPerCandidate` trits of one neuron set to other values, or, with probability
/// `thresholdProbability`, one hidden threshold stepped. The problem scores them all from the
/// current genome's cached evaluation (a candidate costs what it changes), and the best is
/// applied when it beats the current point on the step's fitness batch, or ties with it when
/// `acceptNeutral` is set (neutral moves let the search drift across plateaus; strict ones
/// generalised better in our trials). Candidate 0 of every step is the current point itself
/// (no moves, no cost), so the comparison is on the same batch after a rotation.
///
/// With `greedy` set, a step does not stop at its best candidate: the other candidates that
/// beat the current point are re-scored, best first, from the cache after the moves already
/// taken, and each that still improves on the new current point is applied too (one extra
/// candidate scored per re-check, counted like the step's own). Early in a run, when many
/// moves improve, this takes several per step for the price of one step.
///
/// A trit move picks its weight uniformly over the genome, so each layer gets moves in
/// proportion to its size; `outputShare` instead gives the output layer that share of them
/// (the text model 504-1024-63 has 11% of its weights there).
///
/// With `stepEvery` set and a levels network, every `stepEvery`-th step adds two candidates
/// after the drawn ones: the step `delta` of one hidden layer (the layers in turn) made larger
/// and smaller by an eighth (at least 1). Such a candidate changes every example's levels in
/// that layer, so it costs about a full evaluation of the layers above it; `sign` networks
/// have no steps and never get them.
///
/// The defaults (`Defaults`) are the `local` arm's: greedy steps from the readout start
/// (measured on MNIST-5k); `greedy: false, readout: false` is the plain (1 + lambda) search.
public struct LocalSearch: SearchStrategy {
    public var candidates: Int
    public var movesPerCandidate: Int
    public var thresholdProbability: Double
    /// The largest threshold step (nil: `Mutation.standardThresholdStep` of the genome).
    public var thresholdStep: Int?
    public var acceptNeutral: Bool
    public var greedy: Bool
    public var initialZeroFraction: Double
    /// Start from a data-set output layer (`SearchProblem.readoutInitialized`) instead of random trits.
    public var readout: Bool
    /// The share of trit moves drawn in the output layer; nil: in proportion to its size.
    public var outputShare: Double?
    /// Every this many steps, two step candidates for a levels network (nil: never).
    public var stepEvery: Int?

    /// The defaults, the one place that holds them: the initialiser, the `local` arm's config
    /// keys (`ternevo help run --keys`) and the docs read them from here.
    public enum Defaults {
        public static let candidates = 32
        public static let movesPerCandidate = 1
        public static let thresholdProbability = 0.1
        public static let acceptNeutral = false
        public static let greedy = true
        public static let initialZeroFraction = 1.0 / 3
        public static let readout = true
    }

    public init(
        candidates: Int = Defaults.candidates, movesPerCandidate: Int = Defaults.movesPerCandidate,
        thresholdProbability: Double = Defaults.thresholdProbability, thresholdStep: Int? = nil,
        acceptNeutral: Bool = Defaults.acceptNeutral, greedy: Bool = Defaults.greedy,
        initialZeroFraction: Double = Defaults.initialZeroFraction, readout: Bool = Defaults.readout,
        outputShare: Double? = nil, stepEvery: Int? = nil
    ) {
        precondition(candidates >= 1 && movesPerCandidate >= 1, "candidates and moves per candidate must be positive")
        precondition(thresholdProbability >= 0 && thresholdProbability <= 1, "thresholdProbability must lie in [0, 1]")
        precondition(outputShare.map { $0 >= 0 && $0 <= 1 } ?? true, "outputShare must lie in [0, 1]")
        precondition(stepEvery.map { $0 >= 1 } ?? true, "stepEvery must be positive")
        self.candidates = candidates
        self.movesPerCandidate = movesPerCandidate
        self.thresholdProbability = thresholdProbability
        self.thresholdStep = thresholdStep
        self.acceptNeutral = acceptNeutral
        self.greedy = greedy
        self.initialZeroFraction = initialZeroFraction
        self.readout = readout
        self.outputShare = outputShare
        self.stepEvery = stepEvery
    }

    public struct State: Sendable {
        /// The current point.
        public internal(set) var current: TernaryNetwork
        /// Steps told so far, and the candidates applied to the current point (with `greedy`,
        /// several a step, at most `candidates`).
        public internal(set) var step: Int
        public internal(set) var accepted: Int
        /// The proposals of the last `ask`.
        var proposals = MoveList()
    }

    public var settingsDescription: String {
        "local candidates=\(candidates) moves=\(movesPerCandidate) thresholds=\(thresholdProbability)/\(thresholdStep.map(String.init) ?? "auto") neutral=\(acceptNeutral) greedy=\(greedy) zeros=\(initialZeroFraction) readout=\(readout)"
            + (outputShare.map { " output_share=\($0)" } ?? "") + (stepEvery.map { " step_every=\($0)" } ?? "")
    }

    public func initialState(problem: SearchProblem, seed: UInt64, until stop: StopSignal) -> State? {
        problem.startingPoint(zeroFraction: initialZeroFraction, readout: readout, seed: seed, until: stop)
            .map { State(current: $0, step: 0, accepted: 0) }
    }

    public func ask(_ state: inout State, problem: SearchProblem, seed: UInt64) -> Candidates {
        let positions = GenomePositions(
            layerSizes: state.current.layerSizes,
            thresholdStep: thresholdStep ?? Mutation.standardThresholdStep(for: state.current))
        state.proposals.removeAll()
        state.proposals.endCandidate()  // the current point
        for candidate in 1...candidates {
            var rng = Xoshiro256(seed: seed, stream: StreamPath.localMoves(state.step, candidate))
            if positions.hiddenCount > 0 && rng.uniformDouble() < thresholdProbability {
                let (layer, neuron) = positions.neuron(rng.uniformBelow(positions.hiddenCount))
                let step = positions.step(layer: layer, using: &rng)
                let value = state.current.thresholds[layer][neuron] &+ (rng.uniformBelow(2) == 0 ? step : 0 &- step)
                state.proposals.append(.threshold(layer: layer, neuron: neuron, value: value))
            } else {
                let first = positions.randomTritMove(
                    positions.randomWeight(outputShare: outputShare, using: &rng), of: state.current, using: &rng)
                state.proposals.append(first)
                let columns = state.current.layerSizes[Int(first.layer)]
                for _ in 1..<movesPerCandidate {
                    let start =
                        (first.layer == 0 ? 0 : positions.weightEnds[Int(first.layer) - 1]) + Int(first.row) * columns
                    state.proposals.append(
                        positions.randomTritMove(start + rng.uniformBelow(columns), of: state.current, using: &rng))
                }
            }
            state.proposals.endCandidate()
        }
        appendStepCandidates(&state)
        return .moves(state.proposals)
    }

    /// The step candidates of `stepEvery` (none for `sign`): hidden layer
    /// `(step / stepEvery) % L`, its step larger and smaller by an eighth (at least 1).
    private func appendStepCandidates(_ state: inout State) {
        guard let stepEvery, state.current.activation.isLevels, !state.current.steps.isEmpty,
            (state.step + 1) % stepEvery == 0
        else { return }
        let steps = state.current.steps
        let layer = (state.step / stepEvery) % steps.count
        let change = max(1, steps[layer] / 8)
        for value in [steps[layer] &+ change, max(1, steps[layer] &- change)] where value != steps[layer] {
            state.proposals.append(.step(layer: layer, value: value))
            state.proposals.endCandidate()
        }
    }

    public func tell(_ state: inout State, fitness: [Double], problem: SearchProblem, seed: UInt64) {
        precondition(fitness.count == state.proposals.count, "one fitness per candidate")
        let step = state.step
        state.step += 1
        // Candidates that beat (or, with acceptNeutral, tie) the current point, best first.
        let order = rankBestFirst(Array(fitness.dropFirst())).map { $0 + 1 }.filter {
            isBetter(fitness[$0], than: fitness[0]) || (acceptNeutral && fitness[$0] == fitness[0])
        }
        var current = fitness[0]
        for (rank, index) in order.enumerated() {
            if rank > 0 && !greedy { break }
            let moves = Array(state.proposals[index])
            let value =
                rank == 0
                ? fitness[index]
                : problem.fitness(
                    of: .moves(
                        {
                            var list = MoveList()
                            list.appendCandidate(moves)
                            return list
                        }()),
                    incumbent: state.current, step: step, seed: seed)[0]
            guard isBetter(value, than: current) || (rank == 0 && acceptNeutral && value == current) else { continue }
            for move in moves { move.apply(to: &state.current) }
            state.current.checkInvariants()
            problem.incumbentMoved(moves)
            state.accepted += 1
            current = value
        }
    }

    public func incumbent(_ state: State) -> TernaryNetwork { state.current }

    public func encode(_ state: State, into writer: inout BinaryWriter) {
        writer.write(state.current)
        writer.writeCount(state.step)
        writer.writeCount(state.accepted)
    }

    public func decode(from reader: inout BinaryReader, problem: SearchProblem) throws(FileFormatError) -> State {
        let current = try reader.readNetwork()
        let step = try reader.readCount(limit: Int(Int32.max))
        // With `greedy`, one step can accept every one of its candidates (two more with steps).
        let accepted = try reader.readCount(limit: step * (greedy ? candidates + 2 : 1))
        return State(current: current, step: step, accepted: accepted)
    }
}
