// The kernels, written once with clang's generic vector types and compiled once per
// instruction set: Kernels.c includes this file with TERN_SUFFIX(name) (the per-set name),
// TERN_NAME, TERN_PASS (examples whose popcount accumulators are held in registers at once) and
// the float kernels' blocking (TERN_FLOAT_ROWS, TERN_FLOAT_EXAMPLES, TERN_GRADIENT_ROWS) defined,
// inside a `#pragma clang attribute` region that sets the target; this file undefines them. The vector types are 512
// bits wide everywhere; the compiler splits them into two AVX2 or four SSE/NEON registers, so
// every path does the same integer operations in the same order and gives the same bits.
//
// Layouts: see CTernaryKernels.h. Scratch (TERN_FORWARD_SCRATCH_BYTES, 64-byte aligned):
// bytes 0..8191 the int32 sums of a block of 16 rows for the 128 examples of a tile, bytes
// 8192..9215 the 64-row masks of the two halves of the tile before the bit transpose.

#define FN(name) TERN_SUFFIX(name)
#define GROUPS (TERN_PASS / 8)

// Unaligned loads and stores (a memcpy of a constant size compiles to one vector move).
TERN_INLINE v32i16 FN(load_v32i16)(const int16_t *p) { v32i16 v; __builtin_memcpy(&v, p, 64); return v; }
TERN_INLINE v16i32 FN(load_v16i32)(const int32_t *p) { v16i32 v; __builtin_memcpy(&v, p, 64); return v; }
TERN_INLINE v8u64 FN(load_v8u64)(const uint64_t *p) { v8u64 v; __builtin_memcpy(&v, p, 64); return v; }
TERN_INLINE void FN(store_v16i32)(int32_t *p, v16i32 v) { __builtin_memcpy(p, &v, 64); }
TERN_INLINE v16f32 FN(load_v16f32)(const float *p) { v16f32 v; __builtin_memcpy(&v, p, 64); return v; }
TERN_INLINE void FN(store_v16f32)(float *p, v16f32 v) { __builtin_memcpy(p, &v, 64); }
#define load_v32i16 FN(load_v32i16)
#define load_v16i32 FN(load_v16i32)
#define load_v8u64 FN(load_v8u64)
#define store_v16i32 FN(store_v16i32)
#define load_v16f32 FN(load_v16f32)
#define store_v16f32 FN(store_v16f32)

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

