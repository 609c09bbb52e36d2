import Foundation
import TernaryCore

extension Benchmarks {
    /// The hidden activations whose cost `levelsRows` compares: sign (K = 1) and K = 2, 4, 8.
    static let levelKinds: [Activation] = [.sign, .levels(bits: 2), .levels(bits: 4), .levels(bits: 8)]

    /// Rows of kind "levels": the population-batched forward with fitness (as the "ternary" rows,
    /// one thread) of the same weights with sign units and with K-bit levels, the kinds taking
    /// turns within each round; `ratio` is the time over sign's. For a shape with two or more
    /// hidden layers, the last hidden layer's cost is also timed alone, as the time of the
    /// network less that of the same network without that layer (same first layer, an output
    /// layer of the same width): `layer_ratio` is that cost over sign's, the figure of the
    /// target "a K-bit hidden layer costs at most 1.2 K times the same layer with sign units".
    func levelsRows() -> [BenchRow] {
        var rows = [BenchRow]()
        for shape in shapes where shape.count > 2 {
            var rng = Xoshiro256(seed: 2024)
            let signNetworks = (0..<population).map { _ in
                TernaryNetwork(layerSizes: shape, zeroFraction: 1.0 / 3, using: &rng)
            }
            let features = (0..<(batchSize * shape[0])).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let batch = ExampleBatch(
                features: features, featureCount: shape[0],
                labels: (0..<batchSize).map { _ in rng.uniformBelow(shape.last!) })
            // The shape without its last hidden layer, with the same first layer (nil: one hidden layer).
            let reduced = shape.count > 3 ? Array(shape.prefix(shape.count - 2)) + [shape.last!] : nil
            let reducedNetworks: [TernaryNetwork] =
                reduced.map { sizes in
                    signNetworks.map { network in
                        var less = TernaryNetwork(layerSizes: sizes, zeroFraction: 1.0 / 3, using: &rng)
                        less.weights[0] = network.weights[0]
                        return less
                    }
                } ?? []
            let name = shape.map(String.init).joined(separator: "-")
            progress("levels \(name): sign and K = 2, 4, 8 in turn, 1 thread")
            var bodies = [() -> Void]()
            for kind in Self.levelKinds {
                let variants: [([Int], [TernaryNetwork])] = [(shape, signNetworks), (reduced ?? [], reducedNetworks)]
                for (sizes, networks) in variants where !networks.isEmpty {
                    let evaluator = PopulationEvaluator(layerSizes: sizes, threads: 1)
                    let population = networks.map { Self.withActivation($0, kind) }
                    bodies.append { blackHole(evaluator.scores(of: population, on: batch)) }
                }
            }
            let timings = medianSeconds(bodies)
            let perKind = reduced == nil ? 1 : 2
            let signSeconds = timings[0], signLayer = reduced == nil ? nil : timings[0] - timings[1]
            for (index, kind) in Self.levelKinds.enumerated() {
                let seconds = timings[perKind * index]
                var extra: [String: Any] = [
                    "bits": kind.bits, "seconds": seconds, "ratio": seconds / signSeconds,
                    "population": population, "batch": batchSize,
                ]
                if let signLayer {
                    extra["layer_seconds"] = seconds - timings[perKind * index + 1]
                    extra["layer_ratio"] = (seconds - timings[perKind * index + 1]) / signLayer
                }
                rows.append(
                    BenchRow(
                        shape: name, kind: "levels", threads: 1, genomeEvalsPerSecond: Double(population) / seconds,
                        extra: extra))
            }
        }
        return rows
    }

    /// `network` with hidden activation `kind`: thresholds and steps that spread the sums of
    /// random bytes and trits over the levels (the timing does not depend on them).
    static func withActivation(_ network: TernaryNetwork, _ kind: Activation) -> TernaryNetwork {
        guard kind.isLevels else { return network }
        var levels = TernaryNetwork(layerSizes: network.layerSizes, activation: kind, quantizer: network.quantizer)
        levels.weights = network.weights
        for l in levels.steps.indices {
            let spread = (l == 0 ? 128.0 : Double(kind.maxLevel)) * Double(network.layerSizes[l]).squareRoot()
            levels.steps[l] = Int32(max(1, 2 * spread / Double(kind.maxLevel)))
            levels.thresholds[l] = [Int32](repeating: Int32(-spread), count: network.layerSizes[l + 1])
        }
        return levels
    }

    /// The table lines of the "levels" rows.
    static func levelsLines(_ rows: [BenchRow]) -> [String] {
        let levels = rows.filter { $0.kind == "levels" }
        guard let head = levels.first else { return [] }
        var lines = [
            "",
            "hidden activations: sign (K = 1) and K-bit levels, same weights (P = \(head.extra["population"] ?? ""), "
                + "B = \(head.extra["batch"] ?? ""), 1 thread, medians of alternating rounds; target: last hidden layer <= 1.2 K times sign's):",
        ]
        lines.append(
            "  " + cell("shape", 18, right: false) + cell("K", 3) + cell("genome evals/s", 16) + cell("vs sign", 9)
                + cell("last hidden layer vs sign", 27))
        for row in levels {
            lines.append(
                "  " + cell(row.shape ?? "", 18, right: false) + cell("\(row.extra["bits"] as? Int ?? 0)", 3)
                    + cell(grouped(Int(row.genomeEvalsPerSecond ?? 0)), 16)
                    + cell(String(format: "%.2fx", row.extra["ratio"] as? Double ?? 0), 9)
                    + cell((row.extra["layer_ratio"] as? Double).map { String(format: "%.2fx", $0) } ?? "-", 27))
        }
        return lines
    }
}

/// `text` padded with spaces to `width` characters, on the left (`right`) or the right.
func cell(_ text: String, _ width: Int, right: Bool = true) -> String {
    let pad = String(repeating: " ", count: max(0, width - text.count))
    return right ? pad + text : text + pad
}
