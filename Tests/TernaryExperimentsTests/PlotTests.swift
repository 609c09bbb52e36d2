import Foundation
import TestSupport
import Testing

@testable import TernaryExperiments

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("plot command")
struct PlotTests {
    let header =
        "method,seed,step,wall_s,evals,train_loss,train_acc,test_acc,best_fitness,mean_fitness,int_ops,float_ops"

    @Test("draws well-formed SVG with one legend entry per method; empty cells are skipped")
    func draws() throws {
        var lines = [header]
        for (method, seeds) in [("ga", 2), ("ste", 1)] {
            for seed in 1...seeds {
                for step in 1...5 {
                    lines.append("\(method),\(seed),\(step),\(Double(step) * 0.5),\(step),,,\(0.1 * Double(step)),,,,")
                }
            }
        }
        lines.append("ga,1,6,3.0,6,,,,,,,")
        let csv = temporaryPath("curves.csv"), svg = temporaryPath("chart.svg")
        defer { for path in [csv, svg] { try? FileManager.default.removeItem(atPath: path) } }
        try lines.joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["plot", csv, "--out", svg])
        #expect(status == 0, "\(output.err)")
        let data = try #require(FileManager.default.contents(atPath: svg))
        #expect(XMLParser(data: data).parse(), "the SVG is not well-formed XML")
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(">ga (2 seeds)</text>") && text.contains(">ste (1 seed)</text>"))
        #expect(text.contains("<polyline") && text.contains("<polygon"))
        #expect(text.contains(">wall_s</text>") && text.contains(">test_acc</text>"))
        #expect(text.contains(">test_acc against wall_s</text>"))
        #expect(Captured.run(["plot", csv, "--out", svg, "--title", "run <1>: accuracy"]).status == 0)
        let titled = String(decoding: try #require(FileManager.default.contents(atPath: svg)), as: UTF8.self)
        #expect(titled.contains(">run &lt;1&gt;: accuracy</text>") && !titled.contains("test_acc against wall_s"))
    }

    @Test("missing columns and bad numbers name the file, line and column")
    func errors() throws {
        let csv = temporaryPath("bad.csv")
        defer { try? FileManager.default.removeItem(atPath: csv) }
        try "\(header)\nga,1,1,0.5,1,,,x,,,,\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let (status, output) = Captured.run(["plot", csv])
        #expect(status == 65)
        #expect(output.err == "ternevo: \(csv): line 2, column 'test_acc': 'x' is not a finite number")
        #expect(Captured.run(["plot", csv, "--y", "accuracy"]).output.err.contains("no column 'accuracy'"))
    }

    @Test("ticks are round and cover the range")
    func ticks() {
        #expect(LineChart.ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(LineChart.ticks(0, 97).allSatisfy { $0.truncatingRemainder(dividingBy: 10) == 0 })
        #expect(LineChart.escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
    }
}

@Suite("Log axis")
struct LogAxisTests {
    @Test("the x axis turns logarithmic when the times span more than three decades, and on request")
    func automatic() {
        let fast = LineChart.Series(method: "ste", seeds: [[(0.01, 0.5), (0.05, 0.9), (60, 0.9)]])
        let slow = LineChart.Series(method: "ga", seeds: [[(1, 0.3), (50, 0.9)]])
        var chart = LineChart(series: [fast, slow], xLabel: "wall_s", yLabel: "test_acc", title: "t")
        #expect(chart.usesLogX)
        #expect(chart.svg().contains("wall_s (log scale)"))
        chart.logX = false
        #expect(!chart.svg().contains("log scale"))
        let close = LineChart(
            series: [slow, LineChart.Series(method: "local", seeds: [[(0.5, 0.5), (20, 0.9)]])], xLabel: "x",
            yLabel: "y", title: "t")
        #expect(!close.usesLogX)
        #expect(LineChart.logTicks(0.01, 100) == [0.01, 0.1, 1, 10, 100])
        #expect(LineChart.logTicks(1, 50) == [1, 2, 5, 10, 20, 50])
    }
}
