import Foundation
import TernaryExperiments

#if TERNEVO_MPI
import TernaryMPI
#endif

// Under mpirun, the processes of the job form one run (see `Sources/TernaryExperiments/TernaryExperiments.docc/ScaleOut.md`).
#if TERNEVO_MPI
if let size = Distributed.launcherSize, size > 1 {
    guard let communicator = MPICommunicator() else {
        FileHandle.standardError.write(Data("ternevo: MPI could not be initialised\n".utf8))
        exit(70)
    }
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "mpi-bench" {
        // The latency of one step's collectives, for the scaling model: 1 to 4096 Int64 totals (an
        // evolution step's fitness sums) and 2^16 to 2^20 (a backprop step's gradient).
        for values in [1, 16, 256, 4096, 1 << 16, 1 << 18, 1 << 20] {
            let rounds = values >= 1 << 16 ? 200 : 2000
            let seconds = (try? Distributed.stepLatency(communicator, values: values, rounds: rounds)) ?? .nan
            if communicator.rank == 0 {
                print(
                    String(
                        format:
                            "mpi-bench: %d processes, %d Int64 totals: %.1f us per step (all-reduce sum + stop broadcast, median of %d)",
                        communicator.size, values, seconds * 1e6, rounds))
            }
        }
        communicator.finalize()
        exit(0)
    }
    let status = TernEvoCommandLine.main(arguments, communicator: communicator)
    // A failing rank ends the whole job: the others may be waiting in a collective.
    if status != 0 && ![129, 130, 143].contains(status) { communicator.abort(code: status) }
    communicator.finalize()
    exit(status)
}
#else
if let size = Distributed.launcherSize, size > 1 {
    FileHandle.standardError.write(
        Data(
            "ternevo: started as one of \(size) MPI processes, but this build has no MPI; every process would run the whole experiment alone. Build with 'TERNEVO_MPI=1 swift build -c release' (see Sources/TernaryExperiments/TernaryExperiments.docc/ScaleOut.md), or run without mpirun\n"
                .utf8))
    exit(64)
}
#endif
exit(TernEvoCommandLine.main(Array(CommandLine.arguments.dropFirst())))
