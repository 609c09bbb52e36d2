import Foundation
import TernaryBackprop
import TernaryCore

extension ExperimentRunner {
    /// The splits of a text experiment: each a block of windows over one symbol array.
    func textSplits() throws(DataError) -> Splits {
        let corpus = try config.loadText()
        let quantizer = InputQuantizer(tokens: corpus.tokens)
        let V = corpus.tokens.vocabulary
        return Splits(
            train: QuantizedDataset(windows: corpus.train), validation: QuantizedDataset(windows: corpus.validation),
            test: QuantizedDataset(windows: corpus.test), quantizer: quantizer,
            layerSizes: [corpus.tokens.inputCount] + config.hidden + [V], corpus: corpus)
    }

    /// A logged point of a text run and the model it stands for (with its temperature); nil
    /// when `stop` was raised first (asked between the chunks of each split and the steps of the
    /// temperature fit; the float arm's own forward pass answers after each split). Distributed,
    /// every rank computes it: the splits' chunks (the float arm's examples) are shared out and
    /// their totals gathered; the temperature fit on the training sample runs on every rank.
    ///
    /// Ternary search arms: the incumbent's temperature is fitted on a fixed sample of the
    /// training windows (`TextEvaluation.fitTemperature`), then bits per character on that
    /// sample, validation and test at that temperature. STE: the exported network at STE's own
    /// learned scale (`outputTemperature`), which is the STE forward pass exactly. Float: its
    /// own forward pass (no ternary model).
    func textRow(
        _ session: SearchSession, splits: Splits, method: String, seed: UInt64, wallSeconds: Double,
        report: StepReport?, until stop: StopSignal = .never
    ) -> (CurveRow, TernaryNetwork?)? {
        var row = CurveRow(
            method: method, seed: seed, step: session.step, wallSeconds: wallSeconds, evals: session.evaluations,
            trainLoss: report?.trainLoss, trainAccuracy: nil, validationAccuracy: nil, testAccuracy: nil,
            bestFitness: report?.bestFitness, meanFitness: report?.meanFitness,
            intOps: session.integerOperations, floatOps: session.floatOperations)
        let backprop = session as? BackpropSession
        guard var model = session.incumbent() else {
            // The float arm: its own forward pass (split over the ranks by the session).
            if splits.validation.count > 0 {
                guard !stop.isRaised else { return nil }
                let score = session.score(on: splits.validation)
                (row.validationLoss, row.validationBits, row.validationAccuracy) = (
                    score.loss, score.loss / log(2), score.accuracy
                )
            }
            if splits.test.count > 0 {
                guard !stop.isRaised else { return nil }
                let score = session.score(on: splits.test)
                (row.testLoss, row.testBits, row.testAccuracy) = (score.loss, score.loss / log(2), score.accuracy)
            }
            return (row, nil)
        }
        let evaluator = textEvaluator(model.layerSizes)
        guard
            let temperature = backprop?.trainer.outputTemperature
                ?? TextEvaluation.fitTemperature(model, train: splits.train, evaluator: evaluator, until: stop)
        else { return nil }
        model.temperature = temperature
        row.temperature = temperature
        let sample = ExperimentRunner.trainSample(splits.train)
        guard
            let train = TextEvaluation.score(
                model, on: splits.train, indices: sample, temperature: temperature, evaluator: evaluator, until: stop,
                communicator: communicator)
        else { return nil }
        (row.trainBits, row.trainAccuracy) = (train.bits, train.accuracy)
        if row.trainLoss == nil { row.trainLoss = train.bits * log(2) }
        if splits.validation.count > 0 {
            guard
                let score = TextEvaluation.score(
                    model, on: splits.validation, temperature: temperature, evaluator: evaluator, until: stop,
                    communicator: communicator)
            else { return nil }
            (row.validationBits, row.validationLoss, row.validationAccuracy) = (
                score.bits, score.bits * log(2), score.accuracy
            )
        }
        if splits.test.count > 0 {
            guard
                let score = TextEvaluation.score(
                    model, on: splits.test, temperature: temperature, evaluator: evaluator, until: stop,
                    communicator: communicator)
            else { return nil }
            (row.testBits, row.testLoss, row.testAccuracy) = (score.bits, score.bits * log(2), score.accuracy)
        }
        return (row, model)
    }

    /// The fixed sample of training windows the temperature is fitted on and the train column
    /// reports: up to 8,192 evenly spaced windows (`TextEvaluation.sample`).
    static func trainSample(_ train: QuantizedDataset) -> [Int] { TextEvaluation.sample(train.count) }

    /// Computes, prints and stores (`references.csv`) the reference lines of the test split.
    func writeReferences(_ corpus: TextCorpus) throws {
        guard writes else { return }
        let references = TextReferences(corpus: corpus)
        if !quiet {
            console.err(
                "\(config.name): \(corpus.trainCharacters) train, \(corpus.validationCharacters) validation, \(corpus.testCharacters) test characters; vocabulary \(corpus.tokens.vocabulary) (unseen symbol included); reference lines on the test split:\n"
                    + references.summary)
        }
        try writeFile(Array(references.csv.utf8), to: folder + "/references.csv")
    }

    /// One evaluator per run for the text metrics (the logged points' thread count).
    func textEvaluator(_ sizes: [Int]) -> PopulationEvaluator {
        if let cached = textEvaluatorCache, cached.layerSizes == sizes { return cached }
        let evaluator = PopulationEvaluator(layerSizes: sizes, threads: threads)
        textEvaluatorCache = evaluator
        return evaluator
    }
}
