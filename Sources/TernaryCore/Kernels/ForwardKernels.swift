import CTernaryKernels

// The multiplication-free forward pass lives in the C target CTernaryKernels (one source,
// compiled for AVX-512, AVX2 and the portable baseline; see its Kernels.c for why C). This file
// calls the forward kernels of the copy `InstructionSet` chose; the float products are called
// from TernaryBackprop's FloatKernels.swift.

/// Examples per tile: 128, so each weight's bit-loop step is paid once for 128 examples.
let tileWidth = 128

/// Scratch memory of one worker: two ping-pong activation tiles (`[words][128]`, or up to 8 bit
/// planes of that for a levels network), the kernels' own scratch, one example's first-layer
/// sums of a token network, and a tile's (`[128][widest hidden]`) for a levels token network.
/// Allocated once per evaluator and reused for every tile, so the hot loop allocates nothing.
final class ForwardScratch {
    let kernels: UnsafePointer<tern_kernel_table>
    let activationWords: Int
    let activationsA: UnsafeMutablePointer<UInt64>
    let activationsB: UnsafeMutablePointer<UInt64>
    let kernelScratch: UnsafeMutableRawPointer
    /// One example's first-layer sums of a token network, `[widest]` Int32.
    let tokenRow: UnsafeMutablePointer<Int32>
    /// A tile's first-layer sums of a levels token network, `[128][maxHidden]` Int32.
    let tokenSums: UnsafeMutablePointer<Int32>

    /// Scratch for networks whose widest hidden layer has `maxHidden` neurons and whose widest
    /// layer has `widest` outputs, running on `instructionSet`.
    init(maxHidden: Int, widest: Int = 1, instructionSet: InstructionSet) {
        kernels = instructionSet.table
        tokenRow = .allocate(capacity: max(1, widest, maxHidden))
        activationWords = max(1, (maxHidden + 63) / 64)
        let planes = Activation.levelBits.upperBound
        activationsA = .allocate(capacity: planes * tileWidth * activationWords)
        activationsB = .allocate(capacity: planes * tileWidth * activationWords)
        tokenSums = .allocate(capacity: tileWidth * max(1, maxHidden))
        kernelScratch = .allocate(byteCount: Int(TERN_FORWARD_SCRATCH_BYTES), alignment: 64)
    }

    deinit {
        activationsA.deallocate()
        activationsB.deallocate()
        kernelScratch.deallocate()
        tokenRow.deallocate()
        tokenSums.deallocate()
    }

    /// First layer of one tile (`tile` Int16 `[I][128]`): activations into `out`, or with
    /// `sums`, the Int32 sums of the first `examples` examples as `[examples][O]`.
    func firstLayer(
        tile: UnsafePointer<Int16>, plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>,
        rows: Int, wordsPerRow: Int, thresholds: UnsafePointer<Int32>?, out: UnsafeMutablePointer<UInt64>,
        sums: UnsafeMutablePointer<Int32>? = nil, examples: Int = 0
    ) {
        kernels.pointee.first_layer(
            tile, plus, minus, rows, wordsPerRow, thresholds, out, sums, examples, kernelScratch)
    }

    /// A later hidden layer: activations `act [W][128]` to activations `out`.
    func hiddenLayer(
        activations: UnsafePointer<UInt64>, plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>,
        rows: Int, wordsPerRow: Int, thresholds: UnsafePointer<Int32>, out: UnsafeMutablePointer<UInt64>
    ) {
        kernels.pointee.hidden_layer(activations, plus, minus, rows, wordsPerRow, thresholds, out, kernelScratch)
    }

    /// The output layer: Int32 logits `[examples][O]` of the first `examples` of the tile.
    func outputLayer(
        activations: UnsafePointer<UInt64>, examples: Int, plus: UnsafePointer<UInt64>,
        minus: UnsafePointer<UInt64>, rows: Int, wordsPerRow: Int, logits: UnsafeMutablePointer<Int32>
    ) {
        kernels.pointee.output_layer(activations, examples, plus, minus, rows, wordsPerRow, logits, kernelScratch)
    }
}

extension TernaryMatrix {
    /// `body` on the base addresses of the `plus` and `minus` planes (`[O][W]`).
    func withPlanes<Result>(_ body: (UnsafePointer<UInt64>, UnsafePointer<UInt64>) -> Result) -> Result {
        plus.withUnsafeBufferPointer { p in minus.withUnsafeBufferPointer { m in body(p.baseAddress!, m.baseAddress!) }
        }
    }
}
