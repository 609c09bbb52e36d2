import TernaryCore

/// A strategy, its problem and a seed, driven step by step: the session the experiment runner
/// drives for the evolution arms (`ga`, `local`, `es`).
public final class SearchRun<Strategy: SearchStrategy>: DistributableSession {
    public let strategy: Strategy
    public let problem: SearchProblem
    public let seed: UInt64
    /// The strategy's state after the last step (built on first use when no step has built it).
    public var state: Strategy.State {
        if startedState == nil { startedState = strategy.initialState(problem: problem, seed: seed) }
        return startedState!
    }
    /// Nil until the start is built: by the first `advance`, in slices that answer to its stop
    /// signal, or by the first use of `state`.
    private var startedState: Strategy.State?
    public private(set) var step = 0
    /// Evaluations and integer operations so far, as `SearchProblem` counts them.
    public private(set) var evaluations = 0
    public private(set) var integerOperations = 0.0
    public var floatOperations: Double { 0 }

    public init(strategy: Strategy, problem: SearchProblem, seed: UInt64) {
        self.strategy = strategy
        self.problem = problem
        self.seed = seed
    }

    public var settingsDescription: String {
        "\(strategy.settingsDescription)\n\(problem.settingsDescription)\nseed=\(seed)"
    }

    public var hasStarted: Bool { startedState != nil }

    /// One ask, score, tell (the first builds the start before it). The report's fitness
    /// excludes NaN values. Stopped inside the start, the session stays unstarted; stopped while
    /// the candidates are scored (`SearchProblem.stepFitness` asks `stop` between slices), it
    /// goes back to the state before `ask` and drops the step's work from the counters, so the
    /// step is done again, the same way, after a resume.
    public func advance(until stop: StopSignal) throws(SessionError) -> StepReport? {
        if startedState == nil {
            guard let first = strategy.initialState(problem: problem, seed: seed, until: stop) else { return nil }
            startedState = first
        }
        // Taken out of the property so that the step mutates it in place (the GA's double
        // buffer); a copy to go back to only when the step can be stopped.
        var state = startedState.take()!
        let before = stop.canBeRaised ? state : nil
        let parent = strategy.incumbent(state)
        let candidates = strategy.ask(&state, problem: problem, seed: seed)
        let scored: (fitness: [Double], evaluations: Int, operations: Double)?
        do {
            scored = try problem.stepFitness(of: candidates, incumbent: parent, step: step, seed: seed, until: stop)
        } catch {
            startedState = state
            throw SessionError("the processes of the run lost contact: \(error)")
        }
        guard let (fitness, evaluations, operations) = scored else {
            _ = problem.takeCost()
            startedState = before
            return nil
        }
        strategy.tell(&state, fitness: fitness, problem: problem, seed: seed)
        startedState = state
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
        return StepReport(
            bestFitness: best, meanFitness: finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count))
    }

    public func distribute(over communicator: Communicator) { problem.communicator = communicator }

    public func incumbent() -> TernaryNetwork? { strategy.incumbent(state) }

    public func score(on data: QuantizedDataset) -> Score { problem.score(strategy.incumbent(state), on: data) }

    /// Nothing before the start is built (a resume then builds it, as a fresh run would).
    public func encodeState(into writer: inout BinaryWriter) {
        guard let state = startedState else { return }
        writer.writeCount(step)
        writer.writeCount(evaluations)
        writer.write(integerOperations)
        strategy.encode(state, into: &writer)
    }

    public func restoreState(from reader: inout BinaryReader) throws(FileFormatError) {
        guard !reader.isAtEnd else { return }
        let step = try reader.readCount(limit: Int(Int32.max))
        let evaluations = try reader.readCount(limit: Int(Int64.max / 2))
        let operations = try reader.readFinite()
        let state = try strategy.decode(from: &reader, problem: problem)
        for genome in [strategy.incumbent(state)] where genome.layerSizes != problem.architecture.layerSizes {
            throw reader.fail("holds a genome of layers \(genome.layerSizes), not \(problem.architecture.layerSizes)")
        }
        startedState = state
        self.step = step
        self.evaluations = evaluations
        self.integerOperations = operations
    }
}
