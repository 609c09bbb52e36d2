import TernaryCore

// The starts of networks with multi-bit activations (the TernaryCore article Semantics): the
// calibration of a hidden layer's step beside its thresholds, and the readout's sums of levels.

/// What the start needs of one hidden layer of a genome: its kind, thresholds and step.
struct HiddenLayer {
    var activation: Activation
    var thresholds: [Int32]
    var step: Int32

    init(_ genome: TernaryNetwork, layer: Int) {
        activation = genome.activation
        thresholds = genome.thresholds[layer]
        step = genome.steps[layer]
    }

    /// The sum of each unit's activation (+-1 or a level) over the examples of `labels` whose
    /// sums are `sums[start + b * width + j]`, per class: `[classes][width]`.
    func activationSumsPerClass(sums: [Int32], from start: Int, labels: [Int], width: Int, classes: Int) -> [Int] {
        precondition(
            start >= 0 && start + labels.count * width <= sums.count && thresholds.count >= width,
            "sums of another shape")
        return activation == .sign
            ? signSumsPerClass(
                sums: sums, from: start, thresholds: thresholds, labels: labels, width: width, classes: classes)
            : levelSumsPerClass(sums: sums, from: start, labels: labels, width: width, classes: classes)
    }

    /// The sum of each unit's level over the examples of each class, `[classes][width]`.
    func levelSumsPerClass(sums: [Int32], from start: Int, labels: [Int], width: Int, classes: Int) -> [Int] {
        var perClass = [Int](repeating: 0, count: classes * width)
        var row = start
        for label in labels {
            let offset = label * width
            for j in 0..<width {
                perClass[offset + j] &+= Int(activation.value(sum: sums[row + j], threshold: thresholds[j], step: step))
            }
            row += width
        }
        return perClass
    }
}

/// Share of a neuron's calibration sums a K-bit layer's levels span above its threshold: the
/// sums from the threshold (the median) up to this quantile spread over the levels, and the few
/// above it sit at the top level.
let levelSpanQuantile = 0.95

/// How far a neuron's sums reach above `threshold`: the `levelSpanQuantile` quantile of
/// `values` minus the threshold (at least 0). `values` is reordered.
func levelSpan(_ values: inout [Int32], threshold: Int32) -> Int64 {
    let index = min(values.count - 1, Int(Double(values.count) * levelSpanQuantile))
    return max(0, Int64(orderStatistic(&values, index: index)) - Int64(threshold))
}

/// The step and thresholds of K-bit hidden layer `layer` of `genome`, whose thresholds hold
/// each neuron's median sum and `spans` how far its sums reach above it: the step is the
/// median span over the levels from 1 to the top (`2^K - 2` steps), rounded, at least 1, and
/// each threshold is lowered by one step, so level 1 starts at the median: about half the
/// sample sits at level 0 (a ReLU at its median) and a typical neuron uses every level, the
/// few sums past the span at the top. `spans` is reordered.
func placeLevels(_ genome: inout TernaryNetwork, layer: Int, spans: inout [Int64]) {
    spans.sort()
    let median = spans[spans.count / 2]
    let intervals = Int64(genome.activation.maxLevel) - 1
    let step = Int32(clamping: max(1, (median + intervals / 2) / intervals))
    genome.steps[layer] = step
    for j in genome.thresholds[layer].indices {
        genome.thresholds[layer][j] = Int32(clamping: Int64(genome.thresholds[layer][j]) - Int64(step))
    }
}
