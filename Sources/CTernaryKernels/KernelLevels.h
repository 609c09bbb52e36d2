// The forward kernels of K-bit levels networks (TernaryCore's Semantics article, DESIGN 13):
// hidden `h = clamp(floor((s - theta) / delta), 0, 2^K - 1)`. Included by KernelBody.h once per
// instruction set, after KernelForward.h (it reuses first_block and store_transposed).
//
// Level activations are K bit planes of the sign layout, `[K][W][128]`: bit `j % 64` of word
// `b * W * 128 + (j / 64) * 128 + e` is bit `b` of example `e`'s level of neuron `j`
// (W = ceil(n / 64) words per plane; padding neurons are zero in every plane). A later layer is
// bit-serial: per plane, `sum_j W_ij h_bj = P_i - popcount(m_i & (p_i ^ h_b))` with
// `P_i = popcount(plus_i)` (a -1 weight meets a set bit, a +1 weight an unset one), so
// `s_i = (2^K - 1) P_i - sum_b 2^b c_b`: K times the sign kernel's inner loop, no extra op per
// word. Quantising divides in double: `s - theta` (< 2^33 in magnitude) and `delta` are exact,
// and a correctly rounded quotient below 256 lies within 2^-44 of the true one, closer than any
// non-integer quotient of divisor `delta < 2^31` comes to the next integer (1 / delta), so the
// truncation of the clamped quotient is the exact floor.

/// Levels of 8 examples with sums `s`, as bits: bit `b` of lane `e`'s level becomes bit
/// `(example + e) % 64` of `fired[b][(example + e) / 64]`.
TERN_INLINE void FN(level_bits)(v8f64 s, double theta, double delta, double top, int bits, long example,
                                uint64_t fired[8][2]) {
    v8f64 q = (s - ((v8f64){0} + theta)) / ((v8f64){0} + delta);
    q = __builtin_elementwise_min(__builtin_elementwise_max(q, (v8f64){0}), (v8f64){0} + top);
    v8i64 level = __builtin_convertvector(q, v8i64);
    for (int b = 0; b < bits; b++) {
        b8 set = __builtin_convertvector(((level >> b) & 1) != 0, b8);
        fired[b][example >> 6] |= (uint64_t)__builtin_bit_cast(uint8_t, set) << (example & 63);
    }
}

/// Row `o`'s plane bits (`fired`) into the masks (`masks [K][2][64]`); after every 64th row and
/// the last, each plane's masks are transposed into word `o / 64` of that plane of `out`.
TERN_INLINE void FN(store_level_row)(uint64_t fired[8][2], long o, long rows, int bits, uint64_t *masks, uint64_t *out) {
    long plane = ((rows + 63) >> 6) * 128;
    for (int b = 0; b < bits; b++) {
        masks[b * 128 + (o & 63)] = fired[b][0];
        masks[b * 128 + 64 + (o & 63)] = fired[b][1];
    }
    if ((o & 63) == 63 || o == rows - 1)
        for (int b = 0; b < bits; b++) FN(store_transposed)(masks + b * 128, (o & 63) + 1, o >> 6, out + b * plane);
}

/// First layer of one tile into K-bit levels: the sign kernel's int32 sums (`first_block`:
/// `tile [I][128]` int16, rows in blocks of 16), then each row's 128 sums quantised into
/// `out [K][ceil(O / 64)][128]`. Scratch: the block's sums at 0, the plane masks at 8192 (8 KB).
static void FN(first_levels)(const int16_t *tile, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                             const int32_t *thresholds, int32_t step, long bits, uint64_t *out, void *scratch) {
    int32_t *partial = (int32_t *)scratch;
    uint64_t *masks = (uint64_t *)((char *)scratch + 8192);
    double top = (double)((1 << bits) - 1);
    for (long start = 0; start < rows; start += 16) {
        long block = rows - start < 16 ? rows - start : 16;
        FN(first_block)(tile, plus, minus, start, block, words, partial);
        for (long r = 0; r < block; r++) {
            const int32_t *row = partial + r * 128;
            uint64_t fired[8][2] = {{0}};
            for (long e = 0; e < 128; e += 16) {
                v16i32 s = load_v16i32(row + e);
                v8i32 lo = __builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7);
                v8i32 hi = __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15);
                FN(level_bits)(__builtin_convertvector(lo, v8f64), thresholds[start + r], step, top, (int)bits, e, fired);
                FN(level_bits)(__builtin_convertvector(hi, v8f64), thresholds[start + r], step, top, (int)bits, e + 8, fired);
            }
            FN(store_level_row)(fired, start + r, rows, (int)bits, masks, out);
        }
    }
}

