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

/// First layer, bytes times trits by adds and subtracts (no multiply): the whole row at once,
/// for inputs up to 128 (the tile's columns, at most 32 KB, stay in L1).
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
func firstLayerSmallKernel(
    tile: UnsafePointer<Int16>,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    thresholds: UnsafePointer<Int32>,
    out: UnsafeMutablePointer<UInt64>, outWords: Int, scratch: ForwardScratch
) {
    let base = UnsafeRawPointer(tile)
    let sixteen = EighthTileInt32(repeating: 16)
    let zero = QuarterTileInt16()
    for o in 0..<O {
        var wide = (EighthTileInt32(), EighthTileInt32(), EighthTileInt32(), EighthTileInt32(),
                    EighthTileInt32(), EighthTileInt32(), EighthTileInt32(), EighthTileInt32())
        var q = (zero, zero, zero, zero)
        let p = plus + o &* W
        let m = minus + o &* W
        for w in 0..<W {
            addColumns(base, word: w, plus: p[w], minus: m[w], into: &q)
            let (q0, q1, q2, q3) = q
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
                q = (zero, zero, zero, zero)
            }
        }
        // Quarter q of 32 examples: wide.(2q) holds examples 32q + 2k, wide.(2q+1) holds 32q + 2k + 1.
        let theta = thresholds[o]
        let bits = UnsafePointer(scratch.laneBits)
        scratch.masks[o & 63] = quarterMask(wide.0, wide.1, theta, bits) | quarterMask(wide.2, wide.3, theta, bits) << 32
        scratch.masks[64 &+ (o & 63)] = quarterMask(wide.4, wide.5, theta, bits) | quarterMask(wide.6, wide.7, theta, bits) << 32
        if o & 63 == 63 || o == O &- 1 {
            storeTransposed(scratch.masks, rowsInBlock: (o & 63) &+ 1, word: o >> 6, out: out, outWords: outWords)
        }
    }
}

/// First layer for any input count: shapes and output as `firstLayerSmallKernel`; or, when
/// `sums` is given (a network without hidden layers), the Int32 sums of the first `examples`
/// examples as logits `[examples][O]` instead of activations.
///
/// A tile's columns take 256 bytes per input, so past 128 inputs they leave L1, and loading a
/// column per nonzero weight becomes bound by L2 bandwidth. Here rows go in blocks of 16 and
/// inputs in blocks of 64 (one word): a 16 KB block of columns is used by all 16 rows while it
/// is in L1, and each row's 128 Int32 partial sums (8 KB for the block) stay in L1 too.
func firstLayerKernel(
    tile: UnsafePointer<Int16>,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    thresholds: UnsafePointer<Int32>,
    out: UnsafeMutablePointer<UInt64>, outWords: Int, scratch: ForwardScratch,
    sums: UnsafeMutablePointer<Int32>? = nil, examples: Int = 0
) {
    if W <= 2 && sums == nil {
        firstLayerSmallKernel(tile: tile, plus: plus, minus: minus, rows: O, wordsPerRow: W,
                              thresholds: thresholds, out: out, outWords: outWords, scratch: scratch)
        return
    }
    let base = UnsafeRawPointer(tile)
    let sixteen = EighthTileInt32(repeating: 16)
    let zero = QuarterTileInt16()
    let partial = UnsafeMutableRawPointer(scratch.partialSums)  // [16 rows][8 vectors of 16 Int32]
    let bits = UnsafePointer(scratch.laneBits)
    var blockStart = 0
    while blockStart < O {
        let blockRows = min(rowBlock, O &- blockStart)
        partial.initializeMemory(as: Int32.self, repeating: 0, count: rowBlock &* tileWidth)
        for w in 0..<W {
            for r in 0..<blockRows {
                let o = blockStart &+ r
                var q = (zero, zero, zero, zero)
                addColumns(base, word: w, plus: plus[o &* W &+ w], minus: minus[o &* W &+ w], into: &q)
                // Widen (64 inputs * 255 fits Int16) and add to the row's Int32 partial sums.
                let row = partial + r &* (tileWidth &* 4)
                @inline(__always) func accumulate(_ q: QuarterTileInt16, _ offset: Int) {
                    let pairs = unsafeBitCast(q, to: EighthTileInt32.self)
                    let even = row.load(fromByteOffset: offset, as: EighthTileInt32.self)
                    let odd = row.load(fromByteOffset: offset &+ 64, as: EighthTileInt32.self)
                    row.storeBytes(of: even &+ ((pairs &<< sixteen) &>> sixteen), toByteOffset: offset, as: EighthTileInt32.self)
                    row.storeBytes(of: odd &+ (pairs &>> sixteen), toByteOffset: offset &+ 64, as: EighthTileInt32.self)
                }
                accumulate(q.0, 0)
                accumulate(q.1, 128)
                accumulate(q.2, 256)
                accumulate(q.3, 384)
            }
        }
        for r in 0..<blockRows {
            let o = blockStart &+ r
            let row = UnsafeRawPointer(partial + r &* (tileWidth &* 4))
            if let sums {
                // Vector 2q + parity, lane k holds example 32q + 2k + parity.
                let lanes = row.assumingMemoryBound(to: Int32.self)
                for b in 0..<examples {
                    let quarter = b >> 5, k = (b & 31) >> 1, parity = b & 1
                    sums[b &* O &+ o] = lanes[((quarter &<< 1) | parity) &<< 4 | k]
                }
                continue
            }
            @inline(__always) func vector(_ k: Int) -> EighthTileInt32 {
                row.load(fromByteOffset: k &<< 6, as: EighthTileInt32.self)
            }
            let theta = thresholds[o]
            scratch.masks[o & 63] = quarterMask(vector(0), vector(1), theta, bits) | quarterMask(vector(2), vector(3), theta, bits) << 32
            scratch.masks[64 &+ (o & 63)] = quarterMask(vector(4), vector(5), theta, bits) | quarterMask(vector(6), vector(7), theta, bits) << 32
            if o & 63 == 63 || o == O &- 1 {
                storeTransposed(scratch.masks, rowsInBlock: (o & 63) &+ 1, word: o >> 6, out: out, outWords: outWords)
            }
        }
        blockStart &+= rowBlock
    }
}

