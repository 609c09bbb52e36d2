// Buffers and per-worker scratch of the incremental scorer (see DeltaCache.swift for the layout).

// Stored properties of `DeltaCache` and `DeltaScratch` are read and written inside the scoring loops;
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
    /// Step moves (levels networks): hidden layer and new step, sorted by layer.
    @exclusivity(unchecked) var stepLayer = DeltaBuffer<Int32>(count: 4, value: 0)
    @exclusivity(unchecked) var stepValue = DeltaBuffer<Int32>(count: 4, value: 0)
    @exclusivity(unchecked) var tritCount = 0, thresholdCount = 0, stepCount = 0
    /// Integer operations of the candidates scored since the last reset (adds, compares; an
    /// estimate for the energy column, counted per vector lane).
    @exclusivity(unchecked) var operations = 0

    @exclusivity(unchecked) var directMasks: [DeltaBuffer<UInt64>]
    @exclusivity(unchecked) var directNeurons: [DeltaBuffer<Int32>]
    /// Levels networks: each direct neuron's new level of every example whose level changes
    /// (UInt8 [directs][Bp]; other entries unused). Dense entries keep the new level in
    /// `denseFires`, and the change lists a level change in `changeSign`.
    @exclusivity(unchecked) var directLevels: [DeltaBuffer<UInt8>]
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
    /// Token inputs: each example's change of one neuron's sum (zero between uses), and the
    /// examples visited.
    @exclusivity(unchecked) var exampleDelta = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var touched = DeltaBuffer<Int32>(count: 1, value: 0)
    /// Output-layer moves scored by the `output_moves` kernel: each move's column of hidden
    /// signs, and the examples it leaves to the O(C) path.
    @exclusivity(unchecked) var moveSigns = DeltaBuffer<UnsafePointer<UInt64>?>(count: 16, value: nil)
    /// Levels networks: each move's column of hidden levels (`output_level_moves`), and each
    /// direct neuron's moved input columns (`batch_levels`).
    @exclusivity(unchecked) var moveLevels = DeltaBuffer<UnsafePointer<UInt8>?>(count: 16, value: nil)
    @exclusivity(unchecked) var fallback = DeltaBuffer<Int32>(count: 1, value: 0)
    /// The output-layer examples a candidate recomputes: `top - z_label` and the normaliser of
    /// each, and their units from the `loss_units` kernel.
    @exclusivity(unchecked) var pendingGaps = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var pendingNormalisers = DeltaBuffer<UInt64>(count: 1, value: 1)
    @exclusivity(unchecked) var pendingUnits = DeltaBuffer<Int64>(count: 1, value: 0)
    /// Recomputed examples under a candidate that moves no output weight (the
    /// `changed_outputs` kernel): the examples, where each one's changes start in the change
    /// lists (one more entry than examples), the changed hidden neurons and their new signs,
    /// each example's best class, and a row of logits.
    @exclusivity(unchecked) var changedExamples = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var changedStarts = DeltaBuffer<Int32>(count: 2, value: 0)
    @exclusivity(unchecked) var changedNeurons = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var changedSigns = DeltaBuffer<Int32>(count: 16, value: 0)
    @exclusivity(unchecked) var pendingBests = DeltaBuffer<Int32>(count: 1, value: 0)
    @exclusivity(unchecked) var changedRow = DeltaBuffer<Int32>(count: 1, value: 0)

    init(layerSizes: [Int]) {
        let hidden = layerSizes.count - 2
        let widest = layerSizes.max()!
        directMasks = (0..<hidden).map { _ in DeltaBuffer(count: 1, value: 0) }
        directNeurons = (0..<hidden).map { _ in DeltaBuffer(count: 1, value: 0) }
        directLevels = (0..<hidden).map { _ in DeltaBuffer(count: 1, value: 0) }
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
        for buffer in [
            tritLayer, tritRow, tritColumn, tritDelta, thresholdLayer, thresholdNeuron, thresholdValue, stepLayer,
            stepValue,
        ] {
            buffer.free()
        }
        for buffer in directLevels { buffer.free() }
        for buffers in [directNeurons, denseExample, denseNeuron] { for buffer in buffers { buffer.free() } }
        for buffer in directMasks { buffer.free() }
        for buffer in changedMask { buffer.free() }
        for buffer in denseFires { buffer.free() }
        thetaMoved.free()
        thetaNew.free()
        delta.free()
        logits.free()
        changeNeuron.free()
        changeSign.free()
        exampleDelta.free()
        touched.free()
        moveSigns.free()
        moveLevels.free()
        fallback.free()
        pendingGaps.free()
        pendingNormalisers.free()
        pendingUnits.free()
        changedExamples.free()
        changedStarts.free()
        changedNeurons.free()
        changedSigns.free()
        pendingBests.free()
        changedRow.free()
    }

    /// Room for a token neuron's per-example deltas (`padded` examples, zero) and `listed` visits.
    func reserveExamples(_ padded: Int, listed: Int) {
        exampleDelta.reserve(padded, value: 0)
        touched.reserve(listed, value: 0)
    }

    func reserveMoves(_ m: Int) {
        tritLayer.reserve(m, value: 0)
        tritRow.reserve(m, value: 0)
        tritColumn.reserve(m, value: 0)
        tritDelta.reserve(m, value: 0)
        thresholdLayer.reserve(m, value: 0)
        thresholdNeuron.reserve(m, value: 0)
        thresholdValue.reserve(m, value: 0)
        stepLayer.reserve(m, value: 0)
        stepValue.reserve(m, value: 0)
    }

    /// The moves of `layer` in a list sorted by layer (`layers`, `count` of them), from `cursor`
    /// on; advances `cursor` past them.
    @inline(__always)
    func range(_ layers: DeltaBuffer<Int32>, count: Int, layer: Int, from cursor: inout Int) -> Range<Int> {
        let start = cursor
        while cursor < count && Int(layers[cursor]) == layer { cursor += 1 }
        return start..<cursor
    }

    /// Room for `count` pending output-layer examples.
    func reservePending(_ count: Int) {
        pendingGaps.reserve(count, value: 0)
        pendingNormalisers.reserve(count, value: 0)
        pendingUnits.reserve(count, value: 0)
    }

    func reserveLayer(_ l: Int, directs: Int, words: Int) {
        directMasks[l].reserve(max(1, directs) * words, value: 0)
        directNeurons[l].reserve(max(1, directs), value: 0)
        changedMask[l].reserve(words, value: 0)
    }

    /// Records neuron `k` as the next direct neuron of hidden layer `l`, its changed examples
    /// in `mask` (`words` words), also added to the layer's changed mask.
    @inline(__always)
    func addDirect(layer l: Int, neuron k: Int, mask: UnsafeMutablePointer<UInt64>, words: Int) {
        let changed = changedMask[l].base
        for w in 0..<words { changed[w] |= mask[w] }
        directNeurons[l].base[directCount[l]] = Int32(k)
        directCount[l] += 1
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

    /// Levels networks: records that `neuron` of hidden layer `l` takes level `level` for `example`.
    @inline(__always)
    func appendLevel(layer l: Int, example: Int, neuron: Int, level: Int32) {
        appendDense(layer: l, example: example, neuron: neuron, fires: false)
        denseFires[l].base[denseCount[l] - 1] = UInt8(truncatingIfNeeded: level)
    }
}
