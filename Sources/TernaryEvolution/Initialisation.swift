import TernaryCore

// The starts of the evolution arms: random genomes, thresholds calibrated from the sums, and the
// readout output layer that `local`, `es` and the GA may start from.

extension SearchProblem {
    /// Random genomes `0 ..< count` of the run (stream per individual), thresholds calibrated
    /// on a seeded sample of the train split.
    public func initialGenomes(count: Int, zeroFraction: Double, seed: UInt64) -> [TernaryNetwork] {
        let architecture = self.architecture
        var genomes = Parallel.map(count: count, workers: threads) { individual, _ in
            var rng = Xoshiro256(seed: seed, stream: StreamPath.initial(individual))
            return architecture.randomGenome(zeroFraction: zeroFraction, using: &rng)
        }
        var rng = Xoshiro256(seed: seed, stream: StreamPath.calibration)
        let sample = train.batch(train.sampleIndices(min(train.count, max(batchSize ?? 0, 256)), using: &rng))
        calibrateThresholds(&genomes, on: sample, evaluator: evaluator)
        return genomes
    }

    /// The single starting genome of a point strategy (`local`, `es`): genome 0 of the run,
    /// thresholds calibrated, with a readout output layer when `readout` is set.
    public func startingPoint(zeroFraction: Double, readout: Bool, seed: UInt64) -> TernaryNetwork {
        let genome = initialGenomes(count: 1, zeroFraction: zeroFraction, seed: seed)[0]
        return readout ? readoutInitialized(genome, zeroFraction: zeroFraction) : genome
    }

    /// `genome` with its output layer set from data, without gradients: output trit (c, j) is the
    /// sign of the correlation, over the train split, between hidden unit j (+-1) and the
    /// indicator of class c (+1 for c, -1/(C-1) otherwise; computed exactly in integers, in
    /// O(examples x width)), and the weakest `zeroFraction` of
    /// each class's correlations are set to 0. The readout of a random-features model; local
    /// search and es start from it instead of from chance. Genomes without hidden layers are
    /// returned unchanged. Text runs use a fixed sample of the windows.
    public func readoutInitialized(_ genome: TernaryNetwork, zeroFraction: Double) -> TernaryNetwork {
        let sizes = genome.layerSizes
        guard sizes.count > 2 else { return genome }
        let last = sizes.count - 2, width = sizes[last], classes = sizes[last + 1]
        let hiddenLayer = last - 1
        // Token inputs (text; the TernaryCore article Semantics): up to 16,384 evenly spaced windows, not the
        // whole split (millions of windows times width times classes).
        let examples = train.windows == nil || train.count <= 16_384
            ? Array(0..<train.count) : (0..<16_384).map { $0 * train.count / 16_384 }
        let sums = evaluator.layerSums(of: [genome], on: train.windows == nil ? train.all : train.batch(examples), layer: hiddenLayer)[0]
        // The correlation of hidden unit j with class c, scaled by C - 1 to stay in integers:
        // sum over examples of h_j (C - 1 when the label is c, -1 otherwise) = C S_cj - T_j, with
        // S_cj the sum of h_j over examples of class c and T_j over all. O(B width), exact.
        var perClass = [Int](repeating: 0, count: classes * width)
        let thresholds = genome.thresholds[hiddenLayer]
        for (b, example) in examples.enumerated() {
            let offset = train.labels[example] * width, row = b * width
            for j in 0..<width {
                perClass[offset + j] += sums[row + j] >= thresholds[j] ? 1 : -1
            }
        }
        var total = [Int](repeating: 0, count: width)
        for c in 0..<classes { for j in 0..<width { total[j] += perClass[c * width + j] } }
        var correlation = [Int](repeating: 0, count: classes * width)
        for c in 0..<classes { for j in 0..<width { correlation[c * width + j] = classes * perClass[c * width + j] - total[j] } }
        var result = genome
        for c in 0..<classes {
            let row = correlation[(c * width)..<((c + 1) * width)]
            let cut = row.map(abs).sorted()[min(width - 1, Int(Double(width) * zeroFraction))]
            for j in 0..<width {
                let value = correlation[c * width + j]
                result.weights[last][c, j] = abs(value) < cut || value == 0 ? 0 : (value > 0 ? 1 : -1)
            }
        }
        return result
    }
}

/// Sets every hidden threshold to the median of that neuron's sums on `sample`, so each
/// hidden neuron fires for about half of the sample: sign networks start with informative
/// activations instead of neurons stuck at +1 or -1. Layer by layer, since a layer's sums
/// depend on the thresholds before it.
public func calibrateThresholds(_ genomes: inout [TernaryNetwork], on sample: ExampleBatch,
                                evaluator: PopulationEvaluator) {
    guard let first = genomes.first, sample.count > 0 else { return }
    // A block of genomes at a time: the sums of a block are what is held (a genome's
    // thresholds depend on it alone, so the blocks change nothing but the memory).
    for start in stride(from: 0, to: genomes.count, by: calibrationBlock) {
        let range = start..<min(genomes.count, start + calibrationBlock)
        var block = Array(genomes[range])
        for layer in first.thresholds.indices {
            let width = first.layerSizes[layer + 1]
            let sums = evaluator.layerSums(of: block, on: sample, layer: layer)
            Parallel.updateEach(&block, workers: evaluator.threads) { index, genome, _ in
                var column = [Int32](repeating: 0, count: sample.count)
                for neuron in 0..<width {
                    for b in 0..<sample.count { column[b] = sums[index][b * width + neuron] }
                    // Fire (s >= theta) for the upper half: theta = the upper median.
                    genome.thresholds[layer][neuron] = upperMedian(&column)
                }
            }
        }
        genomes.replaceSubrange(range, with: block)
    }
}

/// The value at index `count / 2` of `values` sorted (the upper median), found by selection
/// in expected linear time instead of a sort (a sort of every neuron's sums took 40% of a
/// 60-generation GA run on 20,000 text windows): a counting pass when the values span fewer
/// than 4,096 integers (a text model's first-layer sums lie in -context ... context), else a
/// quickselect. The value
/// is the same whatever the pivots, so thresholds do not depend on the method. `values` is
/// reordered; it must not be empty.
func upperMedian(_ values: inout [Int32]) -> Int32 {
    let k = values.count / 2
    let low = values.min()!, high = values.max()!
    if Int(high) - Int(low) < 4096 {
        var counts = [Int](repeating: 0, count: Int(high) - Int(low) + 1)
        for value in values { counts[Int(value) - Int(low)] += 1 }
        var seen = 0
        for (offset, count) in counts.enumerated() {
            seen += count
            if seen > k { return Int32(Int(low) + offset) }
        }
    }
    var left = 0, right = values.count - 1
    while left < right {
        // Hoare partition around the median of three: afterwards values[left ... j] <= pivot,
        // values[i ... right] >= pivot, and anything between equals it.
        let (a, b, c) = (values[left], values[(left + right) / 2], values[right])
        let pivot = max(min(a, b), min(max(a, b), c))
        var i = left, j = right
        while i <= j {
            while values[i] < pivot { i += 1 }
            while values[j] > pivot { j -= 1 }
            if i <= j {
                values.swapAt(i, j)
                i += 1
                j -= 1
            }
        }
        if k <= j { right = j } else if k >= i { left = i } else { return values[k] }
    }
    return values[k]
}

/// Genomes whose calibration sums are held at once.
public let calibrationBlock = 64
