import Foundation
import Synchronization

/// Set when the process is asked to stop: Ctrl-C (SIGINT), a scheduler's or `kill`'s SIGTERM,
/// or a closed terminal's SIGHUP. Long commands finish the current step, leave complete files
/// and exit with the conventional status `128 + signal` (130, 143, 129). A second signal of
/// any of these kinds ends the process at once with that status.
final class InterruptFlag: Sendable {
    private let signalNumber = Atomic<Int32>(0)
    private let reads = Atomic<Int>(0)
    private let tripAt: Int
    private static let shared = InterruptFlag()
    /// The signals that stop a run in order.
    static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// A flag of its own; with `trippingAfter: n > 0` it sets itself at its n-th read, as if
    /// Ctrl-C came at that point (for tests of interrupted runs).
    init(trippingAfter reads: Int = 0) { tripAt = reads }

    var isSet: Bool {
        if tripAt > 0 && reads.add(1, ordering: .relaxed).newValue >= tripAt {
            _ = signalNumber.compareExchange(expected: 0, desired: SIGINT, ordering: .relaxed)
        }
        return signalNumber.load(ordering: .relaxed) != 0
    }

    /// Whether a signal set the flag, without counting as a read of `isSet` (what a step asks
    /// between slices; a test flag set to trip at its n-th read then trips at the same step
    /// boundary however finely the steps are sliced).
    var isRaisedNow: Bool { signalNumber.load(ordering: .relaxed) != 0 }

    /// The signal that set the flag (0 when none did).
    var signal: Int32 { signalNumber.load(ordering: .relaxed) }

    /// The exit status of a run stopped by the flag's signal: 128 + its number.
    var exitStatus: Int32 { 128 + (signal == 0 ? SIGINT : signal) }

    /// The signal's conventional name, for messages.
    var signalName: String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "Ctrl-C"
        }
    }

    /// Installs the handlers (once) and returns the flag. The signals are also unblocked in the
    /// calling thread: a process inherits its parent's signal mask, and a launcher that starts it
    /// from a thread blocking them (libdispatch's workers do) would otherwise leave SIGTERM
    /// pending until the run ends.
    static func install() -> InterruptFlag {
        var set = sigset_t()
        sigemptyset(&set)
        for number in stopSignals { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for number in stopSignals {
            Foundation.signal(number) { received in
                // Only the first signal is recorded; a second one of any kind ends the process now.
                if InterruptFlag.shared.signalNumber.exchange(received, ordering: .relaxed) != 0 {
                    _exit(128 + received)
                }
            }
        }
        return shared
    }
}
