import TernaryCore

// The starts of the evolution arms: random genomes, thresholds calibrated from the sums, and the
// readout output layer that `local`, `es` and the GA may start from.

extension SearchProblem {
    /// Random genomes `0 ..< count` of the run (stream per individual), thresholds calibrated
    /// on a seeded sample of the train split.
    public func initialGenomes(count: Int, zeroFraction: Double, seed: UInt64) -> [TernaryNetwork] {
        initialGenomes(count: count, zeroFraction: zeroFraction, readout: false, seed: seed, until: .never)!
    }

    /// Random genomes `0 ..< count` of the run, thresholds calibrated on a seeded sample of the
    /// train split, each with its readout output layer when `readout` is set
    /// (`readoutInitialized`); nil when `stop` was raised first.
    ///
    /// Built in blocks of `calibrationBlock` genomes, asking `stop` between blocks and reporting
    /// the share done (`StopSignal.note`). A genome's start depends on its own stream and the
    /// data alone, so the blocks change nothing but the memory and the time: the genomes equal
    /// those made one at a time (tested). The calibration sample and the readout's examples are
    /// laid out once per start, not once per genome (a population of 100,000 on digits started
    /// in 16 s, most of it laying out the train split for every genome's readout).
    ///
    /// Distributed, every rank draws every genome's random weights (cheap), calibrates and reads
    /// out only its share of the genomes (`WorkSplit`), and one all-reduce shares what each
    /// rank computed (`shareStarts`): every rank ends with the genomes of one process, each
    /// having held the sums of its share alone.
    public func initialGenomes(
        count: Int, zeroFraction: Double, readout: Bool, seed: UInt64,
        until stop: StopSignal
    ) -> [TernaryNetwork]? {
        let architecture = self.architecture
        let ngramWindows = firstLayer == .ngrams && architecture.layerSizes.count > 2 ? train.windows : nil
        var rng = Xoshiro256(seed: seed, stream: StreamPath.calibration)
        let sample = train.batch(train.sampleIndices(min(train.count, max(batchSize ?? 0, 256)), using: &rng))
        let readoutData = readout ? readoutExamples() : nil
        let sums = LayerSums(evaluator)
        let distributed = communicator.flatMap { $0.size > 1 ? $0 : nil }
        let share = distributed.map { WorkSplit.range(count: count, rank: $0.rank, size: $0.size) } ?? 0..<count
        var genomes: [TernaryNetwork] = []
        genomes.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: calibrationBlock) {
            if stop.isRaised { return nil }
            stop.note(fraction: Double(start) / Double(count))
            let end = min(count, start + calibrationBlock)
            var block = Parallel.map(count: end - start, workers: threads) { offset, _ in
                var rng = Xoshiro256(seed: seed, stream: StreamPath.initial(start + offset))
                var genome = architecture.randomGenome(zeroFraction: zeroFraction, using: &rng)
                if let ngramWindows { genome.setNgramFirstLayer(from: ngramWindows, using: &rng) }
                return genome
            }
            let mine = (max(start, share.lowerBound)..<min(end, share.upperBound)).clamped(to: start..<end)
            var owned = Array(block[(mine.lowerBound - start)..<(mine.upperBound - start)])
            calibrateThresholds(&owned, on: sample, sums: sums, from: ngramWindows == nil ? 0 : 1)
            if let readoutData, !owned.isEmpty,
                !readoutBlock(&owned, zeroFraction: zeroFraction, examples: readoutData, sums: sums, until: stop)
            {
                return nil
            }
            block.replaceSubrange((mine.lowerBound - start)..<(mine.upperBound - start), with: owned)
            genomes += block
        }
        if let distributed { shareStarts(&genomes, owned: share, readout: readoutData != nil, over: distributed) }
        return genomes
    }

    /// Gives every rank the starts the others computed: per genome its thresholds, steps and
    /// (with a readout) its output layer's bit planes, in one all-reduce of Int64 words in
    /// which each rank fills its own genomes' slots and leaves the others' at 0. A failed
    /// collective is kept for `takeCommunicationError` (the genomes then differ between ranks,
    /// which the state check reports).
    func shareStarts(
        _ genomes: inout [TernaryNetwork], owned: Range<Int>, readout: Bool, over communicator: Communicator
    ) {
        guard let first = genomes.first else { return }
        let last = first.weights.count - 1
        func words(_ genome: TernaryNetwork) -> [Int64] {
            var words = genome.thresholds.joined().map(Int64.init) + genome.steps.map(Int64.init)
            if readout && first.layerSizes.count > 2 {
                words += (genome.weights[last].plus + genome.weights[last].minus).map { Int64(bitPattern: $0) }
            }
            return words
        }
        let width = words(first).count
        var all = [Int64](repeating: 0, count: genomes.count * width)
        for index in owned { all.replaceSubrange((index * width)..<((index + 1) * width), with: words(genomes[index])) }
        do throws(CommunicationError) { all = try communicator.allReduceSum(all) } catch {
            noteCommunicationError(error)
            return
        }
        for index in genomes.indices where !owned.contains(index) {
            var next = index * width
            for layer in genomes[index].thresholds.indices {
                for neuron in genomes[index].thresholds[layer].indices {
                    genomes[index].thresholds[layer][neuron] = Int32(truncatingIfNeeded: all[next])
                    next += 1
                }
            }
            for layer in genomes[index].steps.indices {
                genomes[index].steps[layer] = Int32(truncatingIfNeeded: all[next])
                next += 1
            }
            guard readout && first.layerSizes.count > 2 else { continue }
            let matrix = genomes[index].weights[last], planes = matrix.plus.count
            let bits = all[next..<(next + 2 * planes)].map { UInt64(bitPattern: $0) }
            genomes[index].weights[last] = TernaryMatrix(
                rowCount: matrix.rowCount, columnCount: matrix.columnCount, plus: Array(bits[0..<planes]),
                minus: Array(bits[planes...]))
        }
    }

    /// The single starting genome of a point strategy (`local`, `es`): genome 0 of the run,
    /// thresholds calibrated, with a readout output layer when `readout` is set.
    public func startingPoint(zeroFraction: Double, readout: Bool, seed: UInt64) -> TernaryNetwork {
        startingPoint(zeroFraction: zeroFraction, readout: readout, seed: seed, until: .never)!
    }

    /// `startingPoint`, or nil when `stop` was raised first.
    public func startingPoint(
        zeroFraction: Double, readout: Bool, seed: UInt64, until stop: StopSignal
    ) -> TernaryNetwork? {
        initialGenomes(count: 1, zeroFraction: zeroFraction, readout: readout, seed: seed, until: stop)?[0]
    }

    /// The examples a readout correlates over: the whole train split, or for token inputs
    /// (text; the TernaryCore article Semantics) up to 16,384 evenly spaced windows, not the
    /// whole split (millions of windows times width times classes).
    /// When they number at most `readoutSliceLimit`, they are also laid out once here, for
    /// every block of a population's start to share.
    func readoutExamples() -> ReadoutExamples {
        let indices =
            train.windows != nil && train.count > 16_384
            ? (0..<16_384).map { $0 * train.count / 16_384 } : Array(0..<train.count)
        let whole =
            indices.count > readoutSliceLimit ? nil : indices.count == train.count ? train.all : train.batch(indices)
        return ReadoutExamples(indices: indices, whole: whole)
    }

    /// `genome` with its output layer set from data, without gradients: output trit (c, j) is the
    /// sign of the correlation, over the train split, between hidden unit j (+-1) and the
    /// indicator of class c (+1 for c, -1/(C-1) otherwise; computed exactly in integers, in
    /// O(examples x width)), and the weakest `zeroFraction` of
    /// each class's correlations are set to 0. The readout of a random-features model; local
    /// search and es start from it instead of from chance. Genomes without hidden layers are
    /// returned unchanged. Text runs use a fixed sample of the windows (`readoutExamples`).
    public func readoutInitialized(_ genome: TernaryNetwork, zeroFraction: Double) -> TernaryNetwork {
        var block = [genome]
        _ = readoutBlock(
            &block, zeroFraction: zeroFraction, examples: readoutExamples(), sums: LayerSums(evaluator), until: .never)
        return block[0]
    }

    /// `readoutInitialized` of every genome of `block` (all of one architecture), or false when
    /// `stop` was raised first (`block` is then unchanged). The examples are taken in slices
    /// (the sums of a slice for the whole block in one evaluator call, at most about 16 M of
    /// them held at once), asking `stop` between slices; each genome's per-class sums of its
    /// activations are integers, so the slices change nothing but the memory and the time.
    func readoutBlock(
        _ block: inout [TernaryNetwork], zeroFraction: Double, examples: ReadoutExamples, sums evaluators: LayerSums,
        until stop: StopSignal
    ) -> Bool {
        guard let sizes = block.first?.layerSizes, sizes.count > 2 else { return true }
        let last = sizes.count - 2, width = sizes[last], classes = sizes[last + 1]
        let slice = max(256, min(readoutSliceLimit, (1 << 24) / (width * block.count)))
        var perClass = [[Int]](repeating: [Int](repeating: 0, count: classes * width), count: block.count)
        let genomes = block
        let count = examples.indices.count
        for start in stride(from: 0, to: count, by: slice) {
            if stop.isRaised { return false }
            let part = Array(examples.indices[start..<min(count, start + slice)])
            let batch = part.count == count ? examples.whole ?? train.batch(part) : train.batch(part)
            let sums = evaluators.sums(of: genomes, on: batch, layer: last - 1)
            let labels = part.map { train.labels[$0] }
            Parallel.updateEach(&perClass, workers: threads) { index, counts, _ in
                let hidden = HiddenLayer(genomes[index], layer: last - 1)
                let added = hidden.activationSumsPerClass(
                    sums: sums, from: index * labels.count * width, labels: labels,
                    width: width, classes: classes)
                for k in counts.indices { counts[k] &+= added[k] }
            }
        }
        let totals = perClass
        Parallel.updateEach(&block, workers: threads) { index, genome, _ in
            let trits = readoutTrits(
                perClass: totals[index], width: width, classes: classes, zeroFraction: zeroFraction)
            genome.weights[last] = TernaryMatrix(rowCount: classes, columnCount: width, trits: trits)
        }
        return true
    }
}

