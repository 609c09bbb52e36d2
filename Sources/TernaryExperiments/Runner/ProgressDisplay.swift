import Foundation

/// The progress of a run on stderr: enough to follow it, short enough for a log file.
///
/// On a terminal (the console has a status line) an arm shows one line, rewritten in place at
/// every logged point (arm, seed, elapsed of budget, step, accuracies) and replaced, when the
/// arm ends, by a line with its result that stays. On a pipe or file an arm writes one line as
/// it starts and one as it ends, so a run of four arms logs eight lines; `--verbose` adds a line
/// per logged point (what every run printed before). `--quiet` prints none of these. Errors are
/// not progress: the runner writes them in every mode.
final class ProgressDisplay {
    /// How much is written: nothing, arms starting and ending, or every logged point too.
    enum Detail { case quiet, arms, points }

    let console: Console
    let detail: Detail
    /// Whether a status line is on screen: it is cleared before a whole line is written.
    private var statusShown = false

    init(console: Console, detail: Detail) {
        self.console = console
        self.detail = detail
    }

    /// A whole line that stays: a message, an arm's start on a pipe, an arm's end.
    func line(_ text: String) {
        guard detail != .quiet else { return }
        clear()
        console.err(text)
    }

    /// An arm's state at a logged point: the status line on a terminal; on a pipe, a line only
    /// with `--verbose`.
    func point(_ text: String) {
        switch detail {
        case .quiet: return
        case .points: line(text)
        case .arms:
            guard let status = console.status else { return }
            status(text)
            statusShown = true
        }
    }

    /// An arm starts: the status line on a terminal, a line on a pipe.
    func started(_ text: String) {
        if detail == .arms && console.status != nil { point(text) } else { line(text) }
    }

    /// Clears the status line, if one is shown (before a whole line, and when the run ends).
    func clear() {
        guard statusShown else { return }
        console.status?("")
        statusShown = false
    }
}

extension ExperimentRunner {
    /// An arm's budget as its config gives it: `5 s`, `300 generations`, `5 s or 30 epochs`.
    static func budgetText(_ arm: ExperimentConfig.Arm) -> String {
        [arm.seconds.map { String(format: "%g s", $0) }, arm.steps.map { "\(grouped($0)) \(stepUnit(arm))" }]
            .compactMap { $0 }.joined(separator: " or ")
    }

    /// What a step of the arm's kind is called in its config: `generations`, `steps`, `epochs`.
    static func stepUnit(_ arm: ExperimentConfig.Arm) -> String {
        ArmKinds.all.first { $0.kind == arm.kind }?.countKey ?? "steps"
    }

    /// The line of an arm that starts: `local seed 1: started (budget 5 s)`.
    static func startedText(_ arm: ExperimentConfig.Arm, seed: UInt64) -> String {
        "\(arm.name) seed \(seed): started (budget \(budgetText(arm)))"
    }

    /// An arm at a logged point:
    /// `local seed 1  2.3 of 5 s  step 9,000  train 99.52%  val 96.55%  test 94.15%`.
    static func pointText(_ arm: ExperimentConfig.Arm, _ row: CurveRow) -> String {
        let elapsed =
            arm.seconds.map { String(format: "%.1f of %g s", row.wallSeconds, $0) }
            ?? String(format: "%.1f s", row.wallSeconds)
        let step = "step \(grouped(row.step))" + (arm.steps.map { " of \(grouped($0))" } ?? "")
        let accuracies = [("train", row.trainAccuracy), ("val", row.validationAccuracy), ("test", row.testAccuracy)]
            .compactMap { name, value in value.map { String(format: "%@ %.2f%%", name, 100 * $0) } }
        return (["\(arm.name) seed \(row.seed)", elapsed, step] + accuracies).joined(separator: "  ")
    }

    /// The line of an arm that ended: its budget used, its last point, and the model chosen on
    /// validation (train accuracy without a validation split) with its test accuracy; or, when
    /// interrupted, the step its state stopped at (`step`, where a resume continues).
    static func endedText(
        _ arm: ExperimentConfig.Arm, seed: UInt64, record: ArmRecord, interrupted: Bool, step: Int
    ) -> String {
        guard let last = record.rows.last else {
            return
                "\(arm.name) seed \(seed): \(interrupted ? "interrupted at step \(grouped(step))" : "ended") before its first logged point"
        }
        func percent(_ value: Double?) -> String? { value.map { String(format: "%.1f%%", 100 * $0) } }
        if interrupted {
            return
                "\(arm.name) seed \(seed): interrupted at step \(grouped(step)) (last logged point: step \(grouped(last.step)), \(String(format: "%.1f", last.wallSeconds)) s)"
        }
        // A text run is judged by bits per character (lower is better), a classifier by accuracy.
        let text = last.testBits != nil || last.validationBits != nil
        func figure(_ accuracy: Double?, _ bits: Double?) -> String? {
            text ? bits.map { String(format: "%.3f bpc", $0) } : percent(accuracy)
        }
        let final = [
            ("train", last.trainAccuracy, last.trainBits), ("val", last.validationAccuracy, last.validationBits),
            ("test", last.testAccuracy, last.testBits),
        ]
        .compactMap { name, accuracy, bits in figure(accuracy, bits).map { "\(name) \($0)" } }.joined(separator: ", ")
        var line =
            "\(arm.name) seed \(seed): done, \(grouped(last.step)) \(stepUnit(arm)) in \(String(format: "%.1f", last.wallSeconds)) s; final \(final)"
        if let chosen = record.rows.first(where: { $0.step == record.bestStep }) {
            let on = (text ? chosen.validationBits : chosen.validationAccuracy) == nil ? "train" : "validation"
            line +=
                "; chosen on \(on) at \(CompareCommand.seconds(chosen.wallSeconds))"
                + (figure(chosen.testAccuracy, chosen.testBits).map { ": test \($0)" } ?? "")
        }
        return line
    }
}
