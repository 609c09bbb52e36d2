import Foundation
import TernaryCore

/// The trainer's state as checkpoint fields: everything that changes during training (weights,
/// biases, logit scale, Adam moments and step, epoch and step counts, the position inside a
/// stopped epoch and its loss so far, and for K-bit STE the log-steps and their moments, last).
/// Restoring and training on equals training straight through.
extension BackpropTrainer {
    /// A stable text of the configuration and the training-set size. The STE window is named
    /// only when scaled, and the activation only when it is not `sign`, so records written
    /// before either existed keep their hash.
    /// A text of every setting that changes results, hashed into run records. A token STE arm
    /// names its window's fan-in (`context` active inputs since 2786d8f), so a record of the
    /// earlier `sqrt(context x V)` window is refused, not continued under the other window.
    public var settingsDescription: String {
        let c = configuration
        return
            "\(c.arm.rawValue) layers=\(c.layerSizes) lr=\(c.learningRate) betas=\(c.beta1)/\(c.beta2) eps=\(c.epsilon) decay=\(c.weightDecay) batch=\(c.batchSize) schedule=\(c.schedule.rawValue)\(c.arm == .ste && c.window == .scaled ? " window=scaled" : "") epochs=\(c.epochs) seed=\(c.seed) train=\(train.count) levels=\(levels)\(c.epochExamples.map { " epoch_examples=\($0)" } ?? "")\(c.activation == .sign ? "" : " activation=\(c.activation.name)")\(c.arm == .ste && train.windows != nil ? " token_window=active" : "")"
    }

    /// Opens a state that records the position inside an epoch. Older states open with the
    /// epoch count (at most `Int32.max`), which can never equal it; they restore at position 0.
    static let positionedStateMarker: UInt64 = 0xFFFF_FFFF_5354_4550

    public func encodeState(into writer: inout BinaryWriter) {
        writer.write(BackpropTrainer.positionedStateMarker)
        writer.writeCount(epoch)
        writer.writeCount(steps)
        writer.writeCount(adam.step)
        writer.writeCount(epochPosition)
        writer.write(epochLossSum)
        writer.write(logScale)
        writer.write(adam.scaleMoment)
        writer.write(adam.scaleSquare)
        for group in [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares] {
            for values in group { writer.write(values) }
        }
        // K-bit STE only: a sign network's state is as it was before levels existed.
        for values in [logSteps, adam.stepMoments, adam.stepSquares] where !logSteps.isEmpty { writer.write(values) }
    }

    /// Replaces the trainer's state with one written by `encodeState` of the same configuration
    /// (or by a build before the position inside an epoch was recorded: position 0).
    public func restoreState(from reader: inout BinaryReader) throws(FileFormatError) {
        let start = reader.offset
        let positioned = try reader.read(UInt64.self) == BackpropTrainer.positionedStateMarker
        if !positioned { reader.offset = start }
        let epoch = try reader.readCount(limit: Int(Int32.max)), steps = try reader.readCount(limit: Int(Int64.max / 2))
        let adamStep = try reader.readCount(limit: Int(Int64.max / 2))
        var position = 0, lossSum = 0.0
        if positioned {
            position = try reader.readCount(limit: examplesPerEpoch - 1)
            guard position % configuration.batchSize == 0 else {
                throw reader.fail(
                    "the position \(position) inside epoch \(epoch + 1) is not a multiple of the batch size \(configuration.batchSize); the state is damaged"
                )
            }
            lossSum = try reader.read(Double.self)
        }
        let logScale = try reader.read(Float.self), scaleMoment = try reader.read(Float.self),
            scaleSquare = try reader.read(Float.self)
        var groups: [[[Float]]] = []
        for shape in [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares] {
            var group: [[Float]] = []
            for values in shape { group.append(try reader.readFloats(count: values.count)) }
            groups.append(group)
        }
        var stepGroups: [[Float]] = []
        for _ in 0..<(logSteps.isEmpty ? 0 : 3) { stepGroups.append(try reader.readFloats(count: logSteps.count)) }
        weights = groups[0]
        biases = groups[1]
        adam.weightMoments = groups[2]
        adam.weightSquares = groups[3]
        adam.biasMoments = groups[4]
        adam.biasSquares = groups[5]
        adam.step = adamStep
        adam.scaleMoment = scaleMoment
        adam.scaleSquare = scaleSquare
        if !stepGroups.isEmpty {
            logSteps = stepGroups[0]
            adam.stepMoments = stepGroups[1]
            adam.stepSquares = stepGroups[2]
        }
        self.logScale = logScale
        self.epoch = epoch
        self.steps = steps
        epochPosition = position
        epochLossSum = lossSum
    }
}
