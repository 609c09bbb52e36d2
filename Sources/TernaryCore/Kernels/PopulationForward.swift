/// Scratch memory of one worker: two ping-pong activation tiles, a row of sums and a block of
/// 64 row masks for the bit transpose. Allocated
/// once per evaluator and reused for every tile, so the hot loop allocates nothing.
final class ForwardScratch {
    let activationWords: Int
    let activationsA: UnsafeMutablePointer<UInt64>
    let activationsB: UnsafeMutablePointer<UInt64>
    let sums: UnsafeMutablePointer<Int32>
    let masks: UnsafeMutablePointer<UInt64>

    /// Scratch for networks whose widest hidden layer has `maxHidden` neurons.
    init(maxHidden: Int) {
        activationWords = max(1, (maxHidden + 63) / 64)
        activationsA = .allocate(capacity: tileWidth * activationWords)
        activationsB = .allocate(capacity: tileWidth * activationWords)
        sums = .allocate(capacity: tileWidth)
        masks = .allocate(capacity: 64)
    }

    deinit {
        activationsA.deallocate()
        activationsB.deallocate()
        sums.deallocate()
        masks.deallocate()
    }
}

/// Runs every network of `networks` on every tile of `batch` and writes Int32 logits into
/// `logits` as `[P][B][C]` (genome-major, then example, then class).
///
/// Work items are (genome, tile) pairs, claimed dynamically by `scratch.count` workers; each
/// item writes only its own logits, so the result does not depend on the schedule.
func forwardPopulation(_ networks: [TernaryNetwork], batch: ExampleBatch,
                       scratch: [ForwardScratch], logits: inout [Int32]) {
    guard let first = networks.first else { return }
    let classes = first.classCount
    let examples = batch.count
    let tiles = (examples + tileWidth - 1) / tileWidth
    precondition(logits.count == networks.count * examples * classes)
    logits.withUnsafeMutableBufferPointer { output in
        let out = UncheckedSendable(output.baseAddress!)
        batch.columns.withUnsafeBufferPointer { columns in
            let x = UncheckedSendable(columns.baseAddress!)
            Parallel.run(items: networks.count * tiles, workers: scratch.count) { item, worker in
                let genome = item / tiles
                let tile = item % tiles
                let tileStart = tile * tileWidth
                let valid = min(tileWidth, examples - tileStart)
                let target = out.value + (genome * examples + tileStart) * classes
                forwardTile(networks[genome], tile: x.value + tile * batch.featureCount * tileWidth,
                            examples: valid, scratch: scratch[worker], logits: target)
            }
        }
    }
}

/// One network on one tile of 64 examples: logits of the first `examples` go to `logits [examples][C]`.
func forwardTile(_ network: TernaryNetwork, tile: UnsafePointer<Int16>,
                 examples: Int, scratch: ForwardScratch, logits: UnsafeMutablePointer<Int32>) {
    let layerCount = network.weights.count
    if layerCount == 1 {
        let matrix = network.weights[0]
        matrix.plus.withUnsafeBufferPointer { plus in
            matrix.minus.withUnsafeBufferPointer { minus in
                directOutputKernel(tile: tile, examples: examples,
                                   plus: plus.baseAddress!, minus: minus.baseAddress!,
                                   rows: matrix.rowCount, wordsPerRow: matrix.wordsPerRow, logits: logits)
            }
        }
        return
    }
    var input = scratch.activationsA
    var output = scratch.activationsB
    for l in 0..<layerCount {
        let matrix = network.weights[l]
        matrix.plus.withUnsafeBufferPointer { plusBuffer in
            matrix.minus.withUnsafeBufferPointer { minusBuffer in
                let plus = plusBuffer.baseAddress!, minus = minusBuffer.baseAddress!
                if l == layerCount - 1 {
                    outputLayerKernel(activations: input, examples: examples, plus: plus, minus: minus,
                                      rows: matrix.rowCount, wordsPerRow: matrix.wordsPerRow, logits: logits)
                    return
                }
                network.thresholds[l].withUnsafeBufferPointer { theta in
                    let outWords = (matrix.rowCount + 63) / 64
                    if l == 0 {
                        firstLayerKernel(tile: tile, plus: plus, minus: minus, rows: matrix.rowCount,
                                         wordsPerRow: matrix.wordsPerRow, thresholds: theta.baseAddress!,
                                         out: output, outWords: outWords, scratch: scratch)
                    } else {
                        hiddenLayerKernel(activations: input, plus: plus, minus: minus, rows: matrix.rowCount,
                                          wordsPerRow: matrix.wordsPerRow, thresholds: theta.baseAddress!,
                                          out: output, outWords: outWords, scratch: scratch)
                    }
                }
            }
        }
        swap(&input, &output)
    }
}
