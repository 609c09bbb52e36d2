import TernaryCore

/// How parents are chosen from a scored population.
public enum Selection: Hashable, Sendable {
    /// The fittest of `size` individuals drawn uniformly (with replacement).
    case tournament(size: Int)
    /// An individual drawn uniformly from the best `count` (truncation selection: only they
    /// breed, so only they need caches; at most the population).
    case truncation(count: Int)

    /// A parent index. `ranking` lists indices best first (needed by truncation only).
    func pick(fitness: [Double], ranking: [Int], using generator: inout some RandomNumberGenerator) -> Int {
        switch self {
        case let .tournament(size):
            var best = generator.uniformBelow(fitness.count)
            for _ in 1..<max(1, size) {
                let challenger = generator.uniformBelow(fitness.count)
                if isBetter(fitness[challenger], than: fitness[best]) { best = challenger }
            }
            return best
        case let .truncation(count):
            return ranking[generator.uniformBelow(max(1, min(ranking.count, count)))]
        }
    }
}

/// `a > b` where NaN counts as the worst value, so a NaN fitness can never win.
@inline(__always)
func isBetter(_ a: Double, than b: Double) -> Bool {
    if a.isNaN { return false }
    if b.isNaN { return true }
    return a > b
}

/// Indices sorted best first; ties keep the lower index first, NaN last.
func rankBestFirst(_ fitness: [Double]) -> [Int] {
    fitness.indices.sorted { i, j in
        if isBetter(fitness[i], than: fitness[j]) { return true }
        if isBetter(fitness[j], than: fitness[i]) { return false }
        return i < j
    }
}
