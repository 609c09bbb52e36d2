import Foundation
import TernaryCore

/// A strategy whose state can be written to a checkpoint and read back exactly.
public protocol CheckpointableStrategy: EvolutionStrategy {
    /// A stable text naming every setting (hashed into checkpoints to refuse a mismatched resume).
    var settingsDescription: String { get }
    func encode(_ state: State, into writer: inout CheckpointWriter)
    func decode(from reader: inout CheckpointReader) throws(CheckpointError) -> State
}

/// A checkpoint that cannot be used: which file and what is wrong.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Little-endian writer for checkpoint fields.
public struct CheckpointWriter {
    public internal(set) var bytes: [UInt8] = []
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        for k in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ network: TernaryNetwork) {
        let model = network.modelFileBytes()
        write(UInt32(model.count))
        bytes += model
    }
    public mutating func write(_ score: Score) {
        write(UInt64(score.correct)); write(UInt64(score.count)); write(score.loss)
    }
}

/// Bounds-checked reader for checkpoint fields: running out of bytes is an error, not a trap.
public struct CheckpointReader {
    let bytes: [UInt8]
    let path: String
    var offset = 0

    func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem: problem) }

    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(CheckpointError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw fail("truncated at byte \(offset)") }
        var value: T = 0
        for k in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + k]) << (8 * k) }
        offset += size
        return value
    }
    public mutating func read(_: Double.Type) throws(CheckpointError) -> Double { Double(bitPattern: try read(UInt64.self)) }
    public mutating func readCount(limit: Int) throws(CheckpointError) -> Int {
        let count = Int(try read(UInt32.self))
        guard count <= limit else { throw fail("a count of \(count) at byte \(offset - 4) exceeds \(limit); the file is damaged") }
        return count
    }
    public mutating func readNetwork() throws(CheckpointError) -> TernaryNetwork {
        let length = try readCount(limit: bytes.count - offset)
        let model = Array(bytes[offset..<(offset + length)])
        offset += length
        do {
            return try TernaryNetwork(modelFileBytes: model, source: "\(path) (genome at byte \(offset - length))")
        } catch {
            throw fail("a genome does not decode: \(error.problem)")
        }
    }
    public mutating func readScore() throws(CheckpointError) -> Score {
        Score(correct: Int(try read(UInt64.self)), count: Int(try read(UInt64.self)), loss: try read(Double.self))
    }
}

extension GeneticAlgorithm: CheckpointableStrategy {
    public var settingsDescription: String {
        let selected: String
        switch selection {
        case let .tournament(size): selected = "tournament(\(size))"
        case let .truncation(fraction): selected = "truncation(\(fraction))"
        }
        return "ga population=\(populationSize) elite=\(eliteCount) selection=\(selected) crossover=\(crossover.rawValue) p=\(crossoverProbability) mutation=\(mutation.weightRate)/\(mutation.thresholdRate)/\(mutation.thresholdStep) zeros=\(initialZeroFraction)"
    }

    public func encode(_ state: State, into writer: inout CheckpointWriter) {
        writer.write(UInt64(state.generation))
        writer.write(UInt32(state.genomes.count))
        for genome in state.genomes { writer.write(genome) }
        writer.write(UInt32(state.fitness.count))
        for value in state.fitness { writer.write(value) }
    }

    public func decode(from reader: inout CheckpointReader) throws(CheckpointError) -> State {
        let generation = Int(try reader.read(UInt64.self))
        let count = try reader.readCount(limit: 1 << 24)
        guard count == populationSize else {
            throw reader.fail("holds \(count) genomes; this configuration has a population of \(populationSize)")
        }
        var genomes = [TernaryNetwork]()
        for _ in 0..<count { genomes.append(try reader.readNetwork()) }
        let fitnessCount = try reader.readCount(limit: count)
        var fitness = [Double]()
        for _ in 0..<fitnessCount { fitness.append(try reader.read(Double.self)) }
        return State(genomes: genomes, fitness: fitness, generation: generation)
    }
}

extension Evolution where Strategy: CheckpointableStrategy {
    static var magic: [UInt8] { Array("TEVC".utf8) }
    static var version: UInt16 { 1 }

