import Foundation

/// Adam moments for every parameter (weights, hidden biases, the logit scale, the log-steps).
struct AdamState {
    var weightMoments: [[Float]], weightSquares: [[Float]]
    var biasMoments: [[Float]], biasSquares: [[Float]]
    var scaleMoment: Float = 0, scaleSquare: Float = 0
    /// Moments of the hidden layers' log-steps (K-bit STE only; empty otherwise).
    var stepMoments: [Float], stepSquares: [Float]
    var step = 0

    init(weights: [[Float]], biases: [[Float]], logSteps: [Float] = []) {
        weightMoments = weights.map { [Float](repeating: 0, count: $0.count) }
        weightSquares = weightMoments
        biasMoments = biases.map { [Float](repeating: 0, count: $0.count) }
        biasSquares = biasMoments
        stepMoments = [Float](repeating: 0, count: logSteps.count)
        stepSquares = stepMoments
    }

    /// Moments below this are set to zero. Weights that never receive a gradient (inputs that
    /// are always zero, such as the blank border pixels of digits) would otherwise decay into
    /// subnormal floats, which x86 processes up to 100x slower (<doc:STEBaseline>).
    static let flushBelow: Float = 1e-30

    /// One Adam step (decoupled weight decay, as AdamW) with bias correction. A log-step is
    /// kept at 0 or above (a step of at least 1: below, the integer step would stay 1 while the
    /// parameter drifts away).
    mutating func update(
        weights: inout [[Float]], biases: inout [[Float]], logScale: inout Float, logSteps: inout [Float],
        gradients work: Workspace, learningRate: Double, configuration: BackpropConfiguration
    ) {
        step += 1
        let b1 = Float(configuration.beta1), b2 = Float(configuration.beta2)
        let correction1 = 1 - pow(b1, Float(step)), correction2 = 1 - pow(b2, Float(step))
        let lr = Float(learningRate), eps = Float(configuration.epsilon)
        let decay = 1 - lr * Float(configuration.weightDecay)
        @inline(__always) func apply(_ p: inout Float, _ g: Float, _ m: inout Float, _ v: inout Float) {
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            if abs(m) < AdamState.flushBelow { m = 0 }
            if v < AdamState.flushBelow { v = 0 }
            p -= lr * (m / correction1) / ((v / correction2).squareRoot() + eps)
        }
        for l in weights.indices {
            TrainingKernels.adam(
                &weights[l], work.weightGradients[l], &weightMoments[l], &weightSquares[l],
                lr: lr, b1: b1, b2: b2, c1: correction1, c2: correction2, eps: eps, decay: decay,
                flush: AdamState.flushBelow, threads: configuration.threads)
        }
        for l in biases.indices {
            TrainingKernels.adam(
                &biases[l], work.biasGradients[l], &biasMoments[l], &biasSquares[l],
                lr: lr, b1: b1, b2: b2, c1: correction1, c2: correction2, eps: eps, decay: 1,
                flush: AdamState.flushBelow)
        }
        apply(&logScale, work.logScaleGradient, &scaleMoment, &scaleSquare)
        for l in logSteps.indices {
            apply(&logSteps[l], work.stepGradients[l], &stepMoments[l], &stepSquares[l])
            logSteps[l] = max(0, logSteps[l])
        }
    }
}

/// Buffers of one minibatch, allocated once.
struct Workspace {
    /// Raw quantised inputs `q` as floats `[B][n0]`, and the examples' labels.
    var raw: [Float]
    var labels: [Int]
    /// One-hot token inputs: the K input columns of each example `[B][K]` (`raw` and
    /// `activations[0]` unused), and K (0 for byte inputs).
    var tokenColumns: [Int32] = []
    var context = 0
    /// Layer inputs `[B][n_l]`: `q / Q` for layer 0, hidden outputs after.
    var activations: [[Float]]
    /// Pre-activations `z` per layer `[B][n_{l+1}]`.
    var preactivations: [[Float]]
    /// STE integer-valued dot products per layer.
    var dots: [[Float]]
    /// `d loss / d z` per layer.
    var deltas: [[Float]]
    var inputGradients: [Float]
    var weightGradients: [[Float]]
    var biasGradients: [[Float]]
    var logScaleGradient: Float = 0
    /// K-bit STE: each hidden layer's integer levels `h` `[B][n_{l+1}]` (the next layer's
    /// integer inputs; `activations[l + 1]` holds `h / maxLevel`) and `d loss / d logStep`.
    var hiddenLevels: [[Float]]
    var stepGradients: [Float]
    /// The minibatch's gradient, loss and non-finite losses as Int64 totals (`GradientLayout`),
    /// each example's loss in nats, and scratch for the fixed-point sums (the token layer's
    /// per-example deltas, a row of column sums).
    var totals: [Int64]
    var exampleLosses: [Double]
    var deltaTotals: [Int64] = []
    var columnScratch: [Float]
    /// STE: per layer `gamma`, `Wq` as floats, and `gamma * Wq`.
    var gamma: [Float]
    var ternary: [[Float]]
    var effective: [[Float]]
    /// STE: the exported integer thresholds of the hidden layers, recomputed each step.
    var thresholds: [[Double]]

    /// An empty workspace (no storage): a placeholder while the real one is moved out.
    init() {
        raw = []
        labels = []
        thresholds = []
        activations = []
        preactivations = []
        dots = []
        deltas = []
        inputGradients = []
        weightGradients = []
        biasGradients = []
        gamma = []
        ternary = []
        effective = []
        hiddenLevels = []
        stepGradients = []
        totals = []
        exampleLosses = []
        columnScratch = []
    }

    /// Buffers for layer sizes `sizes` and minibatches of `B`; `levels`: also the hidden levels.
    init(sizes: [Int], batch B: Int, levels: Bool = false) {
        raw = [Float](repeating: 0, count: B * sizes[0])
        labels = [Int](repeating: 0, count: B)
        thresholds = sizes.dropFirst().dropLast().map { [Double](repeating: 0, count: $0) }
        activations = sizes.dropLast().map { [Float](repeating: 0, count: B * $0) }
        preactivations = sizes.dropFirst().map { [Float](repeating: 0, count: B * $0) }
        dots = preactivations
        deltas = preactivations
        inputGradients = [Float](repeating: 0, count: B * (sizes.dropLast().max() ?? 1))
        weightGradients = zip(sizes.dropFirst(), sizes).map { [Float](repeating: 0, count: $0 * $1) }
        biasGradients = sizes.dropFirst().dropLast().map { [Float](repeating: 0, count: $0) }
        hiddenLevels = levels ? sizes.dropFirst().dropLast().map { [Float](repeating: 0, count: B * $0) } : []
        stepGradients = [Float](repeating: 0, count: sizes.count - 2)
        totals = [Int64](repeating: 0, count: GradientLayout(sizes: sizes).count)
        exampleLosses = [Double](repeating: 0, count: B)
        columnScratch = [Float](repeating: 0, count: sizes.max()!)
        gamma = [Float](repeating: 0, count: sizes.count - 1)
        ternary = weightGradients
        effective = weightGradients
    }
}
