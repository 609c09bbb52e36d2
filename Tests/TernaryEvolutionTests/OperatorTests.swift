import Foundation
import Testing
import TernaryCore
@testable import TernaryEvolution
import TestSupport

@Suite("Genetic operators")
struct OperatorTests {
    let sizes = [65, 129, 63, 10]

    func parents(_ seed: UInt64) -> (TernaryNetwork, TernaryNetwork, TernaryNetwork) {
        var rng = Xoshiro256(seed: seed)
        return (randomNetwork(sizes, zeroFraction: 0.3, using: &rng), randomNetwork(sizes, zeroFraction: 0.3, using: &rng),
                TernaryNetwork(layerSizes: sizes))
    }

    @Test("every crossover takes each weight from one of the parents and keeps the invariants",
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
        a.checkInvariants(); b.checkInvariants()
    }

    @Test("neuron-wise and two-point crossover move whole rows with their thresholds",
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
        #expect(zip(parents(5).0.thresholds.flatMap { $0 }, all.thresholds.flatMap { $0 }).allSatisfy { abs(Int($0) - Int($1)) == 1 })
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
            #expect([2, 0].contains(Selection.truncation(count: 2).pick(fitness: fitness, ranking: ranking, using: &rng)))
        }
        // A tournament of 60 over [NaN, NaN, 0.3] misses index 2 with probability (2/3)^60 < 1e-10.
        let mostlyNaN = [Double.nan, .nan, 0.3]
        for _ in 0..<100 {
            #expect(Selection.tournament(size: 60).pick(fitness: mostlyNaN, ranking: rankBestFirst(mostlyNaN), using: &rng) == 2)
        }
        #expect(!isBetter(.nan, than: -.infinity))
        #expect(isBetter(-.infinity, than: .nan))
    }
}
