import Foundation
import Synchronization

/// Set when the user presses Ctrl-C (SIGINT): long commands finish the current step, leave
/// complete files and exit with status 130. A second Ctrl-C ends the process at once.
final class InterruptFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let reads = Atomic<Int>(0)
    private let tripAt: Int
    private static let shared = InterruptFlag()

    /// A flag of its own; with `trippingAfter: n > 0` it sets itself at its n-th read, as if
    /// Ctrl-C came at that point (for tests of interrupted runs).
    init(trippingAfter reads: Int = 0) { tripAt = reads }

    var isSet: Bool {
        if tripAt > 0 && reads.add(1, ordering: .relaxed).newValue >= tripAt { flag.store(true, ordering: .relaxed) }
        return flag.load(ordering: .relaxed)
    }

    /// Installs the SIGINT handler (once) and returns the flag.
    static func install() -> InterruptFlag {
        signal(SIGINT) { _ in
            if InterruptFlag.shared.flag.exchange(true, ordering: .relaxed) { _exit(130) }
        }
        return shared
    }
}
