import Foundation
import TernaryCore

// The STE arm with K-bit hidden levels (the TernaryCore article Semantics, <doc:STEBaseline>):
// the layers' input scales, the integer steps, their start from the first minibatch and the
// backward pass through the levels.
extension BackpropTrainer {
    /// The integer size of one float input unit of layer `l`: `Q` for the first layer (inputs
    /// `q / Q`), `maxLevel = 2^K - 1` after K-bit STE units (inputs `h / maxLevel`, so a layer's
    /// float inputs lie in 0 ... 1 whatever K), 1 after `sign` units. A layer's pre-activation is
    /// `z = gamma (Wq . integer inputs) / scale + b` and its exported threshold `ceil(-scale b / gamma)`.
    func inputScale(_ l: Int) -> Float {
        if l == 0 { return levels }
        return logSteps.isEmpty ? 1 : Float(configuration.activation.maxLevel)
    }

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
    func calibrateLevels(_ l: Int, dots: [Float], gamma: Float, B: Int) {
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
        let scale = inputScale(l)
        for o in 0..<O {
            biases[l][o] = -gamma * (Float(medians[o] - step) - 0.5) / scale
        }
    }

    /// Backward through K-bit hidden layer `l` (`count` = B x its width): the deltas of its
    /// pre-activations from the gradients of its outputs `h / maxLevel` in `inputGradients`,
    /// and its log-step's gradient (`TrainingKernels.levelsBackward`). ReLU's for the float arm.
    func levelsBackward(_ l: Int, _ w: inout Workspace, count: Int) {
        guard configuration.arm == .ste else {
            TrainingKernels.reluBackward(gradients: w.inputGradients, preactivations: w.preactivations[l], count: count,
                                         into: &w.deltas[l])
            return
        }
        let slope = inputScale(l) / (Float(configuration.activation.maxLevel) * w.gamma[l] * Float(levelStep(l)))
        w.stepGradients[l] = TrainingKernels.levelsBackward(gradients: w.inputGradients, quotients: w.preactivations[l], slope: slope,
                                                            activation: configuration.activation, count: count,
                                                            into: &w.deltas[l])
    }
}
