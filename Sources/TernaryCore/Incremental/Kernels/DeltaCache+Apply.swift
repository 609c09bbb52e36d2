// Applying moves to the cached genome (see DeltaCache.swift for the layout), for sign and levels
// networks alike: a change of a hidden value is (example, neuron, d), d = new - old (a sign flip
// is d = +-2), and adds d times the weight column to the next layer.

/// One changed hidden value: its example, neuron and change `d = new - old`.
typealias HiddenChange = (example: Int, neuron: Int, delta: Int32)

extension DeltaCache {
    /// Applies `moves` to the genome and updates every cached value (not in parallel).
    func apply(_ moves: UnsafeBufferPointer<Move>, scratch s: DeltaScratch) {
        normalize(moves, into: s)
        guard s.tritCount > 0 || s.thresholdCount > 0 || s.stepCount > 0 else { return }
        var changes: [HiddenChange] = []
        var trit = 0, threshold = 0, step = 0
        var touched = [Bool](repeating: false, count: exampleCount)
        var touchedList: [Int] = []
        for l in 0..<layerCount {
            for b in touchedList { touched[b] = false }
            touchedList.removeAll(keepingCapacity: true)
            applyChanges(changes, layer: l, touched: &touched, touchedList: &touchedList)
            let trits = s.range(s.tritLayer, count: s.tritCount, layer: l, from: &trit)
            if l == layerCount - 1 {
                applyOutput(layer: l, trits: trits, touched: touched, touchedList: touchedList, scratch: s)
                break
            }
            applyTrits(trits, layer: l, scratch: s)
            var directs = Set(trits.map { Int(s.tritRow[$0]) })
            for h in s.range(s.thresholdLayer, count: s.thresholdCount, layer: l, from: &threshold) {
                let k = Int(s.thresholdNeuron[h])
                network.thresholds[l][k] = s.thresholdValue[h]
                thresholds[l].base[k] = s.thresholdValue[h]
                directs.insert(k)
            }
            let steps = s.range(s.stepLayer, count: s.stepCount, layer: l, from: &step)
            if let last = steps.last { network.steps[l] = s.stepValue[last] }
            changes = newValues(
                layer: l, directs: steps.isEmpty ? directs.sorted() : Array(0..<sizes[l + 1]), touchedList: touchedList)
            // Stop early only when no change is left for a later layer to take in.
            if changes.isEmpty && trit == s.tritCount && threshold == s.thresholdCount && step == s.stepCount { break }
        }
    }

    /// (a) Inputs of weight layer `l` that changed: adds `d W` (old weights) to the sums or
    /// logits of their examples, updates the hidden values below, and lists the examples.
    private func applyChanges(_ changes: [HiddenChange], layer l: Int, touched: inout [Bool], touchedList: inout [Int])
    {
        let n = sizes[l + 1], Bp = padded
        let isOutput = l == layerCount - 1
        for change in changes {
            let column = columns[l - 1].base + change.neuron &* n
            // Zero weights add 0: no branch on the weight (random trits would mispredict).
            if isOutput {
                let row = logits.base + change.example &* classes
                for k in 0..<n { row[k] &+= Int32(column[k]) &* change.delta }
            } else {
                for k in 0..<n { sums[l].base[k &* Bp &+ change.example] &+= Int32(column[k]) &* change.delta }
            }
            if isLevels {
                let at = levels[l - 1].base + (change.neuron &* Bp &+ change.example)
                at.pointee = UInt8(truncatingIfNeeded: Int32(at.pointee) &+ change.delta)
            } else {
                bits[l - 1].base[change.neuron &* words &+ change.example >> 6] ^= 1 << UInt64(change.example & 63)
            }
            if !touched[change.example] {
                touched[change.example] = true
                touchedList.append(change.example)
            }
        }
    }