/// Adds the columns of the inputs whose bit is set in `plus` and subtracts those set in `minus`
/// (word `word` of a row, inputs `64 word ..< 64 word + 64`) into 128 Int16 lanes: four
/// vectors of 32 lanes, eight `vpaddw` per nonzero weight. Column `i` starts at byte `i << 8`.
@inline(__always)
func addColumns(_ base: UnsafeRawPointer, word: Int, plus: UInt64, minus: UInt64,
                into q: inout (QuarterTileInt16, QuarterTileInt16, QuarterTileInt16, QuarterTileInt16)) {
    let wordOffset = word &<< 6
    var bits = plus
    while bits != 0 {
        let column = base + ((wordOffset | bits.trailingZeroBitCount) &<< 8)
        q.0 &+= column.loadUnaligned(as: QuarterTileInt16.self)
        q.1 &+= column.loadUnaligned(fromByteOffset: 64, as: QuarterTileInt16.self)
        q.2 &+= column.loadUnaligned(fromByteOffset: 128, as: QuarterTileInt16.self)
        q.3 &+= column.loadUnaligned(fromByteOffset: 192, as: QuarterTileInt16.self)
        bits &= bits &- 1
    }
    bits = minus
    while bits != 0 {
        let column = base + ((wordOffset | bits.trailingZeroBitCount) &<< 8)
        q.0 &-= column.loadUnaligned(as: QuarterTileInt16.self)
        q.1 &-= column.loadUnaligned(fromByteOffset: 64, as: QuarterTileInt16.self)
        q.2 &-= column.loadUnaligned(fromByteOffset: 128, as: QuarterTileInt16.self)
        q.3 &-= column.loadUnaligned(fromByteOffset: 192, as: QuarterTileInt16.self)
        bits &= bits &- 1
    }
}

/// Rows per block of the blocked first-layer kernel (a divisor of 64, so blocks never straddle
/// a 64-row mask block).
let rowBlock = 16

