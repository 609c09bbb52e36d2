import Foundation
import TernaryCore

/// One (arm, seed) being run: its session, where its files go, and what its loop has done.
final class ArmRun {
    let arm: ExperimentConfig.Arm
    let seed: UInt64
    let key: String
    let session: SearchSession
    let active: ExperimentRunner.ActiveArm
    /// Whether the record's chosen model is on disk.
    var modelWritten = false
    /// The step of the last logged point (-1: none yet).
    var lastLogged: Int
    var failure: SessionError?
    var interrupted = false
    /// An interrupt cut a logged point: the record went back to its last commit, and the
    /// session, past it, is not committed again.
    var pointCut = false
    /// Distributed arms (all five kinds) score logged points data-parallel: every rank scores its
    /// block of each split (a text split's chunks) and the totals are summed, so every rank takes
    /// part in each point (rank 0 alone writes it).
    let parallelPoints: Bool

    init(
        arm: ExperimentConfig.Arm, seed: UInt64, session: SearchSession, active: ExperimentRunner.ActiveArm,
        parallelPoints: Bool
    ) {
        self.arm = arm
        self.seed = seed
        key = active.key
        self.session = session
        self.active = active
        self.parallelPoints = parallelPoints
        lastLogged = session.step == 0 ? -1 : session.step
    }
}

/// Seconds since `start` (an uptime in nanoseconds).
func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

extension ExperimentRunner {
    func runArm(_ arm: ExperimentConfig.Arm, seed: UInt64, context: ArmContext, splits: Splits) throws {
        let key = ExperimentRunner.key(arm.name, seed)
        // Building the session is training time: counted when the arm starts fresh. (The
        // evolution arms build their start, the long part, inside their first step.)
        let built = DispatchTime.now().uptimeNanoseconds
        let session = arm.settings.makeSession(context, seed: seed)
        if let communicator { (session as? DistributableSession)?.distribute(over: communicator) }
        guard
            let record = try armRecord(
                arm, seed: seed, session: session, splits: splits, setupSeconds: seconds(since: built))
        else { return }
        if session.step == 0 && writes { display.started(ExperimentRunner.startedText(arm, seed: seed)) }
        records[key] = record
        committedRecords[key] = record
        let run = ArmRun(
            arm: arm, seed: seed, session: session,
            active: ActiveArm(
                key: key, session: session, recordPath: recordPath(arm.name, seed), modelPath: modelPath(arm.name, seed)
            ),
            parallelPoints: communicator != nil && session is DistributableSession)
        try loop(run, splits: splits)
        try finish(run, splits: splits)
    }

    /// Whether the arm's budget of steps or seconds, or its patience, is spent.
    func exhausted(_ run: ArmRun) -> Bool {
        if let seconds = run.arm.seconds, records[run.key]!.searchSeconds >= seconds { return true }
        if let steps = run.arm.steps, run.session.step >= steps { return true }
        return patienceSpent(run)
    }

    /// Whether the last `patience` logged points brought no better selection accuracy.
    func patienceSpent(_ run: ArmRun) -> Bool {
        guard let patience = run.arm.patience, let record = records[run.key],
            let best = record.rows.lastIndex(where: { $0.step == record.bestStep })
        else { return false }
        return record.rows.count - 1 - best >= patience
    }

    /// Rank 0's clock, interrupt and patience decide for every rank: one broadcast per step of
    /// its interrupt (bit 0) and its end of budget or patience (bit 1).
    func stopping(_ run: ArmRun) throws -> (interrupted: Bool, exhausted: Bool) {
        let code = try agreed(code: (interrupt.isSet ? 1 : 0) | (exhausted(run) ? 2 : 0))
        return (code & 1 != 0, code & 2 != 0)
    }

    /// What a step started at `start` asks between slices of its work: the interrupt, or the
    /// seconds budget spent (the arm's seconds so far plus this step's). Distributed, `never`:
    /// the ranks must stop at the same point, so they decide at step boundaries (`stopping`).
    /// On a terminal, a start longer than 2 s shows its share done.
    func stopSignal(_ run: ArmRun, stepStart start: UInt64) -> StopSignal {
        guard communicator == nil else { return .never }
        let interrupt = interrupt, budget = run.arm.seconds.map { $0 - records[run.key]!.searchSeconds }
        let progress =
            writes && console.status != nil && !quiet && !run.session.hasStarted
            ? UncheckedSendable((display: display, prefix: "\(run.arm.name) seed \(run.seed): start")) : nil
        return StopSignal(
            { interrupt.isRaisedNow || budget.map { seconds(since: start) >= $0 } ?? false },
            progress: { fraction in
                guard let progress, seconds(since: start) > 2 else { return }
                progress.value.display.point(String(format: "%@ %.0f%%", progress.value.prefix, 100 * fraction))
            })
    }

