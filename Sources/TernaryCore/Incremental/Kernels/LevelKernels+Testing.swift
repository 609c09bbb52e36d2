import CTernaryKernels

// Array entry points of the levels scorer's kernels `batch_levels` and `level_outputs`, so tests
// can compare each instruction set with a Swift formula at any size (`output_level_moves` is
// `output_moves` with level bytes for signs, checked through the scorer's tests). Internal:
// reached through `@testable import`.

extension InstructionSet {
    /// `batch_levels` of one neuron over `sums.count` examples (a multiple of 64): the changed
    /// mask and the new levels (0 for unchanged examples).
    func batchLevels(
        sums: [Int32], old: [UInt8], inputs: [[UInt8]], deltas: [Int32], theta: Int32, step: Int32, top: Int32,
        bounds: Bool, exclude: [UInt64]?, lastMask: UInt64
    ) -> (changed: [UInt64], levels: [UInt8]) {
        let words = sums.count / 64
        precondition(
            words * 64 == sums.count && old.count == sums.count && inputs.allSatisfy { $0.count == sums.count },
            "batch_levels takes whole words of examples")
        let p = PinnedCopies()
        let changed = p.copy([UInt64](repeating: 0, count: words)),
            levels = p.copy([UInt8](repeating: 0, count: sums.count))
        var job = tern_batch_levels(
            sums: p.copy(sums), old: p.copy(old), words: words, moves: deltas.count,
            inputs: p.copy(inputs.map { Optional(UnsafePointer(p.copy($0))) }), deltas: p.copy(deltas), theta: theta,
            step: step,
            top: top, bounds: bounds ? 1 : 0, exclude: exclude.map { UnsafePointer(p.copy($0)) }, last_mask: lastMask,
            out: changed, levels: levels)
        table.pointee.batch_levels(&job)
        let mask = Array(UnsafeBufferPointer(start: changed, count: words))
        // Entries of unchanged examples are unspecified: 0 here.
        let newLevels = (0..<sums.count).map { b in mask[b >> 6] >> UInt64(b & 63) & 1 == 1 ? levels[b] : 0 }
        return (mask, newLevels)
    }

    /// The inputs of `level_outputs` (see `tern_level_outputs`) as arrays: logits `[B][C]`,
    /// weight columns `[n][C]`, old levels `[n][padded]`, direct neurons with masks `[directs][words]`
    /// and new levels `[directs][padded]`, dense entries sorted by example.
    struct LevelOutputsCase {
        var logits: [Int32], classes: Int, columns: [Int8], labels: [Int32], units: [Int64], correct: [UInt8]
        var changed: [UInt64], old: [UInt8], padded: Int
        var directNeurons: [Int32], directMasks: [UInt64], directLevels: [UInt8]
        var denseExamples: [Int32], denseNeurons: [Int32], denseLevels: [UInt8]
    }

    /// `level_outputs` of `c` with `table`: the change of the units and correct counts, and the
    /// examples and changes it visited.
    func levelOutputs(
        _ c: LevelOutputsCase, table loss: LossTable
    ) -> (units: Int64, correct: Int, examples: Int, changes: Int) {
        let p = PinnedCopies()
        // The kernel reads 16 lanes of a logits row or a column when C <= 16: 16 spare entries.
        var job = tern_level_outputs(
            logits: p.copy(c.logits + [Int32](repeating: 0, count: 16)), classes: c.classes, words: c.changed.count,
            padded: c.padded, columns: p.copy(c.columns + [Int8](repeating: 0, count: 16)), labels: p.copy(c.labels),
            units: p.copy(c.units), correct: p.copy(c.correct), changed: p.copy(c.changed), old: p.copy(c.old),
            directs: c.directNeurons.count, direct_masks: p.copy(c.directMasks),
            direct_neurons: p.copy(c.directNeurons),
            direct_levels: p.copy(c.directLevels), dense: c.denseExamples.count,
            dense_examples: p.copy(c.denseExamples),
            dense_neurons: p.copy(c.denseNeurons), dense_levels: p.copy(c.denseLevels),
            terms: p.copy(loss.exponentials),
            term_count: loss.exponentials.count, temperature: loss.temperature, shift_nats: loss.shiftNats,
            row: p.copy([Int32](repeating: 0, count: max(1, c.classes))), units_delta: 0, correct_delta: 0,
            examples_done: 0,
            changes: 0)
        table.pointee.level_outputs(&job)
        return (job.units_delta, job.correct_delta, job.examples_done, job.changes)
    }
}

/// Copies of arrays at addresses that stay valid until this object goes away (test entry points).
private final class PinnedCopies {
    private var blocks: [UnsafeMutableRawPointer] = []

    func copy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
        let block = UnsafeMutablePointer<T>.allocate(capacity: max(1, array.count))
        block.initialize(from: array, count: array.count)
        blocks.append(UnsafeMutableRawPointer(block))
        return block
    }

    deinit { for block in blocks { block.deallocate() } }
}
