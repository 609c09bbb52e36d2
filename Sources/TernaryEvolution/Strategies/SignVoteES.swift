import TernaryCore

/// An integer evolution strategy with sparse antithetic perturbations and sign votes, in the
/// spirit of EGGROLL (arXiv 2511.16652), on trits and thresholds, scored incrementally.
///
/// Each generation, pair `i` (its own stream per generation and pair) draws `perturbedTrits`
/// positions of the shared current genome, each with a direction e = +-1: a trit (or, with
/// probability `thresholdProbability`, a hidden threshold by e times a step). Member `2i` moves
/// every position one step along e (clipped to {-1, 0, +1}), its antithetic twin `2i + 1` one
/// step against it; both are scored from the same cache. The pair votes `sign(f+ - f-)` times e
/// on each position it touched. After all pairs, the update moves each position one step in the
/// direction of its vote when `|vote| >= voteThreshold`, at most `maxMoves` positions (pairs with
/// the largest fitness difference first). Votes start from zero every generation. The update's
/// prefixes (all, half, a quarter, ..., one move) are scored from the cache, and the best that
/// beats the current point on the step's batch is taken (a backtracking step size), or none.
///
/// All arithmetic on the update is integer and every draw is seeded per (generation, pair), so
/// the update is the same on any number of threads; only the 2P fitness values decide it.
public struct SignVoteES: SearchStrategy {
    public var pairs: Int
    public var perturbedTrits: Int
    public var thresholdProbability: Double
    /// The largest threshold step (nil: `Mutation.standardThresholdStep` of the genome).
    public var thresholdStep: Int?
    public var voteThreshold: Int
    public var maxMoves: Int?
    public var initialZeroFraction: Double
    /// Start from a data-set output layer (`SearchProblem.readoutInitialized`) instead of random trits.
    public var readout: Bool

    /// The defaults, the one place that holds them: the initialiser, the `es` arm's config keys
    /// (`ternevo help run --keys`) and the docs read them from here.
    public enum Defaults {
        public static let pairs = 32
        public static let perturbedTrits = 4
        public static let thresholdProbability = 0.05
        public static let voteThreshold = 1
        public static let initialZeroFraction = 1.0 / 3
        public static let readout = true
    }

    public init(
        pairs: Int = Defaults.pairs, perturbedTrits: Int = Defaults.perturbedTrits,
        thresholdProbability: Double = Defaults.thresholdProbability, thresholdStep: Int? = nil,
        voteThreshold: Int = Defaults.voteThreshold, maxMoves: Int? = nil,
        initialZeroFraction: Double = Defaults.initialZeroFraction, readout: Bool = Defaults.readout
    ) {
        precondition(
            pairs >= 1 && perturbedTrits >= 1 && voteThreshold >= 1,
            "pairs, perturbed trits and vote threshold must be positive")
        precondition(thresholdProbability >= 0 && thresholdProbability <= 1, "thresholdProbability must lie in [0, 1]")
        self.pairs = pairs
        self.perturbedTrits = perturbedTrits
        self.thresholdProbability = thresholdProbability
        self.thresholdStep = thresholdStep
        self.voteThreshold = voteThreshold
        self.maxMoves = maxMoves
        self.initialZeroFraction = initialZeroFraction
        self.readout = readout
    }

    public struct State: Sendable {
        public internal(set) var current: TernaryNetwork
        public internal(set) var generation: Int
        /// Positions moved over the run.
        public internal(set) var moved: Int
        /// The last `ask`'s perturbations: position (weights first, then hidden neurons) and signed
        /// step, `perturbedTrits` per pair.
        var positions: [Int] = []
        var steps: [Int32] = []
    }

    public var settingsDescription: String {
        "es(prefix search) pairs=\(pairs) trits=\(perturbedTrits) thresholds=\(thresholdProbability)/\(thresholdStep.map(String.init) ?? "auto") votes=\(voteThreshold) max=\(maxMoves.map(String.init) ?? "all") zeros=\(initialZeroFraction) readout=\(readout)"
    }

    public func initialState(problem: SearchProblem, seed: UInt64, until stop: StopSignal) -> State? {
        problem.startingPoint(zeroFraction: initialZeroFraction, readout: readout, seed: seed, until: stop)
            .map { State(current: $0, generation: 0, moved: 0) }
    }

    /// The move of `position` by signed `step` from `genome` (clipped for trits).
    func move(_ position: Int, by step: Int32, of genome: TernaryNetwork, _ layout: GenomePositions) -> Move {
        if position < layout.weightCount {
            let (layer, row, column) = layout.weight(position)
            let value = max(-1, min(1, Int32(genome.weights[layer][row, column]) + step.signum()))
            return .trit(layer: layer, row: row, column: column, value: Int8(value))
        }
        let (layer, neuron) = layout.neuron(position - layout.weightCount)
        return .threshold(layer: layer, neuron: neuron, value: genome.thresholds[layer][neuron] &+ step)
    }