    /// Steps until the budget, the patience or an interrupt ends the arm, logging points.
    func loop(_ run: ArmRun, splits: Splits) throws {
        var stop = try stopping(run)
        while !stop.interrupted && !stop.exhausted {
            let start = DispatchTime.now().uptimeNanoseconds
            let report: StepReport?
            do { report = try run.session.advance(until: stopSignal(run, stepStart: start)) } catch {
                run.failure = error
                break
            }
            records[run.key]!.searchSeconds += seconds(since: start)
            stop = try stopping(run)
            guard let report else {
                // Stopped inside the step (never distributed): by the interrupt, else the budget.
                stop.exhausted = !stop.interrupted
                break
            }
            // Every logged point (a function of the step, so the same on every rank).
            if run.arm.logs(step: run.session.step) {
                try checkSameState(run.session, arm: run.arm.name, seed: run.seed)
            }
            if run.arm.logs(step: run.session.step) || stop.exhausted {
                if writes || run.parallelPoints, try !logPoint(run, report, splits: splits) {
                    stop.interrupted = true
                    break
                }
                // The point just logged may spend the patience: then this step ends the arm.
                if !stop.exhausted && run.arm.patience != nil { stop.exhausted = try agreed(patienceSpent(run)) }
            }
        }
        run.interrupted = stop.interrupted
    }

    /// Ends the arm: its last point, its summary unless interrupted or failed, the forced commit
    /// and its closing line. An arm whose budget ran out inside its start has no point: its
    /// summary says 0 steps and no accuracy, and its line says why.
    func finish(_ run: ArmRun, splits: Splits) throws {
        // The last point of an arm that ran out (rank 0, and every rank when points are
        // data-parallel); an interrupt that cuts it leaves the arm interrupted.
        if run.failure == nil && !run.interrupted && run.lastLogged != run.session.step && run.session.hasStarted
            && (writes || run.parallelPoints), try !logPoint(run, nil, splits: splits)
        {
            run.interrupted = true
        }
        let ended = run.failure == nil && !run.interrupted
        guard writes else { return }
        let (arm, seed) = (run.arm, run.seed)
        if patienceSpent(run) {
            progress(
                "\(arm.name) seed \(seed): stopped early, no better selection accuracy in \(arm.patience!) logged points"
            )
        }
        if let failure = run.failure {
            failures.append(
                "\(config.fromOptions ? "" : "\(config.file): ")arm \(arm.name)\(config.fromOptions ? "" : " (key 'arms.\(arm.name)')") seed \(seed) stopped at step \(run.session.step + 1): \(failure.problem); its record \(run.active.recordPath) keeps the arm up to its last logged point (step \(records[run.key]!.rows.last?.step ?? 0)), and the other arms run on"
            )
            display.clear()
            console.err("ternevo: \(failures.last!)")
        } else if ended {
            let record = records[run.key]!
            let rows =
                record.rows.isEmpty
                ? [CurveRow.startOnly(arm.name, seed: seed, wallSeconds: record.searchSeconds)] : record.rows
            records[run.key]!.summary = SummaryRow(method: arm.name, seed: seed, rows: rows, bestStep: record.bestStep)
        }
        // Interrupted or failed: no summary row, so `ternevo resume` continues from the record.
        // A cut point left the record at its last commit: only the derived files are written.
        try commit(run.pointCut ? nil : run.active, force: true, modelWritten: &run.modelWritten)
        guard run.failure == nil else { return }
        if ended && !run.session.hasStarted {
            display.line(
                "\(arm.name) seed \(seed): its budget of \(String(format: "%g", arm.seconds ?? 0)) s was spent in its start, before its first step (\(String(format: "%.1f", records[run.key]!.searchSeconds)) s); no model"
            )
        } else {
            display.line(
                ExperimentRunner.endedText(
                    arm, seed: seed, record: records[run.key]!, interrupted: !ended, step: run.session.step))
        }
    }
}

extension CurveRow {
    /// The summary's source for an arm whose budget ran out inside its start: step 0, no figures.
    static func startOnly(_ method: String, seed: UInt64, wallSeconds: Double) -> CurveRow {
        CurveRow(
            method: method, seed: seed, step: 0, wallSeconds: wallSeconds, evals: 0, trainLoss: nil, trainAccuracy: nil,
            validationAccuracy: nil, testAccuracy: nil, bestFitness: nil, meanFitness: nil, intOps: 0, floatOps: 0)
    }
}