/// Int32 sums `sums [examples][O]` (a token network's first layer) quantised into
/// `out [K][ceil(O / 64)][128]`; examples past `examples` get level 0. Scratch: masks at 8192.
static void FN(levels_from_sums)(const int32_t *sums, long examples, long rows, const int32_t *thresholds,
                                 int32_t step, long bits, uint64_t *out, void *scratch) {
    uint64_t *masks = (uint64_t *)((char *)scratch + 8192);
    double top = (double)((1 << bits) - 1);
    for (long o = 0; o < rows; o++) {
        uint64_t fired[8][2] = {{0}};
        for (long e = 0; e < 128; e += 8) {
            double lanes[8];
            for (int k = 0; k < 8; k++) lanes[k] = e + k < examples ? (double)sums[(e + k) * rows + o] : -4294967296.0;
            v8f64 s;
            __builtin_memcpy(&s, lanes, sizeof s);
            FN(level_bits)(s, thresholds[o], step, top, (int)bits, e, fired);
        }
        FN(store_level_row)(fired, o, rows, (int)bits, masks, out);
    }
}

/// Weighted disagreement counts of `LEVEL_ROWS` rows (row `r` at `plus[r]`, `minus[r]`; a block
/// past the last row repeats it) against the `8 LEVEL_GROUPS` examples from `first`, over the K
/// planes of `act` (plane stride `words * 128`): lane `e` of `acc[r][g]` is
/// `sum_b 2^b sum_w popcount(m_r & (p_r ^ h_b))` for example `first + 8 g + e`, by Horner's rule
/// from the top plane down (one doubling per plane, not per word); words zero in every row of the
/// block are skipped. Each activation vector meets `LEVEL_ROWS` rows, so the K planes (K times
/// the sign tile, past L1 for wide layers) are read once per block of rows, not once per row.
TERN_INLINE void FN(level_counts)(const uint64_t *act, long bits, const uint64_t *const *plus, const uint64_t *const *minus,
                                  long words, long first, v8u64 acc[LEVEL_ROWS][LEVEL_GROUPS]) {
#pragma clang loop unroll(full)
    for (int r = 0; r < LEVEL_ROWS; r++)
#pragma clang loop unroll(full)
        for (int g = 0; g < LEVEL_GROUPS; g++) acc[r][g] = (v8u64){0};
    for (long b = bits - 1; b >= 0; b--) {
#pragma clang loop unroll(full)
        for (int r = 0; r < LEVEL_ROWS; r++)
#pragma clang loop unroll(full)
            for (int g = 0; g < LEVEL_GROUPS; g++) acc[r][g] += acc[r][g];
        const uint64_t *plane = act + b * words * 128 + first;
        for (long w = 0; w < words; w++) {
            v8u64 p[LEVEL_ROWS], m[LEVEL_ROWS];
            uint64_t any = 0;
#pragma clang loop unroll(full)
            for (int r = 0; r < LEVEL_ROWS; r++) {
                uint64_t pw = plus[r][w], mw = pw | minus[r][w];
                // Scalar loads: left alone, the vectoriser turns the rows' loads into slow gathers.
                __asm__("" : "+r"(pw), "+r"(mw));
                any |= mw;
                p[r] = (v8u64){0} + pw;
                m[r] = (v8u64){0} + mw;
            }
            if (!any) continue;
            const uint64_t *h = plane + w * 128;
#pragma clang loop unroll(full)
            for (int g = 0; g < LEVEL_GROUPS; g++) {
                v8u64 x = load_v8u64(h + 8 * g);
#pragma clang loop unroll(full)
                for (int r = 0; r < LEVEL_ROWS; r++) acc[r][g] += __builtin_elementwise_popcount(m[r] & (p[r] ^ x));
            }
        }
    }
}

