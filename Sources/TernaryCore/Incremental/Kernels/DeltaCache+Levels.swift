import CTernaryKernels

// Read-only scoring of a candidate from the cache of a levels network (see DeltaCache.swift for
// the layout): the sign path of DeltaCache+Score.swift with levels for signs. A change of hidden
// neuron j for example b is its level change d (new - old); it adds d times column j of the
// next layer to the example's next sums or logits. Per hidden layer, direct neurons (trit,
// threshold or step moves) are recomputed over the batch, the new levels of changed examples in
// `directLevels`; examples whose inputs changed are recomputed for every neuron, their new
// levels in the dense lists.

extension DeltaCache {
    /// Hidden layer `l` of a levels network under the candidate: like `signHidden`, with the new
    /// step `step` when the candidate moves it (then every neuron is direct, O(B n)). Returns
    /// whether any example's level changes.
    func levelHidden(
        layer l: Int, trits: Range<Int>, thresholds: Range<Int>, step newStep: Int32?, previousChanged: Bool,
        scratch s: DeltaScratch
    ) -> Bool {
        let B = exampleCount, Bw = words, Bp = padded, n = sizes[l + 1]
        let step = newStep ?? network.steps[l], stepMoved = newStep != nil
        let capacity = stepMoved ? n : trits.count + thresholds.count
        s.reserveLayer(l, directs: capacity, words: Bw)
        s.directLevels[l].reserve(max(1, capacity) * Bp, value: 0)
        let changedMask = s.changedMask[l].base
        changedMask.initialize(repeating: 0, count: Bw)
        let exclude = previousChanged ? UnsafePointer(s.changedMask[l - 1].base) : nil
        var t = trits.lowerBound, h = thresholds.lowerBound, every = 0
        s.directCount[l] = 0
        // Every neuron under a step move, else the rows of trit moves and threshold moves merged.
        while let (k, rows, theta) = nextDirect(
            layer: l, trits: trits, thresholds: thresholds, trit: &t, threshold: &h,
            every: &every, everyNeuron: stepMoved, scratch: s)
        {
            let d = s.directCount[l]
            let mask = s.directMasks[l].base + d &* Bw, newLevels = s.directLevels[l].base + d &* Bp
            if l == 0 && context > 0 && s.thetaMoved.base[k] == 0 && !stepMoved {
                tokenLevels(neuron: k, trits: rows, theta: theta, step: step, scratch: s, out: mask, levels: newLevels)
            } else {
                s.operations &+= B &* (rows.count &+ 1)
                batchLevels(
                    layer: l, neuron: k, trits: rows, theta: theta, step: step, exclude: exclude, scratch: s,
                    out: mask, levels: newLevels)
            }
            s.addDirect(layer: l, neuron: k, mask: mask, words: Bw)
        }
        s.denseCount[l] = 0
        if previousChanged { denseLevels(layer: l, trits: trits, step: step, everyNeuron: stepMoved, scratch: s) }
        for h in thresholds { s.thetaMoved.base[Int(s.thresholdNeuron[h])] = 0 }
        for w in 0..<Bw where changedMask[w] != 0 { return true }
        return false
    }

    /// The examples of hidden layer `l` whose inputs changed (set in the layer below's changed
    /// mask), every neuron of each from its cached sums plus the changed inputs' columns times
    /// their level changes (and this layer's trit moves): O(n) per changed input. Neurons whose
    /// level changes go to the dense lists and the example to this layer's changed mask.
    func denseLevels(layer l: Int, trits: Range<Int>, step: Int32, everyNeuron: Bool, scratch s: DeltaScratch) {
        let n = sizes[l + 1], Bp = padded, activation = network.activation
        let changedMask = s.changedMask[l].base, delta = s.delta.base, old = levels[l].base
        var cursor = 0
        forEachSetBit(s.changedMask[l - 1].base, words: words) { b in
            let count = gatherLevelChanges(layer: l - 1, example: b, cursor: &cursor, scratch: s)
            s.operations &+= n &* (count &+ 1)
            delta.initialize(repeating: 0, count: n)
            addLevelColumns(layer: l, count: count, into: delta, width: n, scratch: s)
            for t in trits {
                let j = Int(s.tritColumn[t])
                delta[Int(s.tritRow[t])] &+= scaled(
                    newLevel(layer: l - 1, neuron: j, example: b, changes: count, scratch: s), s.tritDelta[t])
            }
            let sumColumn = sums[l].base + b
            for k in 0..<n where delta[k] != 0 || s.thetaMoved.base[k] != 0 || everyNeuron {
                let theta = s.thetaMoved.base[k] != 0 ? s.thetaNew.base[k] : thresholds[l].base[k]
                let level = activation.value(sum: sumColumn[k &* Bp] &+ delta[k], threshold: theta, step: step)
                if level != Int32(old[k &* Bp &+ b]) {
                    s.appendLevel(layer: l, example: b, neuron: k, level: level)
                    changedMask[b >> 6] |= 1 << UInt64(b & 63)
                }
            }
        }
    }

