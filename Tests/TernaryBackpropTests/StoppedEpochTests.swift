import Synchronization
import TernaryCore
import Testing

@testable import TernaryBackprop

/// A stop signal raised at its `after + 1`-th question (after `after` minibatches), counting them.
final class CountingStop: Sendable {
    let calls = Atomic<Int>(0)
    let after: Int
    init(after: Int) { self.after = after }
    var signal: StopSignal { StopSignal { self.calls.add(1, ordering: .relaxed).newValue > self.after } }
}

/// An epoch stopped between minibatches (issue 39): the checkpoint records the position, and
/// finishing from it gives the bits of the epoch run straight through.
@Suite("Backprop stopped inside an epoch")
struct StoppedEpochTests {
    /// Byte inputs wide enough for the float products to go parallel (64 x 300 x 64
    /// multiply-adds), or token windows; 4 minibatches of 64 per epoch, the last one short.
    func trainer(_ arm: BackpropArm, tokens: Bool, threads: Int, activation: Activation = .sign) -> BackpropTrainer {
        let data =
            tokens
            ? tokenData(context: 4, vocabulary: 20, count: 200, seed: 6)
            : tinyData(count: 200, features: 300, classes: 4, seed: 6)
        let sizes = tokens ? [80, 32, 20] : [300, 64, 4]
        let configuration = BackpropConfiguration(
            layerSizes: sizes, arm: arm, learningRate: 0.01, batchSize: 64, schedule: .cosine,
            epochs: 3, seed: 3, threads: threads, activation: activation)
        return BackpropTrainer(configuration: configuration, train: data, levels: tokens ? 1 : 255)
    }

    func state(_ session: BackpropSession) -> [UInt8] {
        var writer = BinaryWriter()
        session.encodeState(into: &writer)
        return writer.bytes
    }

    @Test(
        "stopped after 2 minibatches, saved, restored into a fresh trainer and finished equals the epoch straight through",
        arguments: [BackpropArm.ste, .float], [false, true])
    func resumeInsideEpoch(arm: BackpropArm, tokens: Bool) throws {
        for threads in [1, 2] {
            let quantizer = InputQuantizer(low: 0, high: 255)
            let straight = BackpropSession(
                trainer: trainer(arm, tokens: tokens, threads: threads), quantizer: quantizer)
            _ = try straight.advance()
            let expected = try straight.advance().trainLoss

            let first = BackpropSession(trainer: trainer(arm, tokens: tokens, threads: threads), quantizer: quantizer)
            _ = try first.advance()
            let stop = CountingStop(after: 2)
            #expect(try first.advance(until: stop.signal) == nil)
            #expect(stop.calls.load(ordering: .relaxed) == 3, "asked once before each minibatch")
            #expect(first.step == 1 && first.trainer.epochPosition == 128 && first.evaluations == 328)
            let resumed = BackpropSession(trainer: trainer(arm, tokens: tokens, threads: threads), quantizer: quantizer)
            var reader = BinaryReader(bytes: state(first), path: "state")
            try resumed.restoreState(from: &reader)
            #expect(reader.isAtEnd && resumed.step == 1 && resumed.trainer.epochPosition == 128)
            let report = try resumed.advance()
            #expect(
                report.trainLoss == expected,
                "the epoch's loss: \(String(describing: report.trainLoss)) against \(String(describing: expected))")
            #expect(
                resumed.trainer.weights == straight.trainer.weights && resumed.trainer.biases == straight.trainer.biases
            )
            #expect(state(resumed) == state(straight), "every field, Adam's moments included (\(threads) threads)")
        }
    }

    @Test(
        "K-bit levels (STE: steps and their moments in the state; float: ReLU): stopped, restored and finished equals straight through, and 1 thread equals 2",
        arguments: [BackpropArm.ste, .float], [false, true])
    func resumeLevels(arm: BackpropArm, tokens: Bool) throws {
        let quantizer = InputQuantizer(low: 0, high: 255), relu4 = Activation.levels(bits: 4)
        var finals: [[UInt8]] = []
        for threads in [1, 2] {
            let straight = BackpropSession(
                trainer: trainer(arm, tokens: tokens, threads: threads, activation: relu4), quantizer: quantizer)
            for _ in 0..<2 { _ = try straight.advance() }
            let first = BackpropSession(
                trainer: trainer(arm, tokens: tokens, threads: threads, activation: relu4), quantizer: quantizer)
            _ = try first.advance()
            #expect(try first.advance(until: CountingStop(after: 2).signal) == nil)
            let saved = state(first)
            let resumed = BackpropSession(
                trainer: trainer(arm, tokens: tokens, threads: threads, activation: relu4), quantizer: quantizer)
            var reader = BinaryReader(bytes: saved, path: "state")
            try resumed.restoreState(from: &reader)
            #expect(reader.isAtEnd && resumed.trainer.logSteps == first.trainer.logSteps)
            _ = try resumed.advance()
            #expect(state(resumed) == state(straight), "\(threads) threads")
            #expect(resumed.trainer.logSteps.count == (arm == .ste ? 1 : 0))
            var cut = BinaryReader(bytes: Array(saved.dropLast(4)), path: "state")
            #expect(throws: FileFormatError.self) { try resumed.restoreState(from: &cut) }
            finals.append(state(straight))
        }
        #expect(finals[0] == finals[1], "1 and 2 threads train the same bits")
    }

    @Test("a stop raised before the first minibatch changes nothing")
    func stopAtOnce() throws {
        let session = BackpropSession(
            trainer: trainer(.ste, tokens: false, threads: 1), quantizer: InputQuantizer(low: 0, high: 255))
        let before = state(session)
        #expect(try session.advance(until: StopSignal { true }) == nil)
        #expect(state(session) == before && session.trainer.steps == 0)
    }

    @Test(
        "a state written before the position was recorded restores at position 0 and trains on as before; a damaged position is refused"
    )
    func olderState() throws {
        let straight = trainer(.ste, tokens: true, threads: 1)
        straight.trainEpoch()
        var writer = BinaryWriter()
        straight.encodeState(into: &writer)
        // The older layout: no marker (8 bytes) and no position or loss sum (16 bytes after
        // the epoch, step and Adam step counts).
        let bytes = writer.bytes
        let legacy = Array(bytes[8..<32] + bytes[48...])
        let restored = trainer(.ste, tokens: true, threads: 1)
        var reader = BinaryReader(bytes: legacy, path: "old state")
        try restored.restoreState(from: &reader)
        #expect(reader.isAtEnd && restored.epoch == 1 && restored.epochPosition == 0)
        #expect(restored.trainEpoch() == straight.trainEpoch())
        #expect(restored.weights == straight.weights && restored.logScale == straight.logScale)

        var damaged = bytes
        damaged[32] = 5  // position 5: not a multiple of the batch of 64
        var damagedReader = BinaryReader(bytes: damaged, path: "state")
        #expect(throws: FileFormatError.self) { try restored.restoreState(from: &damagedReader) }
    }
}
