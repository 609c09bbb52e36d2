import Foundation
import TernaryCore

/// One logged point of a run: a row of `curves.csv` (<doc:RunFolder>).
struct CurveRow: Equatable {
    var method: String, seed: UInt64, step: Int, wallSeconds: Double, evals: Int
    var trainLoss: Double?, trainAccuracy: Double?, validationAccuracy: Double?, testAccuracy: Double?
    var bestFitness: Double?, meanFitness: Double?
    var intOps: Double, floatOps: Double
    /// Columns added after the first thirteen (older runs lack them): the validation and test
    /// cross-entropy in nats (text: at the model's temperature), and for text runs bits per
    /// character on a fixed train sample, validation and test, and the temperature used.
    var validationLoss: Double? = nil, testLoss: Double? = nil
    var trainBits: Double? = nil, validationBits: Double? = nil, testBits: Double? = nil, temperature: Double? = nil

    static let header =
        "method,seed,step,wall_s,evals,train_loss,train_acc,val_acc,test_acc,best_fitness,mean_fitness,int_ops,float_ops,val_loss,test_loss,train_bpc,val_bpc,test_bpc,temperature"
    static let columnCount = 19
    /// Columns of rows written before the loss columns were added.
    static let olderColumnCount = 13

    init(
        method: String, seed: UInt64, step: Int, wallSeconds: Double, evals: Int, trainLoss: Double?,
        trainAccuracy: Double?,
        validationAccuracy: Double?, testAccuracy: Double?, bestFitness: Double?, meanFitness: Double?, intOps: Double,
        floatOps: Double
    ) {
        self.method = method
        self.seed = seed
        self.step = step
        self.wallSeconds = wallSeconds
        self.evals = evals
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationAccuracy = validationAccuracy
        self.testAccuracy = testAccuracy
        self.bestFitness = bestFitness
        self.meanFitness = meanFitness
        self.intOps = intOps
        self.floatOps = floatOps
    }

    /// The optional columns in file order (the binary record stores which are present).
    var optionals: [Double?] {
        [
            trainLoss, trainAccuracy, validationAccuracy, testAccuracy, bestFitness, meanFitness,
            validationLoss, testLoss, trainBits, validationBits, testBits, temperature,
        ]
    }

    var csv: String {
        "\(method),\(seed),\(step),\(String(format: "%.4f", wallSeconds)),\(evals),\(csvField(trainLoss)),\(csvField(trainAccuracy)),\(csvField(validationAccuracy)),\(csvField(testAccuracy)),\(csvField(bestFitness)),\(csvField(meanFitness)),\(String(format: "%.0f", intOps)),\(String(format: "%.0f", floatOps)),\(csvField(validationLoss)),\(csvField(testLoss)),\(csvField(trainBits)),\(csvField(validationBits)),\(csvField(testBits)),\(csvField(temperature))"
    }

    /// A row read back from its CSV line (either layout), as records before version 3 stored
    /// it; nil if malformed.
    init?(csv line: Substring) {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard f.count == CurveRow.columnCount || f.count == CurveRow.olderColumnCount, let seed = UInt64(f[1]),
            let step = Int(f[2]), let wall = Double(f[3]),
            let evals = Int(f[4]), let intOps = Double(f[11]), let floatOps = Double(f[12])
        else { return nil }
        func d(_ text: String) -> Double? { text.isEmpty ? nil : Double(text) }
        self.init(
            method: f[0], seed: seed, step: step, wallSeconds: wall, evals: evals, trainLoss: d(f[5]),
            trainAccuracy: d(f[6]), validationAccuracy: d(f[7]), testAccuracy: d(f[8]), bestFitness: d(f[9]),
            meanFitness: d(f[10]), intOps: intOps, floatOps: floatOps)
        if f.count == CurveRow.columnCount {
            (validationLoss, testLoss, trainBits, validationBits, testBits, temperature) = (
                d(f[13]), d(f[14]), d(f[15]), d(f[16]), d(f[17]), d(f[18])
            )
        }
    }