/// The readout output layer (row-major, `classes x width` trits) from `perClass`, the sum of
/// each last-hidden unit's activation over the examples of each class (`[classes][width]`).
///
/// The correlation of hidden unit j with class c, scaled by C - 1 to stay in integers: the sum
/// over examples of h_j (C - 1 when the label is c, -1 otherwise) = C S_cj - T_j, with S_cj the
/// sum of h_j over examples of class c and T_j over all. O(B width), exact. Trit (c, j) is its
/// sign, 0 for the weakest `zeroFraction` of each class's correlations.
func readoutTrits(perClass: [Int], width: Int, classes: Int, zeroFraction: Double) -> [Int8] {
    var total = [Int](repeating: 0, count: width)
    for c in 0..<classes { for j in 0..<width { total[j] += perClass[c * width + j] } }
    var trits = [Int8](repeating: 0, count: classes * width)
    var magnitudes = [Int](repeating: 0, count: width)
    for c in 0..<classes {
        for j in 0..<width { magnitudes[j] = abs(classes * perClass[c * width + j] - total[j]) }
        magnitudes.sort()
        let cut = magnitudes[min(width - 1, Int(Double(width) * zeroFraction))]
        for j in 0..<width {
            let value = classes * perClass[c * width + j] - total[j]
            trits[c * width + j] = abs(value) < cut || value == 0 ? 0 : (value > 0 ? 1 : -1)
        }
    }
    return trits
}

