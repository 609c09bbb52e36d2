import Foundation
import TernaryBackprop
import TernaryCore

/// `ternevo train DATA --arm ste|float`: the backprop baselines on a CSV, IDX or synthetic dataset.
enum TrainCommand {
    static let spec = CommandSpec(
        name: "train", abstract: "Train the STE-backprop ternary baseline (or its float twin) on a CSV, IDX or synthetic dataset.",
        usage: "ternevo train DATA [--arm ste|float] [--hidden SIZES] [--epochs N] [--seconds S] [options]",
        details: """
        Same data handling as 'evolve' (stratified seeded split, inputs quantised on the train
        split). Trains with Adam on minibatches in a seeded order and prints one line per epoch
        (stderr): wall seconds, mean training loss, and test accuracy. For the STE arm the test
        accuracy is that of the exported integer network scored by the multiplication-free
        evaluator; for the float arm, of the float network.

          --arm ste|float      the ternary STE network (default) or the float reference
          --hidden SIZES       hidden layer sizes (default 128)
          --epochs N           epoch budget (default 50)
          --seconds S          wall-time budget (stops after the epoch that passes it)
          --lr R               Adam learning rate (default 0.003)
          --batch B            minibatch size (default 64)
          --schedule KIND      constant or cosine over --epochs (default constant)
          --weight-decay W     decoupled weight decay (default 0)
          --bits N             input bits, 1...8 (default 8)
          --test-fraction F    share of each class held out (default 0.2)
          --seed S             split, initialisation and batch order (default 1)
          --threads N          worker threads for the large products (default: all cores;
                               results do not depend on it)
          --out MODEL.tern     STE arm: save the exported network of the best test epoch
        """) { arguments, console in
            var reader = ArgumentReader(arguments, command: "train")
            let armName = try reader.string("--arm") ?? "ste"
            let hidden = try reader.hiddenSizes("--hidden") ?? [128]
            let epochs = try reader.integer("--epochs", in: 1...1_000_000) ?? 50
            let seconds = try reader.number("--seconds", in: 0...1e9)
            let lr = try reader.number("--lr", in: 1e-9...10) ?? 3e-3
            let batch = try reader.integer("--batch", in: 1...1_000_000) ?? 64
            let scheduleName = try reader.string("--schedule") ?? "constant"
            let decay = try reader.number("--weight-decay", in: 0...10) ?? 0
            let bits = try reader.integer("--bits", in: 1...8) ?? 8
            let testFraction = try reader.number("--test-fraction", in: 0...0.9) ?? 0.2
            let seed = try reader.integer("--seed", in: 0...Int.max) ?? 1
            let out = try reader.string("--out")
            let threads = try reader.integer("--threads", in: 1...1024)
            let path = try reader.positionals(expected: "one dataset (a CSV file, an IDX folder or images file, or synthetic:TASK)", count: 1...1)[0]
            guard let arm = BackpropArm(rawValue: armName) else {
                throw CommandError.usage("--arm '\(armName)' is not one of ste, float")
            }
            guard let schedule = LearningRateSchedule(rawValue: scheduleName) else {
                throw CommandError.usage("--schedule '\(scheduleName)' is not one of constant, cosine")
            }
            let (train, test, quantizer) = try PreparedData.load(path, testFraction: testFraction, seed: UInt64(seed), bits: bits)
            let sizes = [train.featureCount] + hidden + [train.classCount]
            let trainer = BackpropTrainer(
                configuration: BackpropConfiguration(layerSizes: sizes, arm: arm, learningRate: lr, weightDecay: decay,
                                                     batchSize: batch, schedule: schedule, epochs: epochs, seed: UInt64(seed),
                                                     threads: threads),
                train: train, levels: quantizer.levels)
            let evaluator = PopulationEvaluator(layerSizes: sizes)
            console.err("train: \(arm.rawValue) \(sizes.map(String.init).joined(separator: "-")) on \(path) (\(train.count) train, \(test.count) test), lr \(lr), batch \(batch), seed \(seed)")
            let interrupt = InterruptFlag.install()
            let clock = DispatchTime.now().uptimeNanoseconds
            var trainSeconds = 0.0
            var best: (accuracy: Double, epoch: Int, network: TernaryNetwork?) = (-1, 0, nil)
            var reached: [Int: Double] = [:]
            for _ in 0..<epochs {
                let epochStart = DispatchTime.now().uptimeNanoseconds
                let loss = trainer.trainEpoch()
                trainSeconds += Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
                let network = trainer.exportTernary(quantizer: quantizer)
                let accuracy = network.map { evaluator.scores(of: [$0], on: test.all)[0].accuracy }
                    ?? trainer.score(test).accuracy
                for target in [90, 95] where reached[target] == nil && accuracy * 100 >= Double(target) {
                    reached[target] = trainSeconds
                }
                if accuracy > best.accuracy { best = (accuracy, trainer.epoch, network) }
                console.err(String(format: "epoch %4d  train %7.3f s  (wall %7.2f s)  loss %.4f  test %.2f%%",
                                   trainer.epoch, trainSeconds, Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9,
                                   loss, 100 * accuracy))
                if interrupt.isSet { break }
                if let seconds, trainSeconds >= seconds { break }
            }
            var lines = [String(format: "epochs %d, %.3f s training (%.4f s per epoch)", trainer.epoch, trainSeconds,
                                trainSeconds / Double(max(1, trainer.epoch))),
                         String(format: "best test accuracy %.2f%% (epoch %d)", 100 * best.accuracy, best.epoch)]
            for target in [90, 95] {
                lines.append("training time to \(target)% test accuracy: " + (reached[target].map { String(format: "%.3f s", $0) } ?? "not reached"))
            }
            if let out, let network = best.network {
                do { try network.write(toFile: out) } catch { throw CommandError.data("could not write \(out): \(error)") }
                lines.append("saved \(out)")
            }
            console.out(lines.joined(separator: "\n"))
            if interrupt.isSet { throw CommandError(message: "interrupted; the files above are complete", exitCode: 130) }
        }
}
