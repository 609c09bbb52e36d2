import Foundation
import TernaryCore

/// Reference lines of a text experiment on its test split (<doc:TextLanguageModelling>): n-gram models
/// counted on the training block and general-purpose compressors.
///
/// An order-n model predicts each test window's next symbol from its n - 1 previous symbols,
/// `p(c | h) = (count(h c) + a) / (count(h) + a V)` with add-`a` smoothing (a = 0.01) and `V`
/// the vocabulary (the unseen symbol included), counts from the training block. Its line is
/// the mean `-log2 p` over the same positions the networks are scored on. The compressor lines
/// are `8 x bytes / characters` of the test block's text compressed by `gzip -9` and `xz -9`,
/// run as processes when they exist (skipped with a note otherwise).
public struct TextReferences {
    public struct Line { public var name: String, bits: Double?, note: String }
    public var lines: [Line] = []

    public static let smoothing = 0.01

    public init(corpus: TextCorpus, orders: ClosedRange<Int> = 1...4, compressors: Bool = true) {
        let V = corpus.tokens.vocabulary
        let train = corpus.train.stream, test = corpus.test.stream, K = corpus.test.context
        for n in orders where n - 1 <= K && n <= 4 {
            var counts: [UInt64: Int] = [:], histories: [UInt64: Int] = [:]
            func key(_ stream: [UInt16], _ end: Int, _ length: Int) -> UInt64 {
                // 16 bits per symbol (ids below 65,535, plus one): exact for orders up to 4.
                var k: UInt64 = 0
                for i in (end - length)..<end { k = k << 16 | (UInt64(stream[i]) + 1) }
                return k
            }
            if train.count >= n {
                for i in (n - 1)..<train.count {
                    counts[key(train, i + 1, n), default: 0] += 1
                    histories[key(train, i, n - 1), default: 0] += 1
                }
            }
            var bits = 0.0
            for i in K..<max(K, test.count) {
                let joint = Double(counts[key(test, i + 1, n)] ?? 0),
                    history = Double(histories[key(test, i, n - 1)] ?? 0)
                bits -= log2((joint + TextReferences.smoothing) / (history + TextReferences.smoothing * Double(V)))
            }
            let count = max(1, test.count - K)
            let names = ["unigram", "bigram", "trigram", "4-gram", "5-gram"]
            lines.append(
                Line(
                    name: n <= names.count ? names[n - 1] : "\(n)-gram", bits: bits / Double(count),
                    note: "counts from the training block with add-\(TextReferences.smoothing) smoothing"))
        }
        guard compressors else { return }
        let bytes = Array(corpus.testText.utf8)
        for (name, arguments) in [("gzip -9", ["gzip", "-9", "-c"]), ("xz -9", ["xz", "-9", "-c"])] {
            if let size = TextReferences.compressedSize(bytes, arguments) {
                lines.append(
                    Line(
                        name: name, bits: 8 * Double(size) / Double(max(1, corpus.testCharacters)),
                        note: "the test block's text compressed alone"))
            } else {
                lines.append(Line(name: name, bits: nil, note: "skipped: \(arguments[0]) was not found or failed"))
            }
        }
    }

    /// The size of `bytes` compressed by `arguments` (a program on the PATH reading stdin), or nil.
    static func compressedSize(_ bytes: [UInt8], _ arguments: [String]) -> Int? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        // Write on another thread while this one drains the output, so neither pipe fills.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(bytes))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? compressed.count : nil
    }

    /// `name,bpc,note` rows (notes hold no commas).
    public var csv: String {
        (["reference,bpc,note"]
            + lines.map { "\($0.name),\($0.bits.map { String(format: "%.4f", $0) } ?? ""),\($0.note)" })
            .joined(separator: "\n") + "\n"
    }

    /// One line per reference, for the console.
    public var summary: String {
        lines.map { line in
            line.bits.map { String(format: "  %-8@ %.3f bits per character (%@)", line.name, $0, line.note) }
                ?? "  \(line.name): \(line.note)"
        }.joined(separator: "\n")
    }
}
