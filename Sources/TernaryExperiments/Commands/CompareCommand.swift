import Foundation
import TernaryCore

/// `ternevo compare RUN_DIR...`: one table over run folders, per arm, from their summary.csv.
enum CompareCommand {
    static let spec = CommandSpec(
        name: "compare", abstract: "Compare the arms of run folders: accuracies, times to 85/90/95%, evaluations, energy.",
        usage: "ternevo compare RUN_DIR... [--markdown]",
        details: """
        Reads summary.csv of every RUN_DIR and prints one row per run and arm, over its seeds:
        the median test accuracy of the model chosen on validation (test_acc_at_best_val) with
        the range, the median final test accuracy, the median training time to 85%, 90% and
        95% test accuracy (with how many seeds reached it), the median evaluations and energy,
        and each time as a multiple of the 'ste' arm's time to the same accuracy in the same
        run (an arm named ste; '-' when either never reached it).

          --markdown     a Markdown table (as the README shows)
        """) { arguments, console in
            var reader = ArgumentReader(arguments, command: "compare")
            let markdown = reader.flag("--markdown")
            let folders = try reader.positionals(expected: "one or more run folders", count: 1...64)
            var rows: [[String]] = []
            for folder in folders {
                let summary: [[String: String]]
                do { summary = try readSummary(folder + "/summary.csv") } catch { throw CommandError.data("\(error)") }
                let run = (folder as NSString).lastPathComponent
                var methods: [String] = []
                for row in summary where !methods.contains(row["method"] ?? "") { methods.append(row["method"] ?? "") }
                func values(_ method: String, _ column: String) -> [Double] {
                    summary.filter { $0["method"] == method }.compactMap { $0[column].flatMap(Double.init) }
                }
                let seeds = { (method: String) in summary.filter { $0["method"] == method }.count }
                for method in methods {
                    var cells = [run, method, "\(seeds(method))"]
                    let chosen = values(method, "test_acc_at_best_val")
                    cells.append(chosen.isEmpty ? "-" : String(format: "%.1f%% (%.1f-%.1f)", 100 * median(chosen), 100 * chosen.min()!, 100 * chosen.max()!))
                    cells.append(values(method, "final_test_acc").isEmpty ? "-" : String(format: "%.1f%%", 100 * median(values(method, "final_test_acc"))))
                    for target in ["85", "90", "95"] {
                        let times = values(method, "time_to_\(target)_s")
                        guard !times.isEmpty else { cells.append("never"); continue }
                        var cell = seconds(median(times)) + (times.count < seeds(method) ? " (\(times.count)/\(seeds(method)))" : "")
                        let ste = values("ste", "time_to_\(target)_s")
                        let steRan = seeds("ste") > 0
                        if method != "ste", !ste.isEmpty, times.count == seeds(method) {
                            let ratio = median(times) / median(ste)
                            cell += ratio < 10 ? String(format: ", %.1fx", ratio) : String(format: ", %.0fx", ratio)
                        } else if method != "ste", steRan, ste.isEmpty {
                            cell += ", STE never"
                        }
                        cells.append(cell)
                    }
                    cells.append(String(format: "%.3g", median(values(method, "evals"))))
                    cells.append(String(format: "%.3g J", median(values(method, "energy_j"))))
                    rows.append(cells)
                }
            }
            let header = ["run", "arm", "seeds", "test at best val", "final test", "to 85% (x STE)", "to 90% (x STE)",
                          "to 95% (x STE)", "evals", "energy"]
            console.out(markdown ? markdownTable(header, rows) : textTable(header, rows))
        }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func seconds(_ value: Double) -> String {
        value < 0.01 ? String(format: "%.3f s", value) : value < 1 ? String(format: "%.2f s", value)
            : value < 10 ? String(format: "%.1f s", value) : String(format: "%.0f s", value)
    }

    /// The rows of a summary.csv as column -> value.
    static func readSummary(_ path: String) throws(DataError) -> [[String: String]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path: path, problem: "cannot be read; is the folder a run folder of 'ternevo run'?")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw DataError(path: path, problem: "is not UTF-8 text") }
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: ",").map(String.init), header.contains("method"),
              header.contains("test_acc_at_best_val") else {
            throw DataError(path: path, problem: "has no summary header with 'method' and 'test_acc_at_best_val' (written by an older ternevo?)")
        }
        return try lines.dropFirst().enumerated().map { (index, line) throws(DataError) in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == header.count else {
                throw DataError(path: path, problem: "line \(index + 2) has \(fields.count) fields; the header has \(header.count)")
            }
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        ([header, header.map { _ in "---" }] + rows).map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
    }

    static func textTable(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
