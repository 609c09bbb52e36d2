/// Stream paths: every random decision of a run draws from `Xoshiro256(seed:stream:)` with one
/// of these paths, so no two uses share a stream. This is their one home: a new use adds its
/// path here, with a first element no other path has.
public enum StreamPath {
    /// Initial genome `individual`.
    public static func initial(_ individual: Int) -> [UInt64] { [0, UInt64(individual)] }
    /// Offspring `individual` of generation `generation`.
    public static func offspring(_ generation: Int, _ individual: Int) -> [UInt64] {
        [1, UInt64(generation), UInt64(individual)]
    }
    /// The fitness batch of rotation `rotation` (a generation, for a batch drawn every step).
    public static func batch(_ rotation: Int) -> [UInt64] { [2, UInt64(rotation)] }
    /// The sample used to set initial thresholds.
    public static let calibration: [UInt64] = [3]
    /// The moves of candidate `candidate` of local-search step `step`.
    public static func localMoves(_ step: Int, _ candidate: Int) -> [UInt64] { [5, UInt64(step), UInt64(candidate)] }
    /// The perturbation of pair `pair` of evolution-strategy generation `generation`.
    public static func perturbation(_ generation: Int, _ pair: Int) -> [UInt64] {
        [6, UInt64(generation), UInt64(pair)]
    }
    /// The stratified split of a labelled data set (`split_seed`).
    public static let split: [UInt64] = [0x5EED]
    /// The points of the synthetic spirals task.
    public static let spirals: [UInt64] = [0x5915]
    /// The draws of `ternevo sample`.
    public static let sampling: [UInt64] = [0x5A, 0]
    /// A backprop trainer's initial weights.
    public static let backpropInitialWeights: [UInt64] = [0xB0, 0]
    /// A backprop trainer's example order in epoch `epoch`.
    public static func backpropOrder(_ epoch: Int) -> [UInt64] { [0xB0, 1, UInt64(epoch)] }
}
