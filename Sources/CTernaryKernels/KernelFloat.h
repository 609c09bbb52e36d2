// The float products of the backprop baselines. Included by KernelBody.h once per instruction set, with its macros
// (FN, GROUPS, the loads and stores, the blocking parameters) defined; see KernelBody.h.

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

/// Gradient totals in fixed point (`tern_kernel_table.fixed_add`): `x` times 2^40 (exact),
/// NaN as 0, clamped to +-2^62, truncated toward zero. Every set converts alike.
TERN_INLINE v8i64 FN(fixed8)(v8f32 x) {
    const v8f32 unit = {0x1p40f, 0x1p40f, 0x1p40f, 0x1p40f, 0x1p40f, 0x1p40f, 0x1p40f, 0x1p40f};
    const v8f32 limit = {0x1p62f, 0x1p62f, 0x1p62f, 0x1p62f, 0x1p62f, 0x1p62f, 0x1p62f, 0x1p62f};
    x = (v8f32)((v8i32)x & (v8i32)(x == x)) * unit;
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, -limit), limit);
    return __builtin_convertvector(x, v8i64);
}

/// `acc[k] += fixed(x[k])` for 8 lanes (wrapping adds).
TERN_INLINE void FN(add_fixed8)(int64_t *acc, v8f32 x) {
    v8i64 sum;
    __builtin_memcpy(&sum, acc, 64);
    sum = (v8i64)((v8u64)sum + (v8u64)FN(fixed8)(x));
    __builtin_memcpy(acc, &sum, 64);
}

/// Adds a tile row's block sums (32 columns as two 16-lane halves) into its totals `acc`.
TERN_INLINE void FN(add_fixed32)(int64_t *acc, v16f32 a, v16f32 c) {
    FN(add_fixed8)(acc, __builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7));
    FN(add_fixed8)(acc + 8, __builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15));
    FN(add_fixed8)(acc + 16, __builtin_shufflevector(c, c, 0, 1, 2, 3, 4, 5, 6, 7));
    FN(add_fixed8)(acc + 24, __builtin_shufflevector(c, c, 8, 9, 10, 11, 12, 13, 14, 15));
}

/// `acc[k] += fixed(x[k])` for `k < n`.
static void FN(fixed_add)(const float *x, int64_t *acc, long n) {
    long k = 0;
    for (; k + 8 <= n; k += 8) FN(add_fixed8)(acc + k, FN(load_v8f32)(x + k));
    if (k < n) {
        int64_t tail[8] = {0};
        FN(add_fixed8)(tail, FN(load_tail8)(x + k, n - k));
        for (long j = 0; j < n - k; j++) acc[k + j] = (int64_t)((uint64_t)acc[k + j] + (uint64_t)tail[j]);
    }
}

/// `out[k] = totals[k] * 2^-40` as a float (through a double: exact to the double's 53 bits).
static void FN(fixed_decode)(const int64_t *totals, float *out, long n) {
    for (long k = 0; k < n; k++) out[k] = (float)((double)totals[k] * 0x1p-40);
}

