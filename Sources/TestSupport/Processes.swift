import Foundation

// Running the real `ternevo` binary from tests: finding it, launching it, spawning it to kill.

/// The `ternevo` binary: beside the test bundle, or the debug or release build (`swift test`
/// builds it with the tests). A test that launches it fails when there is none: a kill or
/// launch test that quietly skipped would prove nothing.
public let ternevoBinaryPath: String? = {
    let candidates = [
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("ternevo").path,
        ".build/debug/ternevo", ".build/release/ternevo",
    ]
    return candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) })
}()

/// The release binary, when it is newer than every source file (as `.ci/run` builds it): for
/// tests whose runs would take minutes in a debug build.
public let freshReleaseBinary: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/release/ternevo").path
    func modified(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
    let built = modified(binary)
    let sources =
        FileManager.default.enumerator(atPath: root.appendingPathComponent("Sources").path)?.compactMap {
            $0 as? String
        } ?? []
    let newest = sources.map { modified(root.appendingPathComponent("Sources/" + $0).path) }.max() ?? .distantPast
    return FileManager.default.isExecutableFile(atPath: binary) && built >= newest ? binary : nil
}()

/// Runs `executable` to its end (standard output discarded); returns its exit status (128 +
/// the signal when a signal ended it) and what it wrote to standard error.
public func launch(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
    directory: String? = nil
) throws -> (status: Int32, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus, message)
}

/// The lines of a run folder's `curves.csv` with the wall-clock column (`wall_s`) blanked: what
/// must not depend on threads, interruptions or the machine.
public func curvesWithoutTime(_ folder: String) throws -> [String] {
    try String(contentsOfFile: folder + "/curves.csv", encoding: .utf8).split(separator: "\n").map { line in
        var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if fields.count > 3 { fields[3] = "" }
        return fields.joined(separator: ",")
    }
}

/// Starts the binary; returns the process (output discarded).
public func spawn(_ binary: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}
