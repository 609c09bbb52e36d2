import Foundation
import TernaryCore

/// What a distributed run needs beyond its communicator (which the executable creates under
/// `mpirun` and passes to `TernEvoCommandLine.main`, and the commands hand to the config reader
/// and the runner): files as rank 0 reads them, the launcher's job size, the step latency.
public enum Distributed {
    /// The contents of `path` as rank 0 reads them, on every rank (nil when rank 0 cannot read
    /// it), so configs and records need not be on every machine's disk; alone, a plain read.
    /// Under a communicator every rank must call it for the same files in the same order.
    /// A path that exists but cannot be read (a folder, no permission) is an error, not nil.
    static func contents(atPath path: String, communicator: Communicator?) throws(DataError) -> [UInt8]? {
        // One flag byte (0 missing, 1 read, 2 unreadable), then the contents.
        func local() -> [UInt8] {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return [0] }
            guard !isFolder.boolValue, let data = FileManager.default.contents(atPath: path) else { return [2] }
            return [1] + [UInt8](data)
        }
        var message = communicator == nil || communicator!.rank == 0 ? local() : []
        if let communicator, communicator.size > 1 {
            do { message = try communicator.broadcast(message) } catch {
                throw DataError(path: path, problem: "could not be sent to the other processes (\(error))")
            }
        }
        switch message.first {
        case 1: return Array(message.dropFirst())
        case 2: throw DataError(path: path, problem: "cannot be read (a folder, or no permission)")
        default: return nil
        }
    }

    /// The size of the job this process was started in by `mpirun`/`srun`, read from the
    /// launcher's environment (Open MPI, MPICH/PMI, Slurm), or nil outside one.
    public static var launcherSize: Int? {
        let environment = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"] {
            if let value = environment[key].flatMap(Int.init) { return value }
        }
        return nil
    }
}

extension Distributed {
    /// The median seconds of one step's collectives as a run makes them: an all-reduce sum of
    /// `values` Int64 totals (two per candidate and the operation count) and the stop
    /// broadcast, over `rounds` rounds after 20 warm-up rounds. Rank 0's figure is printed
    /// by `mpirun -n N ternevo mpi-bench` (MPI builds) for the scaling model of <doc:ScaleOut>.
    public static func stepLatency(_ communicator: Communicator, values: Int, rounds: Int) throws -> Double {
        let mine = (0..<values).map { Int64($0 + communicator.rank) }
        var times: [Double] = []
        for round in 0..<(rounds + 20) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try communicator.allReduceSum(mine)
            _ = try communicator.broadcast(0)
            if round >= 20 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        times.sort()
        return times[times.count / 2]
    }
}
