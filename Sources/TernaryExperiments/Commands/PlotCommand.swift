import Foundation
import TernaryCore

/// `ternevo plot CURVES.csv`: an SVG line chart of a curves file.
enum PlotCommand {
    static let spec = CommandSpec(
        name: "plot",
        abstract: "Draw an SVG line chart of a curves CSV: per method, the mean over seeds with a min-max band.",
        usage: "ternevo plot CURVES.csv [--x COL] [--y COL] [--log-x | --linear-x] [--title TEXT] [--out FILE.svg]",
        details: """
            CURVES.csv has a header and the columns 'method' and 'seed' plus the chosen x and y
            columns (the curves.csv of a run has them all: step, wall_s, evals, train_loss,
            train_acc, val_acc, test_acc, best_fitness, mean_fitness, int_ops, float_ops). Empty
            cells are skipped. Each seed's curve is read as a step function (a value holds until the
            next point), so the mean at time t is the mean of what every seed had reached by t.

              --x COL        x column (default wall_s)
              --y COL        y column (default test_acc)
              --log-x        a logarithmic x axis (default: logarithmic when the positive x values
                             span more than three decades, as training times do when backprop
                             logs after milliseconds and evolution runs for minutes; points at
                             x <= 0 are then left out)
              --linear-x     a linear x axis always
              --title TEXT   the chart's title (default: "Y against X"; a run's own chart is
                             titled "NAME: test accuracy against training time")
              --out FILE     where to write the SVG (default: CURVES with .svg; written atomically)
            """
    ) { arguments, console, _ in
        var reader = ArgumentReader(arguments, command: "plot")
        let xColumn = try reader.string("--x") ?? "wall_s"
        let yColumn = try reader.string("--y") ?? "test_acc"
        let outPath = try reader.string("--out")
        let title = try reader.string("--title")
        let logX = reader.flag("--log-x"), linearX = reader.flag("--linear-x")
        guard !(logX && linearX) else { throw CommandError.usage("give --log-x or --linear-x, not both") }
        let path = try reader.positionals(expected: "one curves CSV file", count: 1...1)[0]
        var chart: LineChart
        do { chart = try CurvesFile.chart(path: path, x: xColumn, y: yColumn) } catch {
            throw CommandError.data("\(error)")
        }
        chart.logX = logX ? true : linearX ? false : nil
        if let title { chart.title = title }
        let target = outPath ?? ((path as NSString).deletingPathExtension + ".svg")
        do { try AtomicFile.write(Array(chart.svg().utf8), to: target) } catch {
            throw CommandError(message: "\(target): cannot be written (\(reason(error)))", exitCode: 74)
        }
        console.out("wrote \(target): \(chart.series.count) method(s), \(yColumn) against \(xColumn)")
    }
}

/// Reads curves CSV files (<doc:RunFolder>) into charts.
enum CurvesFile {
    static func chart(path: String, x: String, y: String) throws(DataError) -> LineChart {
        let bytes = try DataFileReader.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DataError(path: path, problem: "is not UTF-8 text; give a curves CSV written by 'ternevo run'")
        }
        let lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }
        guard let header = lines.first else { throw DataError(path: path, problem: "is empty; expected a header row") }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        func column(_ name: String) throws(DataError) -> Int {
            guard let index = names.firstIndex(of: name) else {
                throw DataError(
                    path: path, problem: "line 1: no column '\(name)' (columns: \(names.joined(separator: ", ")))")
            }
            return index
        }
        let methodColumn = try column("method"), seedColumn = try column("seed")
        let xIndex = try column(x), yIndex = try column(y)
        var order: [String] = []
        var points: [String: [String: [(x: Double, y: Double)]]] = [:]
        for (offset, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count == names.count else {
                throw DataError(
                    path: path, problem: "line \(offset + 2) has \(fields.count) fields; the header has \(names.count)")
            }
            if fields[xIndex].isEmpty || fields[yIndex].isEmpty { continue }
            guard let xValue = Double(fields[xIndex]), xValue.isFinite else {
                throw DataError(
                    path: path, problem: "line \(offset + 2), column '\(x)': '\(fields[xIndex])' is not a finite number"
                )
            }
            guard let yValue = Double(fields[yIndex]), yValue.isFinite else {
                throw DataError(
                    path: path, problem: "line \(offset + 2), column '\(y)': '\(fields[yIndex])' is not a finite number"
                )
            }
            let method = fields[methodColumn]
            if points[method] == nil {
                order.append(method)
                points[method] = [:]
            }
            points[method]![fields[seedColumn], default: []].append((xValue, yValue))
        }
        let series = order.map { method in
            LineChart.Series(method: method, seeds: points[method]!.keys.sorted().map { points[method]![$0]! })
        }
        return LineChart(series: series, xLabel: x, yLabel: y, title: "\(y) against \(x)")
    }
}
