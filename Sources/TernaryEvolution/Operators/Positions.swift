import TernaryCore

/// The positions a move can change: every weight of a genome, layer by layer and row-major,
/// then every hidden threshold. Draws are uniform over weights (so a layer is picked in
/// proportion to its size) and over hidden neurons.
struct GenomePositions: Sendable {
    let layerSizes: [Int]
    /// `weightEnds[l]`: weights in layers `0 ... l`.
    let weightEnds: [Int]
    /// `hiddenEnds[l]`: hidden neurons in hidden layers `0 ... l`.
    let hiddenEnds: [Int]
    /// Largest threshold step of the first hidden layer (later layers step by 2: sums of +-1
    /// inputs keep their parity, so a step of 1 changes half of the decisions it could).
    let thresholdStep: Int

    init(layerSizes: [Int], thresholdStep: Int) {
        self.layerSizes = layerSizes
        var total = 0
        weightEnds = zip(layerSizes.dropFirst(), layerSizes).map {
            total += $0.0 * $0.1
            return total
        }
        total = 0
        hiddenEnds = layerSizes.dropFirst().dropLast().map {
            total += $0
            return total
        }
        self.thresholdStep = max(1, thresholdStep)
    }

    var weightCount: Int { weightEnds.last ?? 0 }
    var hiddenCount: Int { hiddenEnds.last ?? 0 }
    var count: Int { weightCount + hiddenCount }

    /// (layer, row, column) of weight `index`.
    func weight(_ index: Int) -> (layer: Int, row: Int, column: Int) {
        var layer = 0
        while index >= weightEnds[layer] { layer += 1 }
        let offset = index - (layer == 0 ? 0 : weightEnds[layer - 1])
        return (layer, offset / layerSizes[layer], offset % layerSizes[layer])
    }

    /// (layer, neuron) of hidden neuron `index` (thresholds[layer][neuron]).
    func neuron(_ index: Int) -> (layer: Int, neuron: Int) {
        var layer = 0
        while index >= hiddenEnds[layer] { layer += 1 }
        return (layer, index - (layer == 0 ? 0 : hiddenEnds[layer - 1]))
    }

    /// A threshold step for `layer`: 1 ... thresholdStep for the first hidden layer, else 2.
    func step(layer: Int, using rng: inout some RandomNumberGenerator) -> Int32 {
        layer == 0 ? Int32(1 + rng.uniformBelow(thresholdStep)) : 2
    }

    /// A weight index: uniform over all weights, or, with `outputShare`, in the output layer
    /// with that probability and uniform over the other layers' weights otherwise (a network
    /// without hidden layers has only output weights and ignores it).
    func randomWeight(outputShare: Double?, using rng: inout some RandomNumberGenerator) -> Int {
        guard let outputShare, weightEnds.count > 1 else { return rng.uniformBelow(weightCount) }
        let hiddenWeights = weightEnds[weightEnds.count - 2]
        return rng.uniformDouble() < outputShare
            ? hiddenWeights + rng.uniformBelow(weightCount - hiddenWeights) : rng.uniformBelow(hiddenWeights)
    }

    /// A move that sets weight `index` of `genome` to one of its two other values.
    func randomTritMove(_ index: Int, of genome: TernaryNetwork, using rng: inout some RandomNumberGenerator) -> Move {
        let (layer, row, column) = weight(index)
        let current = Int(genome.weights[layer][row, column])
        let value = (current + 2 + rng.uniformBelow(2)) % 3 - 1  // one of the two others
        return .trit(layer: layer, row: row, column: column, value: Int8(value))
    }
}
