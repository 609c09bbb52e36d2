import Foundation
import TernaryCore

/// The process group of a distributed run, set once by the `ternevo` executable before a
/// command runs (an MPI build under `mpirun`); nil in a single process.
public enum Distributed {
    nonisolated(unsafe) public static var communicator: Communicator?

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
    /// The median seconds of one step's collectives as a run makes them: an all-gather of
    /// `values` doubles per rank (a generation's fitness share and its operation count) and the
    /// stop broadcast, over `rounds` rounds after 20 warm-up rounds. Rank 0's figure is printed
    /// by `mpirun -n N ternevo mpi-bench` (MPI builds) for the scaling model in the README.
    public static func stepLatency(_ communicator: Communicator, values: Int, rounds: Int) throws -> Double {
        let counts = Array(repeating: values, count: communicator.size)
        let mine = (0..<values).map { Double($0 + communicator.rank) }
        var times: [Double] = []
        for round in 0..<(rounds + 20) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try communicator.allGather(mine, counts: counts)
            _ = try communicator.broadcast(0)
            if round >= 20 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        times.sort()
        return times[times.count / 2]
    }
}
