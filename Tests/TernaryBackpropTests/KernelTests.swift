import Foundation
import TernaryCore
import TestSupport
import Testing

@testable import TernaryBackprop

/// Uniform floats in [-1, 1).
func randomFloats(_ count: Int, using rng: inout Xoshiro256) -> [Float] {
    (0..<count).map { _ in Float(rng.uniformDouble() * 2 - 1) }
}

/// Checks `fast` against a naive sum per element: the difference must be within float
/// rounding of the sum of the terms' magnitudes.
func expectClose(_ fast: [Float], _ naive: [Double], magnitudes: [Double], _ label: String) {
    #expect(fast.count >= naive.count)
    var worst = 0.0
    for k in naive.indices {
        let allowed = 1e-5 * magnitudes[k] + 1e-30
        worst = max(worst, abs(Double(fast[k]) - naive[k]) / allowed)
    }
    #expect(worst <= 1, "\(label): error \(worst) x the allowance")
}

@Suite("Backprop kernels against naive references")
struct BackpropKernelTests {
    /// Shapes with sizes around the SIMD width and the 32-float blocks, plus shapes large
    /// enough (over 2^20 multiply-adds) to take the parallel path.
    static let shapes: [(B: Int, I: Int, O: Int)] = {
        var rng = Xoshiro256(seed: 7)
        var shapes = (0..<12).map { _ in
            (
                B: 1 + rng.uniformBelow(70), I: boundarySizes.randomElement(using: &rng)! + rng.uniformBelow(3),
                O: boundarySizes.randomElement(using: &rng)! + rng.uniformBelow(3)
            )
        }
        shapes += [(B: 1, I: 1, O: 1), (B: 5, I: 7, O: 9), (B: 64, I: 300, O: 65), (B: 67, I: 129, O: 131)]
        return shapes
    }()

    @Test(
        "forward, backward-to-inputs and weight-gradient products: close to a double-precision sum, the weight gradient's fixed-point totals exact, same bits for 1 and 2 threads and every supported instruction set",
        arguments: shapes.indices)
    func products(_ shape: Int) {
        let (B, I, O) = BackpropKernelTests.shapes[shape]
        var rng = Xoshiro256(seed: 100, stream: [UInt64(shape)])
        let x = randomFloats(B * I, using: &rng), w = randomFloats(O * I, using: &rng),
            d = randomFloats(B * O, using: &rng)
        var forward = [Double](repeating: 0, count: B * O), forwardSize = forward
        var input = [Double](repeating: 0, count: B * I), inputSize = input
        var weights = [Double](repeating: 0, count: O * I), weightsSize = weights
        for b in 0..<B {
            for o in 0..<O {
                for i in 0..<I {
                    forward[b * O + o] += Double(x[b * I + i]) * Double(w[o * I + i])
                    forwardSize[b * O + o] += abs(Double(x[b * I + i]) * Double(w[o * I + i]))
                    input[b * I + i] += Double(d[b * O + o]) * Double(w[o * I + i])
                    inputSize[b * I + i] += abs(Double(d[b * O + o]) * Double(w[o * I + i]))
                    weights[o * I + i] += Double(d[b * O + o]) * Double(x[b * I + i])
                    weightsSize[o * I + i] += abs(Double(d[b * O + o]) * Double(x[b * I + i]))
                }
            }
        }
        // The fixed-point totals exactly: per block of examples a float FMA sum in example order, converted.
        let block = 1 + shape % 5
        var exact = [Int64](repeating: 0, count: O * I)
        for o in 0..<O {
            for i in 0..<I {
                for start in stride(from: 0, to: B, by: block) {
                    var sum: Float = 0
                    for b in start..<min(B, start + block) { sum = sum.addingProduct(d[b * O + o], x[b * I + i]) }
                    exact[o * I + i] &+= GradientLayout.fixed(Double(sum))
                }
            }
        }
        var results: [[[Float]]] = [], runs: [String] = []
        for isa in InstructionSet.supported {
            for threads in [1, 2] {
                var y = [Float](repeating: .nan, count: B * O), dx = [Float](repeating: .nan, count: B * I)
                var totals = [Int64](repeating: 7, count: O * I + 2)
                FloatKernels.forward(x, w, into: &y, B: B, I: I, O: O, threads: threads, instructionSet: isa)
                FloatKernels.backwardInput(d, w, into: &dx, B: B, I: I, O: O, threads: threads, instructionSet: isa)
                FloatKernels.backwardWeights(
                    d, x, into: &totals, at: 1, B: B, I: I, O: O, block: block, threads: threads, instructionSet: isa)
                #expect(totals[0] == 7 && totals[O * I + 1] == 7, "the totals' neighbours are untouched")
                let dw = totals[1...O * I].map { Float(GradientLayout.value($0)) }
                #expect(Array(totals[1...O * I]) == exact, "weight gradient totals \(B)x\(I)x\(O) \(isa)")
                expectClose(y, forward, magnitudes: forwardSize, "forward \(B)x\(I)x\(O) \(isa)")
                expectClose(dx, input, magnitudes: inputSize, "backward input \(B)x\(I)x\(O) \(isa)")
                expectClose(dw, weights, magnitudes: weightsSize, "weight gradients \(B)x\(I)x\(O) \(isa)")
                results.append([y, dx, dw])
                runs.append("\(isa), \(threads) threads")
            }
        }
        // Same bits for every instruction set and thread count (NaN sentinels would show unwritten outputs).
        for (run, result) in zip(runs, results).dropFirst() {
            let identical = result.elementsEqual(results[0]) { $0.map(\.bitPattern) == $1.map(\.bitPattern) }
            #expect(identical, "\(run) differs from \(runs[0])")
        }
    }

