// Incremental (delta) evaluation: the cache of one genome on one fixed batch, and the kernels
// that score a candidate (the genome plus a few moves) from it, or apply the moves to it.
// Reached only through `IncrementalScorer`.
//
// Shapes: L weight layers, sizes n[0] ... n[L] (n[0] inputs, n[L] = C classes); B examples,
// padded to Bp = 64 Bw (Bw words of example bits). Weight layer l maps n[l] to n[l + 1]; hidden
// layer l is its output, for l < L - 1.
//
//   inputs        UInt8  [n0][Bp]        input j of example b at j * Bp + b (transposed)
//   sums[l]       Int32  [n(l+1)][Bp]    hidden pre-activations, neuron-major (l < L - 1)
//   bits[l]       UInt64 [n(l+1)][Bw]    hidden signs, bit b % 64 of word b / 64 set when +1
//   columns[l-1]  Int8   [n(l)][n(l+1)]  weight layer l >= 1 transposed: column j contiguous
//   logits        Int32  [B][C]
//   units         Int64  [B]             fixed-point loss of each example (see `LossTable`)
//   correct       UInt8  [B]
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
// A first-layer trit move therefore costs O(B) plus O(C) (and one `log`) per example whose
// hidden sign flips.

// Stored properties of the two classes below are read and written inside the scoring loops;
// `@exclusivity(unchecked)` drops Swift's dynamic exclusivity checks on them (18% of a local-search
// profile). Safe: a cache is only written by `rebuild` and `apply`, never while candidates are
// scored, and each scratch is used by one worker at a time.

/// One 64-byte-aligned buffer of `count` elements, owned by the cache or a scratch.
struct DeltaBuffer<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count: Int

    init(count: Int, value: Element) {
        self.count = max(1, count)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.count * MemoryLayout<Element>.stride, alignment: 64)
            .bindMemory(to: Element.self, capacity: self.count)
        base.initialize(repeating: value, count: self.count)
    }

    /// Makes room for `needed` elements (contents lost when it grows).
    mutating func reserve(_ needed: Int, value: Element) {
        guard needed > count else { return }
        free()
        self = DeltaBuffer(count: max(needed, 2 * count), value: value)
    }

    /// Grows to `needed` elements, keeping the first `keep`.
    mutating func grow(_ needed: Int, keep: Int, value: Element) {
        guard needed > count else { return }
        let bigger = DeltaBuffer(count: max(needed, 2 * count), value: value)
        bigger.base.update(from: base, count: keep)
        free()
        self = bigger
    }

    func free() { base.deallocate() }

    subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

/// Lane k holds `1 << k`: the bit of lane k in a 16-example mask.
let deltaLaneBits: SIMD16<UInt32> = {
    var bits = SIMD16<UInt32>()
    for k in 0..<16 { bits[k] = 1 << UInt32(k) }
    return bits
}()

/// The cached evaluation of one genome on one batch (layout above).
final class DeltaCache {
    let sizes: [Int]
    let layerCount: Int
    let classes: Int
    let table: LossTable
    @exclusivity(unchecked) private(set) var network: TernaryNetwork
    @exclusivity(unchecked) private(set) var exampleCount = 0
    @exclusivity(unchecked) private(set) var words = 0
    var padded: Int { words * 64 }