/// The sum of each hidden unit's `sign` activation (+-1) over the examples of each class,
/// `[classes][width]`: units that fire counted per class (2 fired - n_c).
func signSumsPerClass(
    sums: [Int32], from start: Int, thresholds: [Int32], labels: [Int], width: Int, classes: Int
) -> [Int] {
    var fired = [Int32](repeating: 0, count: classes * width), members = [Int](repeating: 0, count: classes)
    var row = start
    for label in labels {
        let offset = label * width
        members[label] &+= 1
        for j in 0..<width { fired[offset + j] &+= sums[row + j] >= thresholds[j] ? 1 : 0 }
        row += width
    }
    var perClass = [Int](repeating: 0, count: classes * width)
    for c in 0..<classes { for j in 0..<width { perClass[c * width + j] = 2 * Int(fired[c * width + j]) - members[c] } }
    return perClass
}

/// Sets every hidden threshold to the median of that neuron's sums on `sample`, so each
/// hidden neuron fires for about half of the sample: sign networks start with informative
/// activations instead of neurons stuck at +1 or -1. Layer by layer, since a layer's sums
/// depend on the thresholds before it.
public func calibrateThresholds(
    _ genomes: inout [TernaryNetwork], on sample: ExampleBatch,
    evaluator: PopulationEvaluator
) {
    calibrateThresholds(&genomes, on: sample, sums: LayerSums(evaluator))
}

