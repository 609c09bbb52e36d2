import Foundation
import TernaryCore

/// The trainer's state as checkpoint fields: everything that changes during training (weights,
/// biases, logit scale, Adam moments and step, epoch and step counts). Restoring and training
/// on equals training straight through.
extension BackpropTrainer {
    /// A stable text of the configuration and the training-set size. The STE window is named
    /// only when scaled, so records written before it existed (fixed) keep their hash.
    public var settingsDescription: String {
        let c = configuration
        return "\(c.arm.rawValue) layers=\(c.layerSizes) lr=\(c.learningRate) betas=\(c.beta1)/\(c.beta2) eps=\(c.epsilon) decay=\(c.weightDecay) batch=\(c.batchSize) schedule=\(c.schedule.rawValue)\(c.arm == .ste && c.window == .scaled ? " window=scaled" : "") epochs=\(c.epochs) seed=\(c.seed) train=\(train.count) levels=\(levels)\(c.epochExamples.map { " epoch_examples=\($0)" } ?? "")"
    }

    public func encodeState(into writer: inout BinaryWriter) {
        writer.writeCount(epoch); writer.writeCount(steps); writer.writeCount(adam.step)
        writer.write(logScale); writer.write(adam.scaleMoment); writer.write(adam.scaleSquare)
        for group in [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares] {
            for values in group { writer.write(values) }
        }
    }

    /// Replaces the trainer's state with one written by `encodeState` of the same configuration.
    public func restoreState(from reader: inout BinaryReader) throws(FileFormatError) {
        let epoch = try reader.readCount(limit: Int(Int32.max)), steps = try reader.readCount(limit: Int(Int64.max / 2))
        let adamStep = try reader.readCount(limit: Int(Int64.max / 2))
        let logScale = try reader.read(Float.self), scaleMoment = try reader.read(Float.self), scaleSquare = try reader.read(Float.self)
        var groups: [[[Float]]] = []
        for shape in [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares] {
            var group: [[Float]] = []
            for values in shape { group.append(try reader.readFloats(count: values.count)) }
            groups.append(group)
        }
        weights = groups[0]; biases = groups[1]
        adam.weightMoments = groups[2]; adam.weightSquares = groups[3]; adam.biasMoments = groups[4]; adam.biasSquares = groups[5]
        adam.step = adamStep; adam.scaleMoment = scaleMoment; adam.scaleSquare = scaleSquare
        self.logScale = logScale; self.epoch = epoch; self.steps = steps
    }
}