    /// The largest `|s|` a sum of weight layer `l` can reach: 255 n0 for bytes, `context` for
    /// tokens, `maxLevel n_l` after a hidden layer.
    func sumBound(layer l: Int) -> Int64 {
        if l > 0 { return Int64(network.activation.maxLevel) * Int64(sizes[l]) }
        return context > 0 ? Int64(context) : 255 * Int64(sizes[0])
    }

    /// The mask of the examples whose level of hidden neuron `k` of layer `l` changes under its
    /// trit moves `trits`, threshold `theta` and step `step`, and their new levels in `levels`
    /// (other entries unspecified); examples in `exclude` and padding are cleared. 16 examples
    /// per vector: old level `L` stays iff `theta + L step <= s < theta + (L + 1) step` (no
    /// bound below for level 0, none above for the top). Byte inputs and later layers in the
    /// `batch_levels` kernel (every level by a multiply with `1 / step` and that bound test;
    /// by a divide when the test could overflow Int32); token inputs (a threshold or step move
    /// of a first-layer neuron) in Swift, where only changed examples divide.
    func batchLevels(
        layer l: Int, neuron k: Int, trits: Range<Int>, theta: Int32, step: Int32, exclude: UnsafePointer<UInt64>?,
        scratch s: DeltaScratch, out: UnsafeMutablePointer<UInt64>, levels newLevels: UnsafeMutablePointer<UInt8>
    ) {
        let top = network.activation.maxLevel
        let safe = sumBound(layer: l) + abs(Int64(theta)) + Int64(top + 1) * Int64(step) < Int64(Int32.max)
        if l == 0 && context > 0 {
            batchTokenLevels(
                neuron: k, trits: trits, theta: theta, step: step, exclude: exclude, safe: safe, scratch: s,
                out: out, levels: newLevels)
            return
        }
        // Byte inputs or a later layer: each moved column is a row of bytes, in C.
        s.moveLevels.reserve(trits.count, value: nil)
        for t in trits {
            let column = l == 0 ? inputs.base : levels[l - 1].base
            s.moveLevels.base[t &- trits.lowerBound] = UnsafePointer(column + Int(s.tritColumn[t]) &* padded)
        }
        var job = tern_batch_levels(
            sums: sums[l].base + k &* padded, old: levels[l].base + k &* padded, words: words, moves: trits.count,
            inputs: UnsafePointer(s.moveLevels.base), deltas: s.tritDelta.base + trits.lowerBound, theta: theta,
            step: step,
            top: top, bounds: safe ? 1 : 0, exclude: exclude, last_mask: lastWordMask, out: out, levels: newLevels)
        kernels.pointee.batch_levels(&job)
    }

    /// `batchLevels` of first-layer neuron `k` of a token network (whose inputs are no rows of
    /// bytes) in Swift, 16 examples per vector; `safe` when the bound test cannot overflow Int32.
    func batchTokenLevels(
        neuron k: Int, trits: Range<Int>, theta: Int32, step: Int32, exclude: UnsafePointer<UInt64>?, safe: Bool,
        scratch s: DeltaScratch, out: UnsafeMutablePointer<UInt64>, levels newLevels: UnsafeMutablePointer<UInt8>
    ) {
        let l = 0, Bw = words, Bp = padded, activation = network.activation, top = activation.maxLevel
        let row = UnsafeRawPointer(sums[l].base + k &* Bp), old = UnsafeRawPointer(levels[l].base + k &* Bp)
        let thetas = SIMD16<Int32>(repeating: theta), steps = SIMD16<Int32>(repeating: step)
        let zero = SIMD16<Int32>(), tops = SIMD16<Int32>(repeating: top)
        let lanes = deltaLaneBits, none = SIMD16<UInt32>()
        for w in 0..<Bw {
            var word: UInt64 = 0
            for q in 0..<4 {
                let base = w &* 64 &+ q &* 16
                var sum = row.loadUnaligned(fromByteOffset: base &* 4, as: SIMD16<Int32>.self)
                for t in trits {
                    let j = Int(s.tritColumn[t]), delta = s.tritDelta[t]
                    var v = firstInputs(j, base)
                    if delta == 2 || delta == -2 { v &<<= 1 }
                    sum = delta > 0 ? sum &+ v : sum &- v
                }
                let level = SIMD16<Int32>(
                    truncatingIfNeeded: old.loadUnaligned(fromByteOffset: base, as: SIMD16<UInt8>.self))
                var changed: UInt32
                if safe {
                    let low = thetas &+ level &* steps
                    let leaves = (sum .< low .& level .> zero) .| (sum .>= low &+ steps .& level .< tops)
                    changed = none.replacing(with: lanes, where: leaves).wrappedSum()
                } else {
                    changed = 0
                    for e in 0..<16 where activation.value(sum: sum[e], threshold: theta, step: step) != level[e] {
                        changed |= 1 << UInt32(e)
                    }
                }
                word |= UInt64(changed) << UInt64(q &* 16)
                while changed != 0 {
                    let e = changed.trailingZeroBitCount
                    changed &= changed &- 1
                    newLevels[base &+ e] = UInt8(
                        truncatingIfNeeded: activation.value(sum: sum[e], threshold: theta, step: step))
                }
            }
            if w == Bw &- 1 { word &= lastWordMask }
            if let exclude { word &= ~exclude[w] }
            out[w] = word
        }
    }

