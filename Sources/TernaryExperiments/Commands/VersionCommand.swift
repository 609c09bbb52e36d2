import Foundation
import TernaryCore

/// `ternevo version` (also `ternevo --version`): the tool's version and how it was built.
enum VersionCommand {
    /// The version of TernEvo: raised with every release of the tool and its file formats.
    static let version = "0.1.0"

    /// `ternevo 0.1.0 (release build, x86_64)`: the build configuration and architecture
    /// come from the compiler's conditions (`DEBUG` is defined by SwiftPM in debug builds).
    static var text: String {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        #if arch(x86_64)
        let architecture = "x86_64"
        #elseif arch(arm64)
        let architecture = "arm64"
        #else
        let architecture = "other architecture"
        #endif
        return "ternevo \(version) (\(configuration) build, \(architecture), \(InstructionSet.active) kernels)"
    }

    static let spec = CommandSpec(
        name: "version", abstract: "Print the version of ternevo and how it was built (also 'ternevo --version').",
        usage: "ternevo version",
        details:
            "Prints one line: the version, the build configuration (debug or release), the CPU architecture and the instruction set the kernels run on (TERNEVO_ISA=portable, avx2 or avx512 chooses; default: the best this CPU has)."
    ) { arguments, console, _ in
        _ = try ArgumentReader(arguments, command: "version").positionals(expected: "no arguments", count: 0...0)
        console.out(text)
    }
}
