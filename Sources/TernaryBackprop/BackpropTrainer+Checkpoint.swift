import Foundation
import TernaryCore

/// A backprop checkpoint that cannot be used: which file and what is wrong.
public struct BackpropCheckpointError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Checkpoints of a trainer: everything that changes during training (weights, biases, logit
/// scale, Adam moments and step, epoch and step counts), after a magic, a version and a hash of
/// the configuration, with a CRC-32. Restoring and training on equals training straight through.
extension BackpropTrainer {
    static let checkpointMagic: [UInt8] = Array("TBPC".utf8)

    /// A stable FNV-1a hash of the configuration and the training-set size.
    var configurationHash: UInt64 {
        let c = configuration
        let text = "\(c.layerSizes) \(c.arm.rawValue) \(c.learningRate) \(c.beta1) \(c.beta2) \(c.epsilon) \(c.weightDecay) \(c.batchSize) \(c.schedule.rawValue) \(c.epochs) \(c.seed) \(train.count) \(levels)"
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    public func checkpointBytes() -> [UInt8] {
        var out = BackpropTrainer.checkpointMagic
        func word<T: FixedWidthInteger>(_ value: T) {
            for k in 0..<MemoryLayout<T>.size { out.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
        }
        func floats(_ values: [Float]) { word(UInt32(values.count)); for v in values { word(v.bitPattern) } }
        word(UInt16(1))
        word(configurationHash)
        word(UInt64(epoch)); word(UInt64(steps)); word(UInt64(adam.step))
        word(logScale.bitPattern); word(adam.scaleMoment.bitPattern); word(adam.scaleSquare.bitPattern)
        for group in [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares] {
            word(UInt32(group.count))
            for values in group { floats(values) }
        }
        word(CRC32.checksum(out))
        return out
    }

    public func writeCheckpoint(to path: String) throws { try AtomicFile.write(checkpointBytes(), to: path) }

    /// Replaces the trainer's state with a checkpoint's; it must come from the same configuration.
    public func restore(fromFile path: String) throws(BackpropCheckpointError) {
        func fail(_ problem: String) -> BackpropCheckpointError { BackpropCheckpointError(path: path, problem: problem) }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot be read (missing, a folder, or no permission)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<4]) == BackpropTrainer.checkpointMagic else { throw fail("not a TernEvo backprop checkpoint") }
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8
            | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        guard stored == CRC32.checksum(bytes[0..<(bytes.count - 4)]) else { throw fail("checksum mismatch: the file is truncated or damaged") }
        var offset = 4
        let end = bytes.count - 4
        func read<T: FixedWidthInteger>(_: T.Type) throws(BackpropCheckpointError) -> T {
            guard offset + MemoryLayout<T>.size <= end else { throw fail("truncated at byte \(offset)") }
            var value: T = 0
            for k in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: bytes[offset + k]) << (8 * k) }
            offset += MemoryLayout<T>.size
            return value
        }
        func float() throws(BackpropCheckpointError) -> Float { Float(bitPattern: try read(UInt32.self)) }
        guard try read(UInt16.self) == 1 else { throw fail("unsupported checkpoint version") }
        guard try read(UInt64.self) == configurationHash else {
            throw fail("was written by a different configuration; resume with the configuration that started the run")
        }
        let epoch = Int(try read(UInt64.self)), steps = Int(try read(UInt64.self)), adamStep = Int(try read(UInt64.self))
        let logScale = try float(), scaleMoment = try float(), scaleSquare = try float()
        var groups: [[[Float]]] = []
        let shapes = [weights, biases, adam.weightMoments, adam.weightSquares, adam.biasMoments, adam.biasSquares]
        for shape in shapes {
            guard Int(try read(UInt32.self)) == shape.count else { throw fail("layer count does not match the configuration") }
            var group: [[Float]] = []
            for values in shape {
                guard Int(try read(UInt32.self)) == values.count else { throw fail("a parameter count does not match the configuration") }
                var restored = [Float]()
                restored.reserveCapacity(values.count)
                for _ in 0..<values.count { restored.append(try float()) }
                group.append(restored)
            }
            groups.append(group)
        }
        guard offset == end else { throw fail("\(end - offset) unexpected bytes before the checksum") }
        weights = groups[0]; biases = groups[1]
        adam.weightMoments = groups[2]; adam.weightSquares = groups[3]; adam.biasMoments = groups[4]; adam.biasSquares = groups[5]
        adam.step = adamStep; adam.scaleMoment = scaleMoment; adam.scaleSquare = scaleSquare
        self.logScale = logScale; self.epoch = epoch; self.steps = steps
    }
}
