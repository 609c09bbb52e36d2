import CTernaryKernels
import Foundation

/// The instruction set the forward kernels run on. One choice per process: the best the CPU
/// has, unless the environment variable `TERNEVO_ISA` names another (to compare paths). Every
/// choice gives the same bits; only the speed differs.
public enum InstructionSet: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The build target's baseline (x86-64: SSE2 and scalar popcount; arm64: NEON).
    case portable
    /// x86-64-v3: AVX2, FMA, BMI2, POPCNT (Intel Haswell and AMD Zen on).
    case avx2
    /// x86-64-v4 with VPOPCNTDQ: AVX-512 F, BW, DQ, VL and vector popcount (Intel Ice Lake and
    /// AMD Zen 4 on).
    case avx512

    var code: tern_isa {
        switch self {
        case .portable: TERN_ISA_PORTABLE
        case .avx2: TERN_ISA_AVX2
        case .avx512: TERN_ISA_AVX512
        }
    }

    /// Whether this build has kernels for the set and this CPU (and OS) can run them.
    /// Asked of the CPU once per process (`cpuid` is slow under virtualisation, and every new
    /// evaluator asks: a population's start built thousands of them).
    public var isSupported: Bool { InstructionSet.runnable.contains(self) }

    private static let runnable: Set<InstructionSet> = Set(
        allCases.filter {
            tern_kernels($0.code) != nil && tern_cpu_supports($0.code) != 0
        })

    /// The sets this host can run, fastest last.
    public static var supported: [InstructionSet] { allCases.filter(\.isSupported) }

    /// The fastest set this host can run.
    public static var best: InstructionSet { supported.last ?? .portable }

    public var description: String { rawValue }

    /// The set named by `TERNEVO_ISA` in `environment` (the best one when it is unset or
    /// empty); an error message naming the variable when the name is unknown or the CPU lacks it.
    public static func choose(environment: [String: String]) -> Result<InstructionSet, InstructionSetError> {
        guard let name = environment["TERNEVO_ISA"], !name.isEmpty else { return .success(best) }
        guard let chosen = InstructionSet(rawValue: name.lowercased()) else {
            return .failure(
                InstructionSetError(
                    message:
                        "TERNEVO_ISA=\(name) is not an instruction set; use one of \(allCases.map(\.rawValue).joined(separator: ", ")) (this host: \(supported.map(\.rawValue).joined(separator: ", ")))"
                ))
        }
        guard chosen.isSupported else {
            return .failure(
                InstructionSetError(
                    message:
                        "TERNEVO_ISA=\(name): this CPU cannot run \(name); it supports \(supported.map(\.rawValue).joined(separator: ", "))"
                ))
        }
        return .success(chosen)
    }

    /// The process-wide choice: `choose` on the process environment, falling back to the best
    /// set when `TERNEVO_ISA` is unusable (the command line reports that error before any work).
    public static let active: InstructionSet =
        (try? choose(environment: ProcessInfo.processInfo.environment).get()) ?? best

    /// The CPU's model name ("" where unknown).
    public static var cpuName: String {
        var buffer = [CChar](repeating: 0, count: 64)
        tern_cpu_name(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package var table: UnsafePointer<tern_kernel_table> {
        guard let table = tern_kernels(code) else { preconditionFailure("this build has no \(self) kernels") }
        return table
    }

    /// Synaptic operations per second of this set's xor-and-popcount loop on one core, values in
    /// registers (one bit = one operation): the ceiling of the popcount layers.
    public func popcountPeak(iterations: Int) -> Double { table.pointee.popcount_peak(iterations) }

    /// Int16 adds per second of this set's add loop on one core, values in registers: the
    /// ceiling of the first layer.
    public func addPeak(iterations: Int) -> Double { table.pointee.add_peak(iterations) }

    /// Float32 multiply-adds per second of this set's FMA loop (16-lane vectors) on one core.
    public func fmaPeak(iterations: Int) -> Double { table.pointee.fma_peak(iterations) }
}

/// Why `TERNEVO_ISA` cannot be used.
public struct InstructionSetError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