    @Test(
        "Adam kernel equals the scalar formula bit for bit on every supported instruction set, tails, flushing and the 2-thread split included",
        arguments: InstructionSet.supported)
    func adam(isa: InstructionSet) {
        var rng = Xoshiro256(seed: 3)
        for n in [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 70_001] {
            let g = randomFloats(n, using: &rng).enumerated().map { $0.offset % 5 == 0 ? 0 : $0.element * 1e-3 }
            var p = randomFloats(n, using: &rng)
            var m = randomFloats(n, using: &rng).enumerated().map { $0.offset % 3 == 0 ? 1e-31 : $0.element * 1e-2 }
            var v = randomFloats(n, using: &rng).map { abs($0) * 1e-4 }
            var (p2, m2, v2) = (p, m, v)
            let lr: Float = 3e-3, b1: Float = 0.9, b2: Float = 0.999, c1: Float = 0.19, c2: Float = 0.002
            let eps: Float = 1e-8, decay: Float = 0.99, flush: Float = 1e-30
            TrainingKernels.adam(
                &p, g, &m, &v, lr: lr, b1: b1, b2: b2, c1: c1, c2: c2, eps: eps, decay: decay, flush: flush,
                threads: 2, instructionSet: isa)
            for k in 0..<n {
                var mk = b1 * m2[k] + (1 - b1) * g[k]
                var vk = b2 * v2[k] + (1 - b2) * g[k] * g[k]
                if abs(mk) < flush { mk = 0 }
                if vk < flush { vk = 0 }
                m2[k] = mk
                v2[k] = vk
                p2[k] = p2[k] * decay - (lr / c1) * mk / ((vk * (1 / c2)).squareRoot() + eps)
            }
            let identical = p == p2 && m == m2 && v == v2
            #expect(identical, "n = \(n)")
            #expect(
                m.enumerated().allSatisfy { $0.offset % 15 != 0 || $0.element == 0 },
                "moments under the flush level stay 0")
        }
    }

    @Test("quantisation, gather, epilogues, activation backward and column sums match plain loops")
    func elementwise() {
        var rng = Xoshiro256(seed: 4)
        for (B, O) in [(1, 1), (3, 7), (5, 9), (2, 65)] {
            // Absmean quantisation.
            let w = randomFloats(B * O, using: &rng)
            var t = [Float](repeating: 9, count: B * O)
            let gamma = Ternarization.absmean(w, into: &t)
            let mean = w.map { abs(Double($0)) }.reduce(0, +) / Double(w.count)
            #expect(abs(Double(gamma) - mean) <= 1e-6 * mean)
            #expect(zip(w, t).allSatisfy { $1 == max(-1, min(1, ($0 / gamma).rounded(.toNearestOrEven))) })
            // Gather of examples 2, 0, 1 of three.
            let features = (0..<(3 * O)).map { UInt8(($0 * 37) % 256) }
            var raw = [Float](repeating: 0, count: 3 * O), scaled = raw, labels = [0, 0, 0]
            TrainingKernels.gather(
                [2, 0, 1], features: features, labels: [10, 11, 12], width: O, levels: 255,
                raw: &raw, scaled: &scaled, labels: &labels)
            #expect(labels == [12, 10, 11])
            for (row, index) in [2, 0, 1].enumerated() {
                for i in 0..<O {
                    #expect(raw[row * O + i] == Float(features[index * O + i]))
                    #expect(scaled[row * O + i] == Float(features[index * O + i]) / 255)
                }
            }
            // STE epilogue on integer-valued dots.
            let dots = (0..<(B * O)).map { _ in Float(rng.uniformBelow(41)) - 20 }
            let bias = randomFloats(O, using: &rng), thresholds = (0..<O).map { _ in Double(rng.uniformBelow(21)) - 10 }
            var z = [Float](repeating: 0, count: B * O), h = z
            TrainingKernels.steOutputs(
                dots: dots, gamma: 0.3, scale: 255, biases: bias, thresholds: thresholds,
                outputs: O, count: B * O, preactivations: &z, activations: &h)
            for k in 0..<(B * O) {
                #expect(z[k] == 0.3 * dots[k] / 255 + bias[k % O])
                #expect(h[k] == (Double(dots[k]) >= thresholds[k % O] ? 1 : -1))
            }
            // tanh epilogue.
            var pre = randomFloats(B * O, using: &rng)
            let before = pre
            TrainingKernels.tanhOutputs(biases: bias, outputs: O, count: B * O, preactivations: &pre, activations: &h)
            for k in 0..<(B * O) {
                #expect(pre[k] == before[k] + bias[k % O])
                #expect(abs(Double(h[k]) - tanh(Double(pre[k]))) <= 1e-6)
            }
            // Activation backward: the STE window and tanh's derivative.
            let g = randomFloats(B * O, using: &rng), u = randomFloats(B * O, using: &rng).map { $0 * 6 }
            var deltas = [Float](repeating: 0, count: B * O)
            TrainingKernels.activationBackward(
                ste: true, gradients: g, preactivations: u, activations: h, window: 3,
                count: B * O, into: &deltas)
            #expect((0..<(B * O)).allSatisfy { deltas[$0] == (abs(u[$0] / 3) <= 1 ? g[$0] / 3 : 0) })
            TrainingKernels.activationBackward(
                ste: false, gradients: g, preactivations: u, activations: h, window: 3,
                count: B * O, into: &deltas)
            #expect((0..<(B * O)).allSatisfy { deltas[$0] == g[$0] * (1 - h[$0] * h[$0]) })
            // Column sums in fixed point, per block of 2 rows, added to what the totals hold.
            var totals = [Int64](repeating: 5, count: O + 1), scratch = [Float](repeating: 0, count: O)
            FixedPointKernels.addColumnSums(
                g, rows: B, columns: O, block: 2, scratch: &scratch, into: &totals, at: 1)
            #expect(totals[0] == 5)
            for o in 0..<O {
                var expected: Int64 = 5
                for start in stride(from: 0, to: B, by: 2) {
                    var sum: Float = 0
                    for b in start..<min(B, start + 2) { sum += g[b * O + o] }
                    expected &+= GradientLayout.fixed(Double(sum))
                }
                #expect(totals[1 + o] == expected, "column \(o) of \(B) x \(O)")
            }
        }
    }
}