    /// A stable 64-bit hash (FNV-1a) of the strategy, architecture and settings.
    public var configurationHash: UInt64 {
        let text = [strategy.settingsDescription,
                    "layers=\(architecture.layerSizes) activation=\(architecture.activation.name) q=\(architecture.quantizer.low)/\(architecture.quantizer.high)/\(architecture.quantizer.bits)",
                    "batch=\(settings.batchSize) fitness=\(settings.fitness.rawValue) tau=\(settings.temperature.map { "\($0)" } ?? "default") every=\(settings.evaluationInterval) seed=\(settings.seed)",
                    "train=\(train.count) test=\(test?.count ?? 0)"].joined(separator: "\n")
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// The checkpoint bytes: header, strategy state, run bookkeeping, CRC-32.
    public func checkpointBytes() -> [UInt8] {
        var writer = CheckpointWriter()
        writer.bytes = Self.magic
        writer.write(Self.version)
        writer.write(configurationHash)
        writer.write(UInt64(generation))
        writer.write(UInt64(evaluations))
        writer.write(wallSeconds)
        strategy.encode(state, into: &writer)
        if let bestEver {
            writer.write(UInt8(1))
            writer.write(bestEver.genome)
            writer.write(bestEver.evaluation.train)
            writer.write(UInt8(bestEver.evaluation.test == nil ? 0 : 1))
            if let test = bestEver.evaluation.test { writer.write(test) }
        } else {
            writer.write(UInt8(0))
        }
        writer.write(CRC32.checksum(writer.bytes))
        return writer.bytes
    }

    /// Writes a checkpoint atomically (temporary file, then rename).
    public func writeCheckpoint(to path: String) throws {
        try AtomicFile.write(checkpointBytes(), to: path)
    }

    /// Replaces this run's state with a checkpoint's; the checkpoint must come from the same
    /// configuration (strategy, architecture, settings, data sizes).
    public func restore(from bytes: [UInt8], source: String = "checkpoint") throws(CheckpointError) {
        var reader = CheckpointReader(bytes: bytes, path: source)
        guard bytes.count >= 10, Array(bytes[0..<4]) == Self.magic else {
            throw reader.fail("not a TernEvo checkpoint (the file does not start with \"TEVC\")")
        }
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8
            | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        guard stored == CRC32.checksum(bytes[0..<(bytes.count - 4)]) else {
            throw reader.fail("checksum mismatch: the file is truncated or damaged")
        }
        reader = CheckpointReader(bytes: Array(bytes[0..<(bytes.count - 4)]), path: source)
        reader.offset = 4
        let version = try reader.read(UInt16.self)
        guard version == Self.version else {
            throw reader.fail("checkpoint format version \(version) is not supported; this build reads version \(Self.version)")
        }
        let hash = try reader.read(UInt64.self)
        guard hash == configurationHash else {
            throw reader.fail("was written by a different configuration (hash \(String(hash, radix: 16)), expected \(String(configurationHash, radix: 16))); resume with the configuration that started the run")
        }
        let generation = Int(try reader.read(UInt64.self))
        let evaluations = Int(try reader.read(UInt64.self))
        let seconds = try reader.read(Double.self)
        let state = try strategy.decode(from: &reader)
        var best: (TernaryNetwork, FullEvaluation)?
        if try reader.read(UInt8.self) == 1 {
            let genome = try reader.readNetwork()
            let train = try reader.readScore()
            let test = try reader.read(UInt8.self) == 1 ? try reader.readScore() : nil
            best = (genome, FullEvaluation(train: train, test: test))
        }
        guard reader.offset == reader.bytes.count else {
            throw reader.fail("\(reader.bytes.count - reader.offset) unexpected bytes before the checksum")
        }
        for genome in [best?.0].compactMap({ $0 }) where genome.layerSizes != architecture.layerSizes {
            throw reader.fail("the best genome has layers \(genome.layerSizes), not \(architecture.layerSizes)")
        }
        self.state = state
        self.generation = generation
        self.evaluations = evaluations
        self.priorSeconds = seconds
        self.started = DispatchTime.now().uptimeNanoseconds
        self.bestEver = best
    }

    /// Reads a checkpoint file into this run (see `restore(from:source:)`).
    public func restore(fromFile path: String) throws(CheckpointError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, problem: "cannot be read (missing, a folder, or no permission)")
        }
        try restore(from: [UInt8](data), source: path)
    }
}