    @exclusivity(unchecked) var inputs = DeltaBuffer<UInt8>(count: 1, value: 0)
    @exclusivity(unchecked) var sums: [DeltaBuffer<Int32>]
    @exclusivity(unchecked) var bits: [DeltaBuffer<UInt64>]
    @exclusivity(unchecked) var columns: [DeltaBuffer<Int8>]
    @exclusivity(unchecked) var thresholds: [DeltaBuffer<Int32>]
    @exclusivity(unchecked) var logits = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var units = DeltaBuffer<Int64>(count: 1, value: 0)
    @exclusivity(unchecked) var correct = DeltaBuffer<UInt8>(count: 1, value: 0)
    @exclusivity(unchecked) var labels = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) private(set) var totalUnits: Int64 = 0
    @exclusivity(unchecked) private(set) var totalCorrect = 0

    init(layerSizes: [Int], table: LossTable) {
        sizes = layerSizes
        layerCount = layerSizes.count - 1
        classes = layerSizes[layerCount]
        self.table = table
        network = TernaryNetwork(layerSizes: layerSizes)
        sums = (0..<(layerCount - 1)).map { _ in DeltaBuffer(count: 1, value: 0) }
        bits = (0..<(layerCount - 1)).map { _ in DeltaBuffer(count: 1, value: 0) }
        columns = (1..<max(1, layerCount)).map { DeltaBuffer(count: layerSizes[$0] * layerSizes[$0 + 1], value: 0) }
        thresholds = (0..<(layerCount - 1)).map { DeltaBuffer(count: layerSizes[$0 + 1], value: 0) }
    }

    deinit {
        for buffer in sums { buffer.free() }
        for buffer in bits { buffer.free() }
        for buffer in columns { buffer.free() }
        for buffer in thresholds { buffer.free() }
        inputs.free(); logits.free(); units.free(); correct.free(); labels.free()
    }

    /// The mask of real examples in the last word (padding examples never count).
    var lastWordMask: UInt64 {
        let tail = exampleCount - (words - 1) * 64
        return tail >= 64 ? ~0 : (1 << UInt64(tail)) - 1
    }

    func bit(_ layer: Int, _ neuron: Int, _ example: Int) -> Bool {
        bits[layer].base[neuron &* words &+ example >> 6] >> UInt64(example & 63) & 1 == 1
    }

    // MARK: rebuild

    /// A full evaluation of `network` on the examples (`features` row-major, `n0` bytes each):
    /// every cached value from scratch, neurons in parallel on `workers` threads.
    func rebuild(_ network: TernaryNetwork, features: UnsafeBufferPointer<UInt8>, labels exampleLabels: [Int], workers: Int) {
        self.network = network
        let B = exampleLabels.count
        if B != exampleCount || words == 0 {
            exampleCount = B
            words = max(1, (B + 63) / 64)
            let Bp = padded
            inputs.free(); inputs = DeltaBuffer(count: sizes[0] * Bp, value: 0)
            for l in 0..<(layerCount - 1) {
                sums[l].free(); sums[l] = DeltaBuffer(count: sizes[l + 1] * Bp, value: 0)
                bits[l].free(); bits[l] = DeltaBuffer(count: sizes[l + 1] * words, value: 0)
            }
            logits.free(); logits = DeltaBuffer(count: B * classes, value: 0)
            units.free(); units = DeltaBuffer(count: B, value: 0)
            correct.free(); correct = DeltaBuffer(count: B, value: 0)
            labels.free(); labels = DeltaBuffer(count: B, value: 0)
        }
        let Bp = padded, n0 = sizes[0]
        for b in 0..<B {
            labels.base[b] = Int32(exampleLabels[b])
            for j in 0..<n0 { inputs.base[j &* Bp &+ b] = features[b &* n0 &+ j] }
        }
        for l in 0..<layerCount {
            let n = sizes[l + 1], fanIn = sizes[l]
            if l < layerCount - 1 {
                for k in 0..<n { thresholds[l].base[k] = network.thresholds[l][k] }
            }
            if l >= 1 {
                let column = columns[l - 1].base
                for j in 0..<fanIn { for k in 0..<n { column[j &* n &+ k] = network.weights[l][k, j] } }
            }
            let matrix = network.weights[l]
            let isOutput = l == layerCount - 1
            let target = UncheckedSendable(isOutput ? nil : sums[l].base)
            let outputs = UncheckedSendable(logits.base)
            let rowBits = UncheckedSendable(isOutput ? nil : bits[l].base)
            let theta = UncheckedSendable(isOutput ? nil : thresholds[l].base)
            Parallel.run(items: n, workers: workers, local: { k, _ in
                // One neuron over the batch: a row of Bp Int32 sums, then its sign bits.
                let row = UnsafeMutablePointer<Int32>.allocate(capacity: Bp)
                defer { row.deallocate() }
                row.initialize(repeating: 0, count: Bp)
                for j in 0..<fanIn {
                    let w = matrix[k, j]
                    if w == 0 { continue }
                    if l == 0 {
                        let column = self.inputs.base + j &* Bp
                        if w > 0 { for b in 0..<Bp { row[b] &+= Int32(column[b]) } } else { for b in 0..<Bp { row[b] &-= Int32(column[b]) } }
                    } else {
                        let signs = self.bits[l - 1].base + j &* self.words
                        for word in 0..<self.words {
                            let h = signs[word], out = row + word &* 64
                            // +-1 per example: 2 * bit - 1, negated for a -1 weight.
                            if w > 0 {
                                for i in 0..<64 { out[i] &+= Int32(truncatingIfNeeded: (h >> UInt64(i)) & 1) &* 2 &- 1 }
                            } else {
                                for i in 0..<64 { out[i] &-= Int32(truncatingIfNeeded: (h >> UInt64(i)) & 1) &* 2 &- 1 }
                            }
                        }
                    }
                }
                if isOutput {
                    for b in 0..<B { outputs.value[b &* n &+ k] = row[b] }
                } else {
                    target.value!.advanced(by: k &* Bp).update(from: row, count: Bp)
                    let t = theta.value![k]
                    for w in 0..<self.words {
                        var word: UInt64 = 0
                        for i in 0..<64 where row[w &* 64 &+ i] >= t { word |= 1 << UInt64(i) }
                        rowBits.value![k &* self.words &+ w] = word
                    }
                }
            })
        }
        totalUnits = 0
        totalCorrect = 0
        table.exponentials.withUnsafeBufferPointer { exponentials in
            for b in 0..<B {
                let (u, right) = exampleLoss(logits.base + b &* classes, classes: classes, label: Int(labels.base[b]),
                                             tau: table.temperature, table: exponentials)
                units.base[b] = u
                correct.base[b] = right ? 1 : 0
                totalUnits &+= u
                totalCorrect &+= right ? 1 : 0
            }
        }
    }

    // MARK: normalised moves

    /// The effective changes of a candidate, in `scratch`: trit deltas (new - current, nonzero)
    /// and new thresholds, each sorted by (layer, row[, column]); the last move at a position wins.
    func normalize(_ moves: UnsafeBufferPointer<Move>, into s: DeltaScratch) {
        let m = moves.count
        s.reserveMoves(m)
        s.tritCount = 0
        s.thresholdCount = 0
        var index = m
        while index > 0 {
            index -= 1
            let move = moves[index]
            #if DEBUG
            move.check(layerSizes: sizes)
            #endif
            var seen = false
            for later in (index + 1)..<m where moves[later].kind == move.kind && moves[later].layer == move.layer
                && moves[later].row == move.row && moves[later].column == move.column {
                seen = true
                break
            }
            if seen { continue }
            let l = Int(move.layer), r = Int(move.row)
            switch move.kind {
            case .trit:
                let delta = move.value - Int32(network.weights[l][r, Int(move.column)])
                if delta == 0 { continue }
                s.tritLayer[s.tritCount] = move.layer
                s.tritRow[s.tritCount] = move.row
                s.tritColumn[s.tritCount] = move.column
                s.tritDelta[s.tritCount] = delta
                s.tritCount += 1
            case .threshold:
                if move.value == thresholds[l].base[r] { continue }
                s.thresholdLayer[s.thresholdCount] = move.layer
                s.thresholdNeuron[s.thresholdCount] = move.row
                s.thresholdValue[s.thresholdCount] = move.value
                s.thresholdCount += 1
            }
        }
        // Insertion sorts: candidates hold a few moves.
        for i in 1..<max(1, s.tritCount) {
            var j = i
            let key = (s.tritLayer[i], s.tritRow[i], s.tritColumn[i], s.tritDelta[i])
            while j > 0 && (s.tritLayer[j - 1], s.tritRow[j - 1], s.tritColumn[j - 1]) > (key.0, key.1, key.2) {
                s.tritLayer[j] = s.tritLayer[j - 1]; s.tritRow[j] = s.tritRow[j - 1]
                s.tritColumn[j] = s.tritColumn[j - 1]; s.tritDelta[j] = s.tritDelta[j - 1]
                j -= 1
            }
            s.tritLayer[j] = key.0; s.tritRow[j] = key.1; s.tritColumn[j] = key.2; s.tritDelta[j] = key.3
        }
        for i in 1..<max(1, s.thresholdCount) {
            var j = i
            let key = (s.thresholdLayer[i], s.thresholdNeuron[i], s.thresholdValue[i])
            while j > 0 && (s.thresholdLayer[j - 1], s.thresholdNeuron[j - 1]) > (key.0, key.1) {
                s.thresholdLayer[j] = s.thresholdLayer[j - 1]; s.thresholdNeuron[j] = s.thresholdNeuron[j - 1]
                s.thresholdValue[j] = s.thresholdValue[j - 1]
                j -= 1
            }
            s.thresholdLayer[j] = key.0; s.thresholdNeuron[j] = key.1; s.thresholdValue[j] = key.2
        }
    }

    // MARK: score

    /// The total loss units and correct count of the candidate `moves`, from the cache alone.
    func score(_ moves: UnsafeBufferPointer<Move>, scratch s: DeltaScratch) -> (units: Int64, correct: Int) {
        normalize(moves, into: s)
        if s.tritCount == 0 && s.thresholdCount == 0 { return (totalUnits, totalCorrect) }
        let B = exampleCount, Bw = words, Bp = padded, C = classes
        var trit = 0, threshold = 0
        var previousChanged = false
        var deltaUnits: Int64 = 0, deltaCorrect = 0
        for l in 0..<layerCount {
            let tritStart = trit
            while trit < s.tritCount && Int(s.tritLayer[trit]) == l { trit += 1 }
            let thresholdStart = threshold
            while threshold < s.thresholdCount && Int(s.thresholdLayer[threshold]) == l { threshold += 1 }
            let tritEnd = trit, thresholdEnd = threshold
            let n = sizes[l + 1]

            if l == layerCount - 1 {
                // Output layer: new logits and losses of the affected examples.
                let everyExample = tritEnd > tritStart
                guard everyExample || previousChanged else { break }
                var cursor = 0
                let z = s.logits.base
                let changed = previousChanged ? s.changedMask[l - 1].base : nil
                func visit(_ b: Int) {
                    var count = 0
                    if let changed, changed[b >> 6] >> UInt64(b & 63) & 1 == 1 {
                        count = gatherChanges(layer: l - 1, example: b, cursor: &cursor, scratch: s)
                    }
                    s.operations &+= C &* (count &+ 2)
                    let row = logits.base + b &* C
                    for c in 0..<C { z[c] = row[c] }
                    if count > 0 { addColumns(layer: l, count: count, into: z, width: C, scratch: s) }
                    for t in tritStart..<tritEnd {
                        let j = Int(s.tritColumn[t])
                        let v = l == 0 ? Int32(inputs.base[j &* Bp &+ b]) : newSign(layer: l - 1, neuron: j, example: b, changes: count, scratch: s)
                        z[Int(s.tritRow[t])] &+= scaled(v, s.tritDelta[t])
                    }
                    let (u, right) = table.exponentials.withUnsafeBufferPointer {
                        exampleLoss(z, classes: C, label: Int(labels.base[b]), tau: table.temperature, table: $0)
                    }
                    deltaUnits &+= u &- units.base[b]
                    deltaCorrect &+= (right ? 1 : 0) &- Int(correct.base[b])
                }
                if everyExample {
                    for b in 0..<B { visit(b) }
                } else {
                    forEachSetBit(changed!, words: Bw) { visit($0) }
                }
                break
            }

            // Hidden layer l.
            s.reserveLayer(l, directs: (tritEnd - tritStart) + (thresholdEnd - thresholdStart), words: Bw)
            let changedMask = s.changedMask[l].base
            changedMask.initialize(repeating: 0, count: Bw)
            let exclude = previousChanged ? UnsafePointer(s.changedMask[l - 1].base) : nil
            // Direct neurons: merge the rows of trit moves and the neurons of threshold moves.
            var directs = 0
            var t = tritStart, h = thresholdStart
            while t < tritEnd || h < thresholdEnd {
                let k = min(t < tritEnd ? Int(s.tritRow[t]) : Int.max, h < thresholdEnd ? Int(s.thresholdNeuron[h]) : Int.max)
                var rowEnd = t
                while rowEnd < tritEnd && Int(s.tritRow[rowEnd]) == k { rowEnd += 1 }
                var theta = thresholds[l].base[k]
                if h < thresholdEnd && Int(s.thresholdNeuron[h]) == k {
                    theta = s.thresholdValue[h]
                    s.thetaMoved.base[k] = 1
                    s.thetaNew.base[k] = theta
                    h += 1
                }
                let mask = s.directMasks[l].base + directs &* Bw
                s.operations &+= Bp &* (rowEnd &- t &+ 1)
                batchFlips(layer: l, neuron: k, trits: t..<rowEnd, theta: theta, exclude: exclude, scratch: s, out: mask)
                for w in 0..<Bw { changedMask[w] |= mask[w] }
                s.directNeurons[l].base[directs] = Int32(k)
                directs += 1
                t = rowEnd
            }
            s.directCount[l] = directs
            // Examples whose inputs changed: every neuron, from the cached sums.
            s.denseCount[l] = 0
            if previousChanged {
                var cursor = 0
                let delta = s.delta.base
                forEachSetBit(s.changedMask[l - 1].base, words: Bw) { b in
                    let count = gatherChanges(layer: l - 1, example: b, cursor: &cursor, scratch: s)
                    s.operations &+= n &* (count &+ 1)
                    delta.initialize(repeating: 0, count: n)
                    addColumns(layer: l, count: count, into: delta, width: n, scratch: s)
                    for t in tritStart..<tritEnd {
                        let j = Int(s.tritColumn[t])
                        delta[Int(s.tritRow[t])] &+= scaled(newSign(layer: l - 1, neuron: j, example: b, changes: count, scratch: s), s.tritDelta[t])
                    }
                    let sumColumn = sums[l].base + b
                    for k in 0..<n where delta[k] != 0 || s.thetaMoved.base[k] != 0 {
                        let theta = s.thetaMoved.base[k] != 0 ? s.thetaNew.base[k] : thresholds[l].base[k]
                        let fires = sumColumn[k &* Bp] &+ delta[k] >= theta
                        if fires != bit(l, k, b) {
                            s.appendDense(layer: l, example: b, neuron: k, fires: fires)
                            changedMask[b >> 6] |= 1 << UInt64(b & 63)
                        }
                    }
                }
            }
            for h in thresholdStart..<thresholdEnd { s.thetaMoved.base[Int(s.thresholdNeuron[h])] = 0 }
            previousChanged = false
            for w in 0..<Bw where changedMask[w] != 0 { previousChanged = true; break }
            if !previousChanged {
                // Nothing below changes: later moves still count (an output or later-layer move).
                var later = false
                for u in trit..<s.tritCount where Int(s.tritLayer[u]) > l { later = true; break }
                if !later && threshold == s.thresholdCount { break }
            }
        }
        return (totalUnits &+ deltaUnits, totalCorrect &+ deltaCorrect)
    }

    /// `v * delta` for a trit delta in -2 ... 2, by shifts and adds.
    @inline(__always)
    func scaled(_ v: Int32, _ delta: Int32) -> Int32 {
        let magnitude = delta < 0 ? 0 &- delta : delta
        let shifted = magnitude == 2 ? v &<< 1 : v
        return delta < 0 ? 0 &- shifted : shifted
    }

    /// The flip mask of hidden neuron `k` of layer `l` over the batch, with its trit moves
    /// `trits` (ranges of the scratch's normalised moves) and threshold `theta`; examples in
    /// `exclude` (recomputed densely) and padding are cleared. 16 examples per vector.
    func batchFlips(layer l: Int, neuron k: Int, trits: Range<Int>, theta: Int32,
                    exclude: UnsafePointer<UInt64>?, scratch s: DeltaScratch, out: UnsafeMutablePointer<UInt64>) {
        let Bw = words, Bp = padded
        let row = UnsafeRawPointer(sums[l].base + k &* Bp)
        let old = bits[l].base + k &* Bw
        let thetas = SIMD16<Int32>(repeating: theta)
        let lanes = deltaLaneBits
        let none = SIMD16<UInt32>()
        for w in 0..<Bw {
            var word: UInt64 = 0
            for q in 0..<4 {
                let base = w &* 64 &+ q &* 16
                var sum = row.loadUnaligned(fromByteOffset: base &* 4, as: SIMD16<Int32>.self)
                for t in trits {
                    let j = Int(s.tritColumn[t]), delta = s.tritDelta[t]
                    var v: SIMD16<Int32>
                    if l == 0 {
                        v = SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(inputs.base + (j &* Bp &+ base))
                            .loadUnaligned(as: SIMD16<UInt8>.self))
                    } else {
                        let h = UInt32(truncatingIfNeeded: bits[l - 1].base[j &* Bw &+ w] >> UInt64(q &* 16))
                        v = SIMD16<Int32>(repeating: -1).replacing(with: 1, where: (SIMD16<UInt32>(repeating: h) & lanes) .!= none)
                    }
                    if delta == 2 || delta == -2 { v &<<= 1 }
                    sum = delta > 0 ? sum &+ v : sum &- v
                }
                word |= UInt64(none.replacing(with: lanes, where: sum .>= thetas).wrappedSum()) << UInt64(q &* 16)
            }
            var flips = word ^ old[w]
            if w == Bw &- 1 { flips &= lastWordMask }
            if let exclude { flips &= ~exclude[w] }
            out[w] = flips
        }
    }

    /// Collects the changed neurons of hidden layer `layer` for `example` into the scratch's
    /// change list (neuron, new sign); `cursor` walks the dense entries in example order.
    @inline(__always)
    func gatherChanges(layer p: Int, example b: Int, cursor: inout Int, scratch s: DeltaScratch) -> Int {
        var count = 0
        let word = b >> 6, shift = UInt64(b & 63)
        let masks = s.directMasks[p].base, neurons = s.directNeurons[p].base
        for d in 0..<s.directCount[p] where masks[d &* words &+ word] >> shift & 1 == 1 {
            let j = Int(neurons[d])
            s.changeNeuron.base[count] = Int32(j)
            s.changeSign.base[count] = bit(p, j, b) ? -1 : 1
            count += 1
        }
        let examples = s.denseExample[p].base
        while cursor < s.denseCount[p] && Int(examples[cursor]) == b {
            s.changeNeuron.base[count] = s.denseNeuron[p].base[cursor]
            s.changeSign.base[count] = s.denseFires[p].base[cursor] != 0 ? 1 : -1
            count += 1
            cursor += 1
        }
        return count
    }

    /// The new sign (+-1) of neuron `j` of hidden layer `p` for `example`, given its gathered changes.
    @inline(__always)
    func newSign(layer p: Int, neuron j: Int, example b: Int, changes count: Int, scratch s: DeltaScratch) -> Int32 {
        for i in 0..<count where Int(s.changeNeuron.base[i]) == j { return s.changeSign.base[i] }
        return bit(p, j, b) ? 1 : -1
    }

    /// `into[k] += 2 * sign * W_l[k][j]` for every gathered change (j, sign): the sums of weight
    /// layer `l` after its inputs flip (from -sign to sign).
    @inline(__always)
    func addColumns(layer l: Int, count: Int, into target: UnsafeMutablePointer<Int32>, width n: Int, scratch s: DeltaScratch) {
        let columns = self.columns[l - 1].base
        for i in 0..<count {
            let column = columns + Int(s.changeNeuron.base[i]) &* n
            if s.changeSign.base[i] > 0 {
                for k in 0..<n { target[k] &+= Int32(column[k]) &<< 1 }
            } else {
                for k in 0..<n { target[k] &-= Int32(column[k]) &<< 1 }
            }
        }
    }

    // MARK: apply

    /// Applies `moves` to the genome and updates every cached value (not in parallel).
    func apply(_ moves: UnsafeBufferPointer<Move>, scratch s: DeltaScratch) {
        normalize(moves, into: s)
        guard s.tritCount > 0 || s.thresholdCount > 0 else { return }
        let B = exampleCount, Bw = words, Bp = padded, C = classes
        // Changes of the layer below: (example, neuron, new sign), kept in the scratch's lists.
        var changes: [(example: Int, neuron: Int, sign: Int32)] = []
        var trit = 0, threshold = 0
        var touched = [Bool](repeating: false, count: B)
        var touchedList: [Int] = []
        for l in 0..<layerCount {
            let n = sizes[l + 1]
            let isOutput = l == layerCount - 1
            for b in touchedList { touched[b] = false }
            touchedList.removeAll(keepingCapacity: true)
            // (a) Inputs that flipped: add 2 * sign * W (old weights), then flip the input bits.
            for change in changes {
                let column = columns[l - 1].base + change.neuron &* n
                for k in 0..<n where column[k] != 0 {
                    let v = (Int32(column[k]) &<< 1) &* change.sign
                    if isOutput { logits.base[change.example &* C &+ k] &+= v } else { sums[l].base[k &* Bp &+ change.example] &+= v }
                }
                bits[l - 1].base[change.neuron &* Bw &+ change.example >> 6] ^= 1 << UInt64(change.example & 63)
                if !touched[change.example] { touched[change.example] = true; touchedList.append(change.example) }
            }
            // (b) Trit moves with the new inputs.
            var directs: [Int] = []
            var everyExample = false
            while trit < s.tritCount && Int(s.tritLayer[trit]) == l {
                let k = Int(s.tritRow[trit]), j = Int(s.tritColumn[trit]), delta = s.tritDelta[trit]
                for b in 0..<B {
                    let v = l == 0 ? Int32(inputs.base[j &* Bp &+ b]) : (bit(l - 1, j, b) ? 1 : -1)
                    if isOutput { logits.base[b &* C &+ k] &+= v &* delta } else { sums[l].base[k &* Bp &+ b] &+= v &* delta }
                }
                let value = Int8(Int32(network.weights[l][k, j]) + delta)
                network.weights[l][k, j] = value
                if l >= 1 { columns[l - 1].base[j &* n &+ k] = value }
                if directs.last != k { directs.append(k) }
                everyExample = true
                trit += 1
            }
            // (c) Threshold moves.
            while threshold < s.thresholdCount && Int(s.thresholdLayer[threshold]) == l {
                let k = Int(s.thresholdNeuron[threshold])
                network.thresholds[l][k] = s.thresholdValue[threshold]
                thresholds[l].base[k] = s.thresholdValue[threshold]
                if !directs.contains(k) { directs.append(k) }
                threshold += 1
            }
            if isOutput {
                // (d) New losses of the affected examples.
                let affected = everyExample ? Array(0..<B) : touchedList
                table.exponentials.withUnsafeBufferPointer { exponentials in
                    for b in affected {
                        let (u, right) = exampleLoss(logits.base + b &* C, classes: C, label: Int(labels.base[b]),
                                                     tau: table.temperature, table: exponentials)
                        totalUnits &+= u &- units.base[b]
                        totalCorrect &+= (right ? 1 : 0) &- Int(correct.base[b])
                        units.base[b] = u
                        correct.base[b] = right ? 1 : 0
                    }
                }
                break
            }
            // (d) New signs: direct neurons over the batch, touched examples over every neuron.
            var next: [(example: Int, neuron: Int, sign: Int32)] = []
            let isDirect = Set(directs)
            func check(_ k: Int, _ b: Int) {
                let fires = sums[l].base[k &* Bp &+ b] >= thresholds[l].base[k]
                if fires != bit(l, k, b) { next.append((b, k, fires ? 1 : -1)) }
            }
            for k in directs { for b in 0..<B { check(k, b) } }
            for b in touchedList { for k in 0..<n where !isDirect.contains(k) { check(k, b) } }
            changes = next
            // Stop early only when no flip is left for a later layer to take in.
            if changes.isEmpty && trit == s.tritCount && threshold == s.thresholdCount { break }
        }
    }
}