@Suite("Fixed-point gradient totals")
struct FixedPointTests {
    @Test("the kernels convert as the Swift reference on every instruction set: NaN, infinities, the clamp, tails")
    func conversion() {
        var rng = Xoshiro256(seed: 11)
        var x: [Float] = [0, -0, 1, -1, .nan, .infinity, -.infinity, 0x1p22, 0x1p23, -0x1p23, 3e38, 1e-13, -1e-12]
        x += (0..<200).map { _ in
            Float(rng.uniformDouble() * 2 - 1) * Float(pow(2.0, Double(rng.uniformBelow(60)) - 40))
        }
        for isa in InstructionSet.supported {
            for n in [0, 1, 7, 8, 9, x.count] {
                var totals = (0..<(n + 1)).map { Int64($0) - 3 }
                FixedPointKernels.add(x, count: n, into: &totals, at: 1, instructionSet: isa)
                let expected = [-3] + (0..<n).map { (Int64($0) - 2) &+ GradientLayout.fixed(Double(x[$0])) }
                #expect(totals == expected, "\(isa), n = \(n)")
            }
        }
        #expect(GradientLayout.fixed(.nan) == 0 && GradientLayout.fixed(1e300) == 1 << 62)
        #expect(GradientLayout.fixed(-1.5) == -3 << 39 && GradientLayout.fixed(0x1p-41) == 0)
        var out = [Float](repeating: 0, count: 3)
        FixedPointKernels.decode([0, 1 << 40, -(3 << 39), 1 << 62], at: 1, into: &out)
        #expect(out == [1, -1.5, 0x1p22])
    }