/// The rows `o ..< o + LEVEL_ROWS` of `plus` and `minus` (`[O][W]`), the last real row
/// repeated past `rows`; returns how many are real.
TERN_INLINE long FN(level_block)(const uint64_t *plus, const uint64_t *minus, long o, long rows, long words,
                                 const uint64_t *p[LEVEL_ROWS], const uint64_t *n[LEVEL_ROWS]) {
    long real = rows - o < LEVEL_ROWS ? rows - o : LEVEL_ROWS;
    for (long r = 0; r < LEVEL_ROWS; r++) {
        long row = o + (r < real ? r : real - 1);
        p[r] = plus + row * words;
        n[r] = minus + row * words;
    }
    return real;
}

TERN_INLINE long FN(row_plus)(const uint64_t *plus, long words) {
    long count = 0;
    for (long w = 0; w < words; w++) count += __builtin_popcountll(plus[w]);
    return count;
}

/// A later hidden layer of a levels network: K-bit levels `act [K][W][128]` to K-bit levels
/// `out [K][ceil(O / 64)][128]`, `s = (2^K - 1) popcount(plus) - level_counts`, rows in blocks of
/// `LEVEL_ROWS`. Scratch: masks at 8192.
static void FN(hidden_levels)(const uint64_t *act, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                              long bits, const int32_t *thresholds, int32_t step, uint64_t *out, void *scratch) {
    uint64_t *masks = (uint64_t *)((char *)scratch + 8192);
    double top = (double)((1 << bits) - 1);
    for (long o = 0; o < rows; o += LEVEL_ROWS) {
        const uint64_t *p[LEVEL_ROWS], *n[LEVEL_ROWS];
        long real = FN(level_block)(plus, minus, o, rows, words, p, n);
        v8i64 weight[LEVEL_ROWS];
        for (long r = 0; r < LEVEL_ROWS; r++) weight[r] = (v8i64){0} + ((1L << bits) - 1) * FN(row_plus)(p[r], words);
        uint64_t fired[LEVEL_ROWS][8][2] = {{{0}}};
        for (long first = 0; first < 128; first += 8 * LEVEL_GROUPS) {
            v8u64 acc[LEVEL_ROWS][LEVEL_GROUPS];
            FN(level_counts)(act, bits, p, n, words, first, acc);
            // Constant indices into acc (every row, the repeated ones skipped) keep it in registers.
#pragma clang loop unroll(full)
            for (int r = 0; r < LEVEL_ROWS; r++)
#pragma clang loop unroll(full)
                for (int g = 0; g < LEVEL_GROUPS; g++)
                    if (r < real) FN(level_bits)(__builtin_convertvector(weight[r] - (v8i64)acc[r][g], v8f64), thresholds[o + r], step, top,
                                   (int)bits, first + 8 * g, fired[r]);
        }
        for (long r = 0; r < real; r++) FN(store_level_row)(fired[r], o + r, rows, (int)bits, masks, out);
    }
}

/// The output layer of a levels network: int32 logits `[examples][O]` of the first `examples`
/// of the tile, `z = (2^K - 1) popcount(plus) - level_counts` on levels `act [K][W][128]`.
static void FN(output_levels)(const uint64_t *act, long examples, const uint64_t *plus, const uint64_t *minus,
                              long rows, long words, long bits, int32_t *logits, void *scratch) {
    (void)scratch;
    for (long o = 0; o < rows; o += LEVEL_ROWS) {
        const uint64_t *p[LEVEL_ROWS], *n[LEVEL_ROWS];
        long real = FN(level_block)(plus, minus, o, rows, words, p, n);
        for (long first = 0; first < examples; first += 8 * LEVEL_GROUPS) {
            v8u64 acc[LEVEL_ROWS][LEVEL_GROUPS];
            FN(level_counts)(act, bits, p, n, words, first, acc);
            long end = examples - first < 8 * LEVEL_GROUPS ? examples - first : 8 * LEVEL_GROUPS;
#pragma clang loop unroll(full)
            for (int r = 0; r < LEVEL_ROWS; r++) {
                if (r >= real) continue;
                int64_t weight = ((1L << bits) - 1) * FN(row_plus)(p[r], words);
                uint64_t counts[8 * LEVEL_GROUPS];
                __builtin_memcpy(counts, acc[r], sizeof counts);
                for (long b = 0; b < end; b++) logits[(first + b) * rows + o + r] = (int32_t)(weight - (int64_t)counts[b]);
            }
        }
    }
}

