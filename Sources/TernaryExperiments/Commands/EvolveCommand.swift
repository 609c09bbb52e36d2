import Foundation

/// `ternevo evolve DATA`: one evolution arm (a kind of `ArmKinds` run by `evolve`: `ga`,
/// `local`, `es`) on a dataset, through the experiment runner.
enum EvolveCommand {
    /// The strategies it runs, from the registry; the first is the default.
    static var kinds: [String] { ArmKinds.names(command: "evolve") }

    static let spec = CommandSpec(
        name: "evolve",
        abstract: "Evolve a ternary network on a CSV, IDX or synthetic dataset (\(alternatives(kinds))).",
        usage:
            "ternevo evolve DATA [--strategy \(kinds.joined(separator: "|"))] [--hidden SIZES] [--seconds S] [--steps N] [options]",
        details: """
            A one-arm experiment: DATA (a CSV file with a header row, numeric features and an
            integer 'label' column; an IDX pair: a folder holding one, or the images file; or a
            built-in task such as synthetic:parity:10) is split into train, validation and test
            sets (stratified, seeded), inputs are quantised on the train split, and the strategy
            runs until --seconds or --steps (default 60 seconds) or Ctrl-C. The run folder holds the
            same files as 'ternevo run' writes.

              --strategy KIND           \(alternatives([kinds[0] + " (default)"] + kinds.dropFirst()))
            \(OneArmCommand.commonOptions)
            """
    ) { arguments, console, communicator in
        var reader = ArgumentReader(arguments, command: "evolve")
        let kind = try reader.string("--strategy") ?? kinds[0]
        guard kinds.contains(kind) else {
            throw CommandError.usage("--strategy '\(shortened(kind))' is not one of \(kinds.joined(separator: ", "))")
        }
        try OneArmCommand.run(
            command: "evolve", kind: kind, defaultBudget: ("seconds", "60"),
            arguments: reader.rest, console: console, communicator: communicator)
    }
}

/// `a`, `a or b`, `a, b or c`: names as the help text lists alternatives.
func alternatives(_ names: [String]) -> String {
    names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
}

extension ArgumentReader {
    /// Hidden sizes after `--name` such as `128` or `256-64`.
    mutating func hiddenSizes(_ name: String) throws -> [Int]? {
        guard let text = try string(name) else { return nil }
        let sizes = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 16 }) else {
            throw CommandError.usage("\(name) '\(text)' is not hidden sizes such as 128 or 256-64")
        }
        return sizes.map { $0! }
    }
}
