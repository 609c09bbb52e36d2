import Foundation
import TernaryCore

// The STE arm with K-bit hidden levels (the TernaryCore article Semantics, <doc:STEBaseline>):
// the layers' input scales, the integer steps, their start from the first minibatch and the
// backward pass through the levels.
extension BackpropTrainer {
    /// The integer size of one float input unit of layer `l`: its pre-activation is
    /// `z = gamma_l (Wq . integer inputs) / scale_l + b` and its exported threshold
    /// `ceil(-scale_l b / gamma_l)`. `Q` for the first layer (float inputs `q / Q`), 1 after
    /// `sign` units. After K-bit STE units the float inputs are the levels in the units of the
    /// previous layer's normalised pre-activation `z / (gamma sqrt(fanIn))` (the scaled
    /// window's unit): `a = delta h / (scale sqrt(fanIn))` (LSQ's `delta h`, normalised), so
    /// `scale_l = scale_{l-1} sqrt(fanIn_{l-1}) / delta_{l-1}`. A step's change of gain is undone
    /// there (the step trades resolution against range only), and `a` is of the size of a `sign`
    /// unit's +-1 whatever the weights' scale, so a bias moves as fast, relatively, as it does
    /// after `sign` units. Without the normalisation (`a` in units of `z`) the pre-activations
    /// shrink layer by layer, and Adam's steps of about `lr` on the biases threw every unit of
    /// a second K-bit layer out of range within 25 steps on the KJV.
    func inputScale(_ l: Int) -> Float {
        var scale = levels
        if logSteps.isEmpty { return l == 0 ? scale : 1 }
        for j in 0..<l { scale = scale * fanIn(j).squareRoot() / Float(levelStep(j)) }
        return scale
    }

    /// The fan-in of layer `l` for the STE's normalisation: `inputFanIn` (the active inputs) for
    /// the first layer, the previous width after.
    func fanIn(_ l: Int) -> Float { Float(l == 0 ? inputFanIn : configuration.layerSizes[l]) }

    /// The integer step of hidden layer `l`: `max(1, round(exp(logSteps[l])))`.
    func levelStep(_ l: Int) -> Int32 {
        let step = exp(Double(logSteps[l])).rounded()
        return Int32(max(1, min(Double(Int32.max), step)))
    }

    /// The integer steps of the hidden layers (K-bit STE), as exported; empty otherwise.
    public var levelSteps: [Int32] { logSteps.indices.map(levelStep) }

    /// Sets hidden layer `l`'s step and biases from the `B` examples' sums `dots` `[B][O]`, as
    /// the evolution arms start a K-bit layer: per neuron its median sum and how far its sums
    /// reach above it (to the 95th percentile, `span`); the step is the median span over the
    /// `maxLevel - 1` levels above the first, rounded, at least 1; each threshold is the
    /// neuron's median minus one step (half the examples at level 0, a typical neuron's 95th
    /// percentile at the top level). The bias is set so that `ceil(-scale b / gamma)` is that
    /// threshold (aimed half a unit below it, so float rounding cannot move the ceiling).
    func calibrateLevels(_ l: Int, dots: [Float], gamma: Float, scale: Float, B: Int) {
        let O = configuration.layerSizes[l + 1]
        var medians = [Int64](), spans = [Int64]()
        var column = [Float](repeating: 0, count: B)
        for o in 0..<O {
            for b in 0..<B { column[b] = dots[b * O + o] }
            column.sort()
            let median = Int64(column[B / 2]), top = Int64(column[min(B - 1, Int(Double(B) * 0.95))])
            medians.append(median)
            spans.append(max(0, top - median))
        }
        spans.sort()
        let intervals = Int64(configuration.activation.maxLevel) - 1
        let step = max(1, (spans[O / 2] + intervals / 2) / intervals)
        logSteps[l] = Float(log(Double(step)))
        for o in 0..<O {
            biases[l][o] = -gamma * (Float(medians[o] - step) - 0.5) / scale
        }
    }

    /// Backward through K-bit hidden layer `l` (`count` = B x its width): the deltas of its
    /// pre-activations from the gradients of its outputs `a = unit h` (`unit = delta /
    /// (scale sqrt(fanIn))`) in `inputGradients`, and its log-step's gradient
    /// (`TrainingKernels.levelsBackward`, into the totals). ReLU's for the float arm.
    func levelsBackward(_ l: Int, _ w: inout Workspace, count: Int) {
        guard configuration.arm == .ste else {
            TrainingKernels.reluBackward(
                gradients: w.inputGradients, preactivations: w.preactivations[l], count: count,
                into: &w.deltas[l])
            return
        }
        let delta = Float(levelStep(l)), unit = levelUnit(l)
        // da/dz inside the range: unit scale / (gamma delta) = 1 / (gamma sqrt(fanIn)), the scaled window's slope.
        let slope = 1 / (w.gamma[l] * fanIn(l).squareRoot())
        TrainingKernels.levelsBackward(
            gradients: w.inputGradients, quotients: w.preactivations[l], levels: w.hiddenLevels[l],
            slope: slope, activation: configuration.activation, count: count,
            width: configuration.layerSizes[l + 1], block: GradientLayout.exampleBlock, factor: Double(delta * unit),
            into: &w.deltas[l], totals: &w.totals, at: layout.logSteps + l)
    }

    /// The float value of one level of hidden layer `l`: `delta / (scale sqrt(fanIn))`.
    func levelUnit(_ l: Int) -> Float { Float(levelStep(l)) / (inputScale(l) * fanIn(l).squareRoot()) }
}
