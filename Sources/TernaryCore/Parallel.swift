import Dispatch
import Foundation
import Synchronization

/// The one place that runs work on several threads (the evaluator's and anyone else's).
///
/// `run(items:workers:)` calls `body(item, worker)` once for every item in `0 ..< items`, on
/// `min(workers, items)` threads. Workers claim items from a shared atomic counter (dynamic load
/// balancing); `worker` is in `0 ..< workers` and is used only to pick that worker's scratch
/// memory. Bodies must write to disjoint, preallocated slots keyed by `item`, so the result does
/// not depend on which worker ran which item: serial and parallel runs are bit-identical.
public enum Parallel {
    /// The public entry point: `body` must be `@Sendable`. Work that writes through pointers
    /// into disjoint slots wraps them in `UncheckedSendable`.
    public static func run(items: Int, workers: Int, _ body: @Sendable (_ item: Int, _ worker: Int) -> Void) {
        run(items: items, workers: workers, local: body)
    }

    /// The same for TernaryCore's own kernels, whose bodies capture their scratch and pointers.
    static func run(items: Int, workers: Int, local body: (_ item: Int, _ worker: Int) -> Void) {
        let threads = max(1, min(workers, items))
        if threads == 1 {
            for item in 0..<items { body(item, 0) }
            return
        }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                while true {
                    let item = next.add(1, ordering: .relaxed).oldValue
                    if item >= items { break }
                    shared.value(item, worker)
                }
            }
        }
    }

    /// The number of cores the system offers.
    public static var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// Carries a value into a `@Sendable` closure: the one unchecked wrapper, for pointers to
/// disjoint, preallocated output slots (each parallel item writes only its own) and for the
/// read-only inputs beside them. Anything else shared between workers does not belong in it.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

extension Parallel {
    /// `[transform(0), ..., transform(count - 1)]`, computed on up to `workers` threads; each
    /// result goes to its own preallocated slot, so the array equals the serial one.
    public static func map<T: Sendable>(
        count: Int, workers: Int, _ transform: @Sendable (_ item: Int, _ worker: Int) -> T
    ) -> [T] {
        map(count: count, workers: workers, local: transform)
    }

    static func map<T>(count: Int, workers: Int, local transform: (_ item: Int, _ worker: Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let slots = UncheckedSendable(buffer.baseAddress)
            run(
                items: count, workers: workers,
                local: { item, worker in
                    (slots.value! + item).initialize(to: transform(item, worker))
                })
            initialized = count
        }
    }
}

extension Parallel {
    /// Calls `body(index, &array[index], worker)` for every index on up to `workers` threads.
    /// Each call mutates only its own element, in place (no copy when the element's storage is
    /// uniquely held), so the result equals the serial one.
    public static func updateEach<T: Sendable>(
        _ array: inout [T], workers: Int,
        _ body: @Sendable (_ index: Int, _ element: inout T, _ worker: Int) -> Void
    ) {
        array.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress)
            run(
                items: buffer.count, workers: workers,
                local: { item, worker in
                    body(item, &base.value![item], worker)
                })
        }
    }
}
