// The forward pass of a K-bit levels network (the Semantics article, DESIGN 13) on one tile:
// the kernels of CTernaryKernels' KernelLevels.h. Activations are K bit planes of the sign
// layout, `[K][words][128]` (plane b holds bit b of every level), so a later layer is K
// popcount passes of the sign kernel's inner loop.

extension ForwardScratch {
    /// First layer of one tile (`tile` Int16 `[I][128]`) into K-bit levels `out [K][ceil(O / 64)][128]`.
    func firstLevels(
        tile: UnsafePointer<Int16>, plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows: Int,
        wordsPerRow: Int, thresholds: UnsafePointer<Int32>, step: Int32, bits: Int, out: UnsafeMutablePointer<UInt64>
    ) {
        kernels.pointee.first_levels(tile, plus, minus, rows, wordsPerRow, thresholds, step, bits, out, kernelScratch)
    }

    /// Int32 sums `[examples][O]` into K-bit levels `out` (examples past `examples`: level 0).
    func levelsFromSums(
        _ sums: UnsafePointer<Int32>, examples: Int, rows: Int, thresholds: UnsafePointer<Int32>,
        step: Int32, bits: Int, out: UnsafeMutablePointer<UInt64>
    ) {
        kernels.pointee.levels_from_sums(sums, examples, rows, thresholds, step, bits, out, kernelScratch)
    }

    /// A later hidden layer: K-bit levels `activations [K][W][128]` to K-bit levels `out`.
    func hiddenLevels(
        activations: UnsafePointer<UInt64>, plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows: Int,
        wordsPerRow: Int, bits: Int, thresholds: UnsafePointer<Int32>, step: Int32, out: UnsafeMutablePointer<UInt64>
    ) {
        kernels.pointee.hidden_levels(
            activations, plus, minus, rows, wordsPerRow, bits, thresholds, step, out, kernelScratch)
    }

    /// The output layer on K-bit levels: Int32 logits `[examples][O]` of the first `examples` of the tile.
    func outputLevels(
        activations: UnsafePointer<UInt64>, examples: Int, plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>,
        rows: Int, wordsPerRow: Int, bits: Int, logits: UnsafeMutablePointer<Int32>
    ) {
        kernels.pointee.output_levels(
            activations, examples, plus, minus, rows, wordsPerRow, bits, logits, kernelScratch)
    }
}

/// `forwardTile` for a levels network with at least one hidden layer (`bits` = K): the first
/// layer (bytes, or with `tokens` a gather-add into `scratch.tokenSums` then a quantise step)
/// into K planes, the later hidden layers plane to plane, the output layer to `logits [examples][C]`.
func forwardLevelsTile(
    _ network: TernaryNetwork, bits: Int, tile: UnsafePointer<Int16>, examples: Int,
    scratch: ForwardScratch, logits: UnsafeMutablePointer<Int32>,
    tokens: (windows: UnsafePointer<Int32>, context: Int, columns: UnsafePointer<Int8>)?
) {
    let layerCount = network.weights.count
    var input = scratch.activationsA
    var output = scratch.activationsB
    for l in 0..<layerCount {
        let matrix = network.weights[l]
        matrix.withPlanes { plus, minus in
            let rows = matrix.rowCount, words = matrix.wordsPerRow
            if l == layerCount - 1 {
                scratch.outputLevels(
                    activations: input, examples: examples, plus: plus, minus: minus,
                    rows: rows, wordsPerRow: words, bits: bits, logits: logits)
                return
            }
            let step = network.steps[l]
            network.thresholds[l].withUnsafeBufferPointer { theta in
                let theta = theta.baseAddress!
                if l == 0, let tokens {
                    tokenFirstLayerKernel(
                        windows: tokens.windows, context: tokens.context, examples: examples,
                        columns: tokens.columns, rows: rows, thresholds: nil, out: output, outWords: 0,
                        row: scratch.tokenRow, logits: scratch.tokenSums)
                    scratch.levelsFromSums(
                        scratch.tokenSums, examples: examples, rows: rows, thresholds: theta,
                        step: step, bits: bits, out: output)
                } else if l == 0 {
                    scratch.firstLevels(
                        tile: tile, plus: plus, minus: minus, rows: rows, wordsPerRow: words,
                        thresholds: theta, step: step, bits: bits, out: output)
                } else {
                    scratch.hiddenLevels(
                        activations: input, plus: plus, minus: minus, rows: rows, wordsPerRow: words,
                        bits: bits, thresholds: theta, step: step, out: output)
                }
            }
        }
        swap(&input, &output)
    }
}
