import Foundation

extension CompareCommand {
    /// Whether every folder's summary holds text results (a `test_bpc_at_best_val` value).
    static func isText(_ summaries: [[[String: String]]]) -> Bool {
        !summaries.isEmpty
            && summaries.allSatisfy { rows in
                !rows.isEmpty && rows.allSatisfy { !($0["test_bpc_at_best_val"] ?? "").isEmpty }
            }
    }

    /// The comparison of text runs (<doc:TextLanguageModelling>): per run and arm, over its seeds, the
    /// median test bits per character of the model chosen on validation (with the range), the
    /// final test bpc, the median training time to each of `levels` on the test curve (first
    /// logged point at or below it; with how many seeds reached it) and its multiple of the
    /// `ste` arm's time, and the median evaluations.
    static func textTable(
        folders: [String], summaries: [[[String: String]]], levels: [Double], markdown: Bool
    ) throws(DataError) -> String {
        var rows: [[String]] = []
        for (folder, summary) in zip(folders, summaries) {
            let run = (folder as NSString).lastPathComponent
            let chart = try CurvesFile.chart(path: folder + "/curves.csv", x: "wall_s", y: "test_bpc")
            var methods: [String] = []
            for row in summary where !methods.contains(row["method"] ?? "") { methods.append(row["method"] ?? "") }
            func values(_ method: String, _ column: String) -> [Double] {
                summary.filter { $0["method"] == method }.compactMap { $0[column].flatMap(Double.init) }
            }
            /// Per seed of `method`, the first time its test curve is at or below `level` (nil: never).
            func times(_ method: String, _ level: Double) -> [Double?] {
                (chart.series.first { $0.method == method }?.seeds ?? []).map { points in
                    points.sorted { $0.x < $1.x }.first { $0.y <= level }?.x
                }
            }
            for method in methods {
                let seeds = summary.filter { $0["method"] == method }.count
                var cells = [run, method, "\(seeds)"]
                let chosen = values(method, "test_bpc_at_best_val")
                cells.append(
                    chosen.isEmpty
                        ? "-"
                        : chosen.count == 1
                            ? String(format: "%.3f", chosen[0])
                            : String(format: "%.3f (%.3f-%.3f)", median(chosen), chosen.min()!, chosen.max()!))
                for level in levels {
                    let reached = times(method, level).compactMap { $0 }
                    guard !reached.isEmpty else {
                        cells.append("never")
                        continue
                    }
                    var cell = seconds(median(reached)) + (reached.count < seeds ? " (\(reached.count)/\(seeds))" : "")
                    let ste = times("ste", level).compactMap { $0 }
                    if method != "ste", !ste.isEmpty, reached.count == seeds {
                        let ratio = median(reached) / median(ste)
                        cell += ratio < 10 ? String(format: ", %.1fx", ratio) : String(format: ", %.0fx", ratio)
                    } else if method != "ste", methods.contains("ste"), ste.isEmpty {
                        cell += ", STE never"
                    }
                    cells.append(cell)
                }
                cells.append(String(format: "%.3g", median(values(method, "evals"))))
                rows.append(cells)
            }
        }
        let header =
            ["run", "arm", "seeds", "test bpc at best val"] + levels.map { String(format: "to %.2f bpc (x STE)", $0) }
            + ["evals"]
        return markdown ? markdownTable(header, rows) : textTable(header, rows)
    }
}
