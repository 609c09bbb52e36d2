import Foundation
import TernaryCore

/// A run that cannot go on: an arm failed (a NaN loss) or a file could not be written.
struct RunFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32
    var description: String { message }
}

/// Runs every arm of an experiment for every seed and writes the run folder.
///
/// The commit protocol (what makes `kill -9` at any moment safe): at every rewrite of the files,
/// the running arm's record (state, rows, chosen model) is written first, by a rename, then the
/// model file and the CSV and SVG files are rewritten from the records, also by renames. A kill
/// leaves each record at its previous or its new consistent moment; `ternevo resume` reads only
/// the records, continues every unfinished arm from its state (so it logs the points an
/// uninterrupted run would), and rewrites every derived file.
final class ExperimentRunner {
    let config: ExperimentConfig
    let folder: String
    let threads: Int?
    let console: Console
    let quiet: Bool
    /// Resuming: finished arms are kept, unfinished ones continue from their records.
    let resuming: Bool
    /// Restart an arm whose record is damaged instead of stopping.
    let restartDamaged: Bool
    /// Records by "arm,seed", of the arms started so far.
    var records: [String: ArmRecord] = [:]
    /// Each record as its last write left it on disk (or as it was read, or fresh): what an
    /// interrupted logged point goes back to (`dropUncommitted`).
    var committedRecords: [String: ArmRecord] = [:]
    var throttle = WriteThrottle()
    var interrupt = InterruptFlag.install()
    /// A line per logged point on a pipe too (`--verbose`); set before `run`.
    var verbose = false
    /// The progress lines on stderr (ProgressDisplay.swift).
    lazy var display = ProgressDisplay(console: console, detail: quiet || !writes ? .quiet : verbose ? .points : .arms)
    /// Messages of arms that failed (the run goes on with the others, then exits non-zero).
    var failures: [String] = []
    /// `Splits.fingerprint` of the run's data, computed once by `run()`.
    var dataFingerprint = ""
    /// This process's hold on the run folder: one writer per folder.
    var folderLock: FolderLock?
    /// The memory a run may plan for (nil: what the system has available).
    var memoryLimit: Int?
    /// The processes of a distributed run (<doc:ScaleOut>); nil alone. Every rank runs the
    /// same arms in step; every arm splits the examples of each batch (backprop: of each
    /// minibatch) and of each logged point; rank 0 alone writes.
    let communicator: Communicator?
    /// The evaluator of a text run's logged points (`textEvaluator`).
    var textEvaluatorCache: PopulationEvaluator?
    /// Whether this process writes files and progress (rank 0, or alone).
    var writes: Bool { (communicator?.rank ?? 0) == 0 }

    init(
        config: ExperimentConfig, folder: String, threads: Int?, console: Console, quiet: Bool,
        resuming: Bool = false, restartDamaged: Bool = false, communicator: Communicator?
    ) {
        self.config = config
        self.communicator = communicator.flatMap { $0.size > 1 ? $0 : nil }
        self.folder = folder
        self.threads = threads
        self.console = console
        self.quiet = quiet
        self.resuming = resuming
        self.restartDamaged = restartDamaged
    }

    /// The (arm, seed) pairs in run order: seeds outer, arms in file order inner.
    var order: [(arm: ExperimentConfig.Arm, seed: UInt64)] {
        config.seeds.flatMap { seed in config.arms.map { ($0, seed) } }
    }

    static func key(_ arm: String, _ seed: UInt64) -> String { "\(arm),\(seed)" }
    func recordPath(_ arm: String, _ seed: UInt64) -> String { folder + "/\(arm)-seed\(seed).ckpt" }
    func modelPath(_ arm: String, _ seed: UInt64) -> String { folder + "/\(arm)-seed\(seed).tern" }

    /// All rows and summary lines of the records, in run order.
    var rows: [CurveRow] { order.flatMap { records[ExperimentRunner.key($0.arm.name, $0.seed)]?.rows ?? [] } }
    var summaries: [SummaryRow] { order.compactMap { records[ExperimentRunner.key($0.arm.name, $0.seed)]?.summary } }

    /// The splits, quantised on the train split.
    struct Splits {
        var train: QuantizedDataset, validation: QuantizedDataset, test: QuantizedDataset
        var quantizer: InputQuantizer
        var layerSizes: [Int]
        /// The text of a text experiment (<doc:TextLanguageModelling>), nil otherwise.
        var corpus: TextCorpus? = nil

