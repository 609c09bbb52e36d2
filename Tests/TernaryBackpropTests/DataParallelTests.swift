import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryBackprop

/// Data-parallel steps: each rank computes its blocks of every minibatch and the fixed-point
/// totals are summed, so 1, 2 and 3 ranks (threads with a `ThreadCommunicator`) and 1 and 2
/// worker threads give the same parameters, bit for bit.
@Suite("Data-parallel backprop")
struct DataParallelTests {
    /// The trainers' states after `epochs` epochs on `size` ranks (rank 0's, and whether every
    /// rank ended with the same state bytes).
    func trained(
        _ configuration: BackpropConfiguration, train: QuantizedDataset, levels: Int, ranks size: Int, epochs: Int
    ) -> (state: [UInt8], loss: Double, agreed: Bool) {
        let group = ThreadCommunicator.group(size: size)
        let lock = NSLock(), done = DispatchGroup()
        nonisolated(unsafe) var states = [[UInt8]](repeating: [], count: size)
        nonisolated(unsafe) var losses = [Double](repeating: 0, count: size)
        let shared = UncheckedSendable((configuration, train))
        for rank in 0..<size {
            done.enter()
            Thread.detachNewThread {
                let trainer = BackpropTrainer(
                    configuration: shared.value.0, train: shared.value.1, levels: levels)
                if size > 1 { trainer.communicator = group[rank] }
                var loss = 0.0
                for _ in 0..<epochs { loss = trainer.trainEpoch() }
                var writer = BinaryWriter()
                trainer.encodeState(into: &writer)
                lock.withLock {
                    states[rank] = writer.bytes
                    losses[rank] = loss
                }
                done.leave()
            }
        }
        done.wait()
        return lock.withLock { (states[0], losses[0], states.allSatisfy { $0 == states[0] }) }
    }

    @Test(
        "1, 2 and 3 ranks and 1 and 2 threads give identical states: STE and float, sign and 4-bit, bytes and tokens",
        arguments: [
            (BackpropArm.ste, Activation.sign, false), (.float, .sign, false), (.ste, .levels(bits: 4), false),
            (.float, .levels(bits: 4), false), (.ste, .sign, true), (.ste, .levels(bits: 2), true),
            (.float, .sign, true),
        ])
    func sameStates(arm: BackpropArm, activation: Activation, tokens: Bool) {
        let train =
            tokens
            ? tokenData(context: 3, vocabulary: 9, count: 230, seed: 4)
            : tinyData(count: 230, features: 37, classes: 5, seed: 4)
        let sizes = [train.featureCount, 24, 13, train.classCount]
        // 100 examples a minibatch: blocks of 32, 32, 32 and 4 (3 ranks: 2, 1 and 1 blocks).
        let configuration = BackpropConfiguration(
            layerSizes: sizes, arm: arm, learningRate: 0.01, batchSize: 100, seed: 3, threads: 1,
            activation: activation)
        let levels = tokens ? 1 : 255
        let alone = trained(configuration, train: train, levels: levels, ranks: 1, epochs: 2)
        #expect(alone.loss.isFinite && alone.loss > 0)
        var threaded = configuration
        threaded.threads = 2
        #expect(trained(threaded, train: train, levels: levels, ranks: 1, epochs: 2).state == alone.state, "2 threads")
        for size in [2, 3] {
            let run = trained(configuration, train: train, levels: levels, ranks: size, epochs: 2)
            #expect(run.agreed, "\(size) ranks ended with different states")
            #expect(run.state == alone.state && run.loss == alone.loss, "\(size) ranks")
        }
    }

    @Test("a distributed session scores each rank's block and sums the totals: the score of one process")
    func scores() throws {
        let train = tinyData(count: 150, features: 20, classes: 3, seed: 9)
        for arm in [BackpropArm.ste, .float] {
            let configuration = BackpropConfiguration(
                layerSizes: [20, 16, 3], arm: arm, learningRate: 0.01, batchSize: 40, seed: 1, threads: 1)
            let quantizer = InputQuantizer(low: 0, high: 255)
            let alone = BackpropSession(
                trainer: BackpropTrainer(configuration: configuration, train: train, levels: 255), quantizer: quantizer)
            _ = try alone.advance()
            let expected = alone.score(on: train)
            let group = ThreadCommunicator.group(size: 3)
            let lock = NSLock(), done = DispatchGroup()
            nonisolated(unsafe) var scores = [Score?](repeating: nil, count: 3)
            for rank in 0..<3 {
                done.enter()
                Thread.detachNewThread {
                    let session = BackpropSession(
                        trainer: BackpropTrainer(configuration: configuration, train: train, levels: 255),
                        quantizer: quantizer)
                    session.distribute(over: group[rank])
                    let score = (try? session.advance()).map { _ in session.score(on: train) }
                    lock.withLock { scores[rank] = score }
                    done.leave()
                }
            }
            done.wait()
            for score in scores { #expect(score == expected, "\(arm)") }
        }
    }
}
