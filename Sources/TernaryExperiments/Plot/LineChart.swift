import Foundation

/// A line chart of several methods, each the mean over seeds with a min-max band, as SVG.
///
/// Each seed's series is read as a step function (a value holds until the next point: the
/// accuracy "reached by time t"), sampled on a common grid of the x range, and at each grid
/// point the mean, minimum and maximum over the seeds that have started are drawn.
public struct LineChart {
    public struct Series {
        public var method: String
        /// Per seed, the points `(x, y)` in any order.
        public var seeds: [[(x: Double, y: Double)]]
        public init(method: String, seeds: [[(x: Double, y: Double)]]) {
            self.method = method
            self.seeds = seeds
        }
    }

    public var series: [Series]
    public var xLabel: String
    public var yLabel: String
    public var title: String
    public var width = 800.0, height = 480.0
    /// A logarithmic x axis: true, false, or nil for automatic (on when the positive x values
    /// span more than three decades, as training times do when a backprop arm logs its first
    /// epoch after milliseconds and an evolution arm runs for minutes).
    public var logX: Bool?
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    public init(series: [Series], xLabel: String, yLabel: String, title: String) {
        self.series = series
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.title = title
    }

    /// Mean, min and max over seeds on `grid`, from the first point of any seed to the last.
    static func envelope(
        _ seeds: [[(x: Double, y: Double)]], grid: [Double]
    ) -> [(x: Double, mean: Double, low: Double, high: Double)] {
        let sorted = seeds.map { $0.sorted { $0.x < $1.x } }.filter { !$0.isEmpty }
        // A method's curve ends where its longest seed ends: no flat tail after training stopped.
        let end = sorted.map { $0.last!.x }.max() ?? 0
        return grid.filter { $0 <= end }.compactMap { x in
            let values = sorted.compactMap { points in points.last { $0.x <= x }?.y }
            guard !values.isEmpty else { return nil }
            return (x, values.reduce(0, +) / Double(values.count), values.min()!, values.max()!)
        }
    }

