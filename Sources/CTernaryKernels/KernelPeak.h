// The peak loops of the bench (popcount, add, fused multiply-add). Included by KernelBody.h once per instruction set, with its macros
// (FN, GROUPS, the loads and stores, the blocking parameters) defined; see KernelBody.h.

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
