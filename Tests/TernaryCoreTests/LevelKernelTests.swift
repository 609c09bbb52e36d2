import Foundation
import TestSupport
import Testing

@testable import TernaryCore

/// The levels scorer's kernels against Swift formulas, on every instruction set, at sizes that
/// are not multiples of 16 or 64.
@Suite("Levels scorer kernels")
struct LevelKernelTests {
    @Test(
        "batch_levels gives the levels of the formula, with and without the bound test",
        arguments: InstructionSet.supported)
    func batchLevels(isa: InstructionSet) {
        var rng = Xoshiro256(seed: 61)
        for trial in 0..<48 {
            let count = [1, 13, 63, 64, 65, 127, 129, 200][trial % 8], words = (count + 63) / 64, padded = words * 64
            let bits = 2 + trial % 7, top = Int32((1 << bits) - 1)
            // Small thresholds and steps (the bound test), or huge ones (every example divides).
            let bounds = trial % 3 != 0
            let theta =
                bounds ? Int32(rng.uniformBelow(2_001)) - 1_000 : Int32(rng.uniformBelow(1 << 30)) - Int32(1 << 29)
            let step = Int32(1 + rng.uniformBelow(bounds ? [1, 7, 200][(trial / 3) % 3] : 1 << 27))
            let spread = bounds ? Int(step) * Int(top + 2) : 1 << 30
            let sums = (0..<padded).map { _ in Int32(Int(theta) + rng.uniformBelow(2 * spread + 1) - spread) }
            let old = (0..<padded).map { _ in UInt8(rng.uniformBelow(Int(top) + 1)) }
            let moves = trial % 4
            let inputs = (0..<moves).map { _ in (0..<padded).map { _ in UInt8(rng.uniformBelow(256)) } }
            let deltas = (0..<moves).map { _ in Int32([-2, -1, 1, 2][rng.uniformBelow(4)]) }
            let exclude: [UInt64]? = trial % 5 == 0 ? (0..<words).map { _ in rng.next() } : nil
            let tail = count - (words - 1) * 64, lastMask: UInt64 = tail >= 64 ? ~0 : (1 << UInt64(tail)) - 1
            let activation = Activation.levels(bits: bits)
            var changed = [UInt64](repeating: 0, count: words), levels = [UInt8](repeating: 0, count: padded)
            for b in 0..<padded {
                var sum = sums[b]
                for t in 0..<moves { sum &+= deltas[t] &* Int32(inputs[t][b]) }
                let level = activation.value(sum: sum, threshold: theta, step: step)
                let real = b < count && (exclude.map { $0[b >> 6] >> UInt64(b & 63) & 1 == 0 } ?? true)
                if real && level != Int32(old[b]) {
                    changed[b >> 6] |= 1 << UInt64(b & 63)
                    levels[b] = UInt8(level)
                }
            }
            let result = isa.batchLevels(
                sums: sums, old: old, inputs: inputs, deltas: deltas, theta: theta, step: step, top: top,
                bounds: bounds, exclude: exclude, lastMask: lastMask)
            #expect(result.changed == changed, "\(isa), trial \(trial): changed examples")
            let wrong = (0..<padded).filter { result.levels[$0] != levels[$0] }
            #expect(
                wrong.isEmpty, "\(isa), trial \(trial): \(wrong.count) levels differ, first at \(wrong.first ?? -1)")
        }
    }

    @Test("level_outputs gives the loss of the formula on the changed examples", arguments: InstructionSet.supported)
    func levelOutputs(isa: InstructionSet) {
        var rng = Xoshiro256(seed: 62)
        for trial in 0..<42 {
            let classes = [1, 2, 10, 15, 16, 17, 33][trial % 7], count = [1, 63, 65, 129, 200, 13][trial % 6]
            let neurons = [1, 5, 13][trial % 3], words = (count + 63) / 64, padded = words * 64, top = 15
            let table = LossTable(temperature: [1.0 / 16, 0.3][trial % 2], largestGap: 4_096, classes: classes)
            // Narrow logits (many ties at the top) and wide ones (gaps past the table).
            let spread = [3, 2_000][(trial / 7) % 2]
            var c = InstructionSet.LevelOutputsCase(
                logits: (0..<(count * classes)).map { _ in Int32(rng.uniformBelow(2 * spread + 1) - spread) },
                classes: classes,
                columns: (0..<(neurons * classes)).map { _ in Int8(rng.uniformBelow(3)) - 1 },
                labels: (0..<count).map { _ in Int32(rng.uniformBelow(classes)) },
                units: (0..<count).map { _ in Int64(rng.uniformBelow(1 << 30)) },
                correct: (0..<count).map { _ in UInt8(rng.uniformBelow(2)) },
                changed: [UInt64](repeating: 0, count: words),
                old: (0..<(neurons * padded)).map { _ in UInt8(rng.uniformBelow(top + 1)) },
                padded: padded, directNeurons: [], directMasks: [], directLevels: [], denseExamples: [],
                denseNeurons: [], denseLevels: [])
            // Up to two direct neurons (masks of random examples), then dense entries on the others.
            let directs = Array((0..<neurons).shuffled(using: &rng).prefix(trial % 3))
            var changes = [[(Int, Int32)]](repeating: [], count: count)
            for j in directs {
                c.directNeurons.append(Int32(j))
                var mask = [UInt64](repeating: 0, count: words), news = [UInt8](repeating: 0, count: padded)
                for b in 0..<count where rng.uniformBelow(3) == 0 {
                    mask[b >> 6] |= 1 << UInt64(b & 63)
                    news[b] = UInt8(rng.uniformBelow(top + 1))
                    changes[b].append((j, Int32(news[b]) - Int32(c.old[j * padded + b])))
                }
                c.directMasks += mask
                c.directLevels += news
            }
            for b in 0..<count where rng.uniformBelow(4) == 0 {
                for j in 0..<neurons where !directs.contains(j) && rng.uniformBelow(2) == 0 {
                    let level = UInt8(rng.uniformBelow(top + 1))
                    c.denseExamples.append(Int32(b))
                    c.denseNeurons.append(Int32(j))
                    c.denseLevels.append(level)
                    changes[b].append((j, Int32(level) - Int32(c.old[j * padded + b])))
                }
            }
            var units: Int64 = 0, correct = 0, examples = 0
            for b in 0..<count where !changes[b].isEmpty {
                c.changed[b >> 6] |= 1 << UInt64(b & 63)
                var z = Array(c.logits[(b * classes)..<((b + 1) * classes)])
                for (j, d) in changes[b] { for k in 0..<classes { z[k] &+= Int32(c.columns[j * classes + k]) &* d } }
                let loss = table.exampleLoss(logits: z, label: Int(c.labels[b]), instructionSet: .portable)
                units &+= loss.units &- c.units[b]
                correct += (loss.correct ? 1 : 0) - Int(c.correct[b])
                examples += 1
            }
            let result = isa.levelOutputs(c, table: table)
            #expect(
                result.units == units && result.correct == correct,
                "\(isa), trial \(trial): \(result) against \(units), \(correct)")
            #expect(
                result.examples == examples && result.changes == changes.reduce(0) { $0 + $1.count },
                "\(isa), trial \(trial)")
        }
    }

    @Test("the loss table reaches a levels network's logit gaps; a sign network reads the same entries as before")
    func lossTableReach() {
        var rng = Xoshiro256(seed: 63)
        let sizes = [64, 20, 10], table = LossTable(layerSizes: sizes, temperature: nil)
        // Every term that does not round to 0, past the sign network's largest gap 2 n.
        let next =
            (Foundation.exp(-table.temperature * Double(table.exponentials.count))
                * Double(UInt64(1) << UInt64(table.shift)))
        #expect(next.rounded() < 1 && table.exponentials.count > 2 * 20)
        let signTable = LossTable(temperature: table.temperature, largestGap: 2 * 20, classes: 10)
        #expect(Array(table.exponentials.prefix(signTable.exponentials.count)) == signTable.exponentials)
        // A 4-bit network of hidden width 20: its gaps pass 2 n, so the sign-sized table would
        // score it lower; both evaluators score it with the full table.
        let network = LevelsScorerTests().network(sizes, bits: 4, context: 0, using: &rng)
        let data = IncrementalScorerTests().dataset(sizes, count: 300, using: &rng)
        let expected = LevelsScorerTests().referenceScore(network, data)
        var truncated: Int64 = 0
        for b in 0..<data.count {
            let z = ReferenceNetwork.logits(network, features: data.all.features(of: b)).map { Int32($0) }
            truncated &+= signTable.exampleLoss(logits: z, label: data.labels[b], instructionSet: .portable).units
        }
        #expect(
            truncated < expected.lossUnits!, "the sign-sized table cuts no term: \(truncated), \(expected.lossUnits)")
        let evaluator = PopulationEvaluator(layerSizes: sizes, threads: 1)
        #expect(evaluator.scores(of: [network], on: data.all)[0] == expected)
        let scorer = IncrementalScorer(layerSizes: sizes, threads: 1)
        scorer.rebuild(network, on: data)
        #expect(scorer.score == expected)
    }
}
