import Foundation
import TernaryCore

/// A plain UTF-8 text as a next-character task (<doc:TextLanguageModelling>).
///
/// Symbols are Unicode scalars (for the KJV, exactly its characters). The text is cut into
/// three contiguous blocks: train, validation (the `validationFraction` before the test block)
/// and test (the last `testFraction`), so no window straddles two splits. The vocabulary is the
/// training block's symbols in code-point order plus one reserved last symbol (U+FFFD) that
/// every symbol unseen in training maps to. Each split is one symbol array; its examples are
/// positions in it (`TokenWindows`), never copies of windows.
public struct TextCorpus: Sendable {
    public let tokens: TokenInput
    public let train: TokenWindows, validation: TokenWindows, test: TokenWindows
    /// Symbols (characters) of each block.
    public let trainCharacters: Int, validationCharacters: Int, testCharacters: Int
    /// The raw text of the test block (for the compression reference lines).
    public let testText: String

    /// Loads and splits `path`; errors name the file and what is wrong.
    public static func load(
        path: String, context: Int, testFraction: Double, validationFraction: Double
    ) throws(DataError) -> TextCorpus {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path: path, problem: "cannot be read (missing, a folder, or no permission)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError(path: path, problem: "is not valid UTF-8 text")
        }
        return try TextCorpus(
            text: text, path: path, context: context, testFraction: testFraction, validationFraction: validationFraction
        )
    }

    public init(
        text: String, path: String = "text", context: Int, testFraction: Double, validationFraction: Double
    ) throws(DataError) {
        let scalars = Array(text.unicodeScalars)
        let n = scalars.count
        let testCount = Int((Double(n) * testFraction).rounded())
        let validationCount = Int((Double(n) * validationFraction).rounded())
        let trainCount = n - testCount - validationCount
        guard trainCount > context + 1 else {
            throw DataError(
                path: path,
                problem:
                    "has \(n) characters: the train block (\(trainCount)) must be longer than the context (\(context)) plus one"
            )
        }
        var seen = Set<UnicodeScalar>()
        for scalar in scalars[0..<trainCount] { seen.insert(scalar) }
        guard seen.count < TokenInput.maxVocabulary else {
            throw DataError(
                path: path,
                problem:
                    "the train block has \(seen.count) distinct characters; at most \(TokenInput.maxVocabulary - 1) are supported"
            )
        }
        let ordered = seen.sorted { $0.value < $1.value }
        var id: [UnicodeScalar: UInt16] = [:]
        for (index, scalar) in ordered.enumerated() { id[scalar] = UInt16(index) }
        tokens = TokenInput(context: context, symbols: ordered.map { String($0) } + [TokenInput.unseenSymbol])
        let unseen = UInt16(ordered.count)
        let stream = scalars.map { id[$0] ?? unseen }
        let V = tokens.vocabulary
        func block(_ range: Range<Int>) -> TokenWindows {
            TokenWindows(stream: Array(stream[range]), context: context, vocabulary: V)
        }
        train = block(0..<trainCount)
        validation = block(trainCount..<(trainCount + validationCount))
        test = block((trainCount + validationCount)..<n)
        trainCharacters = trainCount
        validationCharacters = validationCount
        testCharacters = testCount
        var testScalars = String.UnicodeScalarView()
        testScalars.append(contentsOf: scalars[(trainCount + validationCount)..<n])
        testText = String(testScalars)
    }
}
