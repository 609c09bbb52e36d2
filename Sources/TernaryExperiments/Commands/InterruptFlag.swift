import Foundation
import Synchronization

/// Set when the user presses Ctrl-C (SIGINT): long commands finish the current step, leave
/// complete files and exit with status 130. A second Ctrl-C ends the process at once.
final class InterruptFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private static let shared = InterruptFlag()

    var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Installs the SIGINT handler (once) and returns the flag.
    static func install() -> InterruptFlag {
        signal(SIGINT) { _ in
            if InterruptFlag.shared.flag.exchange(true, ordering: .relaxed) { _exit(130) }
        }
        return shared
    }
}
