/// One-hot token inputs (<doc:Semantics>): a network whose `n0 = context x V` inputs are the
/// one-hot codes of `context` symbols from a vocabulary of `V`, never materialised.
///
/// Input column `p * V + t` is 1 when the window's symbol at position `p` is `t`, so a
/// first-layer sum is `s_j = sum_p W1[j, p V + t_p]`: `context` weights, no multiply, no zeros
/// visited. A character is a Unicode scalar. The vocabulary is the characters of the training
/// split in code-point order, plus one reserved last symbol for characters unseen there.
public struct TokenInput: Hashable, Sendable, Codable {
    /// Symbols per window, `k`.
    public var context: Int
    /// The vocabulary's characters; the last one is the reserved unseen symbol (`unseenSymbol`).
    public var symbols: [String]

    /// The text of the reserved symbol: U+FFFD, the Unicode replacement character.
    public static let unseenSymbol = "\u{FFFD}"
    /// Largest vocabulary (symbol ids are stored in 16 bits).
    public static let maxVocabulary = 65_535

    public init(context: Int, symbols: [String]) {
        precondition(context >= 1, "a token window needs at least one symbol")
        precondition(
            !symbols.isEmpty && symbols.count <= TokenInput.maxVocabulary,
            "vocabulary size \(symbols.count) outside 1 ... \(TokenInput.maxVocabulary)")
        self.context = context
        self.symbols = symbols
    }

    /// `V`, the number of symbols (unseen symbol included).
    public var vocabulary: Int { symbols.count }
    /// `n0 = context x V`.
    public var inputCount: Int { context * symbols.count }

    /// The symbol id of each character (Unicode scalar) of `text`; unseen characters map to
    /// the last symbol.
    public func encode(_ text: String) -> [UInt16] {
        var index: [UnicodeScalar: UInt16] = [:]
        for (i, symbol) in symbols.enumerated().dropLast() {
            if let c = symbol.unicodeScalars.first { index[c] = UInt16(i) }
        }
        let unseen = UInt16(symbols.count - 1)
        return text.unicodeScalars.map { index[$0] ?? unseen }
    }
}

/// The windows of one contiguous block of a symbol stream: example `i` is the `context` symbols
/// `stream[i ..< i + context]`, and its label the symbol after them. Windows are positions, not
/// copies: the block's symbols are stored once.
public struct TokenWindows: Sendable {
    /// The block's symbol ids, `count + context` of them.
    public let stream: [UInt16]
    public let context: Int
    public let vocabulary: Int

    public init(stream: [UInt16], context: Int, vocabulary: Int) {
        precondition(context >= 1 && vocabulary >= 1, "context and vocabulary must be positive")
        precondition(stream.allSatisfy { Int($0) < vocabulary }, "symbol ids must lie below the vocabulary size")
        self.stream = stream
        self.context = context
        self.vocabulary = vocabulary
    }

    /// Number of windows (examples).
    public var count: Int { max(0, stream.count - context) }

    /// The input columns `p * V + t_p` of the windows at `indices`, row-major `[B][context]`.
    public func columns(_ indices: some Collection<Int>) -> [Int32] {
        var out = [Int32]()
        out.reserveCapacity(indices.count * context)
        for i in indices {
            for p in 0..<context { out.append(Int32(p * vocabulary + Int(stream[i + p]))) }
        }
        return out
    }

    /// The labels (next symbols) of every window.
    public var labels: [Int] { stream.dropFirst(context).map(Int.init) }
}
