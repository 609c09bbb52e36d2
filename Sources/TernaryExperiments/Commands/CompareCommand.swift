import Foundation
import TernaryCore

/// `ternevo compare RUN_DIR...`: one table over run folders, per arm, from their summary.csv,
/// and optionally one chart of their curves overlaid.
enum CompareCommand {
    static let spec = CommandSpec(
        name: "compare",
        abstract: "Compare the arms of run folders: accuracies, times to 85/90/95%, evaluations, energy.",
        usage:
            "ternevo compare RUN_DIR... [--markdown] [--out FILE.svg] [--y COL] [--log-x | --linear-x] [--bpc LEVELS]",
        details: """
            Reads summary.csv of every RUN_DIR and prints one row per run and arm, over its seeds:
            the median test accuracy of the model chosen on validation (test_acc_at_best_val) with
            the range, the mean and standard deviation of the final validation and test
            accuracies, the median training time to 85%, 90% and
            95% test accuracy (with how many seeds reached it), the median evaluations and energy,
            and each time as a multiple of the 'ste' arm's time to the same accuracy in the same
            run (an arm named ste; '-' when either never reached it).

              --markdown     a Markdown table (as the documentation shows)
              --out FILE     also draw the curves.csv of every RUN_DIR in one SVG chart, one line
                             per run and arm (named run/arm), as 'ternevo plot' draws one run
              --y COL        the chart's y column (default test_acc)
              --log-x, --linear-x   the chart's time axis, as for 'ternevo plot' (default:
                             logarithmic when the times span more than three decades)

            Text runs (a 'text' dataset) are compared on bits per character instead: the median
            test bpc of the model chosen on validation, and the median time to each level of
              --bpc LEVELS   comma-separated bits per character (default 3.35,3.0,2.7), read off
                             each seed's test_bpc curve, with its multiple of STE's time
            (the chart's default y column is then test_bpc).
            """
    ) { arguments, console, _ in
        var reader = ArgumentReader(arguments, command: "compare")
        let markdown = reader.flag("--markdown")
        let outPath = try reader.string("--out")
        var yColumn = try reader.string("--y") ?? "test_acc"
        let bpcText = try reader.string("--bpc")
        var levels = [3.35, 3.0, 2.7]
        if let bpcText {
            let parsed = bpcText.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw CommandError.usage(
                    "--bpc '\(bpcText)' is not a comma-separated list of positive numbers, e.g. --bpc 3.35,3.0,2.7")
            }
            levels = parsed.map { $0! }
        }
        let logX = reader.flag("--log-x"), linearX = reader.flag("--linear-x")
        guard !(logX && linearX) else { throw CommandError.usage("give --log-x or --linear-x, not both") }
        let folders = try reader.positionals(expected: "one or more run folders", count: 1...64)
        // Text runs compare on bits per character, and the chart then draws test_bpc.
        if try isText(
            folders.map { folder in
                do { return try readSummary(folder + "/summary.csv") } catch { throw CommandError.data("\(error)") }
            }), yColumn == "test_acc"
        {
            yColumn = "test_bpc"
        }
        console.out(try table(folders, markdown: markdown, levels: levels))
        guard let outPath else { return }
        var series: [LineChart.Series] = []
        for folder in folders {
            let run = (folder as NSString).lastPathComponent
            do {
                let chart = try CurvesFile.chart(path: folder + "/curves.csv", x: "wall_s", y: yColumn)
                series += chart.series.map {
                    LineChart.Series(method: folders.count > 1 ? "\(run)/\($0.method)" : $0.method, seeds: $0.seeds)
                }
            } catch { throw CommandError.data("\(error)") }
        }
        var chart = LineChart(
            series: series, xLabel: "wall_s", yLabel: yColumn,
            title: "\(yColumn) against wall_s: "
                + folders.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        chart.logX = logX ? true : linearX ? false : nil
        do { try AtomicFile.write(Array(chart.svg().utf8), to: outPath) } catch {
            throw CommandError(message: "\(outPath): cannot be written (\(reason(error)))", exitCode: 74)
        }
        console.err("wrote \(outPath): \(series.count) line(s), \(yColumn) against wall_s")
    }

    /// The table over run folders, per run and arm (what `compare` prints, and `run` at its end).
    static func table(_ folders: [String], markdown: Bool, levels: [Double] = [3.35, 3.0, 2.7]) throws -> String {
        var summaries: [[[String: String]]] = []
        for folder in folders {
            do { summaries.append(try readSummary(folder + "/summary.csv")) } catch {
                throw CommandError.data("\(error)")
            }
        }
        if isText(summaries) {
            do {
                return try textTable(folders: folders, summaries: summaries, levels: levels, markdown: markdown)
            } catch {
                throw CommandError.data("\(error)")
            }
        }
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
                cells.append(
                    chosen.isEmpty
                        ? "-"
                        : String(
                            format: "%.1f%% (%.1f-%.1f)", 100 * median(chosen), 100 * chosen.min()!, 100 * chosen.max()!
                        ))
                for column in ["final_val_acc", "final_test_acc"] {
                    cells.append(meanAndDeviation(values(method, column)))
                }
                for target in ["85", "90", "95"] {
                    let times = values(method, "time_to_\(target)_s")
                    guard !times.isEmpty else {
                        cells.append("never")
                        continue
                    }
                    var cell =
                        seconds(median(times))
                        + (times.count < seeds(method) ? " (\(times.count)/\(seeds(method)))" : "")
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
        let header = [
            "run", "arm", "seeds", "test at best val", "final val", "final test", "to 85% (x STE)",
            "to 90% (x STE)", "to 95% (x STE)", "evals", "energy",
        ]
        return markdown ? markdownTable(header, rows) : textTable(header, rows)
    }

    /// `mean ± sd` of accuracies in percent (the sample standard deviation; the value alone for
    /// one seed; "-" when empty).
    static func meanAndDeviation(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "-" }
        if values.count == 1 { return String(format: "%.1f%%", 100 * values[0]) }
        let mean = values.reduce(0, +) / Double(values.count)
        let deviation =
            values.count > 1
            ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
        return String(format: "%.1f ± %.1f%%", 100 * mean, 100 * deviation)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty
            ? .nan
            : sorted.count % 2 == 1
                ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func seconds(_ value: Double) -> String {
        value < 0.01
            ? String(format: "%.3f s", value)
            : value < 1
                ? String(format: "%.2f s", value)
                : value < 10 ? String(format: "%.1f s", value) : String(format: "%.0f s", value)
    }

    /// The rows of a summary.csv as column -> value.
    static func readSummary(_ path: String) throws(DataError) -> [[String: String]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path: path, problem: "cannot be read; is the folder a run folder of 'ternevo run'?")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError(path: path, problem: "is not UTF-8 text")
        }
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: ",").map(String.init), header.contains("method"),
            header.contains("test_acc_at_best_val")
        else {
            throw DataError(
                path: path,
                problem: "has no summary header with 'method' and 'test_acc_at_best_val' (written by an older ternevo?)"
            )
        }
        return try lines.dropFirst().enumerated().map { (index, line) throws(DataError) in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == header.count else {
                throw DataError(
                    path: path, problem: "line \(index + 2) has \(fields.count) fields; the header has \(header.count)")
            }
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        ([header, header.map { _ in "---" }] + rows).map { "| " + $0.joined(separator: " | ") + " |" }.joined(
            separator: "\n")
    }

    static func textTable(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        return ([header] + rows).map { row in
            let line = row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  ")
            return String(line.reversed().drop { $0 == " " }.reversed())
        }.joined(separator: "\n")
    }
}
