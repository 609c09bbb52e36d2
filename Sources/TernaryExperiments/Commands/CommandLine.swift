import Foundation
import TernaryCore

/// A command-line failure: one sentence for stderr and the exit status.
public struct CommandError: Error, CustomStringConvertible {
    public var message: String
    public var exitCode: Int32
    public var description: String { message }

    /// A usage error (exit 64, as `EX_USAGE`): a bad flag, a missing argument.
    public static func usage(_ message: String) -> CommandError { CommandError(message: message, exitCode: 64) }
    /// A failure reading input data or files (exit 65, `EX_DATAERR`).
    public static func data(_ message: String) -> CommandError { CommandError(message: message, exitCode: 65) }
}

/// Where a command writes: stdout and stderr, replaceable so tests run commands in-process.
public struct Console: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    /// Rewrites the status line in place (no newline), when stderr is a terminal; nil on a
    /// pipe or file, where progress is written as whole lines with `err`.
    public var status: (@Sendable (String) -> Void)?

    public init(
        out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
        status: (@Sendable (String) -> Void)? = nil
    ) {
        self.out = out
        self.err = err
        self.status = status
    }

    /// The process's stdout and stderr; a status line only when stderr is a terminal.
    public static let standard = Console(
        out: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) },
        err: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
        status: isatty(2) == 1 ? rewriteStatusLine : nil)

    /// Clears the terminal's current line (`\r`, then `ESC [K`) and writes `text` on it.
    @Sendable static func rewriteStatusLine(_ text: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }
}

/// One subcommand: a name, a one-line abstract, usage, and a run function, which gets the
/// arguments after its name, where to write, and the processes of a distributed run (nil alone).
struct CommandSpec: Sendable {
    let name: String
    let abstract: String
    let usage: String
    let details: String
    let run: @Sendable (_ arguments: [String], _ console: Console, _ communicator: Communicator?) throws -> Void
}

/// The `ternevo` command line: parses argv, runs a command, maps errors to exit codes.
public enum TernEvoCommandLine {
    static let commands: [CommandSpec] = [
        RunCommand.spec, ResumeCommand.spec, CompareCommand.spec, EvolveCommand.spec, TrainCommand.spec,
        EvalCommand.spec, SampleCommand.spec, ExportCommand.spec, PlotCommand.spec, InfoCommand.spec, BenchCommand.spec,
        VersionCommand.spec, helpSpec,
    ]

    /// Runs `ternevo` with `arguments` (without the program name) and returns the exit status.
    /// `communicator` joins the processes of an `mpirun` job into one run (<doc:ScaleOut>); the
    /// executable passes it, and every command that reads configs or runs arms hands it on.
    public static func main(
        _ arguments: [String], console: Console = .standard, communicator: Communicator? = nil
    ) -> Int32 {
        do {
            guard let name = arguments.first else {
                console.out(overview)
                return 0
            }
            if name == "--help" || name == "-h" {
                console.out(overview)
                return 0
            }
            // An unusable TERNEVO_ISA stops every command that would run a kernel or name them.
            if case .failure(let error) = InstructionSet.choose(environment: ProcessInfo.processInfo.environment) {
                throw CommandError.usage(error.message)
            }
            if name == "--version" {
                guard arguments.count == 1 else { throw CommandError.usage("--version takes no arguments") }
                console.out(VersionCommand.text)
                return 0
            }
            guard let command = commands.first(where: { $0.name == name }) else {
                throw CommandError.usage("unknown command '\(name)'; run 'ternevo help' for the list")
            }
            let rest = Array(arguments.dropFirst())
            if rest.contains("--help") || rest.contains("-h") {
                console.out(help(for: command))
                return 0
            }
            try command.run(rest, console, communicator)
            return 0
        } catch let error as CommandError {
            console.err("ternevo: \(error.message)")
            return error.exitCode
        } catch {
            console.err("ternevo: \(error)")
            return 1
        }
    }

    static var overview: String {
        var lines = [
            "ternevo: evolve ternary (1.58-bit) neural networks and compare with backprop",
            "", "usage: ternevo COMMAND [OPTIONS]", "", "commands:",
        ]
        for command in commands {
            lines.append("  \(command.name.padding(toLength: 8, withPad: " ", startingAt: 0))\(command.abstract)")
        }
        lines += [
            "", "'ternevo help COMMAND' explains one command; 'ternevo help run --keys' lists every config key;",
            "'ternevo --version' prints the version.",
        ]
        return lines.joined(separator: "\n")
    }

    static func help(for command: CommandSpec) -> String {
        "\(command.abstract)\n\nusage: \(command.usage)\n\n\(command.details)"
    }

