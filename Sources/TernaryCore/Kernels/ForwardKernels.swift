// The multiplication-free forward pass: the only file with pointer arithmetic over weights and
// activations. Everything here is internal and reached through `PopulationEvaluator`.
//
// Names under the shape comments: O outputs (rows), I inputs, W words per row (ceil(I / 64)),
// T examples in a tile (always 64).

/// Examples per tile. A tile's first-layer sums live in four AVX2 registers of 16 Int16 lanes.
let tileWidth = 64
// Vector types at most 16 lanes of Int32 wide: Swift 6.3 lowers shifts of wider SIMD types
// lane by lane through the stack.
typealias HalfTileInt16 = SIMD32<Int16>
typealias QuarterTileInt32 = SIMD16<Int32>

/// First layer, bytes times trits by adds and subtracts (no multiply).
///
/// Shapes: `tile` Int16 `[I][T]` (input `i` of the tile's example `b` at `i * 64 + b`); planes
/// `plus`, `minus` `[O][W]` words; thresholds `[O]`; out `[T][outWords]` bit-packed activations
/// (bit `o % 64` of word `o / 64` of example `b` set when `s >= theta`).
///
/// For each row, every set bit of `plus` adds the 64-example column of that input to 64 Int16
/// lanes and every set bit of `minus` subtracts it: four `vpaddw` per nonzero weight, and zero
/// weights cost nothing. Column `i` starts at byte `i << 7`, so no multiply is needed for the
/// address either. Int16 cannot overflow within 128 inputs (128 * 255 = 32640), so the lanes
/// are widened into Int32 after every two words: 32 Int16 lanes read as 16 Int32 lanes hold
/// examples (2k, 2k+1) in their low and high halves, split by shifts into `even` and `odd`.
func firstLayerKernel(
    tile: UnsafePointer<Int16>,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    thresholds: UnsafePointer<Int32>,
    out: UnsafeMutablePointer<UInt64>, outWords: Int, scratch: ForwardScratch
) {
    let base = UnsafeRawPointer(tile)
    let sums = UnsafeMutableRawPointer(scratch.sums)
    let sixteen = QuarterTileInt32(repeating: 16)
    for o in 0..<O {
        var evenLow = QuarterTileInt32(), oddLow = QuarterTileInt32()
        var evenHigh = QuarterTileInt32(), oddHigh = QuarterTileInt32()
        var low = HalfTileInt16(), high = HalfTileInt16()
        let p = plus + o &* W
        let m = minus + o &* W
        for w in 0..<W {
            var bits = p[w]
            let wordOffset = w &<< 6
            while bits != 0 {
                let offset = (wordOffset | bits.trailingZeroBitCount) &<< 7
                low &+= base.loadUnaligned(fromByteOffset: offset, as: HalfTileInt16.self)
                high &+= base.loadUnaligned(fromByteOffset: offset &+ 64, as: HalfTileInt16.self)
                bits &= bits &- 1
            }
            bits = m[w]
            while bits != 0 {
                let offset = (wordOffset | bits.trailingZeroBitCount) &<< 7
                low &-= base.loadUnaligned(fromByteOffset: offset, as: HalfTileInt16.self)
                high &-= base.loadUnaligned(fromByteOffset: offset &+ 64, as: HalfTileInt16.self)
                bits &= bits &- 1
            }
            if w & 1 == 1 || w == W &- 1 {
                let lowPairs = unsafeBitCast(low, to: QuarterTileInt32.self)
                let highPairs = unsafeBitCast(high, to: QuarterTileInt32.self)
                evenLow &+= (lowPairs &<< sixteen) &>> sixteen
                oddLow &+= lowPairs &>> sixteen
                evenHigh &+= (highPairs &<< sixteen) &>> sixteen
                oddHigh &+= highPairs &>> sixteen
                low = HalfTileInt16()
                high = HalfTileInt16()
            }
        }
        // sums: [even 0, 2, ..., 30 | odd 1, ..., 31 | even 32, ..., 62 | odd 33, ..., 63]
        sums.storeBytes(of: evenLow, as: QuarterTileInt32.self)
        sums.storeBytes(of: oddLow, toByteOffset: 64, as: QuarterTileInt32.self)
        sums.storeBytes(of: evenHigh, toByteOffset: 128, as: QuarterTileInt32.self)
        sums.storeBytes(of: oddHigh, toByteOffset: 192, as: QuarterTileInt32.self)
        let theta = thresholds[o]
        var mask: UInt64 = 0
        for k in 0..<16 {
            let shift = UInt64(2 &* k)
            mask |= UInt64(scratch.sums[k] >= theta ? 1 : 0) << shift
            mask |= UInt64(scratch.sums[16 &+ k] >= theta ? 1 : 0) << (shift &+ 1)
            mask |= UInt64(scratch.sums[32 &+ k] >= theta ? 1 : 0) << (shift &+ 32)
            mask |= UInt64(scratch.sums[48 &+ k] >= theta ? 1 : 0) << (shift &+ 33)
        }
        scratch.masks[o & 63] = mask
        if o & 63 == 63 || o == O &- 1 {
            storeTransposed(scratch.masks, rowsInBlock: (o & 63) &+ 1, word: o >> 6, out: out, outWords: outWords)
        }
    }
}

