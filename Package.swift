import Foundation
// swift-tools-version:6.0
import PackageDescription

// The kernels are written so that LLVM vectorises them with AVX2 and uses POPCNT. A default
// x86-64 build targets the 2003 baseline (SSE2, no POPCNT), so on x86-64 we ask for Haswell-class
// CPUs (AVX2, FMA, BMI, POPCNT: Intel 2013+, AMD Zen+). Set TERNEVO_PORTABLE=1 when building to
// drop the flag for older CPUs (everything still works, only slower).
let portable = ProcessInfo.processInfo.environment["TERNEVO_PORTABLE"] == "1"
var kernelFlags: [SwiftSetting] = []
#if arch(x86_64)
if !portable {
    kernelFlags = [.unsafeFlags(["-target-cpu", "haswell"])]
}
#endif

// TERNEVO_MPI=1 adds the MPI back end (Sources/TernaryExperiments/TernaryExperiments.docc/ScaleOut.md): a system-library target for Open
// MPI's C API (found with pkg-config 'ompi-c'; Debian: apt-get install openmpi-bin
// libopenmpi-dev) and the Swift communicator over it. The default build needs nothing but Swift.
let mpi = ProcessInfo.processInfo.environment["TERNEVO_MPI"] == "1"
var executableDependencies: [Target.Dependency] = ["TernaryExperiments"]
var executableSettings: [SwiftSetting] = []
var mpiTargets: [Target] = []
if mpi {
    mpiTargets = [
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
        .target(name: "TernaryMPI", dependencies: ["CMPI", "TernaryCore"]),
    ]
    executableDependencies.append("TernaryMPI")
    executableSettings.append(.define("TERNEVO_MPI"))
}

let package = Package(
    name: "TernEvo",
    products: [
        .executable(name: "ternevo", targets: ["ternevo"]),
        .library(name: "TernaryCore", targets: ["TernaryCore"]),
        .library(name: "TernaryEvolution", targets: ["TernaryEvolution"]),
    ],
    targets: [
        // The forward kernels, one C source compiled for AVX-512, AVX2 and the baseline and chosen
        // at run time (Sources/CTernaryKernels/Kernels.c). Optimised in debug builds too: the
        // tests run them on every path.
        .target(name: "CTernaryKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "TernaryCore", dependencies: ["CTernaryKernels"], swiftSettings: kernelFlags),
        .target(name: "TernaryEvolution", dependencies: ["TernaryCore"]),
        .target(name: "TernaryBackprop", dependencies: ["TernaryCore", "CTernaryKernels"], swiftSettings: kernelFlags),
        .target(
            name: "TernaryExperiments", dependencies: ["TernaryCore", "TernaryEvolution", "TernaryBackprop"],
            swiftSettings: kernelFlags),
        .executableTarget(name: "ternevo", dependencies: executableDependencies, swiftSettings: executableSettings),
        .target(name: "TestSupport", dependencies: ["TernaryCore", "TernaryExperiments"]),
        .testTarget(name: "TernaryCoreTests", dependencies: ["TernaryCore", "TestSupport"]),
        .testTarget(name: "TernaryEvolutionTests", dependencies: ["TernaryEvolution", "TernaryCore", "TestSupport"]),
        .testTarget(name: "TernaryBackpropTests", dependencies: ["TernaryBackprop", "TernaryCore", "TestSupport"]),
        .testTarget(
            name: "TernaryExperimentsTests",
            dependencies: ["TernaryExperiments", "TernaryCore", "TestSupport"]),
    ] + mpiTargets
)
