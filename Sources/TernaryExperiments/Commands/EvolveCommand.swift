import Foundation

/// `ternevo evolve DATA`: one evolution arm (`ga`, `local` or `es`) on a dataset, through the
/// experiment runner.
enum EvolveCommand {
    static let spec = CommandSpec(
        name: "evolve", abstract: "Evolve a ternary network on a CSV, IDX or synthetic dataset (ga, local or es).",
        usage: "ternevo evolve DATA [--strategy ga|local|es] [--hidden SIZES] [--seconds S] [--steps N] [options]",
        details: """
        A one-arm experiment: DATA (a CSV file with a header row, numeric features and an
        integer 'label' column; an IDX pair: a folder holding one, or the images file; or a
        built-in task such as synthetic:parity:10) is split into train, validation and test
        sets (stratified, seeded), inputs are quantised on the train split, and the strategy
        runs until --seconds or --steps (default 60 seconds) or Ctrl-C. The run folder holds the
        same files as 'ternevo run' writes.

          --strategy KIND           ga (default), local or es
        \(OneArmCommand.commonOptions)
        """) { arguments, console, communicator in
            var reader = ArgumentReader(arguments, command: "evolve")
            let kind = try reader.string("--strategy") ?? "ga"
            guard ["ga", "local", "es"].contains(kind) else {
                throw CommandError.usage("--strategy '\(shortened(kind))' is not one of ga, local, es")
            }
            try OneArmCommand.run(command: "evolve", kind: kind, defaultBudget: ("seconds", "60"),
                                  arguments: reader.rest, console: console, communicator: communicator)
        }
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
