import Foundation

/// `ternevo train DATA --arm ste|float`: one backprop arm on a dataset, through the experiment runner.
enum TrainCommand {
    /// The arms it runs, from the registry; the first is the default.
    static var kinds: [String] { ArmKinds.names(command: "train") }

    static let spec = CommandSpec(
        name: "train",
        abstract: "Train the STE-backprop ternary baseline (or its float twin) on a CSV, IDX or synthetic dataset.",
        usage:
            "ternevo train DATA [--arm \(kinds.joined(separator: "|"))] [--hidden SIZES] [--steps EPOCHS] [--seconds S] [options]",
        details: """
            A one-arm experiment with the same data handling as 'evolve'. Trains with Adam on
            minibatches in a seeded order (default 50 epochs). For the STE arm every logged
            accuracy is that of the exported integer network scored by the multiplication-free
            evaluator; for the float arm, of the float network. Settings: --lr (0.003), --batch
            (64), --schedule constant|cosine, --weight-decay (0), --window scaled|fixed (the STE
            window of the hidden sign; see
            Sources/TernaryBackprop/TernaryBackprop.docc/STEBaseline.md).

              --arm KIND                \(alternatives([kinds[0] + " (default)"] + kinds.dropFirst()))
            \(OneArmCommand.commonOptions)
            """
    ) { arguments, console, communicator in
        var reader = ArgumentReader(arguments, command: "train")
        let kind = try reader.string("--arm") ?? kinds[0]
        guard kinds.contains(kind) else {
            throw CommandError.usage("--arm '\(shortened(kind))' is not one of \(kinds.joined(separator: ", "))")
        }
        try OneArmCommand.run(
            command: "train", kind: kind, defaultBudget: ("epochs", "50"), arguments: reader.rest, console: console,
            communicator: communicator)
    }
}