    /// The row as typed binary fields (records of version 3).
    func encode(into writer: inout BinaryWriter) {
        RowHead(
            method: method, seed: seed, steps: step, wallSeconds: wallSeconds, evals: evals, intOps: intOps,
            floatOps: floatOps
        )
        .encode(into: &writer)
        writeOptionals(optionals, into: &writer)
    }

    init(from reader: inout BinaryReader) throws(FileFormatError) {
        let head = try RowHead(from: &reader)
        let o = try readOptionals(count: 12, from: &reader)
        self.init(
            method: head.method, seed: head.seed, step: head.steps, wallSeconds: head.wallSeconds, evals: head.evals,
            trainLoss: o[0], trainAccuracy: o[1], validationAccuracy: o[2], testAccuracy: o[3], bestFitness: o[4],
            meanFitness: o[5], intOps: head.intOps, floatOps: head.floatOps)
        (validationLoss, testLoss, trainBits, validationBits, testBits, temperature) = (
            o[6], o[7], o[8], o[9], o[10], o[11]
        )
    }
}

/// The summary of a finished (arm, seed): a row of `summary.csv`. Selection uses validation
/// (train when there is no validation split); the times to 85/90/95% test accuracy and to 3.0
/// and 2.7 test bits per character are read off the test curve (reporting only).
struct SummaryRow: Equatable {
    var method: String, seed: UInt64, steps: Int, wallSeconds: Double, evals: Int
    var finalTrainAccuracy: Double?, finalValidationAccuracy: Double?, finalTestAccuracy: Double?
    var bestValidationAccuracy: Double?, testAccuracyAtBest: Double?
    var timeTo85: Double?, timeTo90: Double?, timeTo95: Double?
    var intOps: Double, floatOps: Double, energy: Double
    var bestValidationBits: Double?, testBitsAtBest: Double?, timeTo3Bits: Double?, timeTo27Bits: Double?

    static let header =
        "method,seed,steps,wall_s,evals,final_train_acc,final_val_acc,final_test_acc,best_val_acc,test_acc_at_best_val,time_to_85_s,time_to_90_s,time_to_95_s,int_ops,float_ops,energy_j,best_val_bpc,test_bpc_at_best_val,time_to_3.0_bpc_s,time_to_2.7_bpc_s"
    /// Columns of summaries written before the text columns were added.
    static let olderColumnCount = 16

    /// The summary of `rows` (not empty), with the point of `bestStep` as the chosen model.
    init(method: String, seed: UInt64, rows: [CurveRow], bestStep: Int) {
        let last = rows.last!
        let chosen = rows.first { $0.step == bestStep }
        func reach(_ target: Double) -> Double? { rows.first { ($0.testAccuracy ?? 0) >= target }?.wallSeconds }
        func reachBits(_ target: Double) -> Double? { rows.first { ($0.testBits ?? .infinity) <= target }?.wallSeconds }
        self.method = method
        self.seed = seed
        steps = last.step
        wallSeconds = last.wallSeconds
        evals = last.evals
        finalTrainAccuracy = last.trainAccuracy
        finalValidationAccuracy = last.validationAccuracy
        finalTestAccuracy = last.testAccuracy
        bestValidationAccuracy = chosen?.validationAccuracy
        testAccuracyAtBest = chosen?.testAccuracy
        (timeTo85, timeTo90, timeTo95) = (reach(0.85), reach(0.9), reach(0.95))
        intOps = last.intOps
        floatOps = last.floatOps
        energy = EnergyModel.joules(integerOperations: last.intOps, floatMultiplyAdds: last.floatOps)
        bestValidationBits = chosen?.validationBits
        testBitsAtBest = chosen?.testBits
        (timeTo3Bits, timeTo27Bits) = (reachBits(3.0), reachBits(2.7))
    }

    var optionals: [Double?] {
        [
            finalTrainAccuracy, finalValidationAccuracy, finalTestAccuracy, bestValidationAccuracy, testAccuracyAtBest,
            timeTo85, timeTo90, timeTo95, bestValidationBits, testBitsAtBest, timeTo3Bits, timeTo27Bits,
        ]
    }

