import TernaryCore

/// A strategy, its problem and a seed, driven step by step: the session the experiment runner
/// drives for the evolution arms (`ga`, `local`, `es`).
public final class SearchRun<Strategy: SearchStrategy>: DistributableSession {
    public let strategy: Strategy
    public let problem: SearchProblem
    public let seed: UInt64
    /// The strategy's state after the last step.
    public private(set) var state: Strategy.State
    public private(set) var step = 0
    /// Evaluations and integer operations so far, as `SearchProblem` counts them.
    public private(set) var evaluations = 0
    public private(set) var integerOperations = 0.0
    public var floatOperations: Double { 0 }

    public init(strategy: Strategy, problem: SearchProblem, seed: UInt64) {
        self.strategy = strategy
        self.problem = problem
        self.seed = seed
        state = strategy.initialState(problem: problem, seed: seed)
    }

    public var settingsDescription: String {
        "\(strategy.settingsDescription)\n\(problem.settingsDescription)\nseed=\(seed)"
    }

    /// One ask, score, tell. The report's fitness excludes NaN values.
    public func advance(until stop: StopSignal) throws(SessionError) -> StepReport? {
        let parent = strategy.incumbent(state)
        let candidates = strategy.ask(&state, problem: problem, seed: seed)
        let fitness: [Double], evaluations: Int, operations: Double
        do { (fitness, evaluations, operations) = try problem.stepFitness(of: candidates, incumbent: parent, step: step, seed: seed) } catch {
            throw SessionError("the processes of the run lost contact: \(error)")
        }
        strategy.tell(&state, fitness: fitness, problem: problem, seed: seed)
        if let error = problem.takeCommunicationError() {
            throw SessionError("the processes of the run lost contact: \(error)")
        }
        step += 1
        // The step's candidates, then the work the strategy and the problem did around them.
        let extra = problem.takeCost()
        self.evaluations += evaluations + extra.evaluations
        integerOperations += operations + extra.operations
        let finite = fitness.filter { !$0.isNaN }
        let best = rankBestFirst(fitness).first.map { fitness[$0] }
        return StepReport(bestFitness: best, meanFitness: finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count))
    }

    public func distribute(over communicator: Communicator) { problem.communicator = communicator }

    public func incumbent() -> TernaryNetwork? { strategy.incumbent(state) }

    public func score(on data: QuantizedDataset) -> Score { problem.score(strategy.incumbent(state), on: data) }

    public func encodeState(into writer: inout BinaryWriter) {
        writer.writeCount(step)
        writer.writeCount(evaluations)
        writer.write(integerOperations)
        strategy.encode(state, into: &writer)
    }

    public func restoreState(from reader: inout BinaryReader) throws(FileFormatError) {
        let step = try reader.readCount(limit: Int(Int32.max))
        let evaluations = try reader.readCount(limit: Int(Int64.max / 2))
        let operations = try reader.readFinite()
        let state = try strategy.decode(from: &reader, problem: problem)
        for genome in [strategy.incumbent(state)] where genome.layerSizes != problem.architecture.layerSizes {
            throw reader.fail("holds a genome of layers \(genome.layerSizes), not \(problem.architecture.layerSizes)")
        }
        self.state = state
        self.step = step
        self.evaluations = evaluations
        self.integerOperations = operations
    }
}
