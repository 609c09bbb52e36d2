// Copying a cache, rebuilding it from a data set, and the entry points that take Swift arrays
// (see DeltaCache.swift for the layout). Used by `IncrementalScorer` and `CachePool`.

extension DeltaCache {
    /// Makes this cache equal to `source` (same genome, batch and cached values): a memory copy
    /// of every buffer, O(B (n0 + hidden + C)) bytes, instead of a full evaluation. Buffers are
    /// reallocated only when the batch shape differs.
    func copy(from source: DeltaCache) {
        precondition(source.sizes == sizes, "a cache of layers \(source.sizes) cannot be copied into one of \(sizes)")
        // Buffer sizes follow from (layer sizes, examples, context) alone.
        if source.exampleCount != exampleCount || source.context != context || source.isLevels != isLevels || words == 0
        {
            adoptShape(of: source)
        }
        network = source.network
        func copyBuffer<T>(_ target: DeltaBuffer<T>, _ origin: DeltaBuffer<T>) {
            target.base.update(from: origin.base, count: origin.count)
        }
        copyBuffer(inputs, source.inputs)
        copyBuffer(windows, source.windows)
        copyBuffer(indexStart, source.indexStart)
        copyBuffer(indexExamples, source.indexExamples)
        for l in sums.indices {
            copyBuffer(sums[l], source.sums[l])
            copyBuffer(bits[l], source.bits[l])
            copyBuffer(levels[l], source.levels[l])
        }
        for l in columns.indices { copyBuffer(columns[l], source.columns[l]) }
        for l in thresholds.indices { copyBuffer(thresholds[l], source.thresholds[l]) }
        copyBuffer(logits, source.logits)
        copyBuffer(units, source.units)
        copyBuffer(correct, source.correct)
        copyBuffer(tops, source.tops)
        copyBuffer(bests, source.bests)
        copyBuffer(normalisers, source.normalisers)
        copyBuffer(labelLogits, source.labelLogits)
        copyBuffer(labels, source.labels)
        totalUnits = source.totalUnits
        totalCorrect = source.totalCorrect
    }

    /// A full evaluation of `genome` on `data` (or the examples at `indices` of it) into the cache.
    func rebuild(_ genome: TernaryNetwork, on data: QuantizedDataset, indices: [Int]?, workers: Int) {
        if let windows = data.windows {
            let columns = windows.columns(indices ?? Array(0..<data.count))
            columns.withUnsafeBufferPointer { tokens in
                [UInt8]().withUnsafeBufferPointer {
                    rebuild(
                        genome, features: $0, tokenColumns: tokens, context: windows.context,
                        labels: indices.map { $0.map { data.labels[$0] } } ?? data.labels, workers: workers)
                }
            }
        } else if let indices {
            var features = [UInt8]()
            features.reserveCapacity(indices.count * data.featureCount)
            for i in indices { features += data.features[(i * data.featureCount)..<((i + 1) * data.featureCount)] }
            features.withUnsafeBufferPointer {
                rebuild(genome, features: $0, labels: indices.map { data.labels[$0] }, workers: workers)
            }
        } else {
            data.features.withUnsafeBufferPointer {
                rebuild(genome, features: $0, labels: data.labels, workers: workers)
            }
        }
    }

    /// `score(_:scratch:)` of a slice of moves.
    func score(_ moves: ArraySlice<Move>, scratch: DeltaScratch) -> (units: Int64, correct: Int) {
        moves.withUnsafeBufferPointer { score($0, scratch: scratch) }
    }

    /// `apply(_:scratch:)` of a slice of moves.
    func apply(_ moves: ArraySlice<Move>, scratch: DeltaScratch) {
        moves.withUnsafeBufferPointer { apply($0, scratch: scratch) }
    }

    /// Bytes a cache of `layerSizes` holds on `examples` examples (token inputs: `context`
    /// symbols per window; a levels `activation` keeps a byte per hidden value instead of a bit),
    /// the genome included: what `CachePool` budgets with.
    static func byteCount(layerSizes: [Int], examples: Int, context: Int = 0, activation: Activation = .sign) -> Int {
        let words = max(1, (examples + 63) / 64), padded = words * 64
        let hidden = layerSizes.dropFirst().dropLast().reduce(0, +)
        let later = TernaryNetwork.weightCount(layerSizes: Array(layerSizes.dropFirst()))
        let genome = TernaryNetwork.byteCount(layerSizes: layerSizes)
        let inputs =
            context > 0
            ? 4 * context * padded + 4 * (layerSizes[0] + 1) + 4 * examples * context : layerSizes[0] * padded
        let values = activation.isLevels ? hidden * padded : 8 * hidden * words
        return inputs + 4 * hidden * padded + values + later + 4 * hidden
            + examples * (4 * layerSizes.last! + 8 + 1 + 4 + 20) + genome
    }
}
