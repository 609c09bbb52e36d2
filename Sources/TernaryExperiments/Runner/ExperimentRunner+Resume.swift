import Foundation
import TernaryCore

extension ExperimentRunner {
    /// The arm's record to run from: a fresh one, or when resuming the stored one with `session`
    /// restored to its state. Nil when the arm finished before (its model is rewritten from the
    /// record and it is kept). A damaged or mismatched record stops the run, or with
    /// `--restart-damaged` starts the arm over.
    func armRecord(
        _ arm: ExperimentConfig.Arm, seed: UInt64, session: SearchSession, splits: Splits,
        setupSeconds: Double
    ) throws -> ArmRecord? {
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
                throw RunFailure(
                    message:
                        "\(error); nothing was changed. Run 'ternevo resume \(folder) --restart-damaged' to start \(arm.name) seed \(seed) over",
                    exitCode: 65)
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
    func storedRecord(
        _ arm: ExperimentConfig.Arm, seed: UInt64, session: SearchSession, splits: Splits
    ) throws -> ArmRecord? {
        let path = recordPath(arm.name, seed), recordKey = recordKey(arm, session)
        guard let stored = try Distributed.contents(atPath: path, communicator: communicator) else { return nil }
        var record = try ArmRecord.decode(
            stored, path: path, key: recordKey, legacyKey: self.recordKey(arm, session, legacy: true),
            legacyHash: legacyRecordHash(arm, session, splits: splits))
        let countKey = type(of: arm.settings).countKey
        if record.summary != nil && record.version >= 2 && (record.steps != arm.steps || record.seconds != arm.seconds)
        {
            func budget(_ steps: Int?, _ seconds: Double?) -> String {
                [steps.map { "\(countKey) \($0)" }, seconds.map { String(format: "seconds %g", $0) }].compactMap { $0 }
                    .joined(separator: " and ")
            }
            throw FileFormatError(
                path: path,
                problem:
                    "\(arm.name) seed \(seed) finished under the budget \(budget(record.steps, record.seconds)), but the config now gives \(budget(arm.steps, arm.seconds)); a finished arm is not extended or cut, so put the budget back as it was"
            )
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
            throw reader.fail(
                "\(arm.name) seed \(seed) is at \(countKey) \(session.step), past the config's budget of \(steps); put the budget back as it was"
            )
        }
        return record
    }
}
