import Foundation
import TernaryCore

/// Reads a whole data file: it must be a regular file (not a folder, a device such as
/// `/dev/zero`, or a pipe) of at most `limit` bytes, checked before anything is read.
enum DataFileReader {
    /// Data files larger than this are refused (4 GiB; MNIST's 60,000 images are 47 MB).
    static let byteLimit = 4 << 30

    static func read(_ path: String, limit: Int = byteLimit) throws(DataError) -> [UInt8] {
        _ = try checkedSize(path, limit: limit)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path: path, problem: "cannot be read (no permission)")
        }
        return [UInt8](data)
    }

    /// The size of a regular file of at most `limit` bytes (checked without reading it).
    static func checkedSize(_ path: String, limit: Int = byteLimit) throws(DataError) -> Int {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw DataError(
                path: path,
                problem: FileManager.default.fileExists(atPath: path)
                    ? "cannot be read (no permission)" : "does not exist")
        }
        let type = attributes[.type] as? FileAttributeType
        guard type == .typeRegular else {
            throw DataError(
                path: path,
                problem: type == .typeDirectory
                    ? "is a folder, not a data file"
                    : "is not a regular file (a device, pipe or socket); give a CSV or IDX file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= limit else {
            throw DataError(
                path: path, problem: "is \(size) bytes, larger than the \(limit)-byte limit for a data file")
        }
        return size
    }
}

/// Raw examples with integer labels, before quantisation: what loaders produce.
public struct LabeledData: Sendable {
    /// Labels must be class indices below this (checked at load, before anything is sized).
    public static let classLimit = 65_536
    /// Row-major feature values, `count * featureCount`.
    public var features: [Float]
    public var featureCount: Int
    /// Class of each example, `0 ..< classCount`.
    public var labels: [Int]
    public var classCount: Int
    /// Where the data came from, for messages.
    public var source: String

    public var count: Int { labels.count }

    /// Refuses data no classifier can be trained on: fewer than two classes present.
    public func checkTrainable() throws(DataError) {
        guard let first = labels.first, labels.contains(where: { $0 != first }) else {
            throw DataError(
                path: source,
                problem:
                    "holds a single class (\(labels.first.map(String.init) ?? "none")); a classifier needs at least two"
            )
        }
    }

    /// Refuses labels that are not numbered 0 ... C-1: when fewer than half of the classes
    /// below the largest label occur, the file almost surely holds ids or codes, and a
    /// network with an output per class up to the largest would be sized for nothing.
    public func checkClassNumbers() throws(DataError) {
        var present = [Bool](repeating: false, count: classCount)
        for label in labels { present[label] = true }
        let distinct = present.filter { $0 }.count
        guard distinct * 2 >= classCount else {
            throw DataError(
                path: source,
                problem:
                    "labels run up to \(classCount - 1), but only \(distinct) of the \(classCount) classes 0 ... \(classCount - 1) occur; number the classes 0 ... C-1 (for example by their order of first appearance)"
            )
        }
    }

    /// The examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledData {
        var x = [Float]()
        x.reserveCapacity(indices.count * featureCount)
        for i in indices { x += features[(i * featureCount)..<((i + 1) * featureCount)] }
        return LabeledData(
            features: x, featureCount: featureCount, labels: indices.map { labels[$0] },
            classCount: classCount, source: source)
    }

    /// A stratified split: from each class, `round(testFraction * n_class)` examples chosen by a
    /// seeded shuffle go to the test split. Both splits keep the original order.
    public func split(testFraction: Double, seed: UInt64) -> (train: LabeledData, test: LabeledData) {
        precondition(testFraction >= 0 && testFraction < 1, "the test fraction must lie in [0, 1)")
        var rng = Xoshiro256(seed: seed, stream: StreamPath.split)
        var isTest = [Bool](repeating: false, count: count)
        for label in 0..<classCount {
            var members = labels.indices.filter { labels[$0] == label }
            for k in stride(from: members.count - 1, to: 0, by: -1) {
                members.swapAt(k, rng.uniformBelow(k + 1))
            }
            let take = Int((testFraction * Double(members.count)).rounded())
            for index in members.prefix(take) { isTest[index] = true }
        }
        return (subset(labels.indices.filter { !isTest[$0] }), subset(labels.indices.filter { isTest[$0] }))
    }

    /// The examples quantised to bytes with `quantizer` (fit it on the training split).
    public func quantized(with quantizer: InputQuantizer) -> QuantizedDataset {
        QuantizedDataset(
            features: quantizer.quantize(features: features, featureCount: featureCount), featureCount: featureCount,
            labels: labels, classCount: classCount)
    }
}

/// A data file that cannot be used: the file, where, and what is wrong.
public struct DataError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// A dataset (CSV, IDX or synthetic, see `DatasetFile`) as the commands use it: split (stratified, seeded) and quantised with a
/// quantiser fitted on the train split only.
enum PreparedData {
    static func load(
        _ path: String, testFraction: Double, seed: UInt64, bits: Int
    ) throws
        -> (train: QuantizedDataset, test: QuantizedDataset, quantizer: InputQuantizer)
    {
        let data: LabeledData
        do { data = try DatasetFile.load(path, seed: seed) } catch { throw CommandError.data("\(error)") }
        let (train, test) = data.split(testFraction: testFraction, seed: seed)
        let quantizer = InputQuantizer(fitting: train.features, bits: bits)
        return (train.quantized(with: quantizer), test.quantized(with: quantizer), quantizer)
    }
}
