/// What one step of an arm reports (the strategy's own view; full-split scores are the runner's).
public struct StepReport: Sendable, Equatable {
    /// Best and mean fitness of the step's candidates (evolution arms).
    public var bestFitness: Double?
    public var meanFitness: Double?
    /// Mean training loss of the step (backprop arms: the epoch's).
    public var trainLoss: Double?

    public init(bestFitness: Double? = nil, meanFitness: Double? = nil, trainLoss: Double? = nil) {
        self.bestFitness = bestFitness
        self.meanFitness = meanFitness
        self.trainLoss = trainLoss
    }
}

/// One arm of an experiment (a strategy or trainer, its problem and its seed) as the runner
/// drives it: step, look at the incumbent, count, checkpoint. The runner knows no strategy by
/// name; every kind (`ga`, `local`, `es`, `ste`, `float`) is a session.
///
/// Sessions are deterministic: the same settings and seed give the same steps, and restoring a
/// state written after step `n` and stepping on gives what stepping on from `n` gave.
public protocol SearchSession: AnyObject {
    /// Steps completed: generations, local-search steps or epochs.
    var step: Int { get }
    /// Evaluations so far: candidates scored (evolution arms) or examples processed (backprop).
    var evaluations: Int { get }
    /// Estimated integer and float operations so far (for the energy estimate).
    var integerOperations: Double { get }
    var floatOperations: Double { get }
    /// A text naming every setting that changes results (hashed into checkpoints).
    var settingsDescription: String { get }

    /// Runs one step, asking `stop` between slices of its work (at least every half second of
    /// work). Returns nil when `stop` was raised before the step completed: the session is then
    /// at a point its state can be encoded and resumed from, with no step counted (the state
    /// before the step, or a point inside it that the state records, such as a backprop epoch's
    /// next minibatch). Throws when the arm cannot go on (a NaN loss).
    func advance(until stop: StopSignal) throws(SessionError) -> StepReport?
    /// The ternary genome that stands for the arm now (GA: the step's best; local and es: the
    /// current point; STE: the export). Nil for an arm without a ternary form (float).
    func incumbent() -> TernaryNetwork?
    /// The incumbent's score on `data`.
    func score(on data: QuantizedDataset) -> Score
    /// The state after the last step, for a checkpoint.
    func encodeState(into writer: inout BinaryWriter)
    /// Replaces the state with one written by `encodeState` of a session with the same settings.
    func restoreState(from reader: inout BinaryReader) throws(FileFormatError)
    /// Whether the session's start (its first state: initial genomes, a readout) is built. A
    /// session may build it inside its first `advance`, so that the start, too, answers to the
    /// stop signal; before that, `incumbent()` would build it at once.
    var hasStarted: Bool { get }
}

extension SearchSession {
    public var hasStarted: Bool { true }
}

extension SearchSession {
    /// Runs one whole step (nothing stops it).
    public func advance() throws(SessionError) -> StepReport { try advance(until: .never)! }
}

/// Whether long work should stop now: asked between its slices. The runner raises it on an
/// interrupt (Ctrl-C, SIGTERM) or when the arm's budget of seconds is spent.
public struct StopSignal: Sendable {
    private let check: @Sendable () -> Bool
    private let progress: @Sendable (Double) -> Void

    /// A signal raised when `check` returns true; `progress` hears the share of a long phase
    /// done so far (a start's, from 0 to 1), for a progress line.
    public init(_ check: @escaping @Sendable () -> Bool, progress: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.check = check
        self.progress = progress
        canBeRaised = true
    }

    /// A signal that is never raised.
    public static let never = StopSignal(never: ())

    private init(never: Void) {
        check = { false }
        progress = { _ in }
        canBeRaised = false
    }

    /// False for `never`: work may then skip what only stopping needs (slices, a copy of the
    /// state to go back to).
    public let canBeRaised: Bool

    /// Whether the work should stop now.
    public var isRaised: Bool { check() }

    /// Tells the listener that `fraction` (0 ... 1) of the current phase is done.
    public func note(fraction: Double) { progress(fraction) }
}

/// An arm that cannot continue: what happened.
public struct SessionError: Error, Equatable, CustomStringConvertible {
    public var problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}

/// A session whose steps can be split over the processes of a distributed run (every arm kind:
/// the evolution arms split each batch's examples, the backprop arms each minibatch's). A
/// session that is not distributable would run the same steps on every rank.
public protocol DistributableSession: SearchSession {
    /// Scores each step's candidates across `communicator`'s ranks from now on.
    func distribute(over communicator: Communicator)
}
