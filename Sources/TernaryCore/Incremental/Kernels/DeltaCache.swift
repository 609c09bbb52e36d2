import CTernaryKernels

// Incremental (delta) evaluation: the cache of one genome on one fixed batch, and the kernels
// that score a candidate (the genome plus a few moves) from it, or apply the moves to it.
// Reached only through `IncrementalScorer`. One file per job: this one (the cache and its full
// rebuild), DeltaCache+Moves (normalisation), DeltaCache+Score, DeltaCache+Apply, DeltaScratch.
//
// Shapes: L weight layers, sizes n[0] ... n[L] (n[0] inputs, n[L] = C classes); B examples,
// padded to Bp = 64 Bw (Bw words of example bits). Weight layer l maps n[l] to n[l + 1]; hidden
// layer l is its output, for l < L - 1.
//
//   inputs        UInt8  [n0][Bp]        input j of example b at j * Bp + b (transposed)
//                                        (byte inputs only; token inputs instead keep:)
//   windows       Int32  [K][Bp]         token inputs: the column p V + t_p of example b at
//                                        p * Bp + b (-1 for padding examples)
//   indexStart    Int32  [n0 + 1]        token inputs: the examples whose window has column j
//   indexExamples Int32  [B K]           are indexExamples[indexStart[j] ..< indexStart[j + 1]],
//                                        in increasing order (see the Semantics article)
//   sums[l]       Int32  [n(l+1)][Bp]    hidden pre-activations, neuron-major (l < L - 1)
//   bits[l]       UInt64 [n(l+1)][Bw]    hidden signs, bit b % 64 of word b / 64 set when +1
//                                        (sign networks; a levels network keeps instead:)
//   levels[l]     UInt8  [n(l+1)][Bp]    hidden levels 0 ... 2^K - 1, neuron-major
//   columns[l-1]  Int8   [n(l)][n(l+1)]  weight layer l >= 1 transposed: column j contiguous
//   logits        Int32  [B][C]           (and columns: 16 spare entries, see `level_outputs`)
//   units         Int64  [B]             fixed-point loss of each example (see `LossTable`)
//   correct       UInt8  [B]
//   tops, bests   Int32  [B]             each example's top logit and the lowest class holding it
//   normalisers   UInt64 [B]             each example's fixed-point softmax normaliser
//   labelLogits   Int32  [B]             each example's logit of its label (a copy of one
//                                        logit, so the output-layer path reads no logits row)
//
// How a candidate is scored (read-only, per-worker scratch): moves are normalised (the last
// move at a position wins, no-ops dropped, sorted by layer and row). Layer by layer:
//   * a hidden neuron with a move (a "direct" neuron) is recomputed over the whole batch from
//     its cached sums, 16 examples per vector: O(B) adds per trit move, giving a word mask of
//     the examples whose sign flips;
//   * an example whose inputs to this layer changed (a flip in the layer below) is recomputed
//     for every neuron of the layer from the cached sums plus the changed columns: O(n) per
//     changed input;
//   * at the output, every example with a changed input (or every example, when an output
//     weight moved) gets new logits and a new fixed-point loss; the candidate's total is the
//     cached total plus the differences, integers all the way, so it equals a full evaluation.
//     An example whose hidden signs did not change sees only the moved output rows: while no
//     moved logit rises above the top and the top class does not fall, its normaliser changes
//     by one table term per moved row, O(1) instead of O(C) (otherwise the O(C) path). That
//     path runs eight examples at a time in the C kernel `output_moves` (CTernaryKernels), the
//     O(C) one takes an example's top, best class and normaliser from `logit_summary`, and the
//     losses of all the examples a candidate recomputes come from `loss_units` at the end.
// A first-layer trit move therefore costs O(B) plus O(C) (and one `log`) per example whose
// hidden sign flips. A levels network goes the same way with levels for signs
// (DeltaCache+Levels.swift): a change is (example, neuron, level change d) and adds d times a
// weight column (a sign flip is the change d = +-2); its kernels are `batch_levels` (a moved
// neuron over the batch), `level_outputs` and `output_level_moves` (the output layer). With token inputs, a first-layer trit move of column j visits only the
// examples of index j (about B / V of them) plus O(B / 64) words of masks.

// Stored properties of `DeltaCache` and `DeltaScratch` (DeltaScratch.swift) are read and written inside the scoring loops;
// `@exclusivity(unchecked)` drops Swift's dynamic exclusivity checks on them (18% of a local-search
// profile). Safe: a cache is only written by `rebuild` and `apply`, never while candidates are
// scored, and each scratch is used by one worker at a time.