/// One Adam step on `n` parameters (`tern_kernel_table.adam`): `m = b1 m + a1 g`,
/// `v = b2 v + a2 g g` (each set to 0 below `flush`), `p = p decay - step m / (sqrt(v c2) + eps)`,
/// with `a1 = 1 - b1`, `a2 = 1 - b2`, `step = lr / c1` and `c2` the inverse of Adam's second
/// correction. Every operation rounded on its own, in this order, with no fused multiply-add
/// (contraction off), 16 lanes or one at a time: the same bits on every set and for any split.
static void FN(adam)(float *p, const float *g, float *m, float *v, long n, float b1, float a1, float b2, float a2,
                     float step, float c2, float eps, float decay, float flush) {
#pragma clang fp contract(off)
    long k = 0;
    for (; k + 16 <= n; k += 16) {
        v16f32 gk = load_v16f32(g + k);
        v16f32 mk = FN(splat)(b1) * load_v16f32(m + k) + FN(splat)(a1) * gk;
        v16f32 vk = FN(splat)(b2) * load_v16f32(v + k) + FN(splat)(a2) * gk * gk;
        mk = (v16f32)((v16i32)mk & ~(v16i32)(__builtin_elementwise_abs(mk) < FN(splat)(flush)));
        vk = (v16f32)((v16i32)vk & ~(v16i32)(vk < FN(splat)(flush)));
        store_v16f32(m + k, mk);
        store_v16f32(v + k, vk);
        v16f32 root = __builtin_elementwise_sqrt(vk * FN(splat)(c2)) + FN(splat)(eps);
        store_v16f32(p + k, load_v16f32(p + k) * FN(splat)(decay) - FN(splat)(step) * mk / root);
    }
    for (; k < n; k++) {
        float gk = g[k];
        float mk = b1 * m[k] + a1 * gk;
        float vk = b2 * v[k] + a2 * gk * gk;
        if (__builtin_fabsf(mk) < flush) mk = 0;
        if (vk < flush) vk = 0;
        m[k] = mk;
        v[k] = vk;
        p[k] = p[k] * decay - step * mk / (__builtin_sqrtf(vk * c2) + eps);
    }
}

/// `dw[o][i] = sum over blocks of fixed(sum_{b in block} d[b][o] x[b][i])` for the columns
/// `first ..< first + width` (`width` <= 32) and every row `o`, the examples in blocks of
/// `block`: `TERN_GRADIENT_ROWS` rows at a time hold their 32 columns in registers over one
/// block's examples (each load of `x` feeding that many FMAs), then add them into the tile's
/// fixed-point totals, which stay in L1. Whole blocks, each summed in example order, make the
/// totals the same for any split of the blocks over processes. A block narrower than 32
/// columns (the last) takes a slower path with zero-padded loads.
static void FN(float_weight_gradients)(const float *d, const float *x, int64_t *dw, long B, long I, long O, long first,
                                       long width, long block) {
    enum { R = TERN_GRADIENT_ROWS };
    long low = width < 16 ? width : 16, high = width - low;
    for (long o = 0; o < O; o += R) {
        long rows[R];
        for (int r = 0; r < R; r++) rows[r] = o + r < O ? o + r : O - 1;
        int64_t acc[R][32];
        __builtin_memset(acc, 0, sizeof acc);
        for (long start = 0; start < B; start += block) {
            long end = start + block < B ? start + block : B;
            v16f32 a[R], c[R];
#pragma clang loop unroll(full)
            for (int r = 0; r < R; r++) { a[r] = (v16f32){0}; c[r] = (v16f32){0}; }
            if (width == 32) {
                for (long b = start; b < end; b++) {
                    const float *row = x + b * I + first;
                    v16f32 x0 = load_v16f32(row), x1 = load_v16f32(row + 16);
#pragma clang loop unroll(full)
                    for (int r = 0; r < R; r++) {
                        v16f32 g = FN(splat)(d[b * O + rows[r]]);
                        a[r] = __builtin_elementwise_fma(g, x0, a[r]);
                        c[r] = __builtin_elementwise_fma(g, x1, c[r]);
                    }
                }
            } else {
                for (long b = start; b < end; b++) {
                    const float *row = x + b * I + first;
                    v16f32 x0 = FN(load_tail)(row, low), x1 = high ? FN(load_tail)(row + 16, high) : (v16f32){0};
                    for (int r = 0; r < R; r++) {
                        v16f32 g = FN(splat)(d[b * O + rows[r]]);
                        a[r] = __builtin_elementwise_fma(g, x0, a[r]);
                        c[r] = __builtin_elementwise_fma(g, x1, c[r]);
                    }
                }
            }
            for (int r = 0; r < R; r++) FN(add_fixed32)(acc[r], a[r], c[r]);
        }
        // A row repeated past O writes last, equal totals.
        for (int r = R - 1; r >= 0; r--) __builtin_memcpy(dw + rows[r] * I + first, acc[r], (size_t)width * 8);
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