        /// Sizes and a hash of every example (bytes and label) of every split, and the input
        /// scaling: equal fingerprints mean the same data, split the same way.
        var fingerprint: String {
            func hash(_ data: QuantizedDataset) -> String {
                var labels = [UInt8]()
                labels.reserveCapacity(data.count * 2)
                for label in data.labels {
                    labels += [UInt8(truncatingIfNeeded: label), UInt8(truncatingIfNeeded: label >> 8)]
                }
                var value = ChecksummedFile.hash(data.features) ^ (ChecksummedFile.hash(labels) &* 31)
                if let stream = data.windows?.stream {
                    value ^=
                        ChecksummedFile.hash(stream.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] }) &* 131
                }
                return "\(data.count) (\(String(value, radix: 16)))"
            }
            return
                "train \(hash(train)), validation \(hash(validation)), test \(hash(test)), layers \(layerSizes.map(String.init).joined(separator: "-")), inputs \(quantizer.scalingName) \(quantizer.levels) levels"
        }
    }

    func loadSplits() throws(DataError) -> Splits {
        if case .text = config.data { return try textSplits() }
        let (trainRaw, validationRaw, testRaw) = try config.loadSplits()
        let perFeature =
            config.perFeatureScaling
            ?? InputQuantizer.fitsPerFeature(trainRaw.features, featureCount: trainRaw.featureCount)
        let quantizer =
            perFeature
            ? InputQuantizer(
                fittingPerFeature: trainRaw.features, featureCount: trainRaw.featureCount, bits: config.bits)
            : InputQuantizer(fitting: trainRaw.features, bits: config.bits)
        let classes = max(trainRaw.classCount, testRaw.classCount)
        func quantize(_ data: LabeledData) -> QuantizedDataset {
            QuantizedDataset(
                features: quantizer.quantize(features: data.features, featureCount: data.featureCount),
                featureCount: data.featureCount,
                labels: data.labels, classCount: classes)
        }
        return Splits(
            train: quantize(trainRaw), validation: quantize(validationRaw), test: quantize(testRaw),
            quantizer: quantizer, layerSizes: [trainRaw.featureCount] + config.hidden + [classes])
    }

    /// Runs everything; returns false if interrupted (files are complete either way).
    func run() throws -> Bool {
        let splits = try loadSplits()
        try stopBeforeWriting("loading the data")
        // Hashing every example once per run, not once per arm and seed.
        dataFingerprint = splits.fingerprint
        try stopBeforeWriting("hashing the data")
        let context = ArmContext(
            layerSizes: splits.layerSizes, activation: config.activation, quantizer: splits.quantizer,
            train: splits.train,
            zeroFraction: config.zeroFraction, threads: threads, ranks: communicator?.size ?? 1)
        try checkMemory(context, splits: splits)
        do {
            if writes { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        } catch {
            throw RunFailure(
                message:
                    "\(folder): cannot create the run folder (\(ExperimentRunner.folderProblem(folder) ?? reason(error))); choose another with --out",
                exitCode: 73)
        }
        if writes { folderLock = try FolderLock(folder: folder, command: resuming ? "resume" : "run") }
        // Held while the run writes, released when it returns (the kernel releases it on a kill).
        defer { folderLock = nil }
        if let communicator, writes {
            progress("\(communicator.size) processes; rank 0 writes \(folder)")
        }
        if !resuming {
            try writeFile(config.runFolderCopy(folder: folder), to: folder + "/config.json")
        }
        if let corpus = splits.corpus { try writeReferences(corpus) }
        for (arm, seed) in order {
            // Rank 0's interrupt decides for every rank.
            guard try !agreed(interrupt.isSet) else { break }
            try runArm(arm, seed: seed, context: context, splits: splits)
        }
        try commit(nil, force: true)
        display.clear()
        if !failures.isEmpty { throw RunFailure(message: failures.joined(separator: "; "), exitCode: 65) }
        return !interrupt.isSet
    }

    /// Ends a run interrupted before it wrote anything (while the data was loaded and hashed):
    /// exit status 128 + the signal, the folder untouched (not even created by `run`).
    func stopBeforeWriting(_ phase: String) throws {
        guard try agreed(interrupt.isRaisedNow) else { return }
        let folderState =
            resuming ? "\(folder) is unchanged; resume it again" : "nothing was written; run the config again"
        throw RunFailure(
            message: "interrupted (\(interrupt.signalName)) while \(phase); \(folderState)",
            exitCode: interrupt.exitStatus)
    }

    /// The estimated peak of the run: the splits (raw floats and quantised bytes) plus the
    /// largest arm (arms run one at a time). Per arm, bytes and the config key that drives them.
    func memoryEstimate(
        _ context: ArmContext, splits: Splits
    ) -> (total: Int, arms: [(arm: ExperimentConfig.Arm, bytes: Int, key: String)]) {
        let examples = splits.train.count + splits.validation.count + splits.test.count
        // Text: one symbol (2 bytes) and one label (8 bytes) per window, plus the raw text.
        let data =
            splits.corpus != nil
            ? examples * 14 : examples * splits.layerSizes[0] * 7 + examples * splits.layerSizes[0] * 2
        let arms = config.arms.map { arm -> (arm: ExperimentConfig.Arm, bytes: Int, key: String) in
            let (bytes, key) = arm.settings.estimatedBytes(context)
            return (arm, bytes, key)
        }
        return (data + (arms.map(\.bytes).max() ?? 0), arms)
    }

    /// Refuses a run whose estimate exceeds the limit (`--max-memory`, else the tightest of
    /// `MemoryLimits`), naming the arm and key, before anything large is allocated.
    func checkMemory(_ context: ArmContext, splits: Splits) throws {
        let (limit, source) = memoryLimit.map { ($0, "allowed by --max-memory") } ?? MemoryLimits.tightest
        let (total, arms) = memoryEstimate(context, splits: splits)
        guard total > limit, let largest = arms.max(by: { $0.bytes < $1.bytes }) else { return }
        throw RunFailure(
            message:
                "\(config.place("arms.\(largest.arm.name).\(largest.key)")): the run would need about \(gigabytes(total)) of memory (arm \(largest.arm.name): \(gigabytes(largest.bytes))), more than the \(gigabytes(limit)) \(source); make it smaller\(memoryLimit == nil ? "" : ", or raise --max-memory")",
            exitCode: 65)
    }

    /// Rank 0's `decision` on every rank (the decision itself, alone).
    func agreed(_ decision: Bool) throws -> Bool { try agreed(code: decision ? 1 : 0) != 0 }

    /// Rank 0's `code` on every rank (the code itself, alone).
    func agreed(code: UInt64) throws -> UInt64 {
        guard let communicator else { return code }
        do { return try communicator.broadcast(code) } catch {
            throw RunFailure(
                message: "rank \(communicator.rank): the processes of the run lost contact (\(error))", exitCode: 70)
        }
    }

    /// Stops the run when the ranks' states differ: a rank that computed differently would
    /// otherwise diverge silently.
    func checkSameState(_ session: SearchSession, arm: String, seed: UInt64) throws {
        guard let communicator else { return }
        var writer = BinaryWriter()
        session.encodeState(into: &writer)
        let hash = ChecksummedFile.hash(writer.bytes)
        let hashes: [UInt64]
        do { hashes = try communicator.allGather(hash) } catch {
            throw RunFailure(
                message: "rank \(communicator.rank): the processes of the run lost contact (\(error))", exitCode: 70)
        }
        if let other = hashes.firstIndex(where: { $0 != hashes[0] }) {
            throw RunFailure(
                message:
                    "\(arm) seed \(seed) step \(session.step): the state of rank \(other) differs from rank 0's (hashes \(String(hashes[other], radix: 16)) and \(String(hashes[0], radix: 16))); the processes diverged, so the run stops. Are all ranks running the same ternevo build on the same data?",
                exitCode: 70)
        }
    }

    func progress(_ text: String) {
        guard writes else { return }
        display.line(text)
    }

    /// What an arm's trajectory depends on, one `part: value` line per part: the arm, its
    /// logging and early stopping, the data as split and quantised (a fingerprint of every
    /// example of every split, so another split seed, fraction or file is seen), the session's
    /// settings, and every key of the arm's kind as read, in the user's words (`keys: local:
    /// candidates 32, ...`: every key read through the config reader, so a key added to a kind
    /// is part of the key without anyone listing it). The budget is kept beside it (a longer
    /// budget continues an unfinished arm exactly as a fresh run would).
    func recordKey(_ arm: ExperimentConfig.Arm, _ session: SearchSession, legacy: Bool = false) -> String {
        """
        arm: \(arm.name) (\(arm.kind))
        logging: every=\(arm.evalEvery.map(String.init) ?? "auto") patience=\(arm.patience.map(String.init) ?? "none")
        data: \(dataFingerprint)
        settings: \(session.settingsDescription)
        keys: \(legacy ? String(describing: arm.settings) : arm.keysText)
        """
    }

    /// What a version 1 record stores for the same arm (its hash alone).
    func legacyRecordHash(_ arm: ExperimentConfig.Arm, _ session: SearchSession, splits: Splits) -> UInt64 {
        ChecksummedFile.hash(
            "\(arm.name) \(arm.kind) every=\(arm.evalEvery.map(String.init) ?? "auto")\(arm.patience.map { " patience=\($0)" } ?? "") \(splits.validation.count)/\(splits.test.count)\n\(session.settingsDescription)"
        )
    }

    /// The arm being run: where its record and model go.
    struct ActiveArm {
        var key: String, session: SearchSession, recordPath: String, modelPath: String
    }

    func commit(_ active: ActiveArm?, force: Bool) throws {
        var written = true
        try commit(active, force: force, modelWritten: &written)
    }

    /// Writes the active arm's record, then its model, then the CSV and SVG files (each by a
    /// rename), when `throttle` says a rewrite is due (always when forced).
    func commit(_ active: ActiveArm?, force: Bool, modelWritten: inout Bool) throws {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        guard throttle.isDue(at: now, force: force) else { return }
        defer { throttle.wrote(from: now, to: Double(DispatchTime.now().uptimeNanoseconds) / 1e9) }
        if let active, var record = records[active.key] {
            var writer = BinaryWriter()
            active.session.encodeState(into: &writer)
            record.sessionState = writer.bytes
            records[active.key] = record
            try writeFile(record.encode(), to: active.recordPath)
            committedRecords[active.key] = record
            if !modelWritten, let model = record.bestModel {
                try writeFile(model.modelFileBytes(), to: active.modelPath)
                modelWritten = true
            }
        }
        let rows = rows
        try writeFile(RunFiles.curves(rows), to: folder + "/curves.csv")
        try writeFile(RunFiles.summary(summaries), to: folder + "/summary.csv")
        try writeFile(RunFiles.chart(rows, name: config.name, text: config.context > 0), to: folder + "/curves.svg")
    }

    /// Writes a file by a rename; a failure is a one-line error naming the path (exit 74).
    func writeFile(_ bytes: [UInt8], to path: String) throws {
        guard writes else { return }
        do { try AtomicFile.write(bytes, to: path) } catch {
            throw RunFailure(message: "\(path): cannot be written (\(reason(error)))", exitCode: 74)
        }
    }
}