/// Disagreement counts of one row against every example of a tile: for example `b`,
/// `counts[b] = popcount(m & (p ^ h_b))` summed over the row's words, with `m = plus | minus`
/// and `p = plus` (the row sum is then `popcount(m) - 2 * counts[b]`: a weight counts +1 where
/// its sign agrees with the activation, -1 where it does not, and zeros are outside `m`).
///
/// Shapes: act `[T][W]` (bit set = +1), the row's `plus`, `minus` `[W]`, counts `[T]`. The row is
/// taken in groups of 16 words whose `p` and `m` are held in registers as four 256-bit vectors
/// while pairs of examples stream past (one xor, and, popcount per 256 weights per example),
/// and the 0-3 words after the last full vector in scalar registers. The number of full
/// vectors (and for rows under 4 words, the word count) is a constant after the `switch`, so
/// each case compiles to straight code. Returns `popcount(m)`.
@inline(__always)
func disagreementCounts(
    activations act: UnsafePointer<UInt64>, examples T: Int,
    plus p: UnsafePointer<UInt64>, minus n: UnsafePointer<UInt64>, wordsPerRow W: Int,
    counts: UnsafeMutablePointer<Int32>, scratch: ForwardScratch
) -> Int {
    let m = scratch.rowMask
    var nonzero = 0
    for w in 0..<W {
        m[w] = p[w] | n[w]
        nonzero &+= m[w].nonzeroBitCount
    }
    var first = 0
    while first < W {
        let words = min(16, W &- first)
        let add = first > 0
        switch words >> 2 {
        case 0 where words == 1: groupCounts(chunks: 0, tail: 1, first, act, T, p, m, W, counts, add)
        case 0 where words == 2: groupCounts(chunks: 0, tail: 2, first, act, T, p, m, W, counts, add)
        case 0 where words == 3: groupCounts(chunks: 0, tail: 3, first, act, T, p, m, W, counts, add)
        case 4: groupCounts(chunks: 4, tail: words & 3, first, act, T, p, m, W, counts, add)
        case 3: groupCounts(chunks: 3, tail: words & 3, first, act, T, p, m, W, counts, add)
        case 2: groupCounts(chunks: 2, tail: words & 3, first, act, T, p, m, W, counts, add)
        case 1: groupCounts(chunks: 1, tail: words & 3, first, act, T, p, m, W, counts, add)
        default: groupCounts(chunks: 0, tail: words & 3, first, act, T, p, m, W, counts, add)
        }
        first &+= 16
    }
    return nonzero
}

typealias WordVector = SIMD4<UInt64>

/// One group of `4 * chunks + tail` words starting at word `first`, for all `T` examples (T even).
@inline(__always)
func groupCounts(
    chunks: Int, tail: Int, _ first: Int, _ act: UnsafePointer<UInt64>, _ T: Int,
    _ p: UnsafePointer<UInt64>, _ m: UnsafePointer<UInt64>, _ W: Int,
    _ counts: UnsafeMutablePointer<Int32>, _ add: Bool
) {
    let pr = UnsafeRawPointer(p + first), mr = UnsafeRawPointer(m + first)
    func load(_ base: UnsafeRawPointer, _ k: Int) -> WordVector {
        k < chunks ? base.loadUnaligned(fromByteOffset: k &<< 5, as: WordVector.self) : WordVector()
    }
    let p0 = load(pr, 0), p1 = load(pr, 1), p2 = load(pr, 2), p3 = load(pr, 3)
    let m0 = load(mr, 0), m1 = load(mr, 1), m2 = load(mr, 2), m3 = load(mr, 3)
    let rowBytes = W &* 8
    let tailStart = first &+ (chunks &<< 2)
    // The 0-3 words after the last full vector, held in registers too.
    let pt0 = tail > 0 ? p[tailStart] : 0, mt0 = tail > 0 ? m[tailStart] : 0
    let pt1 = tail > 1 ? p[tailStart &+ 1] : 0, mt1 = tail > 1 ? m[tailStart &+ 1] : 0
    let pt2 = tail > 2 ? p[tailStart &+ 2] : 0, mt2 = tail > 2 ? m[tailStart &+ 2] : 0
    @inline(__always) func count(_ h: UnsafeRawPointer) -> Int {
        var c = WordVector()
        if chunks > 0 { c &+= (m0 & (p0 ^ h.loadUnaligned(as: WordVector.self))).nonzeroBitCount }
        if chunks > 1 { c &+= (m1 & (p1 ^ h.loadUnaligned(fromByteOffset: 32, as: WordVector.self))).nonzeroBitCount }
        if chunks > 2 { c &+= (m2 & (p2 ^ h.loadUnaligned(fromByteOffset: 64, as: WordVector.self))).nonzeroBitCount }
        if chunks > 3 { c &+= (m3 & (p3 ^ h.loadUnaligned(fromByteOffset: 96, as: WordVector.self))).nonzeroBitCount }
        var total = chunks > 0 ? Int(truncatingIfNeeded: c.wrappedSum()) : 0
        let words = h.assumingMemoryBound(to: UInt64.self) + (chunks &<< 2)
        if tail > 0 { total &+= (mt0 & (pt0 ^ words[0])).nonzeroBitCount }
        if tail > 1 { total &+= (mt1 & (pt1 ^ words[1])).nonzeroBitCount }
        if tail > 2 { total &+= (mt2 & (pt2 ^ words[2])).nonzeroBitCount }
        return total
    }
    let base = UnsafeRawPointer(act + first)
    var b = 0
    while b < T {
        let h = base + b &* rowBytes
        let c0 = Int32(truncatingIfNeeded: count(h))
        let c1 = Int32(truncatingIfNeeded: count(h + rowBytes))
        if add {
            counts[b] &+= c0
            counts[b &+ 1] &+= c1
        } else {
            counts[b] = c0
            counts[b &+ 1] = c1
        }
        b &+= 2
    }
}

