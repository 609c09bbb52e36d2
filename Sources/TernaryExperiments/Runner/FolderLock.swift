import Foundation

/// An exclusive hold on a run folder, so two `ternevo run` or `resume` processes never write
/// one folder at once (their records would interleave into a folder matching neither config).
///
/// The hold is an advisory `flock` on `<folder>/run.lock`, which also names the holder (pid,
/// command, start time) for the refusal message. The kernel releases it when the process ends
/// in any way, `kill -9` included, so a stale lock file never blocks a resume.
final class FolderLock {
    let path: String
    private let handle: FileHandle

    init(folder: String, command: String) throws {
        path = folder + "/run.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RunFailure(
                message:
                    "\(path): cannot be opened (\(String(cString: strerror(errno)))); the run folder must be writable",
                exitCode: 73)
        }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder =
                (try? handle.readToEnd()).flatMap { $0.flatMap { String(data: $0, encoding: .utf8) } }?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            throw RunFailure(
                message:
                    "\(folder): another ternevo process is writing this run folder (\(holder.isEmpty ? "its pid is in \(path)" : shortened(holder, limit: 200))); wait for it to end, or stop it (Ctrl-C or kill) and then 'ternevo resume \(folder)'",
                exitCode: 73)
        }
        let started = ISO8601DateFormatter().string(from: Date())
        ftruncate(descriptor, 0)
        try? handle.seek(toOffset: 0)
        // Who holds the folder, for the message of a second process; the lock itself is the flock.
        try? handle.write(contentsOf: Data("pid \(getpid()), 'ternevo \(command)', since \(started)\n".utf8))
    }
}
