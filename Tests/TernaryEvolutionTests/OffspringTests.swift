import TernaryCore
import TestSupport
import Testing

@testable import TernaryEvolution

/// Offspring scored from their breeders' caches (`Candidates.offspring`) against full evaluations.
@Suite("Incremental offspring")
struct OffspringTests {
    /// A GA whose crossover children are scored from caches when within 1/16 of the weights
    /// of a parent (the tests' networks are small, so the default 1/256 would admit few).
    func ga(_ crossover: Crossover, population: Int = 24) -> GeneticAlgorithm {
        var strategy = GeneticAlgorithm(
            populationSize: population, eliteCount: 2, selection: .tournament(size: 3), crossover: crossover,
            crossoverProbability: 0.6, mutation: Mutation(weightRate: 0.01, thresholdRate: 0.05, thresholdStep: 30))
        strategy.cachedChildFraction = 1.0 / 16
        return strategy
    }

    func problem(
        _ data: QuantizedDataset, sizes: [Int], batch: Int?, rotateEvery: Int, budget: Int = 1 << 30, threads: Int
    ) -> SearchProblem {
        SearchProblem(
            architecture: Architecture(layerSizes: sizes), train: data, batchSize: batch, rotateEvery: rotateEvery,
            cacheBudget: budget, threads: threads)
    }

    @Test(
        "every child's score equals a full evaluation: random and related populations, neuron and two-point crossover, rotating batches, 1 and 2 threads",
        arguments: [(Crossover.neuron, 1), (.neuron, 2), (.twoPoint, 1), (.twoPoint, 2)])
    func scoresEqualFull(crossover: Crossover, threads: Int) {
        let data = clusterData(count: 150, seed: 21)
        for (sizes, batch, related) in [
            ([20, 24, 3], Optional(70), false), ([20, 13, 9, 3], nil, true), ([20, 24, 3], 70, true),
        ] {
            let problem = problem(data, sizes: sizes, batch: batch, rotateEvery: 3, threads: threads)
            // Related genomes (a common ancestor plus a few mutations each) make crossover
            // children close to a parent; with every child crossed, each cached non-elite is one.
            var strategy = ga(crossover)
            var state = strategy.initialState(problem: problem, seed: 9)
            if related {
                strategy.crossoverProbability = 1
                var rng = Xoshiro256(seed: 77)
                let mutation = Mutation(weightRate: 0.01, thresholdRate: 0.1, thresholdStep: 30)
                let genomes = state.genomes.map { _ in
                    var genome = state.genomes[0]
                    mutation.apply(to: &genome, using: &rng)
                    return genome
                }
                state = GeneticAlgorithm.State(genomes: genomes, fitness: [], generation: 0)
            }
            var cached = 0, crossed = 0
            for generation in 0..<7 {
                let candidates = strategy.ask(&state, problem: problem, seed: 9)
                let (fitness, evaluations, _) = try! problem.stepFitness(
                    of: candidates, incumbent: state.genomes[0], step: generation, seed: 9)!
                let full = problem.evaluator.scores(of: state.genomes, on: problem.batch(step: generation, seed: 9))
                #expect(fitness == full.map(FitnessKind.xent.fitness), "generation \(generation)")
                #expect(evaluations == candidates.paidCount)
                if case let .offspring(offspring) = candidates {
                    #expect(offspring.genomes == state.genomes)
                    for index in offspring.slots.indices where offspring.slots[index] >= 0 {
                        cached += 1
                        if index >= strategy.eliteCount { crossed += 1 }
                    }
                }
                strategy.tell(&state, fitness: fitness, problem: problem, seed: 9)
            }
            #expect(cached > 6 * 8, "\(cached) children scored from caches in 6 generations of 24")
            if related { #expect(crossed > 6 * 8, "\(crossed) crossover children scored from caches") }
        }
    }

    @Test(
        "the defaults' scheme (the best 4 breed, mutated copies only): the recorded moves are the genomes' differences, and every score equals a full evaluation, 1 and 2 threads",
        arguments: [1, 2])
    func truncationMutationOnly(threads: Int) {
        for (sizes, batch) in [([20, 24, 3], Optional(70)), ([20, 13, 9, 3], nil), ([65, 30, 4], 100)] {
            let data = clusterData(count: 150, seed: 23, width: sizes[0])
            let problem = problem(data, sizes: sizes, batch: batch, rotateEvery: 3, threads: threads)
            var strategy = GeneticAlgorithm(
                populationSize: 16, eliteCount: 4, selection: .truncation(count: 4), crossover: .neuron,
                crossoverProbability: 0, mutation: Mutation(weightRate: 0.004, thresholdRate: 0.05, thresholdStep: 30),
                readout: true)
            strategy.cachedChildFraction = 1.0 / 16
            var state = strategy.initialState(problem: problem, seed: 5)
            var cached = 0
            for generation in 0..<8 {
                let parents = state.genomes
                let candidates = strategy.ask(&state, problem: problem, seed: 5)
                let (fitness, _, _) = try! problem.stepFitness(
                    of: candidates, incumbent: state.genomes[0], step: generation, seed: 5)!
                let full = problem.evaluator.scores(of: state.genomes, on: problem.batch(step: generation, seed: 5))
                #expect(fitness == full.map(FitnessKind.xent.fitness), "generation \(generation)")
                if case let .offspring(offspring) = candidates {
                    for index in offspring.slots.indices where offspring.slots[index] >= 0 {
                        cached += 1
                        // Some parent's difference to the child is exactly the recorded list.
                        let recorded = Set(offspring.moves[index].map { "\($0)" })
                        #expect(
                            parents.contains {
                                Set(Difference.moves(from: $0, to: offspring.genomes[index]).map { "\($0)" })
                                    == recorded
                            })
                    }
                }
                strategy.tell(&state, fitness: fitness, problem: problem, seed: 5)
            }
            #expect(cached > 7 * 12, "\(cached) children scored from caches in 7 generations of 16")
        }
    }