/// Calls `body(b)` for every set bit `b` of `words` words, in increasing order.
@inline(__always)
func forEachSetBit(_ mask: UnsafePointer<UInt64>, words: Int, _ body: (Int) -> Void) {
    for w in 0..<words {
        var word = mask[w]
        while word != 0 {
            body(w &* 64 &+ word.trailingZeroBitCount)
            word &= word &- 1
        }
    }
}

/// Per-worker scratch of the scorer: the normalised moves, each hidden layer's direct-neuron
/// flip masks, dense changes and changed-example mask, and per-example vectors. Grows only
/// when a larger candidate arrives; otherwise scoring allocates nothing.
final class DeltaScratch {
    @exclusivity(unchecked) var tritLayer = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var tritRow = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var tritColumn = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var tritDelta = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var thresholdLayer = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var thresholdNeuron = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var thresholdValue = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var tritCount = 0, thresholdCount = 0
    /// Integer operations of the candidates scored since the last reset (adds, compares; an
    /// estimate for the energy column, counted per vector lane).
    @exclusivity(unchecked) var operations = 0

    @exclusivity(unchecked) var directMasks: [DeltaBuffer<UInt64>]
    @exclusivity(unchecked) var directNeurons: [DeltaBuffer<Int32>]
    @exclusivity(unchecked) var directCount: [Int]
    @exclusivity(unchecked) var changedMask: [DeltaBuffer<UInt64>]
    @exclusivity(unchecked) var denseExample: [DeltaBuffer<Int32>]
    @exclusivity(unchecked) var denseNeuron: [DeltaBuffer<Int32>]
    @exclusivity(unchecked) var denseFires: [DeltaBuffer<UInt8>]
    @exclusivity(unchecked) var denseCount: [Int]
    @exclusivity(unchecked) var thetaMoved: DeltaBuffer<UInt8>
    @exclusivity(unchecked) var thetaNew: DeltaBuffer<Int32>
    @exclusivity(unchecked) var delta: DeltaBuffer<Int32>
    @exclusivity(unchecked) var logits: DeltaBuffer<Int32>
    @exclusivity(unchecked) var changeNeuron: DeltaBuffer<Int32>
    @exclusivity(unchecked) var changeSign: DeltaBuffer<Int32>

