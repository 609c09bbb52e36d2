import Foundation
import TernaryCore

extension ExperimentRunner {
    /// The arm's record to run from: a fresh one, or when resuming the stored one with `session`
    /// restored to its state. Nil when the arm finished before (its model is rewritten from the
    /// record and it is kept). A damaged or mismatched record stops the run, or with
    /// `--restart-damaged` starts the arm over.
    func armRecord(_ arm: ExperimentConfig.Arm, seed: UInt64, session: SearchSession, splits: Splits,
                   setupSeconds: Double) throws -> ArmRecord? {
        var fresh = ArmRecord()
        fresh.key = recordKey(arm, session)
        fresh.steps = arm.steps
        fresh.seconds = arm.seconds
        fresh.searchSeconds = setupSeconds
        guard resuming else { return fresh }
        var record = fresh
        do {
            record = try storedRecord(arm, seed: seed, session: session, splits: splits) ?? fresh
        } catch {
            guard restartDamaged else {
                throw RunFailure(message: "\(error); nothing was changed. Run 'ternevo resume \(folder) --restart-damaged' to start \(arm.name) seed \(seed) over", exitCode: 65)
            }
            console.err("ternevo: \(error); starting \(arm.name) seed \(seed) over (--restart-damaged)")
            record = fresh
        }
        if record.summary != nil {
            records[ExperimentRunner.key(arm.name, seed)] = record
            // The model is derived from the record too: a kill between the record and the
            // model of an arm's last commit leaves it missing.
            if let model = record.bestModel { try writeFile(model.modelFileBytes(), to: modelPath(arm.name, seed)) }
            progress("\(arm.name) seed \(seed): finished before, kept")
            return nil
        }
        if session.step > 0 { progress("\(arm.name) seed \(seed): resumed at step \(session.step)") }
        return record
    }

    /// The stored record of the arm (nil: none), checked against the config, with the session
    /// restored to its state when the arm is unfinished. Under MPI rank 0 reads the record and
    /// sends it: the other ranks need no shared disk.
    func storedRecord(_ arm: ExperimentConfig.Arm, seed: UInt64, session: SearchSession, splits: Splits) throws -> ArmRecord? {
        let path = recordPath(arm.name, seed), recordKey = recordKey(arm, session)
        guard let stored = try Distributed.contents(atPath: path, communicator: communicator) else { return nil }
        var record = try ArmRecord.decode(stored, path: path, key: recordKey, legacyKey: self.recordKey(arm, session, legacy: true), legacyHash: legacyRecordHash(arm, session, splits: splits))
        let countKey = type(of: arm.settings).countKey
        if record.summary != nil && record.version >= 2 && (record.steps != arm.steps || record.seconds != arm.seconds) {
            func budget(_ steps: Int?, _ seconds: Double?) -> String {
                [steps.map { "\(countKey) \($0)" }, seconds.map { String(format: "seconds %g", $0) }].compactMap { $0 }.joined(separator: " and ")
            }
            throw FileFormatError(path: path, problem: "\(arm.name) seed \(seed) finished under the budget \(budget(record.steps, record.seconds)), but the config now gives \(budget(arm.steps, arm.seconds)); a finished arm is not extended or cut, so put the budget back as it was")
        }
        // Carry the new budget (a longer budget continues the arm as a fresh run would).
        record.key = recordKey
        record.steps = arm.steps
        record.seconds = arm.seconds
        guard record.summary == nil else { return record }
        // An arm interrupted inside its start has no state yet: the session builds its start again.
        var reader = BinaryReader(bytes: record.sessionState, path: path)
        try session.restoreState(from: &reader)
        // The state is saved at a logged point or when the arm stops, never before its rows.
        if let last = record.rows.last, last.step > session.step {
            throw reader.fail("its state is at step \(session.step) but its last row at step \(last.step)")
        }
        if let steps = arm.steps, session.step > steps {
            throw reader.fail("\(arm.name) seed \(seed) is at \(countKey) \(session.step), past the config's budget of \(steps); put the budget back as it was")
        }
        return record
    }

    /// Logs a point of the running arm at its current step and commits (when due).
    func logPoint(_ run: ArmRun, _ report: StepReport?, splits: Splits) throws {
        run.lastLogged = run.session.step
        if splits.corpus != nil { return try logTextPoint(run, report, splits: splits) }
        let session = run.session
        let train = session.score(on: splits.train)
        let validation = splits.validation.count > 0 ? session.score(on: splits.validation) : nil
        let test = splits.test.count > 0 ? session.score(on: splits.test) : nil
        guard writes else { return }
        var current = records[run.key]!
        current.rows.append(CurveRow(
            method: run.arm.name, seed: run.seed, step: session.step, wallSeconds: current.searchSeconds, evals: session.evaluations,
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
    }

    /// A logged point of a text run: bits per character, selection on validation bits.
    func logTextPoint(_ run: ArmRun, _ report: StepReport?, splits: Splits) throws {
        let (row, model) = textRow(run.session, splits: splits, method: run.arm.name, seed: run.seed,
                                   wallSeconds: records[run.key]!.searchSeconds, report: report)
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
        progress(String(format: "%@ seed %d  step %d  %.1f s  %@ bpc", run.arm.name, run.seed, row.step, row.wallSeconds, figures))
        try commit(run.active, force: false, modelWritten: &run.modelWritten)
    }
}
