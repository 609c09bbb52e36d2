// Applying moves to the cached genome (see DeltaCache.swift for the layout).

extension DeltaCache {
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
                // Zero weights add 0: no branch on the weight (random trits would mispredict).
                if isOutput {
                    let row = logits.base + change.example &* C
                    for k in 0..<n { row[k] &+= (Int32(column[k]) &<< 1) &* change.sign }
                } else {
                    for k in 0..<n { sums[l].base[k &* Bp &+ change.example] &+= (Int32(column[k]) &<< 1) &* change.sign }
                }
                bits[l - 1].base[change.neuron &* Bw &+ change.example >> 6] ^= 1 << UInt64(change.example & 63)
                if !touched[change.example] { touched[change.example] = true; touchedList.append(change.example) }
            }
            // The output losses of examples whose inputs did not change, from their kept
            // normalisers and the old logits (O(1) per moved row; nil: recompute in O(C)).
            // After a hidden layer the kernel stores them at once; the rest are recomputed below.
            var kept: [ExampleLoss?] = []
            var recompute: [Int] = []
            if isOutput {
                var end = trit
                while end < s.tritCount && Int(s.tritLayer[end]) == l { end += 1 }
                if end > trit && l > 0 {
                    let skip = UnsafeMutablePointer<UInt64>.allocate(capacity: Bw)
                    defer { skip.deallocate() }
                    skip.initialize(repeating: 0, count: Bw)
                    for b in touchedList { skip[b >> 6] |= 1 << UInt64(b & 63) }
                    let done = outputMovesKernel(layer: l, trits: trit..<end, skip: skip, store: true, scratch: s)
                    totalUnits &+= done.units
                    totalCorrect &+= done.correct
                    recompute = touchedList + (0..<done.fallbacks).map { Int(s.fallback.base[$0]) }
                } else if end > trit {
                    kept = (0..<B).map { touched[$0] ? nil : outputMoves(example: $0, layer: l, trits: trit..<end, scratch: s) }
                }
            }
            // (b) Trit moves with the new inputs.
            var directs: [Int] = []
            var everyExample = false
            while trit < s.tritCount && Int(s.tritLayer[trit]) == l {
                let k = Int(s.tritRow[trit]), j = Int(s.tritColumn[trit]), delta = s.tritDelta[trit]
                if l == 0 && context > 0 {
                    // Token inputs: only the examples whose window holds column j change.
                    for i in Int(indexStart.base[j])..<Int(indexStart.base[j &+ 1]) {
                        let b = Int(indexExamples.base[i])
                        if isOutput { logits.base[b &* C &+ k] &+= delta } else { sums[l].base[k &* Bp &+ b] &+= delta }
                    }
                } else {
                    for b in 0..<B {
                        let v = l == 0 ? inputValue(j, b) : (bit(l - 1, j, b) ? 1 : -1)
                        if isOutput { logits.base[b &* C &+ k] &+= v &* delta } else { sums[l].base[k &* Bp &+ b] &+= v &* delta }
                    }
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
                if everyExample && l > 0 {
                    for b in recompute { storeLoss(of: b) }
                } else if everyExample {
                    for b in 0..<B {
                        if let loss = kept[b] { store(loss, of: b) } else { storeLoss(of: b) }
                    }
                } else {
                    for b in touchedList { storeLoss(of: b) }
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
