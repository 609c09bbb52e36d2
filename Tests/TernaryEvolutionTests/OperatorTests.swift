import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryEvolution

@Suite("Genetic operators")
struct OperatorTests {
    let sizes = [65, 129, 63, 10]

    func parents(_ seed: UInt64) -> (TernaryNetwork, TernaryNetwork, TernaryNetwork) {
        var rng = Xoshiro256(seed: seed)
        return (
            randomNetwork(sizes, zeroFraction: 0.3, using: &rng), randomNetwork(sizes, zeroFraction: 0.3, using: &rng),
            TernaryNetwork(layerSizes: sizes)
        )
    }

    @Test(
        "every crossover takes each weight from one of the parents and keeps the invariants",
        arguments: Crossover.allCases)
    func crossoverWeights(kind: Crossover) {
        var (a, b, child) = parents(1)
        var rng = Xoshiro256(seed: 2)
        kind.apply(a, b, into: &child, using: &rng)
        var fromB = 0
        for l in child.weights.indices {
            #expect(child.weights[l].invariantViolation() == nil)
            let (ca, cb, cc) = (a.weights[l].trits, b.weights[l].trits, child.weights[l].trits)
            for k in cc.indices {
                #expect(cc[k] == ca[k] || cc[k] == cb[k])
                if cc[k] != ca[k] { fromB += 1 }
            }
        }
        #expect(fromB > 0, "nothing came from the second parent")
        for l in child.thresholds.indices {
            for i in child.thresholds[l].indices {
                #expect([a.thresholds[l][i], b.thresholds[l][i]].contains(child.thresholds[l][i]))
            }
        }
        a.checkInvariants()
        b.checkInvariants()
    }