    init(layerSizes: [Int]) {
        let hidden = layerSizes.count - 2
        let widest = layerSizes.max()!
        directMasks = (0..<hidden).map { _ in DeltaBuffer(count: 1, value: 0) }
        directNeurons = (0..<hidden).map { _ in DeltaBuffer(count: 1, value: 0) }
        changedMask = (0..<hidden).map { _ in DeltaBuffer(count: 1, value: 0) }
        denseExample = (0..<hidden).map { _ in DeltaBuffer(count: 64, value: 0) }
        denseNeuron = (0..<hidden).map { _ in DeltaBuffer(count: 64, value: 0) }
        denseFires = (0..<hidden).map { _ in DeltaBuffer(count: 64, value: 0) }
        directCount = [Int](repeating: 0, count: hidden)
        denseCount = [Int](repeating: 0, count: hidden)
        thetaMoved = DeltaBuffer(count: widest, value: 0)
        thetaNew = DeltaBuffer(count: widest, value: 0)
        delta = DeltaBuffer(count: widest, value: 0)
        logits = DeltaBuffer(count: layerSizes.last!, value: 0)
        changeNeuron = DeltaBuffer(count: widest, value: 0)
        changeSign = DeltaBuffer(count: widest, value: 0)
    }

    deinit {
        for buffer in [tritLayer, tritRow, tritColumn, tritDelta, thresholdLayer, thresholdNeuron, thresholdValue] { buffer.free() }
        for buffers in [directNeurons, denseExample, denseNeuron] { for buffer in buffers { buffer.free() } }
        for buffer in directMasks { buffer.free() }
        for buffer in changedMask { buffer.free() }
        for buffer in denseFires { buffer.free() }
        thetaMoved.free(); thetaNew.free(); delta.free(); logits.free(); changeNeuron.free(); changeSign.free()
    }

    func reserveMoves(_ m: Int) {
        tritLayer.reserve(m, value: 0); tritRow.reserve(m, value: 0)
        tritColumn.reserve(m, value: 0); tritDelta.reserve(m, value: 0)
        thresholdLayer.reserve(m, value: 0); thresholdNeuron.reserve(m, value: 0)
        thresholdValue.reserve(m, value: 0)
    }

    func reserveLayer(_ l: Int, directs: Int, words: Int) {
        directMasks[l].reserve(max(1, directs) * words, value: 0)
        directNeurons[l].reserve(max(1, directs), value: 0)
        changedMask[l].reserve(words, value: 0)
    }

    @inline(__always)
    func appendDense(layer l: Int, example: Int, neuron: Int, fires: Bool) {
        let count = denseCount[l]
        if count == denseExample[l].count {
            denseExample[l].grow(count + 1, keep: count, value: 0)
            denseNeuron[l].grow(count + 1, keep: count, value: 0)
            denseFires[l].grow(count + 1, keep: count, value: 0)
        }
        denseExample[l].base[count] = Int32(example)
        denseNeuron[l].base[count] = Int32(neuron)
        denseFires[l].base[count] = fires ? 1 : 0
        denseCount[l] = count + 1
    }
}
