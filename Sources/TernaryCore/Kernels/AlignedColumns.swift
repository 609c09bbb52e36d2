/// Immutable Int16 storage aligned to 64 bytes (a cache line), so each 256-byte input column
/// of a tile spans exactly four lines and no AVX2 load is split across lines (Swift arrays are
/// only 16-byte aligned; split loads cost the first-layer kernel about a quarter of its speed).
final class AlignedColumns: @unchecked Sendable {
    // Written only in `init`; read-only afterwards, hence safe to share between threads.
    let count: Int
    let base: UnsafeMutablePointer<Int16>

    /// `count` zeros, then `fill` writes what it needs.
    init(count: Int, fill: (UnsafeMutablePointer<Int16>) -> Void) {
        self.count = count
        base = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 2, alignment: 64)
            .bindMemory(to: Int16.self, capacity: max(1, count))
        base.initialize(repeating: 0, count: max(1, count))
        fill(base)
    }

    subscript(index: Int) -> Int16 {
        precondition(index >= 0 && index < count, "column index out of range")
        return base[index]
    }

    deinit { base.deallocate() }
}
