import CTernaryKernels

// Read-only scoring of a candidate from the cache (see DeltaCache.swift for the layout and cost).

extension DeltaCache {
    /// The total loss units and correct count of the candidate `moves`, from the cache alone:
    /// layer by layer, the hidden layers' changed examples (sign or levels path), then the
    /// output layer's changed losses added to the cached totals.
    func score(_ moves: UnsafeBufferPointer<Move>, scratch s: DeltaScratch) -> (units: Int64, correct: Int) {
        normalize(moves, into: s)
        if s.tritCount == 0 && s.thresholdCount == 0 && s.stepCount == 0 { return (totalUnits, totalCorrect) }
        var trit = 0, threshold = 0, step = 0
        var previousChanged = false
        for l in 0..<layerCount {
            let trits = s.range(s.tritLayer, count: s.tritCount, layer: l, from: &trit)
            let thresholds = s.range(s.thresholdLayer, count: s.thresholdCount, layer: l, from: &threshold)
            let steps = s.range(s.stepLayer, count: s.stepCount, layer: l, from: &step)
            if l == layerCount - 1 {
                guard !trits.isEmpty || previousChanged else { break }
                let delta =
                    isLevels
                    ? levelOutputDelta(layer: l, trits: trits, previousChanged: previousChanged, scratch: s)
                    : outputDelta(layer: l, trits: trits, previousChanged: previousChanged, scratch: s)
                return (totalUnits &+ delta.units, totalCorrect &+ delta.correct)
            }
            if isLevels {
                let newStep = steps.isEmpty ? nil : s.stepValue[steps.upperBound - 1]
                previousChanged = levelHidden(
                    layer: l, trits: trits, thresholds: thresholds, step: newStep,
                    previousChanged: previousChanged, scratch: s)
            } else {
                previousChanged = signHidden(
                    layer: l, trits: trits, thresholds: thresholds, previousChanged: previousChanged, scratch: s)
            }
            // Nothing below changes: later moves still count (an output or later-layer move).
            if !previousChanged && trit == s.tritCount && threshold == s.thresholdCount && step == s.stepCount { break }
        }
        return (totalUnits, totalCorrect)
    }

    /// The change of the totals at the output layer `l` (sign path): new logits and losses of
    /// the examples with a changed input (`previousChanged`) or, with output trit moves `trits`,
    /// of every example.
    func outputDelta(
        layer l: Int, trits: Range<Int>, previousChanged: Bool, scratch s: DeltaScratch
    ) -> (units: Int64, correct: Int) {
        let B = exampleCount, Bw = words
        let tritStart = trits.lowerBound, tritEnd = trits.upperBound
        var deltaUnits: Int64 = 0, deltaCorrect = 0
        let everyExample = tritEnd > tritStart
        var cursor = 0
        let z = s.logits.base
        let changed = previousChanged ? s.changedMask[l - 1].base : nil
        // The visited examples' new losses are computed together at the end (eight
        // `log`s at a time, the `loss_units` kernel); here their parts are collected.
        var pending = 0
        s.reservePending(B)
        func visit(_ b: Int) {
            let loss = outputLoss(
                example: b, layer: l, trits: tritStart..<tritEnd, changed: changed,
                cursor: &cursor, logits: z, scratch: s)
            s.pendingGaps.base[pending] = loss.top &- loss.labelLogit
            s.pendingNormalisers.base[pending] = loss.normaliser
            pending &+= 1
            deltaUnits &-= units.base[b]
            deltaCorrect &+= (loss.correct ? 1 : 0) &- Int(correct.base[b])
        }
        if everyExample && l > 0 {
            // Examples whose hidden signs did not change: eight at a time in the kernel;
            // the changed ones (in order, for the cursor) and the kernel's fallbacks O(C).
            let kept = outputMovesKernel(layer: l, trits: tritStart..<tritEnd, skip: changed, store: false, scratch: s)
            s.operations &+= kept.handled &* (tritEnd &- tritStart &+ 2)
            deltaUnits &+= kept.units
            deltaCorrect &+= kept.correct
            if let changed { forEachSetBit(changed, words: Bw) { visit($0) } }
            for i in 0..<kept.fallbacks { visit(Int(s.fallback.base[i])) }
        } else if everyExample {
            for b in 0..<B { visit(b) }
        } else {
            // No output weight moves: the changed examples' columns are added in C.
            pending = changedOutputs(layer: l, changed: changed!, scratch: s)
            for i in 0..<pending {
                let b = Int(s.changedExamples.base[i])
                deltaUnits &-= units.base[b]
                deltaCorrect &+= (s.pendingBests.base[i] == labels.base[b] ? 1 : 0) &- Int(correct.base[b])
            }
        }
        return (deltaUnits &+ pendingUnits(pending, scratch: s), deltaCorrect)
    }