    /// `batchLevels` for first-layer neuron `k` of a token network whose threshold and step do
    /// not move: only the examples in the index of a moved column are visited.
    func tokenLevels(
        neuron k: Int, trits: Range<Int>, theta: Int32, step: Int32, scratch s: DeltaScratch,
        out: UnsafeMutablePointer<UInt64>, levels newLevels: UnsafeMutablePointer<UInt8>
    ) {
        let Bp = padded, activation = network.activation
        out.initialize(repeating: 0, count: words)
        let (count, listed) = tokenDeltas(trits: trits, scratch: s)
        let acc = s.exampleDelta.base, touched = s.touched.base
        let sums = self.sums[0].base + k &* Bp, old = levels[0].base + k &* Bp
        for i in 0..<count {
            let b = Int(touched[i])
            let level = activation.value(sum: sums[b] &+ acc[b], threshold: theta, step: step)
            acc[b] = 0
            if level != Int32(old[b]) {
                out[b >> 6] |= 1 << UInt64(b & 63)
                newLevels[b] = UInt8(truncatingIfNeeded: level)
            }
        }
        s.operations &+= listed &* 2 &+ count
    }

    /// Collects the changed neurons of hidden layer `p` for example `b` into the scratch's change
    /// list (neuron, level change); `cursor` walks the dense entries in example order.
    @inline(__always)
    func gatherLevelChanges(layer p: Int, example b: Int, cursor: inout Int, scratch s: DeltaScratch) -> Int {
        var count = 0
        let word = b >> 6, shift = UInt64(b & 63), Bp = padded
        let masks = s.directMasks[p].base, neurons = s.directNeurons[p].base, news = s.directLevels[p].base
        let old = levels[p].base
        for d in 0..<s.directCount[p] where masks[d &* words &+ word] >> shift & 1 == 1 {
            let j = Int(neurons[d])
            s.changeNeuron.base[count] = Int32(j)
            s.changeSign.base[count] = Int32(news[d &* Bp &+ b]) &- Int32(old[j &* Bp &+ b])
            count += 1
        }
        let examples = s.denseExample[p].base
        while cursor < s.denseCount[p] && Int(examples[cursor]) == b {
            let j = Int(s.denseNeuron[p].base[cursor])
            s.changeNeuron.base[count] = Int32(j)
            s.changeSign.base[count] = Int32(s.denseFires[p].base[cursor]) &- Int32(old[j &* Bp &+ b])
            count += 1
            cursor += 1
        }
        return count
    }

    /// The new level of neuron `j` of hidden layer `p` for `example`, given its gathered changes.
    @inline(__always)
    func newLevel(layer p: Int, neuron j: Int, example b: Int, changes count: Int, scratch s: DeltaScratch) -> Int32 {
        let old = Int32(levels[p].base[j &* padded &+ b])
        for i in 0..<count where Int(s.changeNeuron.base[i]) == j { return old &+ s.changeSign.base[i] }
        return old
    }

    /// `into[k] += d * W_l[k][j]` for every gathered change (j, d): the sums of weight layer `l`
    /// after its inputs' levels change.
    @inline(__always)
    func addLevelColumns(
        layer l: Int, count: Int, into target: UnsafeMutablePointer<Int32>, width n: Int, scratch s: DeltaScratch
    ) {
        let columns = self.columns[l - 1].base
        for i in 0..<count {
            let column = columns + Int(s.changeNeuron.base[i]) &* n, d = s.changeSign.base[i]
            for k in 0..<n { target[k] &+= Int32(column[k]) &* d }
        }
    }