    /// About `count` round tick values covering `low ... high`.
    /// Bounded for any finite range: at most `2 count + 2` ticks, and a range too narrow for
    /// its magnitude (x values near 1e18 that differ by 1) gets its two ends.
    static func ticks(_ low: Double, _ high: Double, count: Int = 6) -> [Double] {
        guard low.isFinite, high.isFinite else { return [] }
        guard high > low else { return [low] }
        let rough = (high - low) / Double(count)
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        // Where k * step no longer changes by one step (the range is below the values' ulp), or
        // the step underflows, round ticks do not exist.
        guard step.isFinite, step > 0, (high - low) / step <= Double(4 * count), low + step != low, high + step != high
        else { return [low, high] }
        // k * step, rounded to the step's decimals so 3 * 0.2 prints and compares as 0.6.
        let scale = pow(10, max(0, -floor(log10(step)) + 1))
        var values = [Double]()
        var k = (low / step).rounded(.up)
        while k * step <= high + step * 1e-9 && values.count <= 2 * count + 1 {
            values.append(scale.isFinite ? (k * step * scale).rounded() / scale : k * step)
            k += 1
        }
        return values
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        return String(format: "%g", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Whether the x axis is logarithmic (see `logX`).
    var usesLogX: Bool {
        if let logX { return logX }
        let xs = series.flatMap { $0.seeds.flatMap { $0 }.map(\.x) }.filter { $0 > 0 && $0.isFinite }
        guard let smallest = xs.min(), let largest = xs.max() else { return false }
        return largest / smallest > 1000
    }

    /// Decade ticks (with 2 and 5 between when there are few decades) covering `low ... high`, both positive.
    static func logTicks(_ low: Double, _ high: Double) -> [Double] {
        guard low > 0, high > low, low.isFinite, high.isFinite else { return [low] }
        let first = Int(floor(log10(low))), last = Int(ceil(log10(high)))
        guard last - first <= 40 else { return [low, high] }
        let steps: [Double] = last - first <= 3 ? [1, 2, 5] : [1]
        var values: [Double] = []
        for exponent in first...last {
            for step in steps {
                let value = step * pow(10, Double(exponent))
                if value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9) { values.append(value) }
            }
        }
        return values.isEmpty ? [low, high] : values
    }

    /// The SVG document.
    public func svg() -> String {
        // The legend's column grows with its longest label (about 7 px a character).
        let longest = series.map { $0.method.count + 10 }.max() ?? 0
        let left = 70.0, right = max(200, 60 + 7 * Double(longest)), top = 40.0, bottom = 55.0
        let width = max(self.width, right + 400)
        let height = max(self.height, top + 40 + 20 * Double(series.count))
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let log = usesLogX
        // On a log axis only positive x can be drawn.
        let allPoints = series.flatMap { $0.seeds.flatMap { $0 } }.filter { !log || $0.x > 0 }
        let xs = allPoints.map(\.x), ys = allPoints.map(\.y)
        var xLow = xs.min() ?? (log ? 0.01 : 0), xHigh = xs.max() ?? 1
        var yLow = ys.min() ?? 0, yHigh = ys.max() ?? 1
        if xHigh <= xLow { xHigh = log ? xLow * 10 : xLow + 1 }
        if yHigh <= yLow {
            yHigh = yLow + 1
            yLow -= 1
        }
        let yPad = (yHigh - yLow) * 0.05
        yLow -= yPad
        yHigh += yPad
        func px(_ x: Double) -> Double {
            log
                ? left + (log10(x) - log10(xLow)) / (log10(xHigh) - log10(xLow)) * plotWidth
                : left + (x - xLow) / (xHigh - xLow) * plotWidth
        }
        func py(_ y: Double) -> Double { top + (1 - (y - yLow) / (yHigh - yLow)) * plotHeight }
        func n(_ v: Double) -> String { String(format: "%.2f", v) }

        var out = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"white\"/>",
            "<text x=\"\(n(left + plotWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(LineChart.escape(title))</text>",
        ]
        // Grid, ticks and tick labels.
        for tick in log ? LineChart.logTicks(xLow, xHigh) : LineChart.ticks(xLow, xHigh) {
            out.append(
                "<line x1=\"\(n(px(tick)))\" y1=\"\(n(top))\" x2=\"\(n(px(tick)))\" y2=\"\(n(top + plotHeight))\" stroke=\"#e5e5e5\"/>"
            )
            out.append(
                "<text x=\"\(n(px(tick)))\" y=\"\(n(top + plotHeight + 18))\" text-anchor=\"middle\">\(LineChart.format(tick))</text>"
            )
        }
        for tick in LineChart.ticks(yLow, yHigh) {
            out.append(
                "<line x1=\"\(n(left))\" y1=\"\(n(py(tick)))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(py(tick)))\" stroke=\"#e5e5e5\"/>"
            )
            out.append(
                "<text x=\"\(n(left - 8))\" y=\"\(n(py(tick) + 4))\" text-anchor=\"end\">\(LineChart.format(tick))</text>"
            )
        }
        out.append(
            "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"#333\"/>"
        )
        out.append(
            "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 12))\" text-anchor=\"middle\">\(LineChart.escape(xLabel + (log ? " (log scale)" : "")))</text>"
        )
        out.append(
            "<text x=\"16\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(n(top + plotHeight / 2)))\">\(LineChart.escape(yLabel))</text>"
        )
        // Series: band, then mean line; legend.
        let grid = (0...200).map {
            log ? xLow * pow(xHigh / xLow, Double($0) / 200) : xLow + (xHigh - xLow) * Double($0) / 200
        }
        for (index, entry) in series.enumerated() {
            let colour = LineChart.palette[index % LineChart.palette.count]
            // Past the palette, lines repeat its colours dashed, so up to 16 stay distinct.
            let dash = index / LineChart.palette.count % 2 == 1 ? " stroke-dasharray=\"6 3\"" : ""
            let envelope = LineChart.envelope(entry.seeds.map { $0.filter { !log || $0.x > 0 } }, grid: grid)
            if envelope.count > 1 {
                let upper = envelope.map { "\(n(px($0.x))),\(n(py($0.high)))" }
                let lower = envelope.reversed().map { "\(n(px($0.x))),\(n(py($0.low)))" }
                out.append(
                    "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"none\"/>"
                )
                out.append(
                    "<polyline points=\"\(envelope.map { "\(n(px($0.x))),\(n(py($0.mean)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>"
                )
            } else if let point = envelope.first {
                out.append("<circle cx=\"\(n(px(point.x)))\" cy=\"\(n(py(point.mean)))\" r=\"3\" fill=\"\(colour)\"/>")
            }
            let legendY = top + 14 + Double(index) * 20
            out.append(
                "<line x1=\"\(n(left + plotWidth + 15))\" y1=\"\(n(legendY - 4))\" x2=\"\(n(left + plotWidth + 40))\" y2=\"\(n(legendY - 4))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>"
            )
            out.append(
                "<text x=\"\(n(left + plotWidth + 46))\" y=\"\(n(legendY))\">\(LineChart.escape(entry.method)) (\(entry.seeds.count) seed\(entry.seeds.count == 1 ? "" : "s"))</text>"
            )
        }
        out.append(
            "<text x=\"\(n(left + plotWidth + 15))\" y=\"\(n(top + 18 + Double(series.count) * 20))\" fill=\"#666\">line: mean, band: min-max</text>"
        )
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }
}