/// 16 levels `clamp(floor((s - theta) / step), 0, top)` in double (exact: see above).
TERN_INLINE v16i32 FN(levels16)(v16i32 s, double theta, double step, double top) {
    v8i32 halves[2] = {__builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7),
                       __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15)};
    v8i32 out[2];
    for (int i = 0; i < 2; i++) {
        v8f64 q = (__builtin_convertvector(halves[i], v8f64) - theta) / step;
        q = __builtin_elementwise_min(__builtin_elementwise_max(q, (v8f64){0}), (v8f64){0} + top);
        out[i] = __builtin_convertvector(q, v8i32);
    }
    return __builtin_shufflevector(out[0], out[1], 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

/// With `bounds` (no int32 overflow, see `tern_batch_levels`): the levels of `levels16` by a
/// multiply with `inverse = 1 / step` in place of the divide, then one step of integer
/// correction: for a clamped quotient below 256 the product is within 2^-40 of it, so its
/// truncation is the floor or (at an exact integer) one below, and the bound test fixes that.
TERN_INLINE v16i32 FN(levels16_bounded)(v16i32 s, int32_t theta, int32_t step, int32_t top, double inverse) {
    v8i32 halves[2] = {__builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7),
                       __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15)};
    v8i32 out[2];
    for (int i = 0; i < 2; i++) {
        v8f64 q = (__builtin_convertvector(halves[i], v8f64) - (double)theta) * inverse;
        q = __builtin_elementwise_min(__builtin_elementwise_max(q, (v8f64){0}), (v8f64){0} + (double)top);
        out[i] = __builtin_convertvector(q, v8i32);
    }
    v16i32 level = __builtin_shufflevector(out[0], out[1], 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const v16i32 low = theta + level * step;
    level += (s >= low + step) & (level < top) & 1;
    level -= (s < low) & (level > 0) & 1;
    return level;
}

/// See `tern_batch_levels`. Shapes: Bp = 64 W examples (padding included), T moves; per 16
/// examples, T int32 multiply-adds of the moved inputs, then their 16 levels (two double
/// multiplies and the bound test, or two divides) compared with the old and stored.
static void FN(batch_levels)(tern_batch_levels *job) {
    const long W = job->words, T = job->moves;
    const double inverse = 1.0 / (double)job->step;
    for (long w = 0; w < W; w++) {
        uint64_t word = 0;
        for (long q = 0; q < 4; q++) {
            const long base = w * 64 + q * 16;
            v16i32 s = load_v16i32(job->sums + base);
            for (long t = 0; t < T; t++) {
                v16u8 bytes;
                __builtin_memcpy(&bytes, job->inputs[t] + base, 16);
                s += __builtin_convertvector(bytes, v16i32) * job->deltas[t];
            }
            v16u8 old_bytes;
            __builtin_memcpy(&old_bytes, job->old + base, 16);
            // Every vector's levels, without a branch: about 60% of the vectors of a first-layer
            // move hold a change, at random, and branching on them mispredicted (perf: 19% of
            // this kernel on one branch).
            const v16i32 fresh = job->bounds ? FN(levels16_bounded)(s, job->theta, job->step, job->top, inverse)
                                             : FN(levels16)(s, job->theta, job->step, job->top);
            const uint16_t changed =
                __builtin_bit_cast(uint16_t, __builtin_convertvector(fresh != __builtin_convertvector(old_bytes, v16i32), b16));
            v16u8 narrow = __builtin_convertvector(fresh, v16u8);
            __builtin_memcpy(job->levels + base, &narrow, 16);
            word |= (uint64_t)changed << (q * 16);
        }
        if (w == W - 1) word &= job->last_mask;
        if (job->exclude) word &= ~job->exclude[w];
        job->out[w] = word;
    }
}