    @Test(
        "neuron-wise and two-point crossover move whole rows with their thresholds",
        arguments: [Crossover.neuron, .twoPoint])
    func wholeRows(kind: Crossover) {
        var (a, b, child) = parents(3)
        // Make the parents differ in every weight of the first layer so a row's origin is clear.
        b.weights[0] = TernaryMatrix(rowCount: 129, columnCount: 65, trits: a.weights[0].trits.map { $0 == 1 ? -1 : 1 })
        var rng = Xoshiro256(seed: 4)
        kind.apply(a, b, into: &child, using: &rng)
        let columns = 65
        for row in 0..<129 {
            let trits = Array(child.weights[0].trits[(row * columns)..<((row + 1) * columns)])
            let rowA = Array(a.weights[0].trits[(row * columns)..<((row + 1) * columns)])
            let rowB = Array(b.weights[0].trits[(row * columns)..<((row + 1) * columns)])
            #expect(trits == rowA || trits == rowB)
            if trits == rowA { #expect(child.thresholds[0][row] == a.thresholds[0][row]) }
            if trits == rowB && trits != rowA { #expect(child.thresholds[0][row] == b.thresholds[0][row]) }
        }
    }

    @Test("mutation changes about rate x weights, each to a different trit")
    func mutationRate() {
        var (a, _, _) = parents(5)
        let before = a.weights.flatMap(\.trits)
        var rng = Xoshiro256(seed: 6)
        Mutation(weightRate: 0.01, thresholdRate: 0.1, thresholdStep: 3).apply(to: &a, using: &rng)
        let after = a.weights.flatMap(\.trits)
        let changed = zip(before, after).filter { $0 != $1 }.count
        // 17,262 weights at rate 0.01: mean 172.6, sd 13.1; allow 5 sd.
        #expect(abs(Double(changed) - 172.6) < 66, "\(changed) weights changed")
        a.checkInvariants()
        var none = parents(5).0
        Mutation(weightRate: 0, thresholdRate: 0, thresholdStep: 1).apply(to: &none, using: &rng)
        #expect(none == parents(5).0)
        var all = parents(5).0
        Mutation(weightRate: 1, thresholdRate: 1, thresholdStep: 1).apply(to: &all, using: &rng)
        #expect(zip(before, all.weights.flatMap(\.trits)).allSatisfy { $0 != $1 })
        #expect(
            zip(parents(5).0.thresholds.flatMap { $0 }, all.thresholds.flatMap { $0 }).allSatisfy {
                abs(Int($0) - Int($1)) == 1
            })
    }

    @Test(
        "an output share puts that share of local search's trit moves in the output layer; without it draws stay uniform"
    )
    func outputShare() throws {
        let positions = GenomePositions(layerSizes: sizes, thresholdStep: 3)
        let outputStart = positions.weightEnds[positions.weightEnds.count - 2]
        var plain = Xoshiro256(seed: 9), unset = Xoshiro256(seed: 9)
        for _ in 0..<1000 {
            #expect(
                positions.randomWeight(outputShare: nil, using: &unset) == plain.uniformBelow(positions.weightCount))
        }
        for share in [0.0, 0.3, 1.0] {
            var rng = Xoshiro256(seed: 10)
            let draws = (0..<4000).map { _ in positions.randomWeight(outputShare: share, using: &rng) }
            #expect(draws.allSatisfy { $0 >= 0 && $0 < positions.weightCount })
            // Output draws: Binomial(4000, share), sd at most 29; allow 5 sd.
            let output = draws.filter { $0 >= outputStart }.count
            #expect(abs(Double(output) - 4000 * share) < 145, "share \(share): \(output) of 4000 in the output layer")
            // Within the hidden layers, in proportion to their sizes (layer 1 has 129 x 63 of 16,632).
            let hidden = draws.filter { $0 < outputStart }
            if share < 1 {
                let second = Double(hidden.filter { $0 >= positions.weightEnds[0] }.count) / Double(hidden.count)
                #expect(abs(second - 129.0 * 63 / 16_632) < 0.05, "layer 1's part of the hidden draws: \(second)")
            }
        }
        // The strategy's proposals with share 1: every trit move in the output layer.
        let shape = [20, 65, 63, 3]
        var rng = Xoshiro256(seed: 11)
        let strategy = LocalSearch(
            candidates: 64, movesPerCandidate: 3, thresholdProbability: 0.2, thresholdStep: 3, outputShare: 1)
        var state = LocalSearch.State(
            current: randomNetwork(shape, zeroFraction: 0.3, using: &rng), step: 0, accepted: 0)
        let problem = SearchProblem(
            architecture: Architecture(layerSizes: shape), train: clusterData(count: 32, seed: 1))
        guard case .moves(let list) = strategy.ask(&state, problem: problem, seed: 3) else {
            Issue.record("not moves")
            return
        }
        let trits = list.moves.filter { $0.kind == .trit }
        try #require(trits.count > 100)
        #expect(trits.allSatisfy { Int($0.layer) == shape.count - 2 })
    }

    @Test("geometric skips visit positions in order, each with the given probability")
    func geometricSkips() {
        var rng = Xoshiro256(seed: 8)
        var hits = [Int](repeating: 0, count: 50)
        for _ in 0..<4000 {
            var last = -1
            forEachPosition(total: 50, rate: 0.1, using: &rng) { index, _ in
                #expect(index > last && index < 50)
                last = index
                hits[index] += 1
            }
        }
        // Each position: Binomial(4000, 0.1), mean 400, sd 19; allow 5 sd.
        #expect(hits.allSatisfy { abs($0 - 400) < 95 }, "\(hits)")
    }

    @Test("selection never prefers a NaN fitness, truncation stays in the top fraction")
    func selection() {
        var rng = Xoshiro256(seed: 9)
        let fitness = [0.5, .nan, 0.9, 0.1, .nan]
        let ranking = rankBestFirst(fitness)
        #expect(ranking == [2, 0, 3, 1, 4])
        for _ in 0..<200 {
            #expect(
                [2, 0].contains(Selection.truncation(count: 2).pick(fitness: fitness, ranking: ranking, using: &rng)))
        }
        // A tournament of 60 over [NaN, NaN, 0.3] misses index 2 with probability (2/3)^60 < 1e-10.
        let mostlyNaN = [Double.nan, .nan, 0.3]
        for _ in 0..<100 {
            #expect(
                Selection.tournament(size: 60).pick(fitness: mostlyNaN, ranking: rankBestFirst(mostlyNaN), using: &rng)
                    == 2)
        }
        #expect(!isBetter(.nan, than: -.infinity))
        #expect(isBetter(-.infinity, than: .nan))
    }
}