/// The cached evaluation of one genome on one batch (layout above).
final class DeltaCache {
    let sizes: [Int]
    let layerCount: Int
    let classes: Int
    let table: LossTable
    /// The kernels of the instruction set chosen for this cache (the loss summaries and the
    /// output-layer moves; every set gives the same bits).
    let kernels: UnsafePointer<tern_kernel_table>
    @exclusivity(unchecked) var network: TernaryNetwork
    @exclusivity(unchecked) private(set) var exampleCount = 0
    @exclusivity(unchecked) private(set) var words = 0
    var padded: Int { words * 64 }

    @exclusivity(unchecked) var inputs = DeltaBuffer<UInt8>(count: 1, value: 0)
    /// Token inputs: symbols per window (0 for byte inputs) and the vocabulary size.
    @exclusivity(unchecked) private(set) var context = 0
    @exclusivity(unchecked) private(set) var vocabulary = 0
    @exclusivity(unchecked) var windows = DeltaBuffer<Int32>(count: 1, value: -1)
    @exclusivity(unchecked) var indexStart = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var indexExamples = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var sums: [DeltaBuffer<Int32>]
    @exclusivity(unchecked) var bits: [DeltaBuffer<UInt64>]
    @exclusivity(unchecked) var levels: [DeltaBuffer<UInt8>]
    /// Whether the genome has a `levels` activation and hidden layers (then `levels`, not
    /// `bits`, holds the hidden activations).
    @exclusivity(unchecked) private(set) var isLevels = false
    @exclusivity(unchecked) var columns: [DeltaBuffer<Int8>]
    @exclusivity(unchecked) var thresholds: [DeltaBuffer<Int32>]
    @exclusivity(unchecked) var logits = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var units = DeltaBuffer<Int64>(count: 1, value: 0)
    @exclusivity(unchecked) var correct = DeltaBuffer<UInt8>(count: 1, value: 0)
    @exclusivity(unchecked) var tops = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var bests = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var normalisers = DeltaBuffer<UInt64>(count: 1, value: 0)
    @exclusivity(unchecked) var labelLogits = DeltaBuffer<Int32>(count: 1, value: 0)
    /// The loss table's terms, held here so the scoring loops read them without a closure.
    let terms: UnsafeBufferPointer<UInt64>
    @exclusivity(unchecked) var labels = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var totalUnits: Int64 = 0
    @exclusivity(unchecked) var totalCorrect = 0

