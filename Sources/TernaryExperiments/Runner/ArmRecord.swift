import Foundation
import TernaryCore

/// Everything the run folder knows of one (arm, seed), kept in one checksummed record file
/// (`<arm>-seed<N>.ckpt`): the key of what the arm's trajectory depends on, its budget, the
/// session's state, the rows logged so far, the search seconds, the model chosen on
/// validation, and, once the arm ends, its summary row. The record is the truth; `curves.csv`
/// and `summary.csv` are rewritten from the records.
///
/// Version 2 stores the key as text (one `part: value` line per part: the arm, its logging,
/// the data and its split, the settings), so a resume under a changed config names what
/// changed. Version 3 stores the rows and the summary as typed fields (`CurveRow`,
/// `SummaryRow`) instead of their CSV text, so a column added to a file never changes what a
/// record means. Records of versions 1 (a hash alone) and 2 still load.
struct ArmRecord {
    /// What the arm's trajectory depends on (`ExperimentRunner.recordKey`); its hash is the
    /// file's configuration hash.
    var key = ""
    /// The budget the arm ran under (nil: none given), checked when a finished arm is resumed.
    var steps: Int?
    var seconds: Double?
    var rows: [CurveRow] = []
    var searchSeconds = 0.0
    var summary: SummaryRow?
    /// The model chosen on validation (train accuracy when there is no validation split): its
    /// accuracy there, its step, and the genome (nil for the float arm).
    var bestSelection = -1.0
    var bestStep = 0
    var bestModel: TernaryNetwork?
    var sessionState: [UInt8] = []
    /// The format version the record was read from (records are always written in the newest).
    var version = ArmRecord.version

    static let magic = "TARC", version: UInt16 = 3

    func encode() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(key)
        writer.write(Int64(steps ?? -1))
        writer.write(seconds ?? -1)
        writer.writeCount(rows.count)
        for row in rows { row.encode(into: &writer) }
        writer.write(searchSeconds)
        writer.write(summary != nil)
        summary?.encode(into: &writer)
        writer.write(bestSelection)
        writer.writeCount(bestStep)
        writer.write(bestModel != nil)
        if let bestModel { writer.write(bestModel) }
        writer.write(bytes: sessionState)
        return ChecksummedFile.encode(
            magic: ArmRecord.magic, version: ArmRecord.version, configurationHash: ChecksummedFile.hash(key),
            payload: writer.bytes)
    }

    /// `key` as a build before some of its keys existed wrote it: without the `, name auto`
    /// entries of its keys line whose names the `recorded` key's keys line does not have. A key
    /// added later means, when absent (`auto`), what the builds before it did, so a record
    /// written before it matches; a value given in the config still has to match.
    static func key(_ key: String, asRecordedIn recorded: String) -> String {
        // The entries of a keys line, `\nkeys: kind: name value, name value, ...`.
        func entries(_ key: String) -> (start: String.Index, list: [String])? {
            guard let line = key.range(of: "\nkeys: "), let kind = key[line.upperBound...].range(of: ": ") else {
                return nil
            }
            return (kind.upperBound, key[kind.upperBound...].components(separatedBy: ", "))
        }
        func name(_ entry: String) -> Substring { entry.split(separator: " ").first ?? "" }
        guard let current = entries(key), let written = entries(recorded) else { return key }
        let writtenNames = Set(written.list.map(name))
        let kept = current.list.filter { !($0.hasSuffix(" auto") && !writtenNames.contains(name($0))) }
        return key[..<current.start] + kept.joined(separator: ", ")
    }

    /// Reads a record written under `key` (`legacyKey`: the same key as earlier builds wrote it,
    /// its `keys:` line the settings value printed by reflection; `legacyHash`: what a version 1
    /// record stores for the same config). A record of another key is refused with the part
    /// that changed; one written before some of the keys existed is read as the same key
    /// (`key(_:asRecordedIn:)`).
    static func decode(
        _ bytes: [UInt8], path: String, key: String, legacyKey: String? = nil,
        legacyHash: UInt64
    ) throws(FileFormatError) -> ArmRecord {
        var (reader, found, hash) = try ChecksummedFile.open(
            bytes, path: path, magic: magic, versions: 1...version, what: "arm record")
        var record = ArmRecord()
        record.version = found
        if found == 1 {
            guard hash == legacyHash else {
                throw reader.fail(
                    "was written by a different configuration (an older record, which cannot say what changed); resume with the configuration that started the run"
                )
            }
            record.key = key
        } else {
            record.key = try reader.readString()
            guard ChecksummedFile.hash(record.key) == hash else {
                throw reader.fail("its header does not match its contents; the file is damaged")
            }
            // A key written before the `keys:` line: the same configuration if all else agrees.
            let keysLine = key.range(of: "\nkeys: ")
            if record.key != key && record.key != legacyKey
                && record.key != ArmRecord.key(key, asRecordedIn: record.key)
                && !(keysLine != nil && !record.key.contains("\nkeys: ")
                    && record.key == String(key[..<keysLine!.lowerBound]))
            {
                throw reader.fail(
                    "was written for a different configuration: \(ArmRecord.change(from: record.key, to: key)); put config.json back as it was"
                )
            }
            let steps = try reader.read(Int64.self)
            let seconds = try reader.read(Double.self)
            guard steps >= -1, seconds == -1 || (seconds.isFinite && seconds > 0) else {
                throw reader.fail("its budget is out of range; the file is damaged")
            }
            record.steps = steps < 0 ? nil : Int(steps)
            record.seconds = seconds < 0 ? nil : seconds
        }
        let count = try reader.readCount(limit: reader.end - reader.offset)
        for index in 0..<count {
            if found >= 3 {
                record.rows.append(try CurveRow(from: &reader))
            } else {
                guard let row = CurveRow(csv: Substring(try reader.readString())) else {
                    throw reader.fail("row \(index + 1) is not a curves row")
                }
                record.rows.append(row)
            }
        }
        record.searchSeconds = try reader.readFinite()
        let finished = try reader.read(Bool.self)
        if found >= 3 {
            record.summary = finished ? try SummaryRow(from: &reader) : nil
        } else {
            let line = try reader.readString()
            if finished {
                guard let summary = SummaryRow(csv: line) else { throw reader.fail("its summary is not a summary row") }
                record.summary = summary
            }
        }
        record.bestSelection = try reader.readFinite()
        record.bestStep = try reader.readCount(limit: Int(Int32.max))
        if try reader.read(Bool.self) { record.bestModel = try reader.readNetwork() }
        record.sessionState = try reader.readBytes()
        guard reader.isAtEnd else {
            throw reader.fail("\(reader.end - reader.offset) unexpected bytes before the checksum")
        }
        return record
    }

    /// The first part of a key that differs between two keys, as `part: old -> new`.
    static func change(from old: String, to new: String) -> String {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false)
        for (a, b) in zip(before, after) where a != b {
            let part = b.prefix { $0 != ":" }
            let explained =
                part == "data"
                ? "the data or its split (dataset keys: the file, split_seed, the fractions, bits, scaling)"
                : String(part)
            var (old, new) = (a.dropFirst(part.count + 2).description, b.dropFirst(part.count + 2).description)
            // A list of settings: the first that differs.
            let (oldFields, newFields) = (old.components(separatedBy: ", "), new.components(separatedBy: ", "))
            if oldFields.count == newFields.count, let field = zip(oldFields, newFields).first(where: { $0 != $1 }) {
                (old, new) = field
            }
            return "\(explained) changed from '\(shortened(old, limit: 120))' to '\(shortened(new, limit: 120))'"
        }
        return "its key changed"
    }
}