/// Later hidden layers on bit-packed +-1 activations, one popcount per 64 weights.
///
/// Shapes: act `[T][W]` (bit set = +1), planes `plus`, `minus` `[O][W]`, thresholds `[O]`,
/// out `[T][outWords]`. With `m = plus | minus` and `p = plus`, the row sum is
/// `popcount(m) - 2 * popcount(m & (p ^ h))`: a weight counts +1 where its sign agrees with the
/// activation and -1 where it does not; zeros are outside `m`.
func hiddenLayerKernel(
    activations act: UnsafePointer<UInt64>,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    thresholds: UnsafePointer<Int32>,
    out: UnsafeMutablePointer<UInt64>, outWords: Int, scratch: ForwardScratch
) {
    for o in 0..<O {
        let p = plus + o &* W
        let n = minus + o &* W
        var nonzero = 0
        for w in 0..<W { nonzero &+= (p[w] | n[w]).nonzeroBitCount }
        let limit = nonzero &- Int(thresholds[o])  // s >= theta  <=>  2 * disagree <= nonzero - theta
        var mask: UInt64 = 0
        for b in 0..<tileWidth {
            let h = act + b &* W
            var disagree = 0
            for w in 0..<W { disagree &+= ((p[w] | n[w]) & (p[w] ^ h[w])).nonzeroBitCount }
            mask |= UInt64(2 &* disagree <= limit ? 1 : 0) << UInt64(b)
        }
        scratch.masks[o & 63] = mask
        if o & 63 == 63 || o == O &- 1 {
            storeTransposed(scratch.masks, rowsInBlock: (o & 63) &+ 1, word: o >> 6, out: out, outWords: outWords)
        }
    }
}

/// The output layer: Int32 logits `[examples][O]` for the first `examples` of the tile.
func outputLayerKernel(
    activations act: UnsafePointer<UInt64>, examples: Int,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    logits: UnsafeMutablePointer<Int32>
) {
    for o in 0..<O {
        let p = plus + o &* W
        let n = minus + o &* W
        var nonzero = 0
        for w in 0..<W { nonzero &+= (p[w] | n[w]).nonzeroBitCount }
        for b in 0..<examples {
            let h = act + b &* W
            var disagree = 0
            for w in 0..<W { disagree &+= ((p[w] | n[w]) & (p[w] ^ h[w])).nonzeroBitCount }
            logits[b &* O &+ o] = Int32(truncatingIfNeeded: nonzero &- 2 &* disagree)
        }
    }
}

/// A network with no hidden layer: logits straight from the first-layer sums.
/// Shapes as `firstLayerKernel`; logits `[examples][O]`. Rare, so written plainly.
func directOutputKernel(
    tile: UnsafePointer<Int16>, examples: Int,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    logits: UnsafeMutablePointer<Int32>
) {
    for o in 0..<O {
        for b in 0..<examples {
            var s: Int32 = 0
            for w in 0..<W {
                var bits = plus[o &* W &+ w]
                while bits != 0 {
                    s &+= Int32(tile[((w &<< 6) | bits.trailingZeroBitCount) &<< 6 | b])
                    bits &= bits &- 1
                }
                bits = minus[o &* W &+ w]
                while bits != 0 {
                    s &-= Int32(tile[((w &<< 6) | bits.trailingZeroBitCount) &<< 6 | b])
                    bits &= bits &- 1
                }
            }
            logits[b &* O &+ o] = s
        }
    }
}

/// Turns up to 64 row masks (bit `b` = example `b` fired) into word `word` of each example's
/// activations: a 64 x 64 bit transpose (Hacker's Delight 7-3, least significant bit first).
/// Rows past `rowsInBlock` are cleared first, so padding neurons stay zero.
@inline(__always)
func storeTransposed(_ masks: UnsafeMutablePointer<UInt64>, rowsInBlock: Int, word: Int,
                     out: UnsafeMutablePointer<UInt64>, outWords: Int) {
    for r in rowsInBlock..<64 { masks[r] = 0 }
    transpose64(masks)
    for b in 0..<tileWidth { out[b &* outWords &+ word] = masks[b] }
}

/// In-place transpose of a 64 x 64 bit matrix: afterwards bit `j` of word `i` is what bit `i`
/// of word `j` was. Six rounds swap ever smaller blocks (32, 16, ..., 1 bits).
@inline(__always)
func transpose64(_ a: UnsafeMutablePointer<UInt64>) {
    var j = 32
    var m: UInt64 = 0x0000_0000_FFFF_FFFF
    while j != 0 {
        var k = 0
        while k < 64 {
            let t = ((a[k] >> UInt64(j)) ^ a[k &+ j]) & m
            a[k &+ j] ^= t
            a[k] ^= t << UInt64(j)
            k = (k &+ j &+ 1) & ~j
        }
        j >>= 1
        m ^= m << UInt64(j)
    }
}