    /// The sum of the units of the first `count` pending examples (their gaps and normalisers in
    /// the scratch), eight `log`s at a time in the `loss_units` kernel.
    func pendingUnits(_ count: Int, scratch s: DeltaScratch) -> Int64 {
        guard count > 0 else { return 0 }
        kernels.pointee.loss_units(
            s.pendingGaps.base, s.pendingNormalisers.base, count, table.temperature,
            table.shiftNats, s.pendingUnits.base)
        var total: Int64 = 0
        for i in 0..<count { total &+= s.pendingUnits.base[i] }
        return total
    }

    /// Hidden layer `l` of the candidate (sign path): the flip masks of its direct neurons (those
    /// with trit or threshold moves, over the batch) and the flips of the examples whose inputs
    /// changed (`previousChanged`: every neuron, from the cached sums). Returns whether any
    /// example of the layer flips.
    func signHidden(
        layer l: Int, trits: Range<Int>, thresholds: Range<Int>, previousChanged: Bool, scratch s: DeltaScratch
    ) -> Bool {
        let B = exampleCount, Bw = words, Bp = padded, n = sizes[l + 1]
        let tritStart = trits.lowerBound, tritEnd = trits.upperBound
        let thresholdStart = thresholds.lowerBound, thresholdEnd = thresholds.upperBound
        s.reserveLayer(l, directs: (tritEnd - tritStart) + (thresholdEnd - thresholdStart), words: Bw)
        let changedMask = s.changedMask[l].base
        changedMask.initialize(repeating: 0, count: Bw)
        let exclude = previousChanged ? UnsafePointer(s.changedMask[l - 1].base) : nil
        // Direct neurons: merge the rows of trit moves and the neurons of threshold moves.
        var t = tritStart, h = thresholdStart, every = 0
        s.directCount[l] = 0
        while let (k, rows, theta) = nextDirect(
            layer: l, trits: trits, thresholds: thresholds, trit: &t, threshold: &h,
            every: &every, everyNeuron: false, scratch: s)
        {
            let mask = s.directMasks[l].base + s.directCount[l] &* Bw
            if l == 0 && context > 0 && s.thetaMoved.base[k] == 0 {
                tokenFlips(neuron: k, trits: rows, theta: theta, scratch: s, out: mask)
            } else {
                // Operations are counted per real example (not padded), so shard counts add up.
                s.operations &+= B &* (rows.count &+ 1)
                batchFlips(layer: l, neuron: k, trits: rows, theta: theta, exclude: exclude, scratch: s, out: mask)
            }
            s.addDirect(layer: l, neuron: k, mask: mask, words: Bw)
        }
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
                    delta[Int(s.tritRow[t])] &+= scaled(
                        newSign(layer: l - 1, neuron: j, example: b, changes: count, scratch: s), s.tritDelta[t])
                }
                let sumColumn = sums[l].base + b
                for k in 0..<n where delta[k] != 0 || s.thetaMoved.base[k] != 0 {
                    let theta = s.thetaMoved.base[k] != 0 ? s.thetaNew.base[k] : self.thresholds[l].base[k]
                    let fires = sumColumn[k &* Bp] &+ delta[k] >= theta
                    if fires != bit(l, k, b) {
                        s.appendDense(layer: l, example: b, neuron: k, fires: fires)
                        changedMask[b >> 6] |= 1 << UInt64(b & 63)
                    }
                }
            }
        }
        for h in thresholdStart..<thresholdEnd { s.thetaMoved.base[Int(s.thresholdNeuron[h])] = 0 }
        for w in 0..<Bw where changedMask[w] != 0 { return true }
        return false
    }

    /// The next direct neuron of hidden layer `l` (every neuron in turn with `everyNeuron`, else
    /// the next row of the trit moves `trits` or neuron of the threshold moves `thresholds`,
    /// merged; the cursors `t`, `h`, `every` advance): its neuron, its trit moves and its
    /// threshold (a moved one is also marked in `s.thetaMoved`). Nil after the last.
    @inline(__always)
    func nextDirect(
        layer l: Int, trits: Range<Int>, thresholds: Range<Int>, trit t: inout Int, threshold h: inout Int,
        every: inout Int, everyNeuron: Bool, scratch s: DeltaScratch
    ) -> (neuron: Int, rows: Range<Int>, theta: Int32)? {
        let k: Int
        if everyNeuron {
            guard every < sizes[l + 1] else { return nil }
            k = every
            every += 1
        } else {
            k = min(
                t < trits.upperBound ? Int(s.tritRow[t]) : Int.max,
                h < thresholds.upperBound ? Int(s.thresholdNeuron[h]) : Int.max)
            guard k != Int.max else { return nil }
        }
        let start = t
        while t < trits.upperBound && Int(s.tritRow[t]) == k { t += 1 }
        var theta = self.thresholds[l].base[k]
        if h < thresholds.upperBound && Int(s.thresholdNeuron[h]) == k {
            theta = s.thresholdValue[h]
            s.thetaMoved.base[k] = 1
            s.thetaNew.base[k] = theta
            h += 1
        }
        return (k, start..<t, theta)
    }

    /// The loss parts of example `b` of the candidate at the output layer `l`, whose trit moves
    /// are `trits` (its units left 0: the caller computes them in bulk): from its kept normaliser
    /// when its inputs did not change (`outputMoves`), else from new logits built in `z` (O(C)
    /// per changed input).
    func outputLoss(
        example b: Int, layer l: Int, trits: Range<Int>, changed: UnsafeMutablePointer<UInt64>?,
        cursor: inout Int, logits z: UnsafeMutablePointer<Int32>, scratch s: DeltaScratch
    ) -> ExampleLoss {
        let C = classes
        var count = 0
        if let changed, changed[b >> 6] >> UInt64(b & 63) & 1 == 1 {
            count = gatherChanges(layer: l - 1, example: b, cursor: &cursor, scratch: s)
        }
        if count == 0, let loss = outputMoves(example: b, layer: l, trits: trits, scratch: s, withUnits: false) {
            s.operations &+= trits.count &+ 2
            return loss
        }
        s.operations &+= C &* (count &+ 2)
        let row = logits.base + b &* C
        for c in 0..<C { z[c] = row[c] }
        if count > 0 { addColumns(layer: l, count: count, into: z, width: C, scratch: s) }
        for t in trits {
            let j = Int(s.tritColumn[t])
            let v = l == 0 ? inputValue(j, b) : newSign(layer: l - 1, neuron: j, example: b, changes: count, scratch: s)
            z[Int(s.tritRow[t])] &+= scaled(v, s.tritDelta[t])
        }
        return table.exampleLoss(
            z, classes: C, label: Int(labels.base[b]), table: terms, kernels: kernels, withUnits: false)
    }

    /// The loss parts of the examples set in `changed` at the output layer `l` under a candidate
    /// that moves no output weight, through the `changed_outputs` kernel: `outputLoss` of each
    /// (the same bits), with their changes gathered first. Writes the examples to
    /// `s.changedExamples` and their gaps, normalisers and best classes to the pending lists;
    /// returns how many.
    func changedOutputs(layer l: Int, changed: UnsafeMutablePointer<UInt64>, scratch s: DeltaScratch) -> Int {
        let C = classes
        s.changedExamples.reserve(exampleCount, value: 0)
        s.changedStarts.reserve(exampleCount &+ 1, value: 0)
        s.pendingBests.reserve(exampleCount, value: 0)
        s.changedRow.reserve(C, value: 0)
        var listed = 0, changes = 0, cursor = 0
        forEachSetBit(changed, words: words) { b in
            let count = gatherChanges(layer: l - 1, example: b, cursor: &cursor, scratch: s)
            s.operations &+= C &* (count &+ 2)
            s.changedNeurons.grow(changes &+ count, keep: changes, value: 0)
            s.changedSigns.grow(changes &+ count, keep: changes, value: 0)
            (s.changedNeurons.base + changes).update(from: s.changeNeuron.base, count: count)
            (s.changedSigns.base + changes).update(from: s.changeSign.base, count: count)
            s.changedExamples.base[listed] = Int32(b)
            s.changedStarts.base[listed] = Int32(changes)
            listed &+= 1
            changes &+= count
        }
        s.changedStarts.base[listed] = Int32(changes)
        var job = tern_changed_outputs(
            logits: logits.base, classes: C, columns: columns[l - 1].base, labels: labels.base,
            terms: terms.baseAddress, term_count: terms.count, count: listed,
            examples: s.changedExamples.base, starts: s.changedStarts.base, neurons: s.changedNeurons.base,
            signs: s.changedSigns.base, gaps: s.pendingGaps.base, normalisers: s.pendingNormalisers.base,
            bests: s.pendingBests.base, row: s.changedRow.base)
        kernels.pointee.changed_outputs(&job)
        return listed
    }

    /// The loss of example `b` after the output-layer trit moves `trits` (sorted by row) when its
    /// inputs to the output layer did not change, from its cached top, best class and normaliser:
    /// O(1) per moved row. Nil when a moved logit rises above the top or the top class falls (the
    /// top may change: the caller recomputes the example in O(C)).
    @inline(__always)
    func outputMoves(
        example b: Int, layer l: Int, trits: Range<Int>, scratch s: DeltaScratch, withUnits: Bool = true
    ) -> ExampleLoss? {
        let row = logits.base + b &* classes
        let label = Int(labels.base[b])
        var top = tops.base[b], best = bests.base[b], sum = normalisers.base[b]
        var labelLogit = labelLogits.base[b]
        var t = trits.lowerBound
        while t < trits.upperBound {
            let r = Int(s.tritRow[t])
            var d: Int32 = 0
            while t < trits.upperBound && Int(s.tritRow[t]) == r {
                let j = Int(s.tritColumn[t])
                let v = l == 0 ? inputValue(j, b) : hiddenValue(l - 1, j, b)
                d &+= scaled(v, s.tritDelta[t])
                t += 1
            }
            if d == 0 { continue }
            let old = row[r], new = old &+ d
            if new > top || (r == Int(best) && d < 0) { return nil }
            if new == top && r < Int(best) { best = Int32(r) }
            sum = sum &- table.term(top &- old, terms) &+ table.term(top &- new, terms)
            if r == label { labelLogit = new }
        }
        return ExampleLoss(
            units: withUnits ? table.units(top: top, labelLogit: labelLogit, normaliser: sum) : 0,
            correct: Int(best) == label, top: top, best: best, normaliser: sum, labelLogit: labelLogit)
    }

    /// `outputMoves` for every example not in `skip`, eight at a time (the `output_moves` kernel,
    /// or `output_level_moves` for a levels network; the same bits): the change of their units and correct count, and how many it scored.
    /// With `store`, their new losses and parts are written to the cache (the caller adds the
    /// change to the totals). Examples the O(1) update cannot score are left in `s.fallback`
    /// (`fallbacks` of them) for the caller's O(C) path.
    func outputMovesKernel(
        layer l: Int, trits: Range<Int>, skip: UnsafeMutablePointer<UInt64>?, store: Bool,
        scratch s: DeltaScratch
    ) -> (units: Int64, correct: Int, handled: Int, fallbacks: Int) {
        s.moveSigns.reserve(trits.count, value: nil)
        s.moveLevels.reserve(trits.count, value: nil)
        s.fallback.reserve(exampleCount, value: 0)
        for t in trits {
            let j = Int(s.tritColumn[t])
            if isLevels {
                s.moveLevels.base[t &- trits.lowerBound] = UnsafePointer(levels[l - 1].base + j &* padded)
            } else {
                s.moveSigns.base[t &- trits.lowerBound] = UnsafePointer(bits[l - 1].base + j &* words)
            }
        }
        var job = tern_output_moves(
            logits: logits.base, classes: classes, examples: exampleCount, tops: tops.base, bests: bests.base,
            labels: labels.base, label_logits: labelLogits.base, normalisers: normalisers.base, units: units.base,
            correct: correct.base,
            skip: skip.map { UnsafePointer($0) }, moves: trits.count, rows: s.tritRow.base + trits.lowerBound,
            deltas: s.tritDelta.base + trits.lowerBound, signs: UnsafePointer(s.moveSigns.base),
            levels: isLevels ? UnsafePointer(s.moveLevels.base) : nil,
            terms: terms.baseAddress, term_count: terms.count, temperature: table.temperature,
            shift_nats: table.shiftNats,
            store_bests: store ? bests.base : nil, store_normalisers: store ? normalisers.base : nil,
            store_units: store ? units.base : nil, store_correct: store ? correct.base : nil,
            store_label_logits: store ? labelLogits.base : nil,
            fallback: s.fallback.base, fallback_count: 0, handled: 0, units_delta: 0, correct_delta: 0)
        if isLevels { kernels.pointee.output_level_moves(&job) } else { kernels.pointee.output_moves(&job) }
        return (job.units_delta, job.correct_delta, job.handled, job.fallback_count)
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
    func batchFlips(
        layer l: Int, neuron k: Int, trits: Range<Int>, theta: Int32,
        exclude: UnsafePointer<UInt64>?, scratch s: DeltaScratch, out: UnsafeMutablePointer<UInt64>
    ) {
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
                        v = firstInputs(j, base)
                    } else {
                        let h = UInt32(truncatingIfNeeded: bits[l - 1].base[j &* Bw &+ w] >> UInt64(q &* 16))
                        v = SIMD16<Int32>(repeating: -1).replacing(
                            with: 1, where: (SIMD16<UInt32>(repeating: h) & lanes) .!= none)
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

    /// Input `j` of the 16 examples from `base` on: their bytes, or for token inputs 1 where the
    /// window has column `j` at its position.
    @inline(__always)
    func firstInputs(_ j: Int, _ base: Int) -> SIMD16<Int32> {
        if context > 0 {
            let column = SIMD16<Int32>(repeating: Int32(j))
            let held = UnsafeRawPointer(windows.base + ((j / vocabulary) &* padded &+ base)).loadUnaligned(
                as: SIMD16<Int32>.self)
            return SIMD16<Int32>().replacing(with: 1, where: held .== column)
        }
        return SIMD16<Int32>(
            truncatingIfNeeded: UnsafeRawPointer(inputs.base + (j &* padded &+ base)).loadUnaligned(
                as: SIMD16<UInt8>.self))
    }

    /// The flip mask of first-layer neuron `k` of a token network whose threshold does not move,
    /// with its trit moves `trits`: only the examples in the index of a moved column are
    /// visited (their sum changes by the deltas of the moved columns their window holds); every
    /// other example keeps its sum and its sign. Cost: the examples of those columns, plus
    /// O(B / 64) words to clear the mask.
    func tokenFlips(
        neuron k: Int, trits: Range<Int>, theta: Int32, scratch s: DeltaScratch, out: UnsafeMutablePointer<UInt64>
    ) {
        let Bw = words, Bp = padded
        out.initialize(repeating: 0, count: Bw)
        let (count, listed) = tokenDeltas(trits: trits, scratch: s)
        let acc = s.exampleDelta.base, touched = s.touched.base
        let sums = self.sums[0].base + k &* Bp, old = bits[0].base + k &* Bw
        for i in 0..<count {
            let b = Int(touched[i])
            let fires = sums[b] &+ acc[b] >= theta
            acc[b] = 0
            if fires != (old[b >> 6] >> UInt64(b & 63) & 1 == 1) { out[b >> 6] |= 1 << UInt64(b & 63) }
        }
        s.operations &+= listed &* 2 &+ count  // per example, so shard counts add up
    }

    /// The change of a first-layer neuron's sum under its token trit moves `trits`, for the
    /// examples of the moved columns' index: `s.exampleDelta[b]` for each of the `count`
    /// examples listed in `s.touched` (the caller zeroes them again); `listed` index entries read.
    @inline(__always)
    func tokenDeltas(trits: Range<Int>, scratch s: DeltaScratch) -> (count: Int, listed: Int) {
        var listed = 0
        for t in trits {
            let j = Int(s.tritColumn[t])
            listed &+= Int(indexStart.base[j &+ 1] &- indexStart.base[j])
        }
        s.reserveExamples(padded, listed: listed)
        let acc = s.exampleDelta.base, touched = s.touched.base
        var count = 0
        for t in trits {
            let j = Int(s.tritColumn[t]), delta = s.tritDelta[t]
            for i in Int(indexStart.base[j])..<Int(indexStart.base[j &+ 1]) {
                let b = Int(indexExamples.base[i])
                // An example may be listed twice when deltas cancel; its second visit finds
                // its sum unchanged and leaves the mask (or level) as the first set it.
                if acc[b] == 0 {
                    touched[count] = Int32(b)
                    count &+= 1
                }
                acc[b] &+= delta
            }
        }
        return (count, listed)
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
    func addColumns(
        layer l: Int, count: Int, into target: UnsafeMutablePointer<Int32>, width n: Int, scratch s: DeltaScratch
    ) {
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
}
