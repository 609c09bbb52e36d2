import Foundation
import TernaryCore

/// `ternevo bench`: throughput of the multiplication-free evaluator against this machine's peak.
enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench", abstract: "Measure the evaluator, the float kernels, training epochs and this machine's peak.",
        usage: "ternevo bench [--json] [--repeats N] [--shape SIZES] [--delta] [--epochs] [--levels] [--quick]",
        details: """
            First names the host: its CPU, the instruction set the kernels run on (the best the CPU
            has: avx512, avx2 or portable; TERNEVO_ISA=NAME runs another, to compare paths) and
            those it could run. Then the register-only peaks of that set's xor-and-popcount and
            int16-add loops and of a float32 FMA loop, every thread at once.
            Times population-batched forward passes (P = 256 genomes, each scored with its fitness on
            the same B = 256 examples) for the shapes 64-128-10, 784-256-10 and 256-1024-1024-10, with
            1 thread and with all cores; reports genome evaluations per second, synaptic operations
            per second (weights x examples, zeros included) and the fraction of a register-only
            xor-and-popcount loop (the peak). Also reports the same forward in float32 through our SIMD kernels (rows of kind "float"),
            the seconds per epoch of the STE and float backprop baselines, the genetic algorithm's genome evaluations per second on 64-128-10 as a fraction of
            the evaluator's (the cost of its operators and bookkeeping), and the memory of 1000
            genomes of 784-256-10. Rows of kind "delta" time incremental scoring: candidates (one
            random move each: a first-layer, hidden or output trit, or a threshold) scored per second
            from one genome's cache, beside full evaluations per second on the same batch (digits'
            train split for 64-128-10, B = 4000 for 784-256-10) and their ratio, and the same candidates
            from a cache in one shard per thread (the layout of a data-parallel run), with the
            rebuild time of each layout (kind "delta-rebuild"). Rows of kind
            "delta-text" time the text shape (512-256-64, context 8, B = 20,000 windows of the
            shipped KJV slice): a first-layer move with token inputs against the same windows as
            dense one-hot bytes and against a dense-input network of the same shape and batch
            (random bytes, 80% zeros), taking turns; and output-layer and threshold moves.
            Rows of kind "levels" time the same weights with sign units and with 2-, 4- and 8-bit
            levels (one thread, taking turns); on shapes with two hidden layers, also the cost of the
            last hidden layer (the network less the same network without it) over sign's, for the
            target "a K-bit hidden layer costs at most 1.2 K times the same layer with sign units".
            Figures are medians of N runs
            (default 5). Build in release: swift run -c release ternevo bench.

              --json        print one JSON array of objects (keys: shape, kind, threads,
                            genome_evals_per_s, synaptic_ops_per_s, peak_fraction, ...)
              --repeats N   runs per figure, 1...100 (default 5)
              --shape SIZES measure only this shape, e.g. 64-128-10 (skips the peak and memory rows)
              --delta       measure only the incremental-scoring rows
              --epochs      measure only the STE and float epoch rows
              --levels      measure only the levels rows (with --shape: that shape only)
              --quick       a small smoke run (P = 2, B = 8, 64-example epochs, one repeat):
                            checks, not figures
            Compare with numpy: python3 scripts/bench_float_reference.py [--json]
            """
    ) { arguments, console, _ in
        var reader = ArgumentReader(arguments, command: "bench")
        let json = reader.flag("--json")
        let quick = reader.flag("--quick")
        let delta = reader.flag("--delta")
        let epochs = reader.flag("--epochs")
        let levels = reader.flag("--levels")
        let repeats = try reader.integer("--repeats", in: 1...100)
        let shape = try reader.layerSizes("--shape")
        _ = try reader.positionals(expected: "no positional arguments", count: 0...0)
        var bench = Benchmarks()
        if quick {
            bench.population = 2
            bench.batchSize = 8
            bench.repeats = 1
            bench.minimumSeconds = 0.01
            bench.memoryPopulation = 10
            bench.peakIterations = 1000
            bench.epochExamples = 64
        }
        if let repeats { bench.repeats = repeats }
        bench.onlyDelta = delta
        bench.onlyEpochs = epochs
        bench.onlyLevels = levels
        if let shape {
            bench.shapes = [shape]
            bench.onlyShapes = true
        }
        #if DEBUG
        console.err("ternevo bench: this is a debug build; figures mean little (use swift run -c release)")
        #endif
        bench.progress = { console.err("bench: \($0) ...") }
        let rows = bench.run()
        console.out(json ? jsonText(rows) : table(rows, bench: bench))
    }

    static func jsonText(_ rows: [BenchRow]) -> String {
        let data = try! JSONSerialization.data(
            withJSONObject: rows.map(\.json), options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func table(_ rows: [BenchRow], bench: Benchmarks) -> String {
        var lines = hostLines(rows) + ternaryLines(rows, bench: bench) + floatLines(rows) + epochLines(rows)
        lines += deltaLines(rows) + textLines(rows) + Benchmarks.levelsLines(rows) + summaryLines(rows)
        lines.append(
            "\nnumpy float32 on the same shapes: python3 scripts/bench_float_reference.py; PyTorch STE: python3 scripts/ste_reference.py"
        )
        return lines.joined(separator: "\n")
    }

    /// The host and the machine peaks.
    static func hostLines(_ rows: [BenchRow]) -> [String] {
        var lines: [String] = []
        if let host = rows.first(where: { $0.kind == "host" }) {
            let cpu = host.extra["cpu"] as? String ?? ""
            let supported = (host.extra["isa_supported"] as? [String] ?? []).joined(separator: ", ")
            lines.append(
                "host: \(cpu.isEmpty ? "unknown CPU" : cpu), \(host.threads) core(s); kernels: \(host.extra["isa"] ?? "?") "
                    + "(this CPU runs \(supported); TERNEVO_ISA=NAME chooses)")
            lines.append("")
        }
        let peaks = rows.filter { $0.kind.hasPrefix("peak") }
        if !peaks.isEmpty {
            lines.append("machine peak (register-only loops, every thread at once):")
            for row in peaks {
                let what =
                    [
                        "peak-popcount": "xor-and-popcount synaptic ops/s", "peak-add": "int16 add synaptic ops/s",
                        "peak-fma-wide": "float32 FMA, 16 lanes, mul-adds/s",
                    ][row.kind] ?? "float32 FMA, 8 lanes, mul-adds/s"
                lines.append(
                    "  " + cell(what, 33, right: false) + cell("\(row.threads) thread(s)", 12)
                        + cell(String(format: "%.3e", row.synapticOpsPerSecond ?? 0), 12))
            }
            lines.append("")
        }
        return lines
    }

    /// The "ternary" rows and the speed-up of all threads over one.
    static func ternaryLines(_ rows: [BenchRow], bench: Benchmarks) -> [String] {
        var lines: [String] = []
        let ternary = rows.filter { $0.kind == "ternary" }
        if !ternary.isEmpty {
            lines.append(
                "ternary population-batched forward with fitness (P = \(bench.population) genomes, B = \(bench.batchSize) examples, median of \(bench.repeats)):"
            )
            lines.append(
                "  " + cell("shape", 18, right: false) + cell("threads", 8) + cell("genome evals/s", 16)
                    + cell("synaptic ops/s", 16) + cell("of popcount peak", 18))
        }
        for row in ternary {
            let peak = row.peakFraction.map { String(format: "%.1f%%", 100 * $0) } ?? "-"
            lines.append(
                "  " + cell(row.shape ?? "", 18, right: false) + cell("\(row.threads)", 8)
                    + cell(grouped(Int(row.genomeEvalsPerSecond ?? 0)), 16)
                    + cell(String(format: "%.3e", row.synapticOpsPerSecond ?? 0), 16) + cell(peak, 18))
        }
        let threadCounts = Set(ternary.map(\.threads))
        if let most = threadCounts.max(), most > 1 {
            var speedups: [String] = []
            for shape in bench.shapes.map({ $0.map(String.init).joined(separator: "-") }) {
                let group = ternary.filter { $0.shape == shape }
                if let one = group.first(where: { $0.threads == 1 })?.genomeEvalsPerSecond,
                    let all = group.first(where: { $0.threads == most })?.genomeEvalsPerSecond
                {
                    speedups.append(String(format: "%@ %.2fx", shape, all / one))
                }
            }
            lines.append("  \(most) threads vs 1: " + speedups.joined(separator: ", "))
        }
        return lines
    }

    /// The "float" rows beside the ternary ones.
    static func floatLines(_ rows: [BenchRow]) -> [String] {
        var lines: [String] = []
        let ternary = rows.filter { $0.kind == "ternary" }
        let float = rows.filter { $0.kind == "float" }
        if !float.isEmpty {
            lines.append("")
            lines.append(
                "float32 population-batched forward through our SIMD kernels (P = \(float[0].extra["population"] ?? ""), same B):"
            )
            lines.append(
                "  " + cell("shape", 18, right: false) + cell("threads", 8) + cell("genome evals/s", 16)
                    + cell("multiply-adds/s", 16) + cell("of FMA peak", 18) + cell("ternary / float", 17))
            for row in float {
                let peak = row.peakFraction.map { String(format: "%.1f%%", 100 * $0) } ?? "-"
                let ternaryRate = ternary.first { $0.shape == row.shape && $0.threads == row.threads }?
                    .genomeEvalsPerSecond
                let ratio = ternaryRate.map { String(format: "%.1fx", $0 / (row.genomeEvalsPerSecond ?? 1)) } ?? "-"
                lines.append(
                    "  " + cell(row.shape ?? "", 18, right: false) + cell("\(row.threads)", 8)
                        + cell(grouped(Int(row.genomeEvalsPerSecond ?? 0)), 16)
                        + cell(String(format: "%.3e", row.synapticOpsPerSecond ?? 0), 16) + cell(peak, 18)
                        + cell(ratio, 17))
            }
        }
        return lines
    }

    /// The backprop epoch rows.
    static func epochLines(_ rows: [BenchRow]) -> [String] {
        var lines: [String] = []
        let epochs = rows.filter { $0.kind.hasSuffix("-epoch") }
        if !epochs.isEmpty {
            lines.append("")
            lines.append("backprop epochs (batch 64, \(epochs[0].threads) threads, median):")
            for row in epochs {
                lines.append(
                    "  " + cell(row.kind, 12, right: false) + cell(row.shape ?? "", 14, right: false)
                        + String(
                            format: "%.4f s per epoch of %d examples (%@)",
                            row.extra["seconds_per_epoch"] as? Double ?? 0,
                            row.extra["examples"] as? Int ?? 0, row.extra["data"] as? String ?? ""))
            }
        }
        return lines
    }

    /// The incremental-scoring rows and the cache rebuilds.
    static func deltaLines(_ rows: [BenchRow]) -> [String] {
        var lines: [String] = []
        let delta = rows.filter { $0.kind == "delta" }
        if !delta.isEmpty {
            lines.append("")
            lines.append(
                "incremental scoring: one-move candidates from a cached genome against full evaluations on the same batch (\(delta[0].threads) threads, median):"
            )
            lines.append(
                "  " + cell("shape", 14, right: false) + cell("move", 13, right: false) + cell("batch", 7)
                    + cell("candidates/s", 15) + cell("full evals/s", 14) + cell("ratio", 10)
                    + cell("a shard per thread", 20))
            for row in delta {
                lines.append(
                    "  " + cell(row.shape ?? "", 14, right: false)
                        + cell(row.extra["move"] as? String ?? "", 13, right: false)
                        + cell("\(row.extra["batch"] as? Int ?? 0)", 7)
                        + cell(grouped(Int(row.extra["candidates_per_s"] as? Double ?? 0)), 15)
                        + cell(grouped(Int(row.extra["full_evals_per_s"] as? Double ?? 0)), 14)
                        + cell(String(format: "%.0fx", row.extra["ratio"] as? Double ?? 0), 10)
                        + cell(grouped(Int(row.extra["sharded_candidates_per_s"] as? Double ?? 0)), 20))
            }
            for row in rows where row.kind == "delta-rebuild" {
                lines.append(
                    String(
                        format: "  rebuild of the cache, %@ (B %d): %.2f ms in one shard, %.2f ms in %d",
                        row.shape ?? "",
                        row.extra["batch"] as? Int ?? 0, 1000 * (row.extra["seconds"] as? Double ?? 0),
                        1000 * (row.extra["sharded_seconds"] as? Double ?? 0), row.extra["shards"] as? Int ?? 0))
            }
        }
        return lines
    }

    /// The incremental-scoring rows of the text shape.
    static func textLines(_ rows: [BenchRow]) -> [String] {
        var lines: [String] = []
        let text = rows.filter { $0.kind == "delta-text" }
        if !text.isEmpty {
            lines.append("")
            lines.append(
                "incremental scoring on the text shape (one-hot token inputs; \(text[0].threads) threads, median):")
            for row in text {
                var line =
                    "  " + cell(row.shape ?? "", 14, right: false)
                    + cell(row.extra["move"] as? String ?? "", 13, right: false)
                    + cell("B \(row.extra["batch"] as? Int ?? 0)", 9)
                    + cell(grouped(Int(row.extra["candidates_per_s"] as? Double ?? 0)), 12) + " candidates/s"
                if let dense = row.extra["dense_candidates_per_s"] as? Double, let ratio = row.extra["ratio"] as? Double
                {
                    line += String(
                        format: "; same windows as dense bytes %@/s: %.1fx cheaper", grouped(Int(dense)), ratio)
                }
                if let bytes = row.extra["byte_candidates_per_s"] as? Double,
                    let ratio = row.extra["byte_ratio"] as? Double
                {
                    line += String(
                        format: "; random dense bytes (80%% zeros) %@/s: %.0fx cheaper", grouped(Int(bytes)), ratio)
                }
                lines.append(line)
            }
        }
        return lines
    }

    /// The genetic algorithm and memory rows.
    static func summaryLines(_ rows: [BenchRow]) -> [String] {
        var lines: [String] = []
        if let ga = rows.first(where: { $0.kind == "ga" }) {
            var line = String(
                format: "\ngenetic algorithm on %@, %d threads: %@ genome evals/s", ga.shape ?? "", ga.threads,
                grouped(Int(ga.genomeEvalsPerSecond ?? 0)))
            if let ratio = ga.extra["ratio"] as? Double {
                line += String(
                    format: ", %.2f of the evaluator alone (operators and bookkeeping cost %.0f%%)", ratio,
                    max(0, 100 * (1 - ratio)))
            }
            lines.append(line)
        }
        if let memory = rows.first(where: { $0.kind == "memory" }) {
            let counted = memory.extra["counted_bytes"] as? Int ?? 0
            var line = String(
                format: "\nmemory: %d genomes of %@ hold %.1f MB of bit planes and thresholds",
                memory.extra["population"] as? Int ?? 0, memory.shape ?? "", Double(counted) / 1e6)
            if let growth = memory.extra["resident_growth_bytes"] as? Int {
                line += String(format: " (resident set grew %.1f MB)", Double(growth) / 1e6)
            }
            lines.append(line)
        }
        return lines
    }
}