    static let helpSpec = CommandSpec(
        name: "help", abstract: "Explain the commands or one command.",
        usage: "ternevo help [COMMAND] | ternevo help run --keys [--markdown]",
        details: """
            Without COMMAND, lists the commands. 'ternevo help run --keys' prints every config key
            (top level, dataset, model, every arm, each strategy's own) with its type, the values it
            takes, its default and its meaning, from the tables the config reader reads through;
            --markdown prints them as the tables of the config reference article.
            """
    ) { arguments, console, _ in
        if arguments.first == "run", arguments.contains("--keys") {
            var reader = ArgumentReader(Array(arguments.dropFirst()), command: "help")
            _ = reader.flag("--keys")
            let markdown = reader.flag("--markdown")
            _ = try reader.positionals(expected: "nothing after 'help run --keys'", count: 0...0)
            return console.out(ConfigKeys.reference(markdown: markdown))
        }
        guard let name = arguments.first else { return console.out(overview) }
        guard arguments.count == 1 else { throw CommandError.usage("help takes at most one command name") }
        guard let command = commands.first(where: { $0.name == name }) else {
            throw CommandError.usage("unknown command '\(name)'; run 'ternevo help' for the list")
        }
        console.out(help(for: command))
    }
}

/// A strict reader of one command's arguments: flags, options with values, positionals.
struct ArgumentReader {
    private var remaining: [String]
    let command: String

    init(_ arguments: [String], command: String) {
        remaining = arguments
        self.command = command
    }

    /// The arguments not consumed yet.
    var rest: [String] { remaining }

    /// True if `--name` was given (and removes it).
    mutating func flag(_ name: String) -> Bool {
        guard let index = remaining.firstIndex(of: name) else { return false }
        remaining.remove(at: index)
        return true
    }

    /// The integer after `--name`, if given; it must lie in `range`.
    mutating func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let index = remaining.firstIndex(of: name) else { return nil }
        guard index + 1 < remaining.count else {
            throw CommandError.usage(
                "\(name) needs a value (\(command): an integer in \(range.lowerBound)...\(range.upperBound))")
        }
        let text = remaining[index + 1]
        guard let value = Int(text), range.contains(value) else {
            throw CommandError.usage(
                "\(name) '\(shortened(text))' is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        remaining.removeSubrange(index...(index + 1))
        return value
    }

    /// The number after `--name`, if given; it must lie in `range`.
    mutating func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = try string(name) else { return nil }
        guard let value = Double(text), range.contains(value) else {
            throw CommandError.usage(
                "\(name) '\(shortened(text))' is not a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// The text after `--name`, if given.
    mutating func string(_ name: String) throws -> String? {
        guard let index = remaining.firstIndex(of: name) else { return nil }
        guard index + 1 < remaining.count, !remaining[index + 1].hasPrefix("--") else {
            throw CommandError.usage("\(name) needs a value; see 'ternevo help \(command)'")
        }
        let text = remaining[index + 1]
        remaining.removeSubrange(index...(index + 1))
        return text
    }

    /// The layer sizes after `--name`, written like `64-128-10`, if given.
    mutating func layerSizes(_ name: String) throws -> [Int]? {
        guard let index = remaining.firstIndex(of: name) else { return nil }
        guard index + 1 < remaining.count else {
            throw CommandError.usage("\(name) needs layer sizes such as 64-128-10")
        }
        let text = remaining[index + 1]
        let sizes = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard sizes.count >= 2, sizes.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 20 }) else {
            throw CommandError.usage(
                "\(name) '\(shortened(text))' is not layer sizes such as 64-128-10 (at least two positive integers joined by '-')"
            )
        }
        remaining.removeSubrange(index...(index + 1))
        return sizes.map { $0! }
    }

    /// The positional arguments left; anything that looks like an unknown flag is an error.
    /// A memory size after `--name`: bytes, or a number with K, M or G (powers of 1024).
    mutating func memorySize(_ name: String) throws -> Int? {
        guard let text = try string(name) else { return nil }
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024]
        var digits = text.uppercased()
        var scale = 1.0
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits.removeLast()
        }
        guard let value = Double(digits), value > 0, value * scale < 1e18 else {
            throw CommandError.usage("\(name) '\(shortened(text))' is not a size such as 512M or 8G")
        }
        return Int(value * scale)
    }

    /// Removes and returns every remaining `--name value` pair (in order), for commands that
    /// pass options on as config keys.
    mutating func remainingOptions() throws -> [(name: String, value: String)] {
        var options: [(String, String)] = []
        while let index = remaining.firstIndex(where: { $0.hasPrefix("--") }) {
            guard index + 1 < remaining.count else { throw CommandError.usage("\(remaining[index]) needs a value") }
            options.append((String(remaining[index].dropFirst(2)), remaining[index + 1]))
            remaining.removeSubrange(index...(index + 1))
        }
        return options
    }

    func positionals(expected: String, count: ClosedRange<Int>) throws -> [String] {
        if let unknown = remaining.first(where: { $0.hasPrefix("-") && $0 != "-" }) {
            throw CommandError.usage(
                "unknown option '\(shortened(unknown))' for '\(command)'; see 'ternevo help \(command)'")
        }
        guard count.contains(remaining.count) else {
            throw CommandError.usage("'\(command)' expects \(expected); got \(remaining.count) argument(s)")
        }
        return remaining
    }
}

/// `1234567` as `1,234,567`.
func grouped(_ value: Int) -> String {
    let digits = String(abs(value))
    var out = ""
    for (k, ch) in digits.enumerated() {
        if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return value < 0 ? "-" + out : out
}
