// Move normalisation shared by scoring and applying (see DeltaCache.swift for the layout).

extension DeltaCache {
    /// The effective changes of a candidate, in `scratch`: trit deltas (new - current, nonzero)
    /// new thresholds and new steps, each sorted by (layer, row[, column]); the last move at a
    /// position wins.
    func normalize(_ moves: UnsafeBufferPointer<Move>, into s: DeltaScratch) {
        let m = moves.count
        s.reserveMoves(m)
        s.tritCount = 0
        s.thresholdCount = 0
        s.stepCount = 0
        var index = m
        while index > 0 {
            index -= 1
            let move = moves[index]
            #if DEBUG
            move.check(layerSizes: sizes)
            #endif
            var seen = false
            for later in (index + 1)..<m
            where moves[later].kind == move.kind && moves[later].layer == move.layer
                && moves[later].row == move.row && moves[later].column == move.column
            {
                seen = true
                break
            }
            if seen { continue }
            let l = Int(move.layer), r = Int(move.row)
            switch move.kind {
            case .trit:
                let delta = move.value - Int32(network.weights[l][r, Int(move.column)])
                if delta == 0 { continue }
                s.tritLayer[s.tritCount] = move.layer
                s.tritRow[s.tritCount] = move.row
                s.tritColumn[s.tritCount] = move.column
                s.tritDelta[s.tritCount] = delta
                s.tritCount += 1
            case .threshold:
                if move.value == thresholds[l].base[r] { continue }
                s.thresholdLayer[s.thresholdCount] = move.layer
                s.thresholdNeuron[s.thresholdCount] = move.row
                s.thresholdValue[s.thresholdCount] = move.value
                s.thresholdCount += 1
            case .step:
                precondition(
                    network.activation.isLevels,
                    "a step move needs a levels network; this one is \(network.activation.name)")
                // A network without hidden layers has no step (check traps); the move changes nothing else.
                if move.value == network.steps[l] { continue }
                s.stepLayer[s.stepCount] = move.layer
                s.stepValue[s.stepCount] = move.value
                s.stepCount += 1
            }
        }
        // Insertion sorts: candidates hold a few moves.
        for i in 1..<max(1, s.tritCount) {
            var j = i
            let key = (s.tritLayer[i], s.tritRow[i], s.tritColumn[i], s.tritDelta[i])
            while j > 0 && (s.tritLayer[j - 1], s.tritRow[j - 1], s.tritColumn[j - 1]) > (key.0, key.1, key.2) {
                s.tritLayer[j] = s.tritLayer[j - 1]
                s.tritRow[j] = s.tritRow[j - 1]
                s.tritColumn[j] = s.tritColumn[j - 1]
                s.tritDelta[j] = s.tritDelta[j - 1]
                j -= 1
            }
            s.tritLayer[j] = key.0
            s.tritRow[j] = key.1
            s.tritColumn[j] = key.2
            s.tritDelta[j] = key.3
        }
        for i in 1..<max(1, s.thresholdCount) {
            var j = i
            let key = (s.thresholdLayer[i], s.thresholdNeuron[i], s.thresholdValue[i])
            while j > 0 && (s.thresholdLayer[j - 1], s.thresholdNeuron[j - 1]) > (key.0, key.1) {
                s.thresholdLayer[j] = s.thresholdLayer[j - 1]
                s.thresholdNeuron[j] = s.thresholdNeuron[j - 1]
                s.thresholdValue[j] = s.thresholdValue[j - 1]
                j -= 1
            }
            s.thresholdLayer[j] = key.0
            s.thresholdNeuron[j] = key.1
            s.thresholdValue[j] = key.2
        }
        for i in 1..<max(1, s.stepCount) {
            var j = i
            let key = (s.stepLayer[i], s.stepValue[i])
            while j > 0 && s.stepLayer[j - 1] > key.0 {
                s.stepLayer[j] = s.stepLayer[j - 1]
                s.stepValue[j] = s.stepValue[j - 1]
                j -= 1
            }
            s.stepLayer[j] = key.0
            s.stepValue[j] = key.1
        }
    }
}