    public func ask(_ state: inout State, problem: SearchProblem, seed: UInt64) -> Candidates {
        let layout = GenomePositions(
            layerSizes: state.current.layerSizes,
            thresholdStep: thresholdStep ?? Mutation.standardThresholdStep(for: state.current))
        state.positions.removeAll(keepingCapacity: true)
        state.steps.removeAll(keepingCapacity: true)
        var list = MoveList()
        for pair in 0..<pairs {
            var rng = Xoshiro256(seed: seed, stream: StreamPath.perturbation(state.generation, pair))
            for _ in 0..<perturbedTrits {
                let direction: Int32 = rng.uniformBelow(2) == 0 ? 1 : -1
                if layout.hiddenCount > 0 && rng.uniformDouble() < thresholdProbability {
                    let index = rng.uniformBelow(layout.hiddenCount)
                    state.positions.append(layout.weightCount + index)
                    state.steps.append(direction * layout.step(layer: layout.neuron(index).layer, using: &rng))
                } else {
                    state.positions.append(rng.uniformBelow(layout.weightCount))
                    state.steps.append(direction)
                }
            }
            let range = (pair * perturbedTrits)..<((pair + 1) * perturbedTrits)
            for sign: Int32 in [1, -1] {
                for k in range {
                    list.append(move(state.positions[k], by: sign * state.steps[k], of: state.current, layout))
                }
                list.endCandidate()
            }
        }
        return .moves(list)
    }

    public func tell(_ state: inout State, fitness: [Double], problem: SearchProblem, seed: UInt64) {
        precondition(fitness.count == 2 * pairs, "one fitness per member")
        let layout = GenomePositions(
            layerSizes: state.current.layerSizes,
            thresholdStep: thresholdStep ?? Mutation.standardThresholdStep(for: state.current))
        state.generation += 1
        // Integer votes per touched position.
        var votes: [Int: Int] = [:]
        var signs = [Int](repeating: 0, count: pairs)
        for pair in 0..<pairs {
            let difference = fitness[2 * pair] - fitness[2 * pair + 1]
            signs[pair] = difference > 0 ? 1 : difference < 0 ? -1 : 0  // NaN: no vote
            guard signs[pair] != 0 else { continue }
            for k in (pair * perturbedTrits)..<((pair + 1) * perturbedTrits) {
                votes[state.positions[k], default: 0] += signs[pair] * Int(state.steps[k].signum())
            }
        }
        // Pairs with the largest difference first, then positions in draw order.
        let order = (0..<pairs).filter { signs[$0] != 0 }.sorted {
            let a = abs(fitness[2 * $0] - fitness[2 * $0 + 1]), b = abs(fitness[2 * $1] - fitness[2 * $1 + 1])
            return a != b ? a > b : $0 < $1
        }
        var moves: [Move] = []
        var taken = Set<Int>()
        outer: for pair in order {
            for k in (pair * perturbedTrits)..<((pair + 1) * perturbedTrits) {
                let position = state.positions[k]
                guard let vote = votes[position], abs(vote) >= voteThreshold, taken.insert(position).inserted else {
                    continue
                }
                let magnitude = position < layout.weightCount ? Int32(1) : abs(state.steps[k])
                let candidate = move(position, by: Int32(vote.signum()) * magnitude, of: state.current, layout)
                moves.append(candidate)
                if let maxMoves, moves.count >= maxMoves { break outer }
            }
        }
        // The voted update is a direction, not a guaranteed step: score its prefixes (all the
        // moves, the first half, quarter, ... one; pairs with the largest difference come first)
        // from the cache, with the current point as candidate 0, and take the best prefix that
        // beats the current point on the step's batch, or none. Without this, a generation moved
        // every position any pair voted for, a random walk that swamped small networks (parity,
        // wine) and let the final model fall far below the best one.
        var lengths: [Int] = []
        var length = moves.count
        while length >= 1 {
            lengths.append(length)
            length /= 2
        }
        guard !lengths.isEmpty else { return }
        var list = MoveList()
        list.endCandidate()
        for length in lengths {
            list.appendCandidate(Array(moves.prefix(length)))
        }
        let scores = problem.fitness(of: .moves(list), incumbent: state.current, step: state.generation - 1, seed: seed)
        guard let best = rankBestFirst(Array(scores.dropFirst())).first, isBetter(scores[best + 1], than: scores[0])
        else { return }
        let step = Array(moves.prefix(lengths[best]))
        for move in step { move.apply(to: &state.current) }
        state.current.checkInvariants()
        state.moved += step.count
        problem.incumbentMoved(step)
    }

    public func incumbent(_ state: State) -> TernaryNetwork { state.current }

    public func encode(_ state: State, into writer: inout BinaryWriter) {
        writer.write(state.current)
        writer.writeCount(state.generation)
        writer.writeCount(state.moved)
    }

    public func decode(from reader: inout BinaryReader, problem: SearchProblem) throws(FileFormatError) -> State {
        let current = try reader.readNetwork()
        let generation = try reader.readCount(limit: Int(Int32.max))
        let moved = try reader.readCount(limit: Int(Int64.max / 2))
        return State(current: current, generation: generation, moved: moved)
    }
}