extension ExperimentRunner {
    /// Why a folder cannot be made at `path`, when the path itself says so: it or one of its
    /// parents is a file, not a folder.
    static func folderProblem(_ path: String) -> String? {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            return isFolder.boolValue ? nil : "it exists and is a file, not a folder"
        }
        var parent = (path as NSString).deletingLastPathComponent
        while !parent.isEmpty && parent != "/" {
            if FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder) {
                return isFolder.boolValue ? nil : "\(parent) is a file, not a folder"
            }
            parent = (parent as NSString).deletingLastPathComponent
        }
        return nil
    }
}

/// `bytes` as a short figure: `1.4 GB`, `230 MB`.
func gigabytes(_ bytes: Int) -> String {
    bytes >= 1 << 30 ? String(format: "%.1f GB", Double(bytes) / 1e9) : String(format: "%.0f MB", Double(bytes) / 1e6)
}

/// The short reason of a file-system error, without Foundation's dump.
func reason(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
        let message = strerror(Int32(underlying.code))
    {
        return String(cString: message)
    }
    switch nsError.code {
    case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
    case NSFileWriteOutOfSpaceError: return "no space left on the device"
    case NSFileWriteVolumeReadOnlyError: return "read-only file system"
    case NSFileNoSuchFileError, NSFileWriteFileExistsError, 4: return "no such file or folder"
    case NSFileWriteUnknownError: return "the file system refused it"
    default: return nsError.localizedDescription
    }
}
