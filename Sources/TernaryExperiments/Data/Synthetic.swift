import Foundation
import TernaryCore

/// Built-in synthetic tasks, generated from a seed (<doc:ConfigReference>).
public enum SyntheticTask: Hashable, Sendable {
    /// The four points of XOR on inputs {0, 1}.
    case xor
    /// All 2^n patterns of n binary inputs, labelled by parity (n in 1 ... 16).
    case parity(Int)
    /// Two interleaved spirals in the plane, `count` points with a little noise.
    case spirals(count: Int)

    /// Parses `xor`, `parity:N`, `spirals` or `spirals:COUNT`.
    public init?(name: String) {
        let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "xor" where parts.count == 1: self = .xor
        case "parity" where parts.count == 2:
            guard let n = Int(parts[1]), (1...16).contains(n) else { return nil }
            self = .parity(n)
        case "spirals":
            if parts.count == 1 {
                self = .spirals(count: 1000)
                return
            }
            guard let count = Int(parts[1]), (2...10_000_000).contains(count) else { return nil }
            self = .spirals(count: count)
        default: return nil
        }
    }

    /// The task's examples (raw values; quantise them like any dataset).
    public func generate(seed: UInt64) -> LabeledData {
        switch self {
        case .xor:
            return LabeledData(
                features: [0, 0, 0, 1, 1, 0, 1, 1], featureCount: 2, labels: [0, 1, 1, 0],
                classCount: 2, source: "xor")
        case let .parity(n):
            var features = [Float](), labels = [Int]()
            for pattern in 0..<(1 << n) {
                for bit in 0..<n { features.append(Float(pattern >> bit & 1)) }
                labels.append(pattern.nonzeroBitCount & 1)
            }
            return LabeledData(
                features: features, featureCount: n, labels: labels, classCount: 2, source: "parity:\(n)")
        case let .spirals(count):
            var rng = Xoshiro256(seed: seed, stream: StreamPath.spirals)
            var features = [Float](), labels = [Int]()
            for k in 0..<count {
                let label = k & 1
                let t = rng.uniformDouble()
                let angle = 3 * Double.pi * t + Double(label) * Double.pi
                let radius = 0.1 + 0.9 * t
                let noise = { (rng: inout Xoshiro256) in (rng.uniformDouble() - 0.5) * 0.05 }
                features.append(Float(radius * cos(angle) + noise(&rng)))
                features.append(Float(radius * sin(angle) + noise(&rng)))
                labels.append(label)
            }
            return LabeledData(
                features: features, featureCount: 2, labels: labels, classCount: 2, source: "spirals:\(count)")
        }
    }
}