    @Test(
        "the cache budget changes the counters only: no budget, a budget of 3 breeders and a large one give the same run"
    )
    func budgetChangesNothing() {
        let data = clusterData(count: 200, seed: 5)
        let sizes = [20, 30, 3]
        let perCache = CachePool.byteCount(layerSizes: sizes, examples: 90)
        var results: [([StepReport], [GeneticAlgorithm.State])] = []
        var evaluations: [Int] = []
        for budget in [0, 3 * 2 * perCache, 1 << 30] {
            let problem = problem(data, sizes: sizes, batch: 90, rotateEvery: 4, budget: budget, threads: 2)
            #expect(budget != 3 * 2 * perCache || problem.breederCapacity == 3)
            let run = SearchRun(strategy: ga(.neuron), problem: problem, seed: 3)
            var states: [GeneticAlgorithm.State] = []
            var reports: [StepReport] = []
            for _ in 0..<10 {
                reports.append(try! run.advance())
                states.append(run.state)
            }
            results.append((reports, states))
            evaluations.append(run.evaluations)
        }
        for result in results.dropFirst() {
            #expect(result.0 == results[0].0)
            #expect(result.1.map(\.genomes) == results[0].1.map(\.genomes))
            #expect(result.1.map(\.fitness) == results[0].1.map(\.fitness))
        }
        // No caches: every genome of every generation is one full evaluation.
        #expect(evaluations[0] == 10 * 24)
    }

    @Test(
        "counters: on a fixed batch, each generation counts its paid children and the rebuilds of breeders evaluated in full"
    )
    func counters() {
        let data = clusterData(count: 120, seed: 6)
        let sizes = [20, 16, 3]
        let problem = problem(data, sizes: sizes, batch: nil, rotateEvery: 1, threads: 1)
        let strategy = ga(.twoPoint)
        var state = strategy.initialState(problem: problem, seed: 4)
        for generation in 0..<6 {
            let before = state.scoredFromCache
            let candidates = strategy.ask(&state, problem: problem, seed: 4)
            let (fitness, evaluations, operations) = try! problem.stepFitness(
                of: candidates, incumbent: state.genomes[0], step: generation, seed: 4)!
            let side = problem.takeCost()
            let perGenome = problem.fullOperations(state.genomes.prefix(1), examples: data.count)
            switch candidates {
            case .genomes:
                #expect(evaluations == 24 && side.evaluations == 0)
                #expect(operations == problem.fullOperations(state.genomes, examples: data.count))
            case let .offspring(offspring):
                // Elites (slots 0 and 1, no moves) are free.
                #expect(offspring.slots[0] == 0 && offspring.moves[0].isEmpty && offspring.moves[1].isEmpty)
                #expect(
                    evaluations == 24
                        - offspring.slots.indices.count { offspring.slots[$0] >= 0 && offspring.moves[$0].isEmpty })
                // Rebuilt breeders: those not scored from a cache last generation (a full pass each).
                let breeders = Set(offspring.slots.filter { $0 >= 0 }).count
                #expect(side.evaluations <= breeders && side.evaluations >= 0)
                if generation == 1 { #expect(side.evaluations == breeders && !before.contains(true)) }
                #expect(side.operations >= Double(side.evaluations) * perGenome * 0.5)
            case .moves: Issue.record("a GA never asks for moves")
            }
            strategy.tell(&state, fitness: fitness, problem: problem, seed: 4)
        }
    }
}