    /// (b) Trit moves `trits` of weight layer `l` with the new inputs: the sums (or logits) of
    /// every example the moved column reaches, and the genome.
    private func applyTrits(_ trits: Range<Int>, layer l: Int, scratch s: DeltaScratch) {
        let n = sizes[l + 1], Bp = padded, C = classes
        let isOutput = l == layerCount - 1
        for t in trits {
            let k = Int(s.tritRow[t]), j = Int(s.tritColumn[t]), delta = s.tritDelta[t]
            if l == 0 && context > 0 {
                // Token inputs: only the examples whose window holds column j change.
                for i in Int(indexStart.base[j])..<Int(indexStart.base[j &+ 1]) {
                    let b = Int(indexExamples.base[i])
                    if isOutput { logits.base[b &* C &+ k] &+= delta } else { sums[l].base[k &* Bp &+ b] &+= delta }
                }
            } else {
                for b in 0..<exampleCount {
                    let v = l == 0 ? inputValue(j, b) : hiddenValue(l - 1, j, b)
                    if isOutput {
                        logits.base[b &* C &+ k] &+= v &* delta
                    } else {
                        sums[l].base[k &* Bp &+ b] &+= v &* delta
                    }
                }
            }
            let value = Int8(Int32(network.weights[l][k, j]) + delta)
            network.weights[l][k, j] = value
            if l >= 1 { columns[l - 1].base[j &* n &+ k] = value }
        }
    }

    /// The output layer `l`: its trit moves `trits` and the new losses of the affected examples
    /// (`touchedList`: those whose inputs changed; every example when an output weight moved).
    /// An example whose inputs did not change takes its loss from its kept normaliser and the
    /// old logits (O(1) per moved row; after a sign layer eight at a time in the kernel, which
    /// stores them at once); the rest are recomputed in O(C).
    private func applyOutput(
        layer l: Int, trits: Range<Int>, touched: [Bool], touchedList: [Int], scratch s: DeltaScratch
    ) {
        let B = exampleCount, Bw = words
        var kept: [ExampleLoss?] = []
        var recompute: [Int] = []
        let kernel = !trits.isEmpty && l > 0 && !isLevels
        if kernel {
            let skip = UnsafeMutablePointer<UInt64>.allocate(capacity: Bw)
            defer { skip.deallocate() }
            skip.initialize(repeating: 0, count: Bw)
            for b in touchedList { skip[b >> 6] |= 1 << UInt64(b & 63) }
            let done = outputMovesKernel(layer: l, trits: trits, skip: skip, store: true, scratch: s)
            totalUnits &+= done.units
            totalCorrect &+= done.correct
            recompute = touchedList + (0..<done.fallbacks).map { Int(s.fallback.base[$0]) }
        } else if !trits.isEmpty {
            kept = (0..<B).map { touched[$0] ? nil : outputMoves(example: $0, layer: l, trits: trits, scratch: s) }
        }
        applyTrits(trits, layer: l, scratch: s)
        if kernel {
            for b in recompute { storeLoss(of: b) }
        } else if !trits.isEmpty {
            for b in 0..<B {
                if let loss = kept[b] { store(loss, of: b) } else { storeLoss(of: b) }
            }
        } else {
            for b in touchedList { storeLoss(of: b) }
        }
    }

    /// (d) New hidden values of layer `l` after its sums, thresholds and step changed: the
    /// `directs` over the batch, the examples of `touchedList` over every other neuron. Returns
    /// the changes, in neuron order per group.
    private func newValues(layer l: Int, directs: [Int], touchedList: [Int]) -> [HiddenChange] {
        let Bp = padded, activation = network.activation, step = network.steps[l]
        var next: [HiddenChange] = []
        func check(_ k: Int, _ b: Int) {
            let sum = sums[l].base[k &* Bp &+ b], theta = thresholds[l].base[k]
            if isLevels {
                let old = Int32(levels[l].base[k &* Bp &+ b])
                let new = activation.value(sum: sum, threshold: theta, step: step)
                if new != old { next.append((b, k, new &- old)) }
            } else {
                let fires = sum >= theta
                if fires != bit(l, k, b) { next.append((b, k, fires ? 2 : -2)) }
            }
        }
        for k in directs { for b in 0..<exampleCount { check(k, b) } }
        var isDirect = [Bool](repeating: false, count: sizes[l + 1])
        for k in directs { isDirect[k] = true }
        for b in touchedList { for k in 0..<sizes[l + 1] where !isDirect[k] { check(k, b) } }
        return next
    }
}