    @Test("a minibatch's shares over 1 to 5 ranks: whole blocks, in order, covering it once")
    func shares() {
        for count in [1, 31, 32, 33, 64, 100, 256] {
            for size in 1...5 {
                let shares = (0..<size).map { GradientLayout.share(of: count, rank: $0, size: size) }
                #expect(shares.first!.lowerBound == 0 && shares.last!.upperBound == count)
                #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect(shares.allSatisfy { $0.isEmpty || $0.lowerBound % GradientLayout.exampleBlock == 0 })
            }
        }
    }
}

@Suite("Vectorised tanh")
struct TanhTests {
    @Test("within 4 ulps of the C library's tanh on a dense grid and at the edges")
    func accuracy() {
        var inputs: [Float] = [
            0, -0, 1e-30, -1e-20, 0.25, -0.25, 0.5, -0.5, 0.4999999, 9, -9, 8.99, 20, -20, .infinity, -.infinity,
        ]
        var x: Float = -10
        while x <= 10 {
            inputs.append(x)
            x += 0.0001
        }
        var worst: Float = 0, at: Float = 0
        var k = 0
        while k < inputs.count {
            var lanes = Lanes()
            for j in 0..<8 { lanes[j] = inputs[min(k + j, inputs.count - 1)] }
            let result = TrainingKernels.tanh8(lanes)
            for j in 0..<8 where k + j < inputs.count {
                let exact = Float(tanh(Double(lanes[j])))
                let ulps = abs(result[j] - exact) / max(exact.ulp, Float.leastNormalMagnitude)
                if ulps > worst { (worst, at) = (ulps, lanes[j]) }
            }
            k += 8
        }
        #expect(worst <= 4, "worst error \(worst) ulps at x = \(at)")
        #expect(TrainingKernels.tanh8(Lanes(repeating: .nan))[0].isNaN)
    }
}