/// First layer (see the header). Rows go in blocks of 16 and inputs one word (64 inputs) at a
/// time, so the word's columns (16 KB) are reused by the 16 rows while they are in L1; a row's
/// 128 int16 lanes stay in registers for the word and are then widened into its int32 sums.
/// (Two words per widening, 32 KB of columns, measured slower on 784-256-10.)
static void FN(first_layer)(const int16_t *tile, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                            const int32_t *thresholds, uint64_t *out, int32_t *sums, long examples, void *scratch) {
    int32_t *partial = (int32_t *)scratch;
    uint64_t *masks = (uint64_t *)((char *)scratch + 8192);
    for (long start = 0; start < rows; start += 16) {
        long block = rows - start < 16 ? rows - start : 16;
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

// ---- Float32 products of the backprop baselines (STE and float arms) ----
//
// Every output is one fused multiply-add accumulation in a fixed order: over the inputs in 8
// lanes for the forward product, ending with a fixed tree of lane sums; over the examples for
// the gradients (16 lanes of neighbouring outputs, so the width does not change the bits). So
// every instruction set, blocking and thread count gives the same bits. A partial last vector
// is loaded zero-padded (its extra lanes add 0).

/// The first `n` (< 16) floats at `p`, the rest of the lanes 0.
TERN_INLINE v16f32 FN(load_tail)(const float *p, long n) {
    v16f32 v = {0};
    __builtin_memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

/// `f` in every lane (adding `f` to a zero vector would cost an add: 0 + -0 is +0).
TERN_INLINE v16f32 FN(splat)(float f) { return (v16f32){f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f}; }

/// The first `n` (< 8) floats at `p`, the rest of the lanes 0.
TERN_INLINE v8f32 FN(load_tail8)(const float *p, long n) {
    v8f32 v = {0};
    __builtin_memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}

TERN_INLINE v8f32 FN(load_v8f32)(const float *p) {
    v8f32 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

/// Lanes 0-3 plus lanes 4-7, then halves again, down to one float: a fixed tree.
TERN_INLINE float FN(lane_sum)(v8f32 a) {
    v4f32 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
    v2f32 c = __builtin_shufflevector(b, b, 0, 1) + __builtin_shufflevector(b, b, 2, 3);
    return c[0] + c[1];
}

/// `y[b][o] = sum_i x[b][i] w[o][i]` for the rows `o` in `first ..< end`, every example.
/// Each output is one 8-lane accumulation (lane `k` sums the inputs `i = k mod 8`), 8 lanes
/// being what every set can hold many of: `TERN_FLOAT_EXAMPLES` examples at a time meet
/// `TERN_FLOAT_ROWS` weight rows, 16 accumulators on AVX-512 (32 vector registers), 8 on AVX2.
/// A 16-lane accumulator would leave AVX2 half the outputs in flight (measured slower there).
static void FN(float_forward)(const float *x, const float *w, float *y, long B, long I, long O, long first, long end) {
    long full = I & ~7L, rest = I - full;
    for (long b = 0; b < B; b += TERN_FLOAT_EXAMPLES) {
        long examples = B - b < TERN_FLOAT_EXAMPLES ? B - b : TERN_FLOAT_EXAMPLES;
        const float *xr[TERN_FLOAT_EXAMPLES];
        for (int k = 0; k < TERN_FLOAT_EXAMPLES; k++) xr[k] = x + (b + (k < examples ? k : examples - 1)) * I;
        for (long o = first; o < end; o += TERN_FLOAT_ROWS) {
            const float *wr[TERN_FLOAT_ROWS];
            for (int r = 0; r < TERN_FLOAT_ROWS; r++) wr[r] = w + (o + r < end ? o + r : end - 1) * I;
            v8f32 acc[TERN_FLOAT_EXAMPLES][TERN_FLOAT_ROWS];
#pragma clang loop unroll(full)
            for (int k = 0; k < TERN_FLOAT_EXAMPLES; k++)
#pragma clang loop unroll(full)
                for (int r = 0; r < TERN_FLOAT_ROWS; r++) acc[k][r] = (v8f32){0};
            for (long i = 0; i < full; i += 8) {
                v8f32 wv[TERN_FLOAT_ROWS];
#pragma clang loop unroll(full)
                for (int r = 0; r < TERN_FLOAT_ROWS; r++) wv[r] = FN(load_v8f32)(wr[r] + i);
#pragma clang loop unroll(full)
                for (int k = 0; k < TERN_FLOAT_EXAMPLES; k++) {
                    v8f32 xv = FN(load_v8f32)(xr[k] + i);
#pragma clang loop unroll(full)
                    for (int r = 0; r < TERN_FLOAT_ROWS; r++) acc[k][r] = __builtin_elementwise_fma(xv, wv[r], acc[k][r]);
                }
            }
            if (rest) {
                v8f32 wv[TERN_FLOAT_ROWS];
                for (int r = 0; r < TERN_FLOAT_ROWS; r++) wv[r] = FN(load_tail8)(wr[r] + full, rest);
                for (int k = 0; k < TERN_FLOAT_EXAMPLES; k++) {
                    v8f32 xv = FN(load_tail8)(xr[k] + full, rest);
                    for (int r = 0; r < TERN_FLOAT_ROWS; r++) acc[k][r] = __builtin_elementwise_fma(xv, wv[r], acc[k][r]);
                }
            }
            for (int k = 0; k < examples; k++)
                for (int r = 0; r < TERN_FLOAT_ROWS && o + r < end; r++) y[(b + k) * O + o + r] = FN(lane_sum)(acc[k][r]);
        }
    }
}

/// `dw[o][i] = sum_b d[b][o] x[b][i]` for the columns `i` in `first ..< first + width`
/// (`width` <= 32) and every row `o`: `TERN_GRADIENT_ROWS` rows at a time hold their 32
/// columns in registers over all examples, each load of `x` feeding that many FMAs. A block
/// narrower than 32 columns (the last) takes a slower path with zero-padded loads.
static void FN(float_weight_gradients)(const float *d, const float *x, float *dw, long B, long I, long O, long first,
                                       long width) {
    enum { R = TERN_GRADIENT_ROWS };
    long low = width < 16 ? width : 16, high = width - low;
    for (long o = 0; o < O; o += R) {
        long rows[R];
        for (int r = 0; r < R; r++) rows[r] = o + r < O ? o + r : O - 1;
        v16f32 a[R], c[R];
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) { a[r] = (v16f32){0}; c[r] = (v16f32){0}; }
        if (width == 32) {
            for (long b = 0; b < B; b++) {
                const float *row = x + b * I + first;
                v16f32 x0 = load_v16f32(row), x1 = load_v16f32(row + 16);
#pragma clang loop unroll(full)
                for (int r = 0; r < R; r++) {
                    v16f32 g = FN(splat)(d[b * O + rows[r]]);
                    a[r] = __builtin_elementwise_fma(g, x0, a[r]);
                    c[r] = __builtin_elementwise_fma(g, x1, c[r]);
                }
            }
            for (int r = R - 1; r >= 0; r--) {  // a row repeated past O writes last, equal bits
                store_v16f32(dw + rows[r] * I + first, a[r]);
                store_v16f32(dw + rows[r] * I + first + 16, c[r]);
            }
            continue;
        }
        for (long b = 0; b < B; b++) {
            const float *row = x + b * I + first;
            v16f32 x0 = FN(load_tail)(row, low), x1 = high ? FN(load_tail)(row + 16, high) : (v16f32){0};
            for (int r = 0; r < R; r++) {
                v16f32 g = FN(splat)(d[b * O + rows[r]]);
                a[r] = __builtin_elementwise_fma(g, x0, a[r]);
                c[r] = __builtin_elementwise_fma(g, x1, c[r]);
            }
        }
        for (int r = 0; r < R; r++) {
            __builtin_memcpy(dw + rows[r] * I + first, &a[r], (size_t)low * sizeof(float));
            if (high) __builtin_memcpy(dw + rows[r] * I + first + 16, &c[r], (size_t)high * sizeof(float));
        }
    }
}

/// `dx[b][i] = sum_o d[b][o] w[o][i]` for the examples `b` in `first ..< end`: each example's
/// row is a sum of weight rows scaled by its output gradients, zero gradients skipped.
static void FN(float_input_gradients)(const float *d, const float *w, float *dx, long I, long O, long first, long end) {
    long full = I & ~15L, rest = I - full;
    for (long b = first; b < end; b++) {
        float *out = dx + b * I;
        __builtin_memset(out, 0, (size_t)I * sizeof(float));
        for (long o = 0; o < O; o++) {
            float g = d[b * O + o];
            if (g == 0) continue;
            v16f32 gv = FN(splat)(g);
            const float *row = w + o * I;
            for (long i = 0; i < full; i += 16)
                store_v16f32(out + i, __builtin_elementwise_fma(gv, load_v16f32(row + i), load_v16f32(out + i)));
            if (rest) {
                v16f32 v = __builtin_elementwise_fma(gv, FN(load_tail)(row + full, rest), FN(load_tail)(out + full, rest));
                __builtin_memcpy(out + full, &v, (size_t)rest * sizeof(float));
            }
        }
    }
}

/// Eight independent xor-and-popcount chains on values in registers; `h` moves by a xorshift
/// step each iteration (6 operations per 8 popcounts, included) so nothing can be folded.
static double FN(popcount_peak)(long iterations) {
    v8u64 h = {0x9E3779B97F4A7C15ull, 0xBF58476D1CE4E5B9ull, 0x94D049BB133111EBull, 0xD1B54A32D192ED03ull,
               0x0123456789ABCDEFull, 0x13579BDF02468ACEull, 0xF0E1D2C3B4A59687ull, 0x0F1E2D3C4B5A6978ull};
    v8u64 p0 = h * 3, p1 = h * 5, p2 = h * 7, p3 = h * 11, m0 = ~p0, m1 = ~p1 >> 1, m2 = ~p2 >> 2, m3 = ~p3 >> 3;
    v8u64 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    double start = tern_seconds();
    for (long i = 0; i < iterations; i++) {
        v8u64 g = ~h;
        a0 += __builtin_elementwise_popcount(m0 & (p0 ^ h));
        a1 += __builtin_elementwise_popcount(m1 & (p1 ^ h));
        a2 += __builtin_elementwise_popcount(m2 & (p2 ^ h));
        a3 += __builtin_elementwise_popcount(m3 & (p3 ^ h));
        a4 += __builtin_elementwise_popcount(m0 & (p1 ^ g));
        a5 += __builtin_elementwise_popcount(m1 & (p2 ^ g));
        a6 += __builtin_elementwise_popcount(m2 & (p3 ^ g));
        a7 += __builtin_elementwise_popcount(m3 & (p0 ^ g));
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
    }
    double seconds = tern_seconds() - start;
    tern_keep(__builtin_reduce_add(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7));
    return (double)iterations * 8 * 512 / seconds;
}

/// Eight int16 add chains of 32 lanes on values in registers: each adds its neighbour's value
/// from the previous iteration, so the eight adds of an iteration are independent and nothing
/// is loop-invariant (nothing can be folded).
static double FN(add_peak)(long iterations) {
    v32i16 a0 = {1}, a1 = {2}, a2 = {3}, a3 = {4}, a4 = {5}, a5 = {6}, a6 = {7}, a7 = {8};
    double start = tern_seconds();
    for (long i = 0; i < iterations; i++) {
        v32i16 first = a0;
        a0 += a1; a1 += a2; a2 += a3; a3 += a4; a4 += a5; a5 += a6; a6 += a7; a7 += first;
    }
    double seconds = tern_seconds() - start;
    tern_keep((uint64_t)__builtin_reduce_add(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7));
    return (double)iterations * 8 * 32 / seconds;
}

/// Ten independent float32 FMA chains of 16 lanes on values in registers (the ceiling of a
/// float kernel compiled for this set).
static double FN(fma_peak)(long iterations) {
    v16f32 x = (v16f32){0} + 1e-3f, y = (v16f32){0} + 1e-4f;
    v16f32 c0 = (v16f32){0} + 1, c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3, c4 = c0 + 4;
    v16f32 c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7, c8 = c0 + 8, c9 = c0 + 9;
    double start = tern_seconds();
    for (long i = 0; i < iterations; i++) {
        c0 = __builtin_elementwise_fma(x, y, c0); c1 = __builtin_elementwise_fma(x, y, c1);
        c2 = __builtin_elementwise_fma(x, y, c2); c3 = __builtin_elementwise_fma(x, y, c3);
        c4 = __builtin_elementwise_fma(x, y, c4); c5 = __builtin_elementwise_fma(x, y, c5);
        c6 = __builtin_elementwise_fma(x, y, c6); c7 = __builtin_elementwise_fma(x, y, c7);
        c8 = __builtin_elementwise_fma(x, y, c8); c9 = __builtin_elementwise_fma(x, y, c9);
    }
    double seconds = tern_seconds() - start;
    v16f32 sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9;
    tern_keep((uint64_t)sum[0]);
    return (double)iterations * 10 * 16 / seconds;
}

/// The parts of the softmax loss of `C` int32 logits `z` (see the table's `logit_summary`):
/// the top logit, the lowest class holding it, and the integer normaliser
/// `sum_c terms[top - z_c]` (a gap at or past `count` adds 0). Integer adds in any order give
/// the same sum, so every set gives the same bits.
static uint64_t FN(logit_summary)(const int32_t *z, long C, const uint64_t *terms, long count,
                                  int32_t *top_out, int32_t *best_out) {
    int32_t top = z[0];
    long c = 0;
    if (C >= 16) {
        v16i32 m = load_v16i32(z);
        for (c = 16; c + 16 <= C; c += 16) m = __builtin_elementwise_max(m, load_v16i32(z + c));
        top = __builtin_reduce_max(m);
    }
    for (; c < C; c++) top = z[c] > top ? z[c] : top;
    long best = 0;
    v16i32 tops = (v16i32){0} + top;
    for (; best + 16 <= C; best += 16) {
        uint16_t hit = __builtin_bit_cast(uint16_t, __builtin_convertvector(load_v16i32(z + best) == tops, b16));
        if (hit) { best += __builtin_ctz(hit); goto found; }
    }
    while (z[best] != top) best++;
found:;
    uint64_t sum = 0;
    for (long k = 0; k < C; k++) {
        uint64_t gap = (uint64_t)(uint32_t)(top - z[k]);
        sum += gap < (uint64_t)count ? terms[gap] : 0;
    }
    *top_out = top;
    *best_out = (int32_t)best;
    return sum;
}

/// `log(x)` of eight positive finite doubles, operation for operation TernaryCore's
/// `naturalLog` (an atanh series on the mantissa; IEEE adds, multiplies and one divide, no fused
/// multiply-adds), so every lane gives the bits the scalar Swift function gives.
TERN_INLINE v8f64 FN(natural_log8)(v8f64 x) {
    v8i64 bits = (v8i64)x;
    v8i64 exponent = ((bits >> 52) & 0x7FF) - 1023;
    v8f64 m = (v8f64)((bits & 0x000FFFFFFFFFFFFFLL) | 0x3FF0000000000000LL);
    v8i64 high = (v8i64)(m > 1.4142135623730951);
    m = (v8f64)(((v8i64)(m * 0.5) & high) | ((v8i64)m & ~high));
    exponent -= high;
    v8f64 s = (m - 1) / (m + 1);
    v8f64 t = s * s;
    v8f64 series = (v8f64){0} + 1.0 / 17;
    series = series * t + 1.0 / 15;
    series = series * t + 1.0 / 13;
    series = series * t + 1.0 / 11;
    series = series * t + 1.0 / 9;
    series = series * t + 1.0 / 7;
    series = series * t + 1.0 / 5;
    series = series * t + 1.0 / 3;
    series = series * t + 1;
    return __builtin_convertvector(exponent, v8f64) * 0.6931471805599453 + 2 * s * series;
}

/// Fixed-point loss units of eight examples from `top - z_label` and their normalisers:
/// `round(min(tau gap + (log S - shift log 2), 2^24 - 1) 2^24)`, TernaryCore's `LossTable.units`.
TERN_INLINE v8i64 FN(units8)(v8i64 gaps, v8u64 normalisers, double temperature, double shift_nats) {
    v8f64 nats = temperature * __builtin_convertvector(gaps, v8f64)
        + (FN(natural_log8)(__builtin_convertvector(normalisers, v8f64)) - shift_nats);
    v8i64 over = (v8i64)((v8f64){0} + 16777215.0 < nats);
    nats = (v8f64)((((v8i64)((v8f64){0} + 16777215.0)) & over) | ((v8i64)nats & ~over));
    return __builtin_convertvector(__builtin_elementwise_round(nats * 16777216.0), v8i64);
}

static void FN(loss_units)(const int32_t *gaps, const uint64_t *normalisers, long count, double temperature,
                           double shift_nats, int64_t *units) {
    for (long b0 = 0; b0 < count; b0 += 8) {
        v8i64 g = {0};
        v8u64 n = (v8u64){0} + 1;
        for (long i = 0; i < 8 && b0 + i < count; i++) { g[i] = gaps[b0 + i]; n[i] = normalisers[b0 + i]; }
        v8i64 u = FN(units8)(g, n, temperature, shift_nats);
        for (long i = 0; i < 8 && b0 + i < count; i++) units[b0 + i] = u[i];
    }
}

/// See `tern_changed_outputs`: each listed example's logits with its flipped hidden inputs'
/// weight columns added (16 classes a vector), then `logit_summary` of them.
static void FN(changed_outputs)(tern_changed_outputs *job) {
    const long C = job->classes, full = C & ~15L;
    int32_t *z = job->row;
    for (long i = 0; i < job->count; i++) {
        const long b = job->examples[i];
        const int32_t *row = job->logits + b * C;
        const long first = job->starts[i], end = job->starts[i + 1];
        for (long c = 0; c < full; c += 16) {
            v16i32 v = load_v16i32(row + c);
            for (long k = first; k < end; k++) {
                v16i8 w;
                __builtin_memcpy(&w, job->columns + (long)job->neurons[k] * C + c, 16);
                v16i32 d = __builtin_convertvector(w, v16i32) << 1;
                v = job->signs[k] > 0 ? v + d : v - d;
            }
            store_v16i32(z + c, v);
        }
        for (long c = full; c < C; c++) {
            uint32_t v = (uint32_t)row[c];
            for (long k = first; k < end; k++) {
                uint32_t d = (uint32_t)(int32_t)job->columns[(long)job->neurons[k] * C + c] << 1;
                v = job->signs[k] > 0 ? v + d : v - d;
            }
            z[c] = (int32_t)v;
        }
        int32_t top, best;
        job->normalisers[i] = FN(logit_summary)(z, C, job->terms, job->term_count, &top, &best);
        job->gaps[i] = (int32_t)((uint32_t)top - (uint32_t)z[job->labels[b]]);
        job->bests[i] = best;
    }
}

static void FN(output_moves)(tern_output_moves *job) {
    const long C = job->classes, B = job->examples, T = job->moves, count = job->term_count;
    const uint64_t *terms = job->terms;
    long fallbacks = 0, handled = 0, correct_delta = 0;
    int64_t units_delta = 0;
    for (long b0 = 0; b0 < B; b0 += 8) {
        v8i64 gaps = {0};
        v8u64 sums = (v8u64){0} + 1;
        long lanes[8], active = 0;
        int right[8];
        int32_t bests[8], label_logits[8];
        for (long i = 0; i < 8 && b0 + i < B; i++) {
            long b = b0 + i;
            if (job->skip && (job->skip[b >> 6] >> (b & 63) & 1)) continue;
            const int32_t *row = job->logits + b * C;
            int32_t top = job->tops[b], best = job->bests[b], label = job->labels[b];
            int32_t label_logit = job->label_logits[b];
            uint64_t sum = job->normalisers[b];
            int fell = 0;
            for (long t = 0; t < T;) {
                int32_t r = job->rows[t], d = 0;
                for (; t < T && job->rows[t] == r; t++) {
                    // h = +1 or -1 without a branch (the signs are random: a branch mispredicts).
                    int32_t h = 2 * (int32_t)(job->signs[t][b >> 6] >> (b & 63) & 1) - 1;
                    d += h * job->deltas[t];
                }
                if (d == 0) continue;
                int32_t old = row[r], new = old + d;
                if (new > top || (r == best && d < 0)) { fell = 1; break; }
                if (new == top && r < best) best = r;
                uint32_t g_old = (uint32_t)(top - old), g_new = (uint32_t)(top - new);
                sum = sum - (g_old < (uint64_t)count ? terms[g_old] : 0) + (g_new < (uint64_t)count ? terms[g_new] : 0);
                if (r == label) label_logit = new;
            }
            if (fell) { job->fallback[fallbacks++] = (int32_t)b; continue; }
            gaps[active] = top - label_logit;
            sums[active] = sum;
            right[active] = best == label;
            bests[active] = best;
            label_logits[active] = label_logit;
            lanes[active++] = b;
        }
        if (active == 0) continue;
        v8i64 units = FN(units8)(gaps, sums, job->temperature, job->shift_nats);
        for (long i = 0; i < active; i++) {
            units_delta += units[i] - job->units[lanes[i]];
            correct_delta += right[i] - (long)job->correct[lanes[i]];
        }
        if (job->store_units) {
            for (long i = 0; i < active; i++) {
                long b = lanes[i];
                job->store_bests[b] = bests[i];
                job->store_normalisers[b] = sums[i];
                job->store_units[b] = units[i];
                job->store_correct[b] = (uint8_t)right[i];
                job->store_label_logits[b] = label_logits[i];
            }
        }
        handled += active;
    }
    job->fallback_count = fallbacks;
    job->handled = handled;
    job->units_delta = units_delta;
    job->correct_delta = correct_delta;
}

static const tern_kernel_table FN(table) = {
    .name = TERN_NAME,
    .first_layer = FN(first_layer),
    .hidden_layer = FN(hidden_layer),
    .output_layer = FN(output_layer),
    .popcount_peak = FN(popcount_peak),
    .add_peak = FN(add_peak),
    .fma_peak = FN(fma_peak),
    .float_forward = FN(float_forward),
    .float_weight_gradients = FN(float_weight_gradients),
    .float_input_gradients = FN(float_input_gradients),
    .logit_summary = FN(logit_summary),
    .output_moves = FN(output_moves),
    .loss_units = FN(loss_units),
    .changed_outputs = FN(changed_outputs),
};

#undef load_v32i16
#undef load_v16i32
#undef load_v8u64
#undef store_v16i32
#undef load_v16f32
#undef store_v16f32
#undef FN
#undef GROUPS
#undef TERN_SUFFIX
#undef TERN_NAME
#undef TERN_PASS
#undef TERN_FLOAT_ROWS
#undef TERN_FLOAT_EXAMPLES
#undef TERN_GRADIENT_ROWS
