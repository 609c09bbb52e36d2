import Foundation
import TernaryCore

extension ExperimentConfig {
    /// Keys of image and table data that mean nothing for text, refused by name.
    static let nonTextKeys = ["bits", "scaling", "split_seed", "csv", "idx", "synthetic", "test_csv", "test_idx"]

    /// A text experiment (<doc:TextLanguageModelling>): `"dataset": {"text": FILE, "context": 8,
    /// "test_fraction": 0.1, "validation_fraction": 0.05}`; the splits are contiguous blocks.
    static func loadText(
        file: String, name: String, root: inout ConfigReader, dataset: inout ConfigReader
    ) throws(DataError) -> ExperimentConfig {
        let path = resolve(try dataset.string("text")!, configFile: file)
        if let key = nonTextKeys.first(where: { dataset.has($0) }) {
            let why =
                key == "split_seed"
                ? "text splits are contiguous blocks, not seeded cuts"
                : "it applies to image and table data, not to text"
            throw dataset.fail(key, "does not apply to a text dataset (\(why)); remove it")
        }
        let context = try dataset.integer("context", in: 1...1024, default: 8)!
        let testFraction = try dataset.number("test_fraction", in: 0...0.9, default: 0.1)!
        let validationFraction = try dataset.number("validation_fraction", in: 0...0.9, default: 0.05)!
        guard testFraction + validationFraction < 0.95 else {
            throw dataset.fail(
                "validation_fraction",
                "test_fraction + validation_fraction is \(testFraction + validationFraction); leave at least 5% for training"
            )
        }
        try dataset.finish()
        var model = try root.child("model")!
        let (hidden, zeroFraction, activation) = try readModel(&model)
        let (seeds, arms) = try readArms(&root, file: file)
        var config = ExperimentConfig(
            name: name, data: .text(path), testData: nil, testFraction: testFraction,
            validationFraction: validationFraction, splitSeed: 0, bits: 1, perFeatureScaling: nil,
            hidden: hidden, zeroFraction: zeroFraction, activation: activation, seeds: seeds, arms: arms,
            file: file)
        config.context = context
        return config
    }

    /// The text of a text experiment, split (errors name the config file and key).
    func loadText() throws(DataError) -> TextCorpus {
        guard case let .text(path) = data else { preconditionFailure("not a text experiment") }
        do {
            return try TextCorpus.load(
                path: path, context: context, testFraction: testFraction, validationFraction: validationFraction)
        } catch {
            throw DataError(path: file, problem: "key 'dataset.text': \(error)")
        }
    }
}
