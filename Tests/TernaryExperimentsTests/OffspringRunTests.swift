import Foundation
import TestSupport
import Testing

@testable import TernaryExperiments

/// Run folders of a GA whose offspring are scored from its breeders' caches.
@Suite("GA with incremental offspring, end to end")
struct OffspringRunTests {
    static let config = #"""
        {"dataset": {"synthetic": "parity:6", "test_fraction": 0, "validation_fraction": 0}, "model": {"hidden": [16]}, "seeds": [1],
         "arms": {"neuron": {"strategy": "ga", "generations": 24, "population": 16, "batch": 40, "rotate_every": 4, "cache_mb": 64, "crossover": "neuron", "eval_every": 4},
                  "two": {"strategy": "ga", "generations": 24, "population": 16, "batch": 40, "rotate_every": 4, "cache_mb": 64, "crossover": "two-point", "eval_every": 4}}}
        """#

    func run(_ file: String, into folder: String, threads: Int, interruptAfter reads: Int? = nil) throws {
        let runner = ExperimentRunner(
            config: try ExperimentConfig.load(file), folder: folder, threads: threads,
            console: Console(out: { _ in }, err: { _ in }), quiet: true, communicator: nil)
        if let reads { runner.interrupt = InterruptFlag(trippingAfter: reads) }
        #expect(try runner.run() == (reads == nil))
    }

    @Test("1 and 2 threads write the same run files; an interrupted run resumed on 2 threads writes them too")
    func deterministic() throws {
        let one = temporaryPath("one"), two = temporaryPath("two"), cut = temporaryPath("cut"),
            file = temporaryPath("offspring.json")
        defer { for path in [one, two, cut, file] { try? FileManager.default.removeItem(atPath: path) } }
        try Self.config.write(toFile: file, atomically: true, encoding: .utf8)
        try run(file, into: one, threads: 1)
        try run(file, into: two, threads: 2)
        try run(file, into: cut, threads: 1, interruptAfter: 14)
        let (status, output) = Captured.run(["resume", cut, "--quiet", "--threads", "2"])
        #expect(status == 0, "\(output.err)")
        let resume = ResumeTests()
        for folder in [two, cut] {
            #expect(try curvesWithoutTime(folder) == curvesWithoutTime(one), "\(folder)")
            #expect(try resume.summaryWithoutTime(folder) == resume.summaryWithoutTime(one), "\(folder)")
            for model in ["neuron-seed1.tern", "two-seed1.tern"] {
                #expect(
                    FileManager.default.contents(atPath: "\(folder)/\(model)")
                        == FileManager.default.contents(atPath: "\(one)/\(model)"))
            }
        }
        // The counters: fewer evaluations than 24 generations of 16 full ones (elites are free).
        let rows = try curvesWithoutTime(one).filter { $0.hasPrefix("neuron,") }
        let evals = try #require(Int(rows.last!.split(separator: ",", omittingEmptySubsequences: false)[4]))
        #expect(evals < 24 * 16 && evals > 12 * 16, "\(evals) evaluations")
    }
}
