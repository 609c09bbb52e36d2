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

    /// A batch from row-major quantised features (`count * featureCount` bytes) and labels.
    public init(features: [UInt8], featureCount: Int, labels: [Int]) {
        precondition(featureCount >= 1, "an example needs at least one feature")
        precondition(features.count == labels.count * featureCount,
                     "features must hold labels.count * featureCount bytes")
        precondition(labels.allSatisfy { $0 >= 0 }, "labels must be non-negative")
        count = labels.count
        self.featureCount = featureCount
        self.labels = labels
        let tiles = max(1, (count + tileWidth - 1) / tileWidth)
        columns = AlignedColumns(count: tiles * featureCount * tileWidth) { columns in
            for b in 0..<labels.count {
                for i in 0..<featureCount {
                    columns[ExampleBatch.offset(example: b, input: i, featureCount: featureCount)] = Int16(features[b * featureCount + i])
                }
            }
        }
    }

    /// The quantised features of example `index`.
    public func features(of index: Int) -> [UInt8] {
        (0..<featureCount).map { UInt8(columns[ExampleBatch.offset(example: index, input: $0, featureCount: featureCount)]) }
    }

    static func offset(example: Int, input: Int, featureCount: Int) -> Int {
        ((example / tileWidth) * featureCount + input) * tileWidth + example % tileWidth
    }
}
