// The full pass of a levels network's later layers (see DeltaCache.swift for the layout).

extension DeltaCache {
    /// The sums of weight layer `l >= 1` of a levels network from the levels of hidden layer
    /// `l - 1`, 64 examples at a time: each starts at 0 and adds `h_j W[:, j]` (a contiguous
    /// column, 16 lanes at a time) for every input j whose level `h_j` is not 0. Written to the
    /// logits (example-major, real examples) or to `sums[l]` (neuron-major, padding included).
    /// Shapes: n_l inputs (levels UInt8 [n_l][Bp]), n_(l+1) outputs; O(B n_l n_(l+1) / 16) vector
    /// multiply-adds at most, fewer where levels are 0.
    func levelSums(layer l: Int, workers: Int) {
        let n = sizes[l + 1], fanIn = sizes[l], Bw = words, Bp = padded
        let lanes = (n &+ 15) & ~15
        let padded = UnsafeMutablePointer<Int32>.allocate(capacity: fanIn &* lanes)
        defer { padded.deallocate() }
        padded.initialize(repeating: 0, count: fanIn &* lanes)
        let column = columns[l - 1].base
        for j in 0..<fanIn { for k in 0..<n { padded[j &* lanes &+ k] = Int32(column[j &* n &+ k]) } }
        let weights = UncheckedSendable(UnsafePointer(padded))
        let inputs = UncheckedSendable(UnsafePointer(levels[l - 1].base))
        let threads = max(1, min(workers, Bw))
        let accumulators = UnsafeMutablePointer<Int32>.allocate(capacity: threads &* 64 &* lanes)
        defer { accumulators.deallocate() }
        accumulators.initialize(repeating: 0, count: threads &* 64 &* lanes)
        let scratch = UncheckedSendable(accumulators)
        Parallel.run(
            items: Bw, workers: threads,
            local: { w, worker in
                let accumulator = scratch.value + worker &* 64 &* lanes
                accumulator.update(repeating: 0, count: 64 &* lanes)
                for j in 0..<fanIn {
                    let h = inputs.value + (j &* Bp &+ w &* 64)
                    let add = weights.value + j &* lanes
                    for e in 0..<64 where h[e] != 0 {
                        let level = SIMD16<Int32>(repeating: Int32(h[e]))
                        let sums = accumulator + e &* lanes
                        var k = 0
                        while k < lanes {
                            let v = UnsafeRawPointer(add + k).loadUnaligned(as: SIMD16<Int32>.self)
                            let at = UnsafeMutableRawPointer(sums + k)
                            at.storeBytes(
                                of: at.loadUnaligned(as: SIMD16<Int32>.self) &+ v &* level, as: SIMD16<Int32>.self)
                            k &+= 16
                        }
                    }
                }
                self.storeTile(accumulator, word: w, lanes: lanes, layer: l)
            })
    }
}
