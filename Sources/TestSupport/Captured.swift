import Foundation
import Synchronization
import TernaryExperiments

/// Runs `ternevo` in-process and keeps what it printed.
public final class Captured: Sendable {
    public init() {}
    public let lines = Mutex<(out: [String], err: [String])>(([], []))
    public var out: String { lines.withLock { $0.out.joined(separator: "\n") } }
    public var err: String { lines.withLock { $0.err.joined(separator: "\n") } }

    public static func run(_ arguments: [String]) -> (status: Int32, output: Captured) {
        let captured = Captured()
        let console = Console(
            out: { text in captured.lines.withLock { $0.out.append(text) } },
            err: { text in captured.lines.withLock { $0.err.append(text) } })
        return (TernEvoCommandLine.main(arguments, console: console), captured)
    }
}

public func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("ternevo-\(UUID())-\(name)").path
}
