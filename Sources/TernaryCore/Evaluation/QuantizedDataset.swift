/// Examples quantised to bytes (<doc:Semantics>) with integer labels: what trainers sample
/// batches from.
public struct QuantizedDataset: Sendable {
    /// Row-major quantised features, `count * featureCount` bytes.
    public let features: [UInt8]
    /// Inputs per example.
    public let featureCount: Int
    /// Class of each example, in `0 ..< classCount`.
    public let labels: [Int]
    /// Number of classes.
    public let classCount: Int
    /// For one-hot token inputs (<doc:Semantics>): the windows, and `features` is empty.
    public let windows: TokenWindows?

    public init(features: [UInt8], featureCount: Int, labels: [Int], classCount: Int) {
        precondition(
            featureCount >= 1 && features.count == labels.count * featureCount,
            "features must hold labels.count * featureCount bytes")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "labels must lie in 0..<classCount")
        self.features = features
        self.featureCount = featureCount
        self.labels = labels
        self.classCount = classCount
        windows = nil
    }

    /// The windows of a symbol stream as examples: `featureCount = context x V` one-hot inputs,
    /// never materialised; labels are the next symbols; `classCount` is V.
    public init(windows: TokenWindows) {
        features = []
        featureCount = windows.context * windows.vocabulary
        labels = windows.labels
        classCount = windows.vocabulary
        self.windows = windows
    }

    /// The examples at `indices` as their inputs (row-major): `featureCount` bytes each, or
    /// for token inputs `context` column indices each (as `TokenWindows.columns`).
    func rows(_ indices: some Collection<Int>) -> (bytes: [UInt8], columns: [Int32]) {
        if let windows { return ([], windows.columns(indices)) }
        var x = [UInt8]()
        x.reserveCapacity(indices.count * featureCount)
        for i in indices { x += features[(i * featureCount)..<((i + 1) * featureCount)] }
        return (x, [])
    }

    /// Number of examples.
    public var count: Int { labels.count }

    /// The examples at `indices`, laid out for the evaluator.
    public func batch(_ indices: some Collection<Int>) -> ExampleBatch {
        if let windows {
            return ExampleBatch(
                tokenColumns: windows.columns(indices), context: windows.context,
                featureCount: featureCount, labels: indices.map { labels[$0] })
        }
        var x = [UInt8]()
        x.reserveCapacity(indices.count * featureCount)
        for i in indices { x += features[(i * featureCount)..<((i + 1) * featureCount)] }
        return ExampleBatch(features: x, featureCount: featureCount, labels: indices.map { labels[$0] })
    }

    /// Every example, in order.
    public var all: ExampleBatch {
        if windows != nil { return batch(0..<count) }
        return ExampleBatch(features: features, featureCount: featureCount, labels: labels)
    }

    /// `size` distinct example indices drawn uniformly (a partial Fisher-Yates shuffle), or all
    /// indices in order when `size >= count`.
    public func sampleIndices(_ size: Int, using generator: inout some RandomNumberGenerator) -> [Int] {
        var indices = Array(0..<count)
        guard size < count else { return indices }
        for k in 0..<size {
            indices.swapAt(k, k + generator.uniformBelow(count - k))
        }
        return Array(indices[0..<size])
    }
}