/// `from`: the first hidden layer calibrated (the layers before it keep their thresholds and steps).
func calibrateThresholds(
    _ genomes: inout [TernaryNetwork], on sample: ExampleBatch, sums evaluators: LayerSums, from firstLayer: Int = 0
) {
    guard let first = genomes.first, sample.count > 0 else { return }
    // A block of genomes at a time: the sums of a block are what is held (a genome's
    // thresholds depend on it alone, so the blocks change nothing but the memory).
    for start in stride(from: 0, to: genomes.count, by: calibrationBlock) {
        let range = start..<min(genomes.count, start + calibrationBlock)
        var block = Array(genomes[range])
        for layer in first.thresholds.indices.dropFirst(firstLayer) {
            let width = first.layerSizes[layer + 1]
            let sums = evaluators.sums(of: block, on: sample, layer: layer)
            Parallel.updateEach(&block, workers: evaluators.threads) { index, genome, _ in
                var column = [Int32](repeating: 0, count: sample.count)
                var spans = genome.activation.isLevels ? [Int64](repeating: 0, count: width) : []
                let base = index * sample.count * width
                for neuron in 0..<width {
                    for b in 0..<sample.count { column[b] = sums[base + b * width + neuron] }
                    // Fire (s >= theta) for the upper half: theta = the upper median.
                    genome.thresholds[layer][neuron] = upperMedian(&column)
                    if !spans.isEmpty {
                        spans[neuron] = levelSpan(&column, threshold: genome.thresholds[layer][neuron])
                    }
                }
                if !spans.isEmpty { placeLevels(&genome, layer: layer, spans: &spans) }
            }
        }
        genomes.replaceSubrange(range, with: block)
    }
}

/// The sums of each hidden layer for blocks of genomes, by evaluators of the networks' prefixes
/// made once (an evaluator per block allocated its scratch and logits afresh: a third of a
/// population's start went to page faults).
struct LayerSums {
    let prefixes: [PopulationEvaluator]
    var threads: Int { prefixes.first?.threads ?? 1 }

    init(_ evaluator: PopulationEvaluator) {
        let sizes = evaluator.layerSizes
        prefixes = (0..<max(0, sizes.count - 2)).map {
            PopulationEvaluator(
                layerSizes: Array(sizes[0...($0 + 1)]), threads: evaluator.threads,
                instructionSet: evaluator.instructionSet)
        }
    }

    /// The sums of hidden layer `layer` before thresholds: `result[(p * B + b) * n + j]`.
    func sums(of block: [TernaryNetwork], on batch: ExampleBatch, layer: Int) -> [Int32] {
        prefixes[layer].flatLogits(of: block.map { $0.prefix(throughLayer: layer) }, on: batch)
    }
}

/// The value at index `count / 2` of `values` sorted (the upper median), found by selection
/// in expected linear time instead of a sort (a sort of every neuron's sums took 40% of a
/// 60-generation GA run on 20,000 text windows): a counting pass when the values span fewer
/// than 4,096 integers (a text model's first-layer sums lie in -context ... context), else a
/// quickselect. The value
/// is the same whatever the pivots, so thresholds do not depend on the method. `values` is
/// reordered; it must not be empty.
func upperMedian(_ values: inout [Int32]) -> Int32 { orderStatistic(&values, index: values.count / 2) }

/// The value at index `k` of `values` sorted, by the selection of `upperMedian`.
func orderStatistic(_ values: inout [Int32], index k: Int) -> Int32 {
    precondition(k >= 0 && k < values.count, "index \(k) outside the \(values.count) values")
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

/// The most examples a readout takes in one slice.
let readoutSliceLimit = 16_384

/// The examples of a readout (indices into the train split) and, when one slice can hold them,
/// their batch, laid out once per start.
struct ReadoutExamples {
    var indices: [Int]
    var whole: ExampleBatch?
}