/// The 32-bit firing mask of a quarter tile: bit `2k` is `even[k] >= theta`, bit `2k + 1` is
/// `odd[k] >= theta`. Out of line: inlined into the kernel, LLVM 21 (Swift 6.3) lowers the
/// selects lane by lane. |s| < 2^30 (fan-in below 4 million), so a theta clamped to +-2^30
/// decides alike and `s - theta` cannot overflow; its sign bit selects the lane.
/// The lane bits come from memory (`ForwardScratch.laneBits`): as literals, LLVM rewrites the
/// sum of disjoint bits into a long shuffle sequence.
@inline(never)
func quarterMask(_ even: SIMD16<Int32>, _ odd: SIMD16<Int32>, _ threshold: Int32,
                 _ laneBits: UnsafePointer<SIMD16<UInt32>>) -> UInt64 {
    let theta = SIMD16<Int32>(repeating: max(-(1 << 30), min(1 << 30, threshold)))
    let none = SIMD16<UInt32>()
    let selected = none.replacing(with: laneBits[0], where: even .>= theta)
        &+ none.replacing(with: laneBits[1], where: odd .>= theta)
    return UInt64(selected.wrappedSum())
}

/// The 16-bit mask of 16 consecutive counts: bit `k` is `counts[k] <= bound`.
@inline(never)
func countMask(_ counts: SIMD16<Int32>, _ bound: SIMD16<Int32>, _ laneBits: UnsafePointer<SIMD16<UInt32>>) -> UInt64 {
    UInt64(SIMD16<UInt32>().replacing(with: laneBits[2], where: counts .<= bound).wrappedSum())
}

/// Later hidden layers on bit-packed +-1 activations: `s = popcount(m) - 2 * counts` per row and
/// example, thresholded into row masks and transposed into out `[T][outWords]`.
/// Shapes: act `[T][W]`, planes `plus`, `minus` `[O][W]`, thresholds `[O]`.
func hiddenLayerKernel(
    activations act: UnsafePointer<UInt64>,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    thresholds: UnsafePointer<Int32>,
    out: UnsafeMutablePointer<UInt64>, outWords: Int, scratch: ForwardScratch
) {
    let counts = scratch.sums
    for o in 0..<O {
        let nonzero = disagreementCounts(activations: act, examples: tileWidth, plus: plus + o &* W,
                                         minus: minus + o &* W, wordsPerRow: W, counts: counts, scratch: scratch)
        // s >= theta  <=>  counts <= (nonzero - theta) / 2, rounded down (counts >= 0)
        let limit = (Int64(nonzero) &- Int64(thresholds[o])) >> 1
        let bound = SIMD16<Int32>(repeating: Int32(clamping: max(-1, limit)))
        let lanes = UnsafeRawPointer(counts)
        for half in 0..<2 {
            var mask: UInt64 = 0
            for group in 0..<4 {
                let c = lanes.load(fromByteOffset: (half &* 4 &+ group) &<< 6, as: SIMD16<Int32>.self)
                mask |= countMask(c, bound, scratch.laneBits) << UInt64(group &<< 4)
            }
            scratch.masks[half &* 64 &+ (o & 63)] = mask
        }
        if o & 63 == 63 || o == O &- 1 {
            storeTransposed(scratch.masks, rowsInBlock: (o & 63) &+ 1, word: o >> 6, out: out, outWords: outWords)
        }
    }
}

/// The output layer: Int32 logits `[examples][O]` for the first `examples` of the tile.
/// Shapes: act `[T][W]`, planes `plus`, `minus` `[O][W]`.
func outputLayerKernel(
    activations act: UnsafePointer<UInt64>, examples: Int,
    plus: UnsafePointer<UInt64>, minus: UnsafePointer<UInt64>, rows O: Int, wordsPerRow W: Int,
    logits: UnsafeMutablePointer<Int32>, scratch: ForwardScratch
) {
    let counts = scratch.sums
    let evenExamples = (examples &+ 1) & ~1
    for o in 0..<O {
        let nonzero = Int32(truncatingIfNeeded: disagreementCounts(
            activations: act, examples: evenExamples, plus: plus + o &* W, minus: minus + o &* W,
            wordsPerRow: W, counts: counts, scratch: scratch))
        for b in 0..<examples { logits[b &* O &+ o] = nonzero &- 2 &* counts[b] }
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