    var csv: String {
        let o = optionals.map(csvField)
        return
            "\(method),\(seed),\(steps),\(String(format: "%.4f", wallSeconds)),\(evals),\(o[0...7].joined(separator: ",")),\(String(format: "%.0f", intOps)),\(String(format: "%.0f", floatOps)),\(String(format: "%.6g", energy)),\(o[8...11].joined(separator: ","))"
    }

    /// A summary read back from its CSV line (with or without the text columns), as records
    /// before version 3 stored it; nil if malformed.
    init?(csv line: String) {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard f.count == SummaryRow.header.split(separator: ",").count || f.count == SummaryRow.olderColumnCount,
            let seed = UInt64(f[1]), let steps = Int(f[2]), let wall = Double(f[3]), let evals = Int(f[4]),
            let intOps = Double(f[13]), let floatOps = Double(f[14]), let energy = Double(f[15])
        else { return nil }
        func d(_ index: Int) -> Double? { index < f.count && !f[index].isEmpty ? Double(f[index]) : nil }
        method = f[0]
        self.seed = seed
        self.steps = steps
        wallSeconds = wall
        self.evals = evals
        (finalTrainAccuracy, finalValidationAccuracy, finalTestAccuracy) = (d(5), d(6), d(7))
        (bestValidationAccuracy, testAccuracyAtBest) = (d(8), d(9))
        (timeTo85, timeTo90, timeTo95) = (d(10), d(11), d(12))
        self.intOps = intOps
        self.floatOps = floatOps
        self.energy = energy
        (bestValidationBits, testBitsAtBest, timeTo3Bits, timeTo27Bits) = (d(16), d(17), d(18), d(19))
    }

    func encode(into writer: inout BinaryWriter) {
        RowHead(
            method: method, seed: seed, steps: steps, wallSeconds: wallSeconds, evals: evals, intOps: intOps,
            floatOps: floatOps
        )
        .encode(into: &writer)
        writer.write(energy)
        writeOptionals(optionals, into: &writer)
    }

    init(from reader: inout BinaryReader) throws(FileFormatError) {
        let head = try RowHead(from: &reader)
        (method, seed, steps, wallSeconds, evals) = (head.method, head.seed, head.steps, head.wallSeconds, head.evals)
        (intOps, floatOps) = (head.intOps, head.floatOps)
        energy = try reader.read(Double.self)
        let o = try readOptionals(count: 12, from: &reader)
        (finalTrainAccuracy, finalValidationAccuracy, finalTestAccuracy, bestValidationAccuracy, testAccuracyAtBest) = (
            o[0], o[1], o[2], o[3], o[4]
        )
        (timeTo85, timeTo90, timeTo95) = (o[5], o[6], o[7])
        (bestValidationBits, testBitsAtBest, timeTo3Bits, timeTo27Bits) = (o[8], o[9], o[10], o[11])
    }
}

/// The fields a curves row and a summary row both start with, as a record stores them.
private struct RowHead {
    var method: String, seed: UInt64, steps: Int, wallSeconds: Double, evals: Int, intOps: Double, floatOps: Double

    init(method: String, seed: UInt64, steps: Int, wallSeconds: Double, evals: Int, intOps: Double, floatOps: Double) {
        (self.method, self.seed, self.steps, self.wallSeconds, self.evals) = (method, seed, steps, wallSeconds, evals)
        (self.intOps, self.floatOps) = (intOps, floatOps)
    }

    func encode(into writer: inout BinaryWriter) {
        writer.write(method)
        writer.write(seed)
        writer.writeCount(steps)
        writer.write(wallSeconds)
        writer.writeCount(evals)
        writer.write(intOps)
        writer.write(floatOps)
    }

    init(from reader: inout BinaryReader) throws(FileFormatError) {
        method = try reader.readString()
        seed = try reader.read(UInt64.self)
        steps = try reader.readCount(limit: Int.max)
        wallSeconds = try reader.read(Double.self)
        evals = try reader.readCount(limit: Int.max)
        intOps = try reader.read(Double.self)
        floatOps = try reader.read(Double.self)
    }
}

