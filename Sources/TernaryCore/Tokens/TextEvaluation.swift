import Foundation

/// Bits per character of an integer network (<doc:Semantics>): the mean of `-log2 p(next)`
/// with `p = softmax(z / T)` over the network's Int32 logits `z`, and next-symbol accuracy
/// (argmax, ties to the lowest index). Computed in Double, in chunks of examples so the logits
/// of a large split are never held at once; the sum runs in example order, so the result does
/// not depend on the thread count.
public enum TextEvaluation {
    /// Examples per chunk of logits.
    static let chunk = 16_384

    /// Sum of `-ln p(label)` at temperature `T` and the number of correct argmaxes, over logits `[B][C]`.
    public static func nats(
        _ logits: [Int32], labels: ArraySlice<Int>, classes C: Int, temperature T: Double
    ) -> (nats: Double, correct: Int) {
        var total = 0.0, correct = 0
        let inverse = 1 / T
        logits.withUnsafeBufferPointer { z in
            var b = 0
            for label in labels {
                let row = z.baseAddress! + b * C
                var top = row[0], best = 0
                for c in 1..<C where row[c] > top {
                    top = row[c]
                    best = c
                }
                var sum = 0.0
                for c in 0..<C { sum += exp(Double(row[c] - top) * inverse) }
                total += log(sum) - Double(row[label] - top) * inverse
                if best == label { correct += 1 }
                b += 1
            }
        }
        return (total, correct)
    }

    /// Bits per character and accuracy of `network` on `data` (or the examples at `indices`)
    /// at temperature `T`.
    public static func score(
        _ network: TernaryNetwork, on data: QuantizedDataset, indices: [Int]? = nil, temperature T: Double,
        evaluator: PopulationEvaluator
    ) -> (bits: Double, accuracy: Double) {
        score(network, on: data, indices: indices, temperature: T, evaluator: evaluator, until: .never)!
    }

    /// `score(_:on:indices:temperature:evaluator:)`, asking `stop` between chunks of examples
    /// (nil: stopped). The chunks are summed in order either way, so the result is the same.
    /// With a `communicator` of more than one rank, every rank must call it: each computes its
    /// share of the chunks (`WorkSplit` over them), the chunks' totals are all-gathered and
    /// every rank sums them in chunk order, so the result is one process's bit for bit (NaN if
    /// the collective failed).
    public static func score(
        _ network: TernaryNetwork, on data: QuantizedDataset, indices: [Int]? = nil, temperature T: Double,
        evaluator: PopulationEvaluator, until stop: StopSignal, communicator: Communicator? = nil
    ) -> (bits: Double, accuracy: Double)? {
        let count = indices?.count ?? data.count
        guard count > 0 else { return (.nan, .nan) }
        let chunks = (count + chunk - 1) / chunk, size = communicator?.size ?? 1
        // Each chunk's nats and correct count, for this rank's chunks.
        var totals = [Double]()
        for k in WorkSplit.range(count: chunks, rank: communicator?.rank ?? 0, size: size) {
            if stop.isRaised { return nil }
            let range = (k * chunk)..<min(count, (k + 1) * chunk)
            let picked = indices.map { Array($0[range]) } ?? Array(range)
            let part = TextEvaluation.nats(
                evaluator.logits(of: [network], on: data.batch(picked))[0],
                labels: ArraySlice(picked.map { data.labels[$0] }), classes: network.classCount, temperature: T)
            totals += [part.nats, Double(part.correct)]
        }
        if let communicator, size > 1 {
            do throws(CommunicationError) {
                totals = try communicator.allGather(
                    totals, counts: WorkSplit.counts(count: chunks, size: size).map { 2 * $0 })
            } catch { return (.nan, .nan) }
        }
        var nats = 0.0, correct = 0
        for k in 0..<chunks {
            nats += totals[2 * k]
            correct += Int(totals[2 * k + 1])
        }
        return (nats / Double(count) / log(2), Double(correct) / Double(count))
    }

    /// Up to `size` evenly spaced indices of `count` examples (a deterministic sample).
    public static func sample(_ count: Int, size: Int = 8_192) -> [Int] {
        let n = min(size, count)
        return (0..<n).map { $0 * count / n }
    }

    /// The temperature minimising the mean cross-entropy of logits `[B][C]` against `labels`: a
    /// golden-section search over `log T` in [log 0.01, log 10^4] (the loss is unimodal in `T`
    /// for a fixed set of logits in practice; 48 steps narrow the bracket to a factor 1.0000x).
    public static func fitTemperature(logits: [Int32], labels: ArraySlice<Int>, classes: Int) -> Double {
        fitTemperature(logits: logits, labels: labels, classes: classes, until: .never)!
    }

    /// `fitTemperature(logits:labels:classes:)`, asking `stop` before each loss it computes (nil:
    /// stopped; the search is the same either way).
    public static func fitTemperature(
        logits: [Int32], labels: ArraySlice<Int>, classes: Int, until stop: StopSignal
    ) -> Double? {
        func loss(_ logT: Double) -> Double? {
            stop.isRaised ? nil : nats(logits, labels: labels, classes: classes, temperature: exp(logT)).nats
        }
        let ratio = (5.0.squareRoot() - 1) / 2
        var low = log(0.01), high = log(1e4)
        var a = high - ratio * (high - low), b = low + ratio * (high - low)
        guard var fa = loss(a), var fb = loss(b) else { return nil }
        for _ in 0..<48 {
            if fa <= fb {
                high = b
                b = a
                fb = fa
                a = high - ratio * (high - low)
                guard let next = loss(a) else { return nil }
                fa = next
            } else {
                low = a
                a = b
                fa = fb
                b = low + ratio * (high - low)
                guard let next = loss(b) else { return nil }
                fb = next
            }
        }
        return exp((low + high) / 2)
    }

    /// The fitted temperature of `network` on a fixed sample of the training windows: up to
    /// `sampleSize` evenly spaced examples of `train` (deterministic, no random stream). The
    /// sample's logits are computed in chunks (asking `stop` between them; nil: stopped).
    public static func fitTemperature(
        _ network: TernaryNetwork, train: QuantizedDataset, sampleSize: Int = 8_192,
        evaluator: PopulationEvaluator, until stop: StopSignal = .never
    ) -> Double? {
        let indices = sample(train.count, size: sampleSize)
        guard !indices.isEmpty else { return 1 }
        var z = [Int32]()
        z.reserveCapacity(indices.count * network.classCount)
        for start in stride(from: 0, to: indices.count, by: chunk / 8) {
            if stop.isRaised { return nil }
            z +=
                evaluator.logits(
                    of: [network], on: train.batch(indices[start..<min(indices.count, start + chunk / 8)]))[0]
        }
        return fitTemperature(
            logits: z, labels: ArraySlice(indices.map { train.labels[$0] }), classes: network.classCount, until: stop)
    }
}