    /// The change of the totals at the output layer `l >= 1` of a levels network: new losses of
    /// the examples whose hidden levels changed (O(C) per changed input; the `level_outputs`
    /// kernel when no output weight moves) or, with output trit moves `trits`, of every example;
    /// an example whose levels did not change gets its new loss from its kept normaliser (the
    /// `output_level_moves` kernel, O(1) per moved row) where it can.
    func levelOutputDelta(
        layer l: Int, trits: Range<Int>, previousChanged: Bool, scratch s: DeltaScratch
    ) -> (units: Int64, correct: Int) {
        let C = classes
        let changed = previousChanged ? s.changedMask[l - 1].base : nil
        var deltaUnits: Int64 = 0, deltaCorrect = 0, pending = 0, cursor = 0
        s.reservePending(exampleCount)
        let z = s.logits.base
        func visit(_ b: Int) {
            var count = 0
            if let changed, changed[b >> 6] >> UInt64(b & 63) & 1 == 1 {
                count = gatherLevelChanges(layer: l - 1, example: b, cursor: &cursor, scratch: s)
            }
            var loss: ExampleLoss
            if count == 0, let kept = outputMoves(example: b, layer: l, trits: trits, scratch: s, withUnits: false) {
                s.operations &+= trits.count &+ 2
                loss = kept
            } else {
                s.operations &+= C &* (count &+ 2)
                z.update(from: logits.base + b &* C, count: C)
                addLevelColumns(layer: l, count: count, into: z, width: C, scratch: s)
                for t in trits {
                    let v = newLevel(layer: l - 1, neuron: Int(s.tritColumn[t]), example: b, changes: count, scratch: s)
                    z[Int(s.tritRow[t])] &+= scaled(v, s.tritDelta[t])
                }
                loss = table.exampleLoss(
                    z, classes: C, label: Int(labels.base[b]), table: terms, kernels: kernels, withUnits: false)
            }
            s.pendingGaps.base[pending] = loss.top &- loss.labelLogit
            s.pendingNormalisers.base[pending] = loss.normaliser
            pending &+= 1
            deltaUnits &-= units.base[b]
            deltaCorrect &+= (loss.correct ? 1 : 0) &- Int(correct.base[b])
        }
        if trits.isEmpty { return levelOutputs(layer: l, scratch: s) }
        // Examples whose levels did not change: eight at a time in the kernel; the changed ones
        // (in order, for the cursor) and the kernel's fallbacks O(C).
        let kept = outputMovesKernel(layer: l, trits: trits, skip: changed, store: false, scratch: s)
        s.operations &+= kept.handled &* (trits.count &+ 2)
        deltaUnits &+= kept.units
        deltaCorrect &+= kept.correct
        if let changed { forEachSetBit(changed, words: words) { visit($0) } }
        for i in 0..<kept.fallbacks { visit(Int(s.fallback.base[i])) }
        return (deltaUnits &+ pendingUnits(pending, scratch: s), deltaCorrect)
    }

    /// The change of the totals at the output layer `l` of a levels network under a candidate
    /// that moves no output weight: every example whose levels of the last hidden layer changed,
    /// O(C) per change, in the `level_outputs` kernel (the same bits as `visit` above).
    func levelOutputs(layer l: Int, scratch s: DeltaScratch) -> (units: Int64, correct: Int) {
        let p = l - 1
        s.changedRow.reserve(classes, value: 0)
        var job = tern_level_outputs(
            logits: logits.base, classes: classes, words: words, padded: padded, columns: columns[l - 1].base,
            labels: labels.base, units: units.base, correct: correct.base, changed: s.changedMask[p].base,
            old: levels[p].base, directs: s.directCount[p], direct_masks: s.directMasks[p].base,
            direct_neurons: s.directNeurons[p].base, direct_levels: s.directLevels[p].base, dense: s.denseCount[p],
            dense_examples: s.denseExample[p].base, dense_neurons: s.denseNeuron[p].base,
            dense_levels: s.denseFires[p].base,
            terms: terms.baseAddress, term_count: terms.count, temperature: table.temperature,
            shift_nats: table.shiftNats,
            row: s.changedRow.base, units_delta: 0, correct_delta: 0, examples_done: 0, changes: 0)
        kernels.pointee.level_outputs(&job)
        s.operations &+= classes &* (job.changes &+ 2 &* job.examples_done)
        return (job.units_delta, job.correct_delta)
    }
}