/// A CSV field of an optional number: empty when absent, else six significant digits.
func csvField(_ value: Double?) -> String { value.map { String(format: "%.6g", $0) } ?? "" }

/// Optional numbers as a presence mask (bit k: value k is there) and the present values.
private func writeOptionals(_ values: [Double?], into writer: inout BinaryWriter) {
    var mask: UInt32 = 0
    for (k, value) in values.enumerated() where value != nil { mask |= 1 << UInt32(k) }
    writer.write(mask)
    for value in values { if let value { writer.write(value) } }
}

private func readOptionals(count: Int, from reader: inout BinaryReader) throws(FileFormatError) -> [Double?] {
    let mask = try reader.read(UInt32.self)
    guard mask >> UInt32(count) == 0 else {
        throw reader.fail(
            "a row's presence mask \(String(mask, radix: 2)) names more than \(count) values; the file is damaged")
    }
    var values: [Double?] = []
    for k in 0..<count { values.append(mask & (1 << UInt32(k)) != 0 ? try reader.read(Double.self) : nil) }
    return values
}

/// Energy per operation assumed by the estimate (Horowitz, ISSCC 2014, 45 nm): a 32-bit
/// integer add 0.1 pJ (also charged per xor, and or popcount word); a float32 multiply-add
/// 3.7 + 0.9 = 4.6 pJ. Memory traffic is not counted.
enum EnergyModel {
    static let integerOperation = 0.1e-12
    static let floatMultiplyAdd = 4.6e-12

    static func joules(integerOperations: Double, floatMultiplyAdds: Double) -> Double {
        integerOperations * integerOperation + floatMultiplyAdds * floatMultiplyAdd
    }
}

/// When the run folder's files are rewritten: unless forced, at most once a second and never
/// more than a tenth of the time, since a rewrite grows with the rows and a long run should not
/// spend its wall time on files.
struct WriteThrottle {
    private var lastWrite = 0.0, lastCost = 0.0

    /// Whether a rewrite starting at `now` (seconds) should happen.
    func isDue(at now: Double, force: Bool) -> Bool { force || now - lastWrite >= max(1, 10 * lastCost) }

    /// Notes a rewrite that started at `start` and ended at `end`.
    mutating func wrote(from start: Double, to end: Double) {
        lastWrite = end
        lastCost = end - start
    }
}

/// The derived files of a run folder, from the records' rows and summaries.
enum RunFiles {
    static func curves(_ rows: [CurveRow]) -> [UInt8] { lines(CurveRow.header, rows.map(\.csv)) }

    static func summary(_ summaries: [SummaryRow]) -> [UInt8] { lines(SummaryRow.header, summaries.map(\.csv)) }

    private static func lines(_ header: String, _ lines: [String]) -> [UInt8] {
        Array(([header] + lines).joined(separator: "\n").appending("\n").utf8)
    }

    /// `curves.svg`: test accuracy (test bits per character for text) against training time,
    /// one series per arm, one line per seed.
    static func chart(_ rows: [CurveRow], name: String, text: Bool) -> [UInt8] {
        var methods: [String] = []
        var points: [String: [UInt64: [(x: Double, y: Double)]]] = [:]
        for row in rows {
            guard let y = text ? row.testBits : row.testAccuracy else { continue }
            if points[row.method] == nil {
                methods.append(row.method)
                points[row.method] = [:]
            }
            points[row.method]![row.seed, default: []].append((row.wallSeconds, y))
        }
        let chart = LineChart(
            series: methods.map { method in
                LineChart.Series(method: method, seeds: points[method]!.keys.sorted().map { points[method]![$0]! })
            }, xLabel: "wall_s (training seconds)", yLabel: text ? "test_bpc" : "test_acc",
            title: "\(name): \(text ? "test bits per character" : "test accuracy") against training time")
        return Array(chart.svg().utf8)
    }
}
