/// A batch of quantised examples with labels, laid out once for the evaluator.
///
/// Built once per batch and shared by every genome scored on it: the inputs are stored in tiles
/// of 128 examples, each tile transposed and widened to Int16 (`[tile][input][128]`; the last
/// tile padded with zero examples), so the first-layer kernel reads one input of 128 examples
/// as one contiguous, cache-line-aligned 256-byte vector.
public struct ExampleBatch: Sendable {
    /// Number of examples, B.
    public let count: Int
    /// Inputs per example, n0.
    public let featureCount: Int
    /// The class of each example, each in `0 ..< classCount` of the networks scored on it.
    public let labels: [Int]
    let columns: AlignedColumns
    /// One-hot token inputs (<doc:Semantics>): symbols per window (0 for byte features).
    public let context: Int
    /// For token inputs, the input columns `p V + t_p` of each example, row-major `[B][context]`
    /// (and `columns` is empty); empty for byte features.
    let tokenColumns: [Int32]

    /// A batch from row-major quantised features (`count * featureCount` bytes) and labels.
    public init(features: [UInt8], featureCount: Int, labels: [Int]) {
        precondition(featureCount >= 1, "an example needs at least one feature")
        precondition(
            features.count == labels.count * featureCount,
            "features must hold labels.count * featureCount bytes")
        precondition(labels.allSatisfy { $0 >= 0 }, "labels must be non-negative")
        count = labels.count
        self.featureCount = featureCount
        self.labels = labels
        context = 0
        tokenColumns = []
        let tiles = max(1, (count + tileWidth - 1) / tileWidth)
        columns = AlignedColumns(count: tiles * featureCount * tileWidth) { columns in
            for b in 0..<labels.count {
                for i in 0..<featureCount {
                    columns[ExampleBatch.offset(example: b, input: i, featureCount: featureCount)] = Int16(
                        features[b * featureCount + i])
                }
            }
        }
    }

    /// A batch of token windows: `tokenColumns` holds `context` input columns per example (each
    /// below `featureCount`, one per block of `featureCount / context`).
    public init(tokenColumns: [Int32], context: Int, featureCount: Int, labels: [Int]) {
        precondition(context >= 1 && featureCount % context == 0, "featureCount must be context x vocabulary")
        precondition(
            tokenColumns.count == labels.count * context, "tokenColumns must hold labels.count * context columns")
        precondition(labels.allSatisfy { $0 >= 0 }, "labels must be non-negative")
        let vocabulary = featureCount / context
        precondition(
            tokenColumns.indices.allSatisfy {
                Int(tokenColumns[$0]) / vocabulary == $0 % context && tokenColumns[$0] >= 0
            },
            "column p of a window must lie in block p of the inputs")
        count = labels.count
        self.featureCount = featureCount
        self.labels = labels
        self.context = context
        self.tokenColumns = tokenColumns
        columns = AlignedColumns(count: 0) { _ in }
    }

    /// The quantised features of example `index` (for token inputs, its one-hot code).
    public func features(of index: Int) -> [UInt8] {
        if context > 0 {
            var x = [UInt8](repeating: 0, count: featureCount)
            for p in 0..<context { x[Int(tokenColumns[index * context + p])] = 1 }
            return x
        }
        return (0..<featureCount).map {
            UInt8(columns[ExampleBatch.offset(example: index, input: $0, featureCount: featureCount)])
        }
    }

    static func offset(example: Int, input: Int, featureCount: Int) -> Int {
        ((example / tileWidth) * featureCount + input) * tileWidth + example % tileWidth
    }
}
