/// Runs every network of `networks` on every tile of `batch` and writes Int32 logits into
/// `logits` as `[P][B][C]` (genome-major, then example, then class). With `scoring` (the loss
/// table, see `scoreLogits`), also returns each genome's score.
///
/// A work item is one genome on all of the batch's tiles when there are enough genomes to keep
/// every worker busy (its weights then stay in that core's cache, no two threads touch the same
/// genome's reference counts, and the same worker scores it while its logits are in cache),
/// otherwise one tile, with scoring as a second parallel pass. Items are claimed dynamically;
/// each writes only its own slots, so the result does not depend on the schedule.
@discardableResult
func forwardPopulation(
    _ networks: [TernaryNetwork], batch: ExampleBatch, scratch: [ForwardScratch],
    logits: inout [Int32], scoring: LossTable? = nil
) -> [Score] {
    guard let first = networks.first else { return [] }
    let score: ((UnsafePointer<Int32>) -> Score)? = scoring.map { table in
        { scoreLogits($0, batch: batch, classes: first.classCount, table: table, kernels: scratch[0].kernels) }
    }
    let classes = first.classCount
    let examples = batch.count
    let stride = examples * classes
    let tiles = (examples + tileWidth - 1) / tileWidth
    precondition(logits.count == networks.count * stride)
    return logits.withUnsafeMutableBufferPointer { output in
        let out = UncheckedSendable(output.baseAddress!)
        let x = UncheckedSendable(UnsafePointer(batch.columns.base))
        // Token inputs: each genome's first layer as Int8 columns, built once per call.
        let transposed =
            batch.context > 0
            ? Parallel.map(count: networks.count, workers: scratch.count) { genome, _ in
                transposedColumns(networks[genome].weights[0])
            }
            : []
        func run(_ genome: Int, tiles range: Range<Int>, worker: Int) {
            let network = networks[genome]
            for tile in range {
                let tileStart = tile * tileWidth
                let count = min(tileWidth, examples - tileStart)
                let target = out.value + genome * stride + tileStart * classes
                if batch.context > 0 {
                    batch.tokenColumns.withUnsafeBufferPointer { windows in
                        transposed[genome].withUnsafeBufferPointer { columns in
                            forwardTile(
                                network, tile: x.value, examples: count, scratch: scratch[worker], logits: target,
                                tokens: (
                                    windows.baseAddress! + tileStart * batch.context, batch.context,
                                    columns.baseAddress!
                                ))
                        }
                    }
                } else {
                    forwardTile(
                        network, tile: x.value + tile * batch.featureCount * tileWidth,
                        examples: count, scratch: scratch[worker], logits: target)
                }
            }
        }
        if networks.count >= 4 * scratch.count {
            let scores = Parallel.map(
                count: networks.count, workers: scratch.count,
                local: { genome, worker in
                    run(genome, tiles: 0..<tiles, worker: worker)
                    return score?(out.value + genome * stride) ?? Score(correct: 0, count: 0, loss: 0)
                })
            return score == nil ? [] : scores
        }
        Parallel.run(
            items: networks.count * tiles, workers: scratch.count,
            local: { item, worker in
                run(item / tiles, tiles: (item % tiles)..<(item % tiles + 1), worker: worker)
            })
        guard let score else { return [] }
        return Parallel.map(
            count: networks.count, workers: scratch.count,
            local: { genome, _ in
                score(out.value + genome * stride)
            })
    }
}

/// One network on one tile of 128 examples: logits of the first `examples` go to `logits [examples][C]`.
/// With `tokens` (a token network, <doc:Semantics>: the tile's windows `[T][K]`, K, and the
/// first layer's Int8 columns from `transposedColumns`), the first layer is a gather-add and
/// `tile` is not read.
func forwardTile(
    _ network: TernaryNetwork, tile: UnsafePointer<Int16>,
    examples: Int, scratch: ForwardScratch, logits: UnsafeMutablePointer<Int32>,
    tokens: (windows: UnsafePointer<Int32>, context: Int, columns: UnsafePointer<Int8>)? = nil
) {
    let layerCount = network.weights.count
    if let tokens, layerCount == 1 {
        tokenFirstLayerKernel(
            windows: tokens.windows, context: tokens.context, examples: examples, columns: tokens.columns,
            rows: network.weights[0].rowCount, thresholds: nil, out: scratch.activationsA, outWords: 0,
            row: scratch.tokenRow, logits: logits)
        return
    }
    if layerCount == 1 {
        let matrix = network.weights[0]
        matrix.plus.withUnsafeBufferPointer { plus in
            matrix.minus.withUnsafeBufferPointer { minus in
                scratch.firstLayer(
                    tile: tile, plus: plus.baseAddress!, minus: minus.baseAddress!,
                    rows: matrix.rowCount, wordsPerRow: matrix.wordsPerRow, thresholds: nil,
                    out: scratch.activationsA, sums: logits, examples: examples)
            }
        }
        return
    }
    if case let .levels(bits) = network.activation {
        forwardLevelsTile(
            network, bits: bits, tile: tile, examples: examples, scratch: scratch, logits: logits, tokens: tokens)
        return
    }
    var input = scratch.activationsA
    var output = scratch.activationsB
    for l in 0..<layerCount {
        let matrix = network.weights[l]
        matrix.withPlanes { plus, minus in
            if l == layerCount - 1 {
                scratch.outputLayer(
                    activations: input, examples: examples, plus: plus, minus: minus,
                    rows: matrix.rowCount, wordsPerRow: matrix.wordsPerRow, logits: logits)
                return
            }
            network.thresholds[l].withUnsafeBufferPointer { theta in
                let outWords = (matrix.rowCount + 63) / 64
                if l == 0, let tokens {
                    tokenFirstLayerKernel(
                        windows: tokens.windows, context: tokens.context, examples: examples,
                        columns: tokens.columns, rows: matrix.rowCount, thresholds: theta.baseAddress!,
                        out: output, outWords: outWords, row: scratch.tokenRow)
                } else if l == 0 {
                    scratch.firstLayer(
                        tile: tile, plus: plus, minus: minus, rows: matrix.rowCount,
                        wordsPerRow: matrix.wordsPerRow, thresholds: theta.baseAddress!, out: output)
                } else {
                    scratch.hiddenLayer(
                        activations: input, plus: plus, minus: minus, rows: matrix.rowCount,
                        wordsPerRow: matrix.wordsPerRow, thresholds: theta.baseAddress!, out: output)
                }
            }
        }
        swap(&input, &output)
    }
}
