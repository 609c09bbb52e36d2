import TestSupport
import Testing

@testable import TernaryCore

@Suite("TernaryMatrix")
struct TernaryMatrixTests {
    @Test("set and get agree with a plain trit array at boundary sizes")
    func setGet() {
        var rng = Xoshiro256(seed: 1)
        for columns in [0] + boundarySizes {
            for rows in [0, 1, 3] {
                var matrix = TernaryMatrix(rowCount: rows, columnCount: columns)
                var reference = [Int8](repeating: 0, count: rows * columns)
                for _ in 0..<(4 * rows * columns) {
                    let r = rng.uniformBelow(rows), c = rng.uniformBelow(columns)
                    let t = Int8(rng.uniformBelow(3) - 1)
                    matrix[r, c] = t
                    reference[r * columns + c] = t
                    matrix.checkInvariants()
                }
                #expect(matrix.trits == reference)
                #expect(matrix.plusCount == reference.filter { $0 == 1 }.count)
                #expect(matrix.minusCount == reference.filter { $0 == -1 }.count)
                #expect(matrix.zeroCount == reference.filter { $0 == 0 }.count)
                #expect(matrix.invariantViolation() == nil)
                #expect(TernaryMatrix(rowCount: rows, columnCount: columns, trits: reference) == matrix)
            }
        }
    }

    @Test("random initialisation keeps padding zero and hits the zero fraction")
    func randomZeroFraction() {
        var rng = Xoshiro256(seed: 7)
        for fraction in [0.0, 0.25, 0.5, 1.0] {
            let matrix = TernaryMatrix(rowCount: 100, columnCount: 129, zeroFraction: fraction, using: &rng)
            #expect(matrix.invariantViolation() == nil)
            let observed = Double(matrix.zeroCount) / Double(matrix.count)
            // 12,900 Bernoulli draws: the standard deviation is at most 0.0044; allow 5 of them.
            #expect(abs(observed - fraction) < 0.022, "zero fraction \(observed) for \(fraction)")
            if fraction < 1 {
                let plusShare = Double(matrix.plusCount) / Double(matrix.plusCount + matrix.minusCount)
                #expect(abs(plusShare - 0.5) < 0.04)
            }
        }
    }

    @Test("a damaged plane is reported by the invariant check")
    func invariantViolations() {
        var both = TernaryMatrix(rowCount: 2, columnCount: 3)
        both.plus[1] = 0b010
        both.minus[1] = 0b011
        #expect(both.invariantViolation() == "row 1 word 0: a weight is both +1 and -1")
        var padded = TernaryMatrix(rowCount: 1, columnCount: 65)
        padded.minus[1] = 0b10
        #expect(padded.invariantViolation() == "row 0: padding bits past column 65 are set")
        var full = TernaryMatrix(rowCount: 1, columnCount: 64)
        full.plus[0] = 1 << 63
        #expect(full.invariantViolation() == nil)
    }
}

@Suite("Base3")
struct Base3Tests {
    @Test("round trip is exact for every length 0 ... 200")
    func roundTrip() throws {
        var rng = Xoshiro256(seed: 3)
        for length in 0...200 {
            let trits = (0..<length).map { _ in Int8(rng.uniformBelow(3) - 1) }
            let bytes = Base3.encode(trits)
            #expect(bytes.count == (length + 4) / 5)
            #expect(bytes.allSatisfy { $0 <= 242 })
            #expect(try Base3.decode(bytes, tritCount: length) == trits)
        }
    }

    @Test("bytes above 242, non-zero padding and wrong lengths are rejected")
    func rejects() {
        #expect(throws: Base3Error.invalidByte(offset: 0, value: 243)) { try Base3.decode([243], tritCount: 5) }
        #expect(throws: Base3Error.nonzeroPadding(offset: 0)) { try Base3.decode([81], tritCount: 4) }
        #expect(throws: Base3Error.wrongLength(bytes: 2, expected: 1)) { try Base3.decode([0, 0], tritCount: 5) }
    }

    @Test("digit layout: 0 -> 0, +1 -> 1, -1 -> 2, least significant first")
    func layout() {
        #expect(Base3.encode([1, -1, 0, 0, 1]) == [1 + 2 * 3 + 81])
    }
}

@Suite("Random streams")
struct RandomTests {
    @Test("xoshiro256** matches the published reference output")
    func referenceOutput() {
        // State (1, 2, 3, 4): the first outputs of the C reference implementation.
        var rng = Xoshiro256(state: (1, 2, 3, 4))
        #expect([rng.next(), rng.next(), rng.next()] == [11520, 0, 1509978240])
    }

    @Test("derived streams are repeatable and distinct")
    func streams() {
        var a = Xoshiro256(seed: 42, stream: [3, 17])
        var b = Xoshiro256(seed: 42, stream: [3, 17])
        var c = Xoshiro256(seed: 42, stream: [17, 3])
        var d = Xoshiro256(seed: 43, stream: [3, 17])
        let first = a.next()
        #expect(first == b.next())
        #expect(first != c.next())
        #expect(first != d.next())
    }

    @Test("uniformBelow is unbiased over a small range")
    func uniform() {
        var rng = Xoshiro256(seed: 9)
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<30_000 { counts[rng.uniformBelow(3)] += 1 }
        // Each count ~ Binomial(30000, 1/3): sd 81.6; allow 5 sd.
        #expect(counts.allSatisfy { abs($0 - 10_000) < 410 }, "\(counts)")
        for _ in 0..<1000 {
            let u = rng.uniformDouble()
            #expect(u >= 0 && u < 1)
        }
    }

    @Test("CRC-32 of the check string")
    func crc() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}
