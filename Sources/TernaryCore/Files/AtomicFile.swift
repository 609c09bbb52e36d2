import Foundation

/// Writes files so that a reader sees either the old file or the complete new one.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path` and renames it over `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