    init(layerSizes: [Int], table: LossTable, instructionSet: InstructionSet) {
        kernels = instructionSet.table
        sizes = layerSizes
        layerCount = layerSizes.count - 1
        classes = layerSizes[layerCount]
        self.table = table
        let copied = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: table.exponentials.count)
        _ = copied.initialize(from: table.exponentials)
        terms = UnsafeBufferPointer(copied)
        network = TernaryNetwork(layerSizes: layerSizes)
        sums = (0..<(layerCount - 1)).map { _ in DeltaBuffer(count: 1, value: 0) }
        bits = (0..<(layerCount - 1)).map { _ in DeltaBuffer(count: 1, value: 0) }
        levels = (0..<(layerCount - 1)).map { _ in DeltaBuffer(count: 1, value: 0) }
        // 16 spare entries: the `level_outputs` kernel reads a column or a row of logits as one
        // 16-lane vector when there are at most 16 classes (the lanes past them are ignored).
        columns = (1..<max(1, layerCount)).map {
            DeltaBuffer(count: layerSizes[$0] * layerSizes[$0 + 1] + 16, value: 0)
        }
        thresholds = (0..<(layerCount - 1)).map { DeltaBuffer(count: layerSizes[$0 + 1], value: 0) }
    }

    deinit {
        for buffer in sums { buffer.free() }
        for buffer in bits { buffer.free() }
        for buffer in levels { buffer.free() }
        for buffer in columns { buffer.free() }
        for buffer in thresholds { buffer.free() }
        inputs.free()
        logits.free()
        units.free()
        correct.free()
        labels.free()
        tops.free()
        bests.free()
        normalisers.free()
        labelLogits.free()
        terms.deallocate()
        windows.free()
        indexStart.free()
        indexExamples.free()
    }

    /// Input `j` of example `b`: its byte, or for token inputs 1 when the window has column `j`.
    @inline(__always)
    func inputValue(_ j: Int, _ b: Int) -> Int32 {
        if context == 0 { return Int32(inputs.base[j &* padded &+ b]) }
        return windows.base[(j / vocabulary) &* padded &+ b] == Int32(j) ? 1 : 0
    }

    /// The mask of real examples in the last word (padding examples never count).
    var lastWordMask: UInt64 {
        let tail = exampleCount - (words - 1) * 64
        return tail >= 64 ? ~0 : (1 << UInt64(tail)) - 1
    }

    /// The cached value of hidden neuron `neuron` of hidden layer `layer` for `example`: its
    /// level, or +-1 for a sign network.
    @inline(__always)
    func hiddenValue(_ layer: Int, _ neuron: Int, _ example: Int) -> Int32 {
        if isLevels { return Int32(levels[layer].base[neuron &* padded &+ example]) }
        return bit(layer, neuron, example) ? 1 : -1
    }

    func bit(_ layer: Int, _ neuron: Int, _ example: Int) -> Bool {
        bits[layer].base[neuron &* words &+ example >> 6] >> UInt64(example & 63) & 1 == 1
    }

    // MARK: rebuild

    /// Allocates every buffer for `B` examples (token inputs: `newContext` symbols per window;
    /// hidden levels instead of signs with `levels`).
    private func reshape(examples B: Int, context newContext: Int, levels newLevels: Bool) {
        context = newContext
        isLevels = newLevels
        vocabulary = newContext > 0 ? sizes[0] / newContext : 0
        exampleCount = B
        words = max(1, (B + 63) / 64)
        let Bp = padded
        inputs.free()
        inputs = DeltaBuffer(count: context > 0 ? 1 : sizes[0] * Bp, value: 0)
        windows.free()
        windows = DeltaBuffer(count: context * Bp, value: -1)
        indexStart.free()
        indexStart = DeltaBuffer(count: context > 0 ? sizes[0] + 1 : 1, value: 0)
        indexExamples.free()
        indexExamples = DeltaBuffer(count: B * context, value: 0)
        for l in 0..<(layerCount - 1) {
            sums[l].free()
            sums[l] = DeltaBuffer(count: sizes[l + 1] * Bp, value: 0)
            bits[l].free()
            bits[l] = DeltaBuffer(count: isLevels ? 1 : sizes[l + 1] * words, value: 0)
            levels[l].free()
            levels[l] = DeltaBuffer(count: isLevels ? sizes[l + 1] * Bp : 1, value: 0)
        }
        logits.free()
        logits = DeltaBuffer(count: B * classes + 16, value: 0)
        units.free()
        units = DeltaBuffer(count: B, value: 0)
        correct.free()
        correct = DeltaBuffer(count: B, value: 0)
        tops.free()
        tops = DeltaBuffer(count: B, value: 0)
        bests.free()
        bests = DeltaBuffer(count: B, value: 0)
        normalisers.free()
        normalisers = DeltaBuffer(count: B, value: 0)
        labelLogits.free()
        labelLogits = DeltaBuffer(count: B, value: 0)
        labels.free()
        labels = DeltaBuffer(count: B, value: 0)
    }

    /// Takes the batch shape of `source` (buffers reallocated; contents to be copied).
    func adoptShape(of source: DeltaCache) {
        reshape(examples: source.exampleCount, context: source.context, levels: source.isLevels)
    }

    /// A full evaluation of `network` on the examples (`features` row-major, `n0` bytes each; or
    /// with `context > 0`, token inputs: `tokenColumns` row-major, `context` columns each):
    /// every cached value from scratch, neurons in parallel on `workers` threads.
    func rebuild(
        _ network: TernaryNetwork, features: UnsafeBufferPointer<UInt8>,
        tokenColumns: UnsafeBufferPointer<Int32>? = nil,
        context newContext: Int = 0, labels exampleLabels: [Int], workers: Int
    ) {
        self.network = network
        let B = exampleLabels.count
        let levelsNetwork = network.activation.isLevels && layerCount > 1
        if B != exampleCount || words == 0 || newContext != context || levelsNetwork != isLevels {
            reshape(examples: B, context: newContext, levels: levelsNetwork)
        }
        for b in 0..<B { labels.base[b] = Int32(exampleLabels[b]) }
        loadInputs(features: features, tokenColumns: tokenColumns)
        if context > 0 && layerCount > 1 { tokenSums(network.weights[0], workers: workers) }
        for l in 0..<layerCount {
            copyLayerParameters(network, layer: l)
            if l >= 1 {
                if isLevels { levelSums(layer: l, workers: workers) } else { signSums(layer: l, workers: workers) }
                if l == layerCount - 1 { break }
            }
            rebuildRows(network, layer: l, workers: workers)
        }
        rebuildLosses()
    }

    /// Lays out the batch's inputs: byte inputs transposed, or token windows position-major with
    /// the per-column index of the examples (by counting sort, examples in order).
    private func loadInputs(features: UnsafeBufferPointer<UInt8>, tokenColumns: UnsafeBufferPointer<Int32>?) {
        let B = exampleCount, Bp = padded, n0 = sizes[0]
        if context > 0 {
            // Windows position-major, and the index by counting sort (examples stay in order).
            let K = context
            let columns = tokenColumns!
            precondition(columns.count == B * K, "token columns must hold \(K) per example")
            indexStart.base.initialize(repeating: 0, count: n0 + 1)
            for b in 0..<B {
                for p in 0..<K {
                    let j = columns[b &* K &+ p]
                    precondition(Int(j) / vocabulary == p, "column \(j) of example \(b) is not in block \(p)")
                    windows.base[p &* Bp &+ b] = j
                    indexStart.base[Int(j) &+ 1] &+= 1
                }
            }
            for j in 0..<n0 { indexStart.base[j &+ 1] &+= indexStart.base[j] }
            let fill = UnsafeMutablePointer<Int32>.allocate(capacity: n0)
            defer { fill.deallocate() }
            fill.update(from: indexStart.base, count: n0)
            for b in 0..<B {
                for p in 0..<K {
                    let j = Int(windows.base[p &* Bp &+ b])
                    indexExamples.base[Int(fill[j])] = Int32(b)
                    fill[j] &+= 1
                }
            }
        } else {
            for b in 0..<B { for j in 0..<n0 { inputs.base[j &* Bp &+ b] = features[b &* n0 &+ j] } }
        }
    }

    /// Copies weight layer `layer`'s thresholds (hidden layers) and transposed columns (later
    /// layers) into the cache.
    private func copyLayerParameters(_ network: TernaryNetwork, layer l: Int) {
        let n = sizes[l + 1], fanIn = sizes[l]
        if l < layerCount - 1 {
            for k in 0..<n { thresholds[l].base[k] = network.thresholds[l][k] }
        }
        if l >= 1 {
            let column = columns[l - 1].base
            for j in 0..<fanIn { for k in 0..<n { column[j &* n &+ k] = network.weights[l][k, j] } }
        }
    }

    /// Weight layer `layer` neuron by neuron over the batch (on `workers` threads): its sums
    /// (first layer, or taken from what `tokenSums`, `signSums` or `levelSums` left in place),
    /// then its sign bits or levels, or the logits of a network without hidden layers.
    private func rebuildRows(_ network: TernaryNetwork, layer l: Int, workers: Int) {
        let B = exampleCount, Bp = padded, n = sizes[l + 1], fanIn = sizes[l]
        let matrix = network.weights[l]
        let isOutput = l == layerCount - 1
        let target = UncheckedSendable(isOutput ? nil : sums[l].base)
        let outputs = UncheckedSendable(logits.base)
        let rowBits = UncheckedSendable(isOutput || isLevels ? nil : bits[l].base)
        let rowLevels = UncheckedSendable(isOutput || !isLevels ? nil : levels[l].base)
        let step = isOutput ? 1 : network.steps[l], activation = network.activation
        let theta = UncheckedSendable(isOutput ? nil : thresholds[l].base)
        Parallel.run(
            items: n, workers: workers,
            local: { k, _ in
                // One neuron over the batch: a row of Bp Int32 sums, then its sign bits.
                let row = UnsafeMutablePointer<Int32>.allocate(capacity: Bp)
                defer { row.deallocate() }
                row.initialize(repeating: 0, count: Bp)
                if (l == 0 && self.context > 0 && !isOutput) || l >= 1 {
                    // In place already (tokenSums, signSums).
                    row.update(from: target.value!.advanced(by: k &* Bp), count: Bp)
                } else if l == 0 && self.context > 0 {
                    // Token inputs straight to the logits: the class's dense row, K lookups per example.
                    let weights = UnsafeMutablePointer<Int32>.allocate(capacity: fanIn)
                    defer { weights.deallocate() }
                    for j in 0..<fanIn { weights[j] = Int32(matrix[k, j]) }
                    for p in 0..<self.context {
                        let column = self.windows.base + p &* Bp
                        for b in 0..<B { row[b] &+= weights[Int(column[b])] }
                    }
                }
                for j in 0..<fanIn where l == 0 && self.context == 0 {
                    let w = matrix[k, j]
                    if w == 0 { continue }
                    let column = self.inputs.base + j &* Bp
                    if w > 0 {
                        for b in 0..<Bp { row[b] &+= Int32(column[b]) }
                    } else {
                        for b in 0..<Bp { row[b] &-= Int32(column[b]) }
                    }
                }
                if isOutput {
                    for b in 0..<B { outputs.value[b &* n &+ k] = row[b] }
                } else {
                    target.value!.advanced(by: k &* Bp).update(from: row, count: Bp)
                    let t = theta.value![k]
                    if let out = rowLevels.value {
                        for b in 0..<Bp {
                            out[k &* Bp &+ b] = UInt8(activation.value(sum: row[b], threshold: t, step: step))
                        }
                        return
                    }
                    for w in 0..<self.words {
                        var word: UInt64 = 0
                        for i in 0..<64 where row[w &* 64 &+ i] >= t { word |= 1 << UInt64(i) }
                        rowBits.value![k &* self.words &+ w] = word
                    }
                }
            })
    }

    /// Every example's loss and correctness from its logits, and the totals.
    private func rebuildLosses() {
        let B = exampleCount
        // storeLoss adds differences to the totals: start both from zero.
        totalUnits = 0
        totalCorrect = 0
        units.base.initialize(repeating: 0, count: B)
        correct.base.initialize(repeating: 0, count: B)
        for b in 0..<B { storeLoss(of: b) }
    }

    /// The first-layer sums of a token network, `sums[0]`, example by example: each window adds
    /// `context` columns of the transposed first layer (n contiguous weights each, 16 lanes at a
    /// time) into the example's n sums, and 16 examples at a time are written out neuron-major.
    /// O(B K n / 16) vector adds, against B K n scattered lookups one neuron at a time.
    private func tokenSums(_ matrix: TernaryMatrix, workers: Int) {
        let n = sizes[1], n0 = sizes[0], K = context, B = exampleCount, Bp = padded
        let transposed = UnsafeMutablePointer<Int8>.allocate(capacity: n0 &* n)
        defer { transposed.deallocate() }
        for k in 0..<n { for j in 0..<n0 { transposed[j &* n &+ k] = matrix[k, j] } }
        let weights = UncheckedSendable(UnsafePointer(transposed))
        let target = UncheckedSendable(sums[0].base)
        let tiles = Bp / 16, lanes = (n &+ 15) & ~15
        // One accumulator and window per worker, not per tile.
        let threads = max(1, min(workers, tiles))
        let accumulators = UnsafeMutablePointer<Int32>.allocate(capacity: threads &* 16 &* lanes)
        let windowBuffers = UnsafeMutablePointer<Int32>.allocate(capacity: threads &* K)
        defer {
            accumulators.deallocate()
            windowBuffers.deallocate()
        }
        accumulators.initialize(repeating: 0, count: threads &* 16 &* lanes)
        windowBuffers.initialize(repeating: 0, count: threads &* K)
        let scratch = UncheckedSendable((accumulators, windowBuffers))
        Parallel.run(
            items: tiles, workers: threads,
            local: { tile, worker in
                let accumulator = scratch.value.0 + worker &* 16 &* lanes
                let window = scratch.value.1 + worker &* K
                accumulator.update(repeating: 0, count: 16 &* lanes)
                for e in 0..<16 {
                    let b = tile &* 16 &+ e
                    guard b < B else { break }
                    for p in 0..<K { window[p] = self.windows.base[p &* Bp &+ b] }
                    tokenSum(
                        window: window, context: K, columns: weights.value, rows: n, into: accumulator + e &* lanes)
                }
                for k in 0..<n {
                    let out = target.value + (k &* Bp &+ tile &* 16)
                    for e in 0..<16 { out[e] = accumulator[e &* lanes &+ k] }
                }
            })
    }

    /// The sums of weight layer `l >= 1` from the signs of hidden layer `l - 1`, 64 examples (one
    /// word of signs) at a time: each starts at `-sum_j W[k][j]` and adds `2 W[:, j]` (a
    /// contiguous column, 16 lanes at a time) for every input j that is +1. Written to the
    /// logits (example-major, real examples) or to `sums[l]` (neuron-major, padding included).
    /// O(B n_l n_(l+1) / 32) vector adds, against B n_l n_(l+1) scalar ones neuron by neuron.
    private func signSums(layer l: Int, workers: Int) {
        let n = sizes[l + 1], fanIn = sizes[l], Bw = words
        let lanes = (n &+ 15) & ~15
        // Doubled columns padded to whole vectors, and each neuron's weight sum.
        let doubled = UnsafeMutablePointer<Int8>.allocate(capacity: fanIn &* lanes)
        defer { doubled.deallocate() }
        doubled.initialize(repeating: 0, count: fanIn &* lanes)
        let start = UnsafeMutablePointer<Int32>.allocate(capacity: lanes)
        defer { start.deallocate() }
        start.initialize(repeating: 0, count: lanes)
        let column = columns[l - 1].base
        for j in 0..<fanIn {
            for k in 0..<n {
                let w = column[j &* n &+ k]
                doubled[j &* lanes &+ k] = w &* 2
                start[k] &-= Int32(w)
            }
        }
        let weights = UncheckedSendable(UnsafePointer(doubled)), origin = UncheckedSendable(UnsafePointer(start))
        let signs = UncheckedSendable(UnsafePointer(bits[l - 1].base))
        // One accumulator per worker, not per word.
        let threads = max(1, min(workers, Bw))
        let accumulators = UnsafeMutablePointer<Int32>.allocate(capacity: threads &* 64 &* lanes)
        defer { accumulators.deallocate() }
        accumulators.initialize(repeating: 0, count: threads &* 64 &* lanes)
        let scratch = UncheckedSendable(accumulators)
        Parallel.run(
            items: Bw, workers: threads,
            local: { w, worker in
                let accumulator = scratch.value + worker &* 64 &* lanes
                for e in 0..<64 { (accumulator + e &* lanes).update(from: origin.value, count: lanes) }
                for j in 0..<fanIn {
                    var word = signs.value[j &* Bw &+ w]
                    let add = weights.value + j &* lanes
                    while word != 0 {
                        let sums = accumulator + word.trailingZeroBitCount &* lanes
                        word &= word &- 1
                        var k = 0
                        while k < lanes {
                            let v = SIMD16<Int32>(
                                truncatingIfNeeded: UnsafeRawPointer(add + k).loadUnaligned(as: SIMD16<Int8>.self))
                            let at = UnsafeMutableRawPointer(sums + k)
                            at.storeBytes(of: at.loadUnaligned(as: SIMD16<Int32>.self) &+ v, as: SIMD16<Int32>.self)
                            k &+= 16
                        }
                    }
                }
                self.storeTile(accumulator, word: w, lanes: lanes, layer: l)
            })
    }

    /// Writes the sums of weight layer `l` for the 64 examples of word `w` from `accumulator`
    /// (example-major, `lanes` per example) to the logits (example-major, real examples only)
    /// or to `sums[l]` (neuron-major, padding included).
    func storeTile(_ accumulator: UnsafeMutablePointer<Int32>, word w: Int, lanes: Int, layer l: Int) {
        let n = sizes[l + 1], Bp = padded
        if l == layerCount - 1 {
            for e in 0..<min(64, exampleCount &- w &* 64) {
                (logits.base + (w &* 64 &+ e) &* n).update(from: accumulator + e &* lanes, count: n)
            }
        } else {
            let target = sums[l].base
            for k in 0..<n {
                let out = target + (k &* Bp &+ w &* 64)
                for e in 0..<64 { out[e] = accumulator[e &* lanes &+ k] }
            }
        }
    }

    /// Recomputes example `b`'s loss from its cached logits (O(C)), stores it and its parts, and
    /// updates the totals.
    func storeLoss(of b: Int) {
        store(
            table.exampleLoss(
                logits.base + b &* classes, classes: classes, label: Int(labels.base[b]), table: terms,
                kernels: kernels), of: b)
    }

    /// Stores example `b`'s loss and its parts, and updates the totals.
    func store(_ loss: ExampleLoss, of b: Int) {
        totalUnits &+= loss.units &- units.base[b]
        totalCorrect &+= (loss.correct ? 1 : 0) &- Int(correct.base[b])
        units.base[b] = loss.units
        correct.base[b] = loss.correct ? 1 : 0
        tops.base[b] = loss.top
        bests.base[b] = loss.best
        normalisers.base[b] = loss.normaliser
        labelLogits.base[b] = loss.labelLogit
    }
}
