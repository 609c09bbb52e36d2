import TernaryCore

/// A search strategy in ask/tell form (as in evosax and EvoTorch): the strategy proposes
/// genomes, someone else scores them, and the strategy is told the fitness.
///
/// The strategy value holds only fixed configuration; everything that changes between
/// generations lives in `State`, so a run can be checkpointed by saving the state and resumed
/// by loading it. Randomness comes from streams derived from (seed, generation, individual),
/// never from shared generators, so results do not depend on threads. The genetic algorithm is
/// the first strategy; (1+lambda) or a categorical distribution over trits per weight fit the
/// same shape.
public protocol EvolutionStrategy: Sendable {
    associatedtype State: Sendable

    /// The first state: a population initialised for `architecture` (thresholds may be set
    /// from `sample`, scored by `evaluator`).
    func initialState(architecture: Architecture, seed: UInt64, sample: ExampleBatch,
                      evaluator: PopulationEvaluator) -> State

    /// The genomes to score this generation. Calling `ask` again without `tell` returns the
    /// same genomes.
    func ask(_ state: inout State, seed: UInt64, threads: Int) -> [TernaryNetwork]

    /// Records the fitness of the genomes of the last `ask` (larger is better; NaN is never
    /// the best) and advances the generation.
    func tell(_ state: inout State, fitness: [Double])
}

/// Layer sizes, activation and input quantiser: what every genome of a run shares.
public struct Architecture: Hashable, Sendable {
    public var layerSizes: [Int]
    public var activation: Activation
    public var quantizer: InputQuantizer

    public init(layerSizes: [Int], activation: Activation = .sign,
                quantizer: InputQuantizer = InputQuantizer(low: 0, high: 255)) {
        self.layerSizes = layerSizes
        self.activation = activation
        self.quantizer = quantizer
    }
}

/// Stream paths: every random decision of a run draws from `Xoshiro256(seed:stream:)` with one
/// of these paths, so no two uses share a stream.
enum StreamPath {
    /// Initial genome `individual`.
    static func initial(_ individual: Int) -> [UInt64] { [0, UInt64(individual)] }
    /// Offspring `individual` of generation `generation`.
    static func offspring(_ generation: Int, _ individual: Int) -> [UInt64] { [1, UInt64(generation), UInt64(individual)] }
    /// The minibatch of generation `generation`.
    static func batch(_ generation: Int) -> [UInt64] { [2, UInt64(generation)] }
    /// The sample used to set initial thresholds.
    static let calibration: [UInt64] = [3]
}
