import TernaryCore

/// What a strategy asks to have scored.
public enum Candidates: Sendable {
    /// Whole genomes: each is scored by a full evaluation on the step's fitness batch.
    case genomes([TernaryNetwork])
    /// Candidates that differ from the strategy's incumbent by a few moves: scored
    /// incrementally from the incumbent's cached evaluation on the fitness batch.
    case moves(MoveList)
    /// A population's offspring, each scored from a breeder's cache when it has one
    /// (`SearchProblem.prepareBreeders`), else by a full evaluation.
    case offspring(Offspring)

    /// Number of candidates.
    public var count: Int {
        switch self {
        case let .genomes(genomes): genomes.count
        case let .moves(list): list.count
        case let .offspring(offspring): offspring.genomes.count
        }
    }

    /// Candidates that cost an evaluation: all but those equal to a genome whose score on the
    /// batch is already held (candidate 0 of a move list, an offspring that is its breeder).
    public var paidCount: Int {
        switch self {
        case let .genomes(genomes): genomes.count
        case let .moves(list): (0..<list.count).count { !list[$0].isEmpty }
        case let .offspring(offspring):
            (0..<offspring.genomes.count).count { offspring.slots[$0] < 0 || !offspring.moves[$0].isEmpty }
        }
    }
}

/// Offspring of a population: child `i` is `genomes[i]`. When `slots[i] >= 0` it equals the
/// genome of breeder slot `slots[i]` (the problem's cache pool, set by
/// `SearchProblem.prepareBreeders`) with `moves[i]` applied, and is scored from that cache;
/// when `slots[i] < 0` it is scored by a full evaluation (`moves[i]` is then empty).
public struct Offspring: Sendable {
    public var genomes: [TernaryNetwork]
    public var slots: [Int]
    public var moves: MoveList

    public init(genomes: [TernaryNetwork], slots: [Int], moves: MoveList) {
        precondition(
            slots.count == genomes.count && moves.count == genomes.count, "one slot and one move list per child")
        self.genomes = genomes
        self.slots = slots
        self.moves = moves
    }
}

/// A search strategy in ask/tell form (as in evosax and EvoTorch): it proposes candidates, the
/// problem scores them, and the strategy is told the fitness.
///
/// The strategy value holds only fixed configuration; everything that changes lives in
/// `State`, so a run is checkpointed by encoding the state. Randomness comes from streams
/// derived from (seed, step, individual), never from shared generators, so results do not
/// depend on threads. `ask` followed by `tell` is one step.
public protocol SearchStrategy: Sendable {
    associatedtype State: Sendable

    /// A stable text naming every setting (hashed into checkpoints to refuse a mismatched resume).
    var settingsDescription: String { get }

    /// The first state (initial genomes; thresholds may be calibrated through `problem`), or
    /// nil when `stop` was raised before it was complete. A start that can be long (a large
    /// population, a readout over the train split) asks `stop` between slices of its work.
    func initialState(problem: SearchProblem, seed: UInt64, until stop: StopSignal) -> State?

    /// The candidates of the next step.
    func ask(_ state: inout State, problem: SearchProblem, seed: UInt64) -> Candidates

    /// Records the fitness of the candidates of the last `ask` (larger is better; NaN is never
    /// the best) and advances a step. A strategy that moves its incumbent by moves passes them
    /// to `problem.incumbentMoved(_:)`, so the problem's cache follows instead of being rebuilt
    /// (and `problem.fitness(of:incumbent:step:seed:)` can score more candidates from it).
    func tell(_ state: inout State, fitness: [Double], problem: SearchProblem, seed: UInt64)

    /// The genome that represents the state now.
    func incumbent(_ state: State) -> TernaryNetwork

    func encode(_ state: State, into writer: inout BinaryWriter)
    func decode(from reader: inout BinaryReader, problem: SearchProblem) throws(FileFormatError) -> State
}

extension SearchStrategy {
    /// The whole first state (nothing stops it).
    public func initialState(problem: SearchProblem, seed: UInt64) -> State {
        initialState(problem: problem, seed: seed, until: .never)!
    }
}

/// Layer sizes, activation and input quantiser: what every genome of a run shares.
public struct Architecture: Hashable, Sendable {
    public var layerSizes: [Int]
    public var activation: Activation
    public var quantizer: InputQuantizer

    public init(
        layerSizes: [Int], activation: Activation = .sign,
        quantizer: InputQuantizer = InputQuantizer(low: 0, high: 255)
    ) {
        self.layerSizes = layerSizes
        self.activation = activation
        self.quantizer = quantizer
    }

    /// A random genome: trits with `zeroFraction` zeros, thresholds zero.
    func randomGenome(zeroFraction: Double, using generator: inout some RandomNumberGenerator) -> TernaryNetwork {
        TernaryNetwork(
            layerSizes: layerSizes, zeroFraction: zeroFraction, activation: activation,
            quantizer: quantizer, using: &generator)
    }
}
