import Foundation
import TernaryCore

extension ExperimentRunner {
    /// What a logged point asks between its blocks: an interrupt that arrives while it is scored
    /// (a point begun after the interrupt is logged in full, as before). The budget does not cut
    /// a point: scoring the splits is not training time. Distributed: never (every rank takes
    /// part in each point).
    func pointSignal() -> StopSignal {
        guard communicator == nil, !interrupt.isRaisedNow else { return .never }
        let interrupt = interrupt
        return StopSignal({ interrupt.isRaisedNow })
    }

    /// Examples per block of a logged point's scoring: about 2^31 weight visits (a few tenths of
    /// a second of one core's work at most), at least 1,024 examples, in whole tiles of 128.
    static func examplesPerBlock(layerSizes: [Int]) -> Int {
        let weights = max(1, zip(layerSizes, layerSizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 })
        return max(1_024, min(1 << 16, (1 << 31) / weights)) / 128 * 128
    }

    /// `session`'s score on `data`, in blocks of examples that ask `stop` between them (nil:
    /// stopped; `block`: examples per block, default `examplesPerBlock`). The ternary
    /// evaluators' scores carry their loss as an Int64 total, so the blocks' totals add up to
    /// exactly the one-pass score; the float arm's score (a Double mean, no total) is computed
    /// in one pass.
    static func score(
        _ session: SearchSession, on data: QuantizedDataset, until stop: StopSignal, block: Int? = nil
    ) -> Score? {
        guard stop.canBeRaised, data.windows == nil, let sizes = session.incumbent()?.layerSizes,
            data.count > block ?? examplesPerBlock(layerSizes: sizes)
        else {
            return stop.isRaised ? nil : session.score(on: data)
        }
        let block = block ?? examplesPerBlock(layerSizes: sizes)
        var correct = 0, units: Int64 = 0
        for start in stride(from: 0, to: data.count, by: block) {
            if stop.isRaised { return nil }
            let part = session.score(on: data.examples(start..<min(data.count, start + block)))
            guard let partUnits = part.lossUnits else { return session.score(on: data) }
            correct += part.correct
            units &+= partUnits
        }
        return Score(correct: correct, count: data.count, lossUnits: units)
    }

    /// Logs a point of the running arm at its current step and commits (when due). Returns
    /// false when an interrupt cut its scoring: then nothing is logged and the arm's record
    /// goes back to its last commit (`dropUncommitted`).
    func logPoint(_ run: ArmRun, _ report: StepReport?, splits: Splits) throws -> Bool {
        if splits.corpus != nil { return try logTextPoint(run, report, splits: splits) }
        let session = run.session, stop = pointSignal()
        // Train always; validation and test when the data has them.
        var scores: [Score?] = []
        for data in [splits.train, splits.validation, splits.test] {
            guard scores.isEmpty || data.count > 0 else {
                scores.append(nil)
                continue
            }
            guard let score = ExperimentRunner.score(session, on: data, until: stop) else {
                return dropUncommitted(run)
            }
            scores.append(score)
        }
        let (train, validation, test) = (scores[0]!, scores[1], scores[2])
        run.lastLogged = session.step
        guard writes else { return true }
        var current = records[run.key]!
        current.rows.append(
            CurveRow(
                method: run.arm.name, seed: run.seed, step: session.step, wallSeconds: current.searchSeconds,
                evals: session.evaluations,
                trainLoss: report?.trainLoss ?? train.loss, trainAccuracy: train.accuracy,
                validationAccuracy: validation?.accuracy, testAccuracy: test?.accuracy,
                bestFitness: report?.bestFitness, meanFitness: report?.meanFitness,
                intOps: session.integerOperations, floatOps: session.floatOperations))
        current.rows[current.rows.count - 1].validationLoss = validation?.loss
        current.rows[current.rows.count - 1].testLoss = test?.loss
        let selection = validation?.accuracy ?? train.accuracy
        if selection > current.bestSelection {
            current.bestSelection = selection
            current.bestStep = session.step
            current.bestModel = session.incumbent()
            run.modelWritten = false
        }
        records[run.key] = current
        display.point(ExperimentRunner.pointText(run.arm, current.rows.last!))
        try commit(run.active, force: false, modelWritten: &run.modelWritten)
        return true
    }

    /// A logged point of a text run: bits per character, selection on validation bits. False
    /// when an interrupt cut it, as `logPoint`.
    func logTextPoint(_ run: ArmRun, _ report: StepReport?, splits: Splits) throws -> Bool {
        guard
            let (row, model) = textRow(
                run.session, splits: splits, method: run.arm.name, seed: run.seed,
                wallSeconds: records[run.key]!.searchSeconds, report: report, until: pointSignal())
        else { return dropUncommitted(run) }
        run.lastLogged = run.session.step
        guard writes else { return true }
        var current = records[run.key]!
        current.rows.append(row)
        let selection = -(row.validationBits ?? row.trainBits ?? .infinity)
        if selection > current.bestSelection || current.rows.count == 1 {
            current.bestSelection = selection
            current.bestStep = run.session.step
            current.bestModel = model
            run.modelWritten = false
        }
        records[run.key] = current
        // The float arm keeps no training sample: its line names only the splits it has.
        let figures = [("train", row.trainBits), ("val", row.validationBits), ("test", row.testBits)]
            .compactMap { name, bits in bits.map { String(format: "%@ %.3f", name, $0) } }.joined(separator: "  ")
        progress(
            String(
                format: "%@ seed %d  step %d  %.1f s  %@ bpc", run.arm.name, run.seed, row.step, row.wallSeconds,
                figures))
        try commit(run.active, force: false, modelWritten: &run.modelWritten)
        return true
    }

    /// An interrupted point: the arm's record goes back to what its last commit wrote (or, never
    /// committed, to its start), so the folder stays at that consistent moment, as after a kill;
    /// a resume does the steps since then again. (The session is past the record now: the arm
    /// is not committed again, `finish` writes only the derived files.) Returns false.
    func dropUncommitted(_ run: ArmRun) -> Bool {
        records[run.key] = committedRecords[run.key]
        run.pointCut = true
        return false
    }
}

extension QuantizedDataset {
    /// The examples in `range` (byte features; not token windows), in order.
    func examples(_ range: Range<Int>) -> QuantizedDataset {
        QuantizedDataset(
            features: Array(features[(range.lowerBound * featureCount)..<(range.upperBound * featureCount)]),
            featureCount: featureCount, labels: Array(labels[range]), classCount: classCount)
    }
}
