// The ternary forward kernels: first, hidden and output layers. Included by KernelBody.h once per instruction set, with its macros
// (FN, GROUPS, the loads and stores, the blocking parameters) defined; see KernelBody.h.

/// The columns `w * 64 + j` of a tile whose bit `j` is set in `bits`, added to (`sign` 1) or
/// subtracted from (-1) 128 int16 lanes; zero weights cost nothing. A word of bytes fits int16
/// (64 * 255 = 16320; the caller widens to int32 after every word).
TERN_INLINE void FN(add_columns)(const int16_t *tile, long word, uint64_t bits, int subtract,
                                 v32i16 *q0, v32i16 *q1, v32i16 *q2, v32i16 *q3) {
    while (bits) {
        const int16_t *column = tile + (((word << 6) | __builtin_ctzll(bits)) << 7);
        v32i16 a = load_v32i16(column), b = load_v32i16(column + 32);
        v32i16 c = load_v32i16(column + 64), d = load_v32i16(column + 96);
        if (subtract) { *q0 -= a; *q1 -= b; *q2 -= c; *q3 -= d; }
        else { *q0 += a; *q1 += b; *q2 += c; *q3 += d; }
        bits &= bits - 1;
    }
}

/// Widens 32 int16 lanes to int32 and adds them to (or, with `first`, stores them at) `row`.
TERN_INLINE void FN(widen_into)(int32_t *row, v32i16 q, int first) {
    v16i16 lo = __builtin_shufflevector(q, q, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    v16i16 hi = __builtin_shufflevector(q, q, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
    v16i32 a = __builtin_convertvector(lo, v16i32), b = __builtin_convertvector(hi, v16i32);
    if (!first) { a += load_v16i32(row); b += load_v16i32(row + 16); }
    store_v16i32(row, a);
    store_v16i32(row + 16, b);
}

/// Bit `k` set when `row[k] >= theta`, for 64 consecutive int32 sums.
TERN_INLINE uint64_t FN(threshold_mask)(const int32_t *row, int32_t theta) {
    v16i32 t = (v16i32){0} + theta;
    uint64_t mask = 0;
    for (int k = 0; k < 4; k++) {
        b16 fired = __builtin_convertvector(load_v16i32(row + 16 * k) >= t, b16);
        mask |= (uint64_t)__builtin_bit_cast(uint16_t, fired) << (16 * k);
    }
    return mask;
}

/// In-place transpose of a 64 x 64 bit matrix (Hacker's Delight 7-3, least significant bit
/// first): afterwards bit `j` of word `i` is what bit `i` of word `j` was.
TERN_INLINE void FN(transpose64)(uint64_t *a) {
    uint64_t m = 0x00000000FFFFFFFFull;
    for (int j = 32; j != 0; j >>= 1, m ^= m << j) {
        for (int k = 0; k < 64; k = (k + j + 1) & ~j) {
            uint64_t t = ((a[k] >> j) ^ a[k + j]) & m;
            a[k + j] ^= t;
            a[k] ^= t << j;
        }
    }
}

/// Turns the masks of a block of up to 64 rows (`masks[half * 64 + r]`, bit `b` = example
/// `half * 64 + b` fired) into word `word` of every example's activations; rows past
/// `rows_in_block` are cleared first, so padding neurons stay zero.
TERN_INLINE void FN(store_transposed)(uint64_t *masks, long rows_in_block, long word, uint64_t *out) {
    for (int half = 0; half < 2; half++) {
        uint64_t *block = masks + half * 64;
        for (long r = rows_in_block; r < 64; r++) block[r] = 0;
        FN(transpose64)(block);
        __builtin_memcpy(out + word * 128 + half * 64, block, 64 * sizeof(uint64_t));
    }
}

/// The int32 sums of rows `start ..< start + block` (block <= 16) for the 128 examples of a tile
/// (`tile [I][128]` int16) into `partial [block][128]`. Inputs go one word (64 inputs) at a
/// time, so the word's columns (16 KB) are reused by the 16 rows while they are in L1; a row's
/// 128 int16 lanes stay in registers for the word and are then widened into its int32 sums.
/// (Two words per widening, 32 KB of columns, measured slower on 784-256-10.)
TERN_INLINE void FN(first_block)(const int16_t *tile, const uint64_t *plus, const uint64_t *minus, long start, long block,
                                 long words, int32_t *partial) {
    for (long w = 0; w < words; w++) {
        for (long r = 0; r < block; r++) {
            long o = start + r;
            v32i16 q0 = {0}, q1 = {0}, q2 = {0}, q3 = {0};
            FN(add_columns)(tile, w, plus[o * words + w], 0, &q0, &q1, &q2, &q3);
            FN(add_columns)(tile, w, minus[o * words + w], 1, &q0, &q1, &q2, &q3);
            int32_t *row = partial + r * 128;
            FN(widen_into)(row, q0, w == 0);
            FN(widen_into)(row + 32, q1, w == 0);
            FN(widen_into)(row + 64, q2, w == 0);
            FN(widen_into)(row + 96, q3, w == 0);
        }
    }
}

/// First layer (see the header): rows in blocks of 16 (`first_block`), then each row's sums
/// thresholded into activation masks, or copied out as `sums`.
static void FN(first_layer)(const int16_t *tile, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                            const int32_t *thresholds, uint64_t *out, int32_t *sums, long examples, void *scratch) {
    int32_t *partial = (int32_t *)scratch;
    uint64_t *masks = (uint64_t *)((char *)scratch + 8192);
    for (long start = 0; start < rows; start += 16) {
        long block = rows - start < 16 ? rows - start : 16;
        FN(first_block)(tile, plus, minus, start, block, words, partial);
        for (long r = 0; r < block; r++) {
            long o = start + r;
            const int32_t *row = partial + r * 128;
            if (sums) {
                for (long b = 0; b < examples; b++) sums[b * rows + o] = row[b];
                continue;
            }
            masks[o & 63] = FN(threshold_mask)(row, thresholds[o]);
            masks[64 + (o & 63)] = FN(threshold_mask)(row + 64, thresholds[o]);
            if ((o & 63) == 63 || o == rows - 1) FN(store_transposed)(masks, (o & 63) + 1, o >> 6, out);
        }
    }
}

/// Disagreement counts of one row against the `TERN_PASS` examples from `first`: lane `e` of
/// accumulator `g` is `popcount(m & (p ^ h))` summed over the row's words for example
/// `first + 8 g + e`, with `m = plus | minus`. The activations are word-major, so each word
/// of the row is broadcast once and meets 8 examples per vector; zero words are skipped.
TERN_INLINE void FN(pass_counts)(const uint64_t *act, const uint64_t *plus, const uint64_t *minus, long words,
                                 long first, v8u64 *acc) {
#pragma clang loop unroll(full)
    for (int g = 0; g < GROUPS; g++) acc[g] = (v8u64){0};
    for (long w = 0; w < words; w++) {
        uint64_t mw = plus[w] | minus[w];
        if (!mw) continue;
        v8u64 p = (v8u64){0} + plus[w], m = (v8u64){0} + mw;
        const uint64_t *h = act + w * 128 + first;
#pragma clang loop unroll(full)
        for (int g = 0; g < GROUPS; g++)
            acc[g] += __builtin_elementwise_popcount(m & (p ^ load_v8u64(h + 8 * g)));
    }
}

TERN_INLINE long FN(row_nonzero)(const uint64_t *plus, const uint64_t *minus, long words) {
    long nonzero = 0;
    for (long w = 0; w < words; w++) nonzero += __builtin_popcountll(plus[w] | minus[w]);
    return nonzero;
}

/// A later hidden layer: `s >= theta` exactly when `counts <= floor((nonzero - theta) / 2)`.
static void FN(hidden_layer)(const uint64_t *act, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                             const int32_t *thresholds, uint64_t *out, void *scratch) {
    uint64_t *masks = (uint64_t *)((char *)scratch + 8192);
    for (long o = 0; o < rows; o++) {
        const uint64_t *p = plus + o * words, *n = minus + o * words;
        long limit = (FN(row_nonzero)(p, n, words) - (long)thresholds[o]) >> 1;
        v8i64 bound = (v8i64){0} + (limit < -1 ? -1 : limit);
        uint64_t fired[2] = {0, 0};
        for (long first = 0; first < 128; first += TERN_PASS) {
            v8u64 acc[GROUPS];
            FN(pass_counts)(act, p, n, words, first, acc);
#pragma clang loop unroll(full)
            for (int g = 0; g < GROUPS; g++) {
                b8 le = __builtin_convertvector((v8i64)acc[g] <= bound, b8);
                long example = first + 8 * g;
                fired[example >> 6] |= (uint64_t)__builtin_bit_cast(uint8_t, le) << (example & 63);
            }
        }
        masks[o & 63] = fired[0];
        masks[64 + (o & 63)] = fired[1];
        if ((o & 63) == 63 || o == rows - 1) FN(store_transposed)(masks, (o & 63) + 1, o >> 6, out);
    }
}

static void FN(output_layer)(const uint64_t *act, long examples, const uint64_t *plus, const uint64_t *minus,
                             long rows, long words, int32_t *logits, void *scratch) {
    (void)scratch;
    for (long o = 0; o < rows; o++) {
        const uint64_t *p = plus + o * words, *n = minus + o * words;
        int64_t nonzero = FN(row_nonzero)(p, n, words);
        for (long first = 0; first < examples; first += TERN_PASS) {
            v8u64 acc[GROUPS];
            FN(pass_counts)(act, p, n, words, first, acc);
            uint64_t counts[TERN_PASS];
            __builtin_memcpy(counts, acc, sizeof counts);
            long end = examples - first < TERN_PASS ? examples - first : TERN_PASS;
            for (long b = 0; b < end; b++) logits[(first + b) * rows + o] = (int32_t)(nonzero - 2 * (int64_t)counts[b]);
        }
    }
}
