import CMPI
import TernaryCore

/// The MPI back end of `Communicator` (built only with `TERNEVO_MPI=1`): the processes of
/// `MPI_COMM_WORLD`. Only the main thread calls MPI (the ranks' worker threads never do).
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int

    /// Initialises MPI; nil when it fails.
    public init?() {
        guard ternevo_mpi_init() == 0 else { return nil }
        rank = Int(ternevo_mpi_rank())
        size = Int(ternevo_mpi_size())
    }

    public func allGather(_ values: [Double], counts: [Int]) throws(CommunicationError) -> [Double] {
        guard counts.count == size, counts[rank] == values.count, counts.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw CommunicationError("rank \(rank) passed \(values.count) values where the counts say \(counts[rank])")
        }
        let counts32 = counts.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(1, size) { displacements[r] = displacements[r - 1] + counts32[r - 1] }
        var received = [Double](repeating: 0, count: counts.reduce(0, +))
        let status = values.withUnsafeBufferPointer { send in
            received.withUnsafeMutableBufferPointer { receive in
                ternevo_mpi_allgatherv_double(
                    send.baseAddress, Int32(values.count), receive.baseAddress, counts32, displacements)
            }
        }
        guard status == 0 else { throw CommunicationError("MPI_Allgatherv failed with code \(status)") }
        return received
    }

    public func allGather(_ value: UInt64) throws(CommunicationError) -> [UInt64] {
        var received = [UInt64](repeating: 0, count: size)
        let status = received.withUnsafeMutableBufferPointer { ternevo_mpi_allgather_u64(value, $0.baseAddress) }
        guard status == 0 else { throw CommunicationError("MPI_Allgather failed with code \(status)") }
        return received
    }

    public func allReduceSum(_ values: [Int64]) throws(CommunicationError) -> [Int64] {
        guard values.count <= Int(Int32.max) else {
            throw CommunicationError("\(values.count) values are too many for one sum")
        }
        var sums = [Int64](repeating: 0, count: values.count)
        let status = values.withUnsafeBufferPointer { send in
            sums.withUnsafeMutableBufferPointer {
                ternevo_mpi_allreduce_sum_i64(send.baseAddress, $0.baseAddress, Int32(values.count))
            }
        }
        guard status == 0 else { throw CommunicationError("MPI_Allreduce failed with code \(status)") }
        return sums
    }

    public func broadcast(_ value: UInt64) throws(CommunicationError) -> UInt64 {
        var word = value
        let status = ternevo_mpi_broadcast_u64(&word)
        guard status == 0 else { throw CommunicationError("MPI_Bcast failed with code \(status)") }
        return word
    }

    public func broadcast(_ bytes: [UInt8]) throws(CommunicationError) -> [UInt8] {
        guard bytes.count <= Int(Int32.max) else {
            throw CommunicationError("\(bytes.count) bytes are too many for one broadcast")
        }
        let count = Int(try broadcast(UInt64(bytes.count)))
        var buffer = rank == 0 ? bytes : [UInt8](repeating: 0, count: count)
        let status = buffer.withUnsafeMutableBufferPointer { ternevo_mpi_broadcast_bytes($0.baseAddress, Int32(count)) }
        guard status == 0 else { throw CommunicationError("MPI_Bcast failed with code \(status)") }
        return buffer
    }

    /// Ends every process of the job (after this one has printed its message).
    public func abort(code: Int32) { ternevo_mpi_abort(code) }

    public func finalize() { _ = ternevo_mpi_finalize() }
}
