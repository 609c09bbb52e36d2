import TernaryCore

// Epilogues and backward passes of the hidden activations other than `sign` and `tanh`: the
// STE's K-bit levels (the TernaryCore article Semantics) and the float arm's ReLU.
//
// Shapes: B examples, O outputs of the layer; every buffer `[B][O]` row-major, `count = B x O`.
// Dots are the layer's integer-valued products `Wq . input` (exact in Float below 2^24).

extension TrainingKernels {
    /// STE forward epilogue of a K-bit hidden layer with step `step` (`delta`) and clamped
    /// Int32 thresholds `thresholds` (held as Doubles): per output
    /// `h = clamp(floor((d - theta) / delta), 0, maxLevel)` computed as the exported network
    /// computes it (`Activation.value` on Int32 sums), `levels = h`, `activations = unit h`
    /// and `quotients = (d - theta) / delta` unclamped (what the backward pass needs).
    static func levelOutputs(
        dots: [Float], thresholds: [Double], step: Int32, unit: Float, activation: Activation, outputs O: Int,
        count: Int, quotients: inout [Float], levels: inout [Float], activations: inout [Float]
    ) {
        precondition(dots.count >= count && thresholds.count == O && count % O == 0 && step >= 1)
        precondition(quotients.count >= count && levels.count >= count && activations.count >= count)
        let delta = Double(step)
        dots.withUnsafeBufferPointer { d in
            thresholds.withUnsafeBufferPointer { t in
                quotients.withUnsafeMutableBufferPointer { u in
                    levels.withUnsafeMutableBufferPointer { h in
                        activations.withUnsafeMutableBufferPointer { a in
                            var base = 0
                            while base < count {
                                for o in 0..<O {
                                    let k = base &+ o, theta = t[o]
                                    let level = Float(
                                        activation.value(sum: Int32(d[k]), threshold: Int32(theta), step: step))
                                    h[k] = level
                                    a[k] = unit * level
                                    u[k] = Float((Double(d[k]) - theta) / delta)
                                }
                                base &+= O
                            }
                        }
                    }
                }
            }
        }
    }

    /// Backward through a K-bit hidden layer over `count` values (rows of `width`), LSQ's
    /// (Esser et al. 2020), from `g = d loss / d a` with `a = unit h` and the forward's quotients
    /// `u` and levels `h`. Inside the range (`0 <= u < 2^K`) `d loss / d z = g slope`
    /// (`slope = da/dz`), else 0. The step's gradient: `factor` times the sum of `g` times LSQ's
    /// `d (delta h) / d delta` (`h - u` inside, `maxLevel` above, 0 below), summed in Double over
    /// each block of `block` rows in index order and added to `totals[offset]` in fixed point
    /// (`GradientLayout`).
    static func levelsBackward(
        gradients g: [Float], quotients u: [Float], levels h: [Float], slope: Float, activation: Activation,
        count: Int, width: Int, block: Int, factor: Double, into deltas: inout [Float],
        totals: inout [Int64], at offset: Int
    ) {
        precondition(g.count >= count && u.count >= count && h.count >= count && deltas.count >= count)
        let range = Float(activation.maxLevel) + 1, top = Float(activation.maxLevel)
        var total: Int64 = 0
        g.withUnsafeBufferPointer { g in
            u.withUnsafeBufferPointer { u in
                h.withUnsafeBufferPointer { h in
                    deltas.withUnsafeMutableBufferPointer { out in
                        for start in stride(from: 0, to: count, by: block * width) {
                            var stepGradient = 0.0
                            for k in start..<min(count, start + block * width) {
                                let quotient = u[k]
                                if quotient >= 0 && quotient < range {
                                    out[k] = g[k] * slope
                                    stepGradient += Double(g[k] * (h[k] - quotient))
                                } else {
                                    out[k] = 0
                                    if quotient >= range { stepGradient += Double(g[k] * top) }
                                }
                            }
                            total &+= GradientLayout.fixed(factor * stepGradient)
                        }
                    }
                }
            }
        }
        totals[offset] &+= total
    }

    /// Float forward epilogue of a ReLU hidden layer: `z += b`, `h = max(0, z)` over B x O outputs.
    static func reluOutputs(
        biases: [Float], outputs O: Int, count: Int, preactivations: inout [Float], activations: inout [Float]
    ) {
        precondition(biases.count == O && preactivations.count >= count && activations.count >= count && count % O == 0)
        biases.withUnsafeBufferPointer { b in
            preactivations.withUnsafeMutableBufferPointer { z in
                activations.withUnsafeMutableBufferPointer { h in
                    var base = 0
                    while base < count {
                        for o in 0..<O {
                            let value = z[base &+ o] + b[o]
                            z[base &+ o] = value
                            h[base &+ o] = max(0, value)
                        }
                        base &+= O
                    }
                }
            }
        }
    }

    /// Backward through ReLU: `g` where `z > 0`, else 0.
    static func reluBackward(gradients g: [Float], preactivations z: [Float], count: Int, into deltas: inout [Float]) {
        precondition(g.count >= count && z.count >= count && deltas.count >= count)
        g.withUnsafeBufferPointer { g in
            z.withUnsafeBufferPointer { z in
                deltas.withUnsafeMutableBufferPointer { out in
                    for k in 0..<count { out[k] = z[k] > 0 ? g[k] : 0 }
                }
            }
        }
    }
}
