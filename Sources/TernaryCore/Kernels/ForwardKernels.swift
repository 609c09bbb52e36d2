// The multiplication-free forward pass: the only file with pointer arithmetic over weights and
// activations. Everything here is internal and reached through `PopulationEvaluator`.
//
// Names under the shape comments: O outputs (rows), I inputs, W words per row (ceil(I / 64)),
// T examples in a tile (always 128).

/// Examples per tile: 128, so each weight's bit-loop step (and each mispredicted loop exit) is
/// paid once for 128 examples. A tile's first-layer sums live in eight AVX2 registers.
let tileWidth = 128
/// Examples per 64-bit activation mask: a tile has two halves.
let halfTile = 64
// Vector types at most 16 lanes of Int32 wide: Swift 6.3 lowers shifts of wider SIMD types
// lane by lane through the stack.
typealias QuarterTileInt16 = SIMD32<Int16>
typealias EighthTileInt32 = SIMD16<Int32>

/// First layer, bytes times trits by adds and subtracts (no multiply).
///
/// Shapes: `tile` Int16 `[I][T]` (input `i` of the tile's example `b` at `i * 128 + b`, so the
/// column of input `i` starts at byte `i << 8`: no multiply in the address either); planes
/// `plus`, `minus` `[O][W]` words; thresholds `[O]`; out `[T][outWords]` bit-packed activations
/// (bit `o % 64` of word `o / 64` of example `b` set when `s >= theta`).
///
/// For each row, every set bit of `plus` adds the 128-example column of that input to 128 Int16
/// lanes and every set bit of `minus` subtracts it: eight `vpaddw` per nonzero weight, and zero
/// weights cost nothing. Int16 cannot overflow within 128 inputs (128 * 255 = 32640), so the
/// lanes are widened into Int32 after every two words: 32 Int16 lanes read as 16 Int32 lanes
/// hold examples (2k, 2k+1) in their low and high halves, split by shifts into `even` and `odd`.
func firstLayerKernel(
    tile: UnsafePointer<Int16>,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    thresholds: UnsafePointer<Int32>,
    out: UnsafeMutablePointer<UInt64>, outWords: Int, scratch: ForwardScratch
) {
    let base = UnsafeRawPointer(tile)
    let sums = UnsafeMutableRawPointer(scratch.sums)
    let sixteen = EighthTileInt32(repeating: 16)
    let zero = QuarterTileInt16()
    for o in 0..<O {
        var wide = (EighthTileInt32(), EighthTileInt32(), EighthTileInt32(), EighthTileInt32(),
                    EighthTileInt32(), EighthTileInt32(), EighthTileInt32(), EighthTileInt32())
        var q0 = zero, q1 = zero, q2 = zero, q3 = zero
        let p = plus + o &* W
        let m = minus + o &* W
        for w in 0..<W {
            var bits = p[w]
            let wordOffset = w &<< 6
            while bits != 0 {
                let column = base + ((wordOffset | bits.trailingZeroBitCount) &<< 8)
                q0 &+= column.loadUnaligned(as: QuarterTileInt16.self)
                q1 &+= column.loadUnaligned(fromByteOffset: 64, as: QuarterTileInt16.self)
                q2 &+= column.loadUnaligned(fromByteOffset: 128, as: QuarterTileInt16.self)
                q3 &+= column.loadUnaligned(fromByteOffset: 192, as: QuarterTileInt16.self)
                bits &= bits &- 1
            }
            bits = m[w]
            while bits != 0 {
                let column = base + ((wordOffset | bits.trailingZeroBitCount) &<< 8)
                q0 &-= column.loadUnaligned(as: QuarterTileInt16.self)
                q1 &-= column.loadUnaligned(fromByteOffset: 64, as: QuarterTileInt16.self)
                q2 &-= column.loadUnaligned(fromByteOffset: 128, as: QuarterTileInt16.self)
                q3 &-= column.loadUnaligned(fromByteOffset: 192, as: QuarterTileInt16.self)
                bits &= bits &- 1
            }
            if w & 1 == 1 || w == W &- 1 {
                let pairs = (unsafeBitCast(q0, to: EighthTileInt32.self), unsafeBitCast(q1, to: EighthTileInt32.self),
                             unsafeBitCast(q2, to: EighthTileInt32.self), unsafeBitCast(q3, to: EighthTileInt32.self))
                wide.0 &+= (pairs.0 &<< sixteen) &>> sixteen
                wide.1 &+= pairs.0 &>> sixteen
                wide.2 &+= (pairs.1 &<< sixteen) &>> sixteen
                wide.3 &+= pairs.1 &>> sixteen
                wide.4 &+= (pairs.2 &<< sixteen) &>> sixteen
                wide.5 &+= pairs.2 &>> sixteen
                wide.6 &+= (pairs.3 &<< sixteen) &>> sixteen
                wide.7 &+= pairs.3 &>> sixteen
                q0 = zero; q1 = zero; q2 = zero; q3 = zero
            }
        }
        // sums, per quarter q of 32 examples: [even 32q, 32q+2, ..., 32q+30 | odd 32q+1, ..., 32q+31]
        sums.storeBytes(of: wide.0, as: EighthTileInt32.self)
        sums.storeBytes(of: wide.1, toByteOffset: 64, as: EighthTileInt32.self)
        sums.storeBytes(of: wide.2, toByteOffset: 128, as: EighthTileInt32.self)
        sums.storeBytes(of: wide.3, toByteOffset: 192, as: EighthTileInt32.self)
        sums.storeBytes(of: wide.4, toByteOffset: 256, as: EighthTileInt32.self)
        sums.storeBytes(of: wide.5, toByteOffset: 320, as: EighthTileInt32.self)
        sums.storeBytes(of: wide.6, toByteOffset: 384, as: EighthTileInt32.self)
        sums.storeBytes(of: wide.7, toByteOffset: 448, as: EighthTileInt32.self)
        let theta = thresholds[o]
        for half in 0..<2 {
            let s = scratch.sums + half &* 64
            var mask: UInt64 = 0
            for k in 0..<16 {
                let shift = UInt64(2 &* k)
                mask |= UInt64(s[k] >= theta ? 1 : 0) << shift
                mask |= UInt64(s[16 &+ k] >= theta ? 1 : 0) << (shift &+ 1)
                mask |= UInt64(s[32 &+ k] >= theta ? 1 : 0) << (shift &+ 32)
                mask |= UInt64(s[48 &+ k] >= theta ? 1 : 0) << (shift &+ 33)
            }
            scratch.masks[half &* 64 &+ (o & 63)] = mask
        }
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
        for half in 0..<2 {
            var mask: UInt64 = 0
            for b in 0..<halfTile {
                let h = act + (half &* halfTile &+ b) &* W
                var disagree = 0
                for w in 0..<W { disagree &+= ((p[w] | n[w]) & (p[w] ^ h[w])).nonzeroBitCount }
                mask |= UInt64(2 &* disagree <= limit ? 1 : 0) << UInt64(b)
            }
            scratch.masks[half &* 64 &+ (o & 63)] = mask
        }
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
                    s &+= Int32(tile[((w &<< 6) | bits.trailingZeroBitCount) &* tileWidth &+ b])
                    bits &= bits &- 1
                }
                bits = minus[o &* W &+ w]
                while bits != 0 {
                    s &-= Int32(tile[((w &<< 6) | bits.trailingZeroBitCount) &* tileWidth &+ b])
                    bits &= bits &- 1
                }
            }
            logits[b &* O &+ o] = s
        }
    }
}

/// Turns the row masks of a block of up to 64 rows (`masks[half * 64 + r]`, bit `b` = example
/// `half * 64 + b` fired) into word `word` of each example's activations: per half, a 64 x 64
/// bit transpose (Hacker's Delight 7-3, least significant bit first). Rows past `rowsInBlock`
/// are cleared first, so padding neurons stay zero.
@inline(__always)
func storeTransposed(_ masks: UnsafeMutablePointer<UInt64>, rowsInBlock: Int, word: Int,
                     out: UnsafeMutablePointer<UInt64>, outWords: Int) {
    for half in 0..<2 {
        let block = masks + (half &* 64)
        for r in rowsInBlock..<64 { block[r] = 0 }
        transpose64(block)
        let rows = out + (half &* halfTile &* outWords &+ word)
        for b in 0..<halfTile { rows[b &* outWords] = block[b] }
    }
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
