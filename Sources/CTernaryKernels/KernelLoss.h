// The loss kernels of the incremental scorer and the evaluator. Included by KernelBody.h once per instruction set, with its macros
// (FN, GROUPS, the loads and stores, the blocking parameters) defined; see KernelBody.h.

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

/// See `tern_output_moves`. Shapes: B examples, C classes, T moves sorted by row; per example
/// O(T) adds and at most one table term per moved row, eight `log`s per vector. With `levels`
/// (a constant: two copies), `h_t(b)` is the level byte `job->levels[t][b]`, else the sign bit.
TERN_INLINE void FN(output_moves_body)(tern_output_moves *job, const int levels) {
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
                    int32_t h = levels ? (int32_t)job->levels[t][b] : 2 * (int32_t)(job->signs[t][b >> 6] >> (b & 63) & 1) - 1;
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

static void FN(output_moves)(tern_output_moves *job) { FN(output_moves_body)(job, 0); }

static void FN(output_level_moves)(tern_output_moves *job) { FN(output_moves_body)(job, 1); }

/// `z[c] += d column[c]` for C classes, 16 a vector (wrapping int32).
TERN_INLINE void FN(add_level_column)(int32_t *z, const int8_t *column, int32_t d, long C) {
    const long full = C & ~15L;
    for (long c = 0; c < full; c += 16) {
        v16i8 w;
        __builtin_memcpy(&w, column + c, 16);
        store_v16i32(z + c, load_v16i32(z + c) + __builtin_convertvector(w, v16i32) * d);
    }
    for (long c = full; c < C; c++) z[c] = (int32_t)((uint32_t)z[c] + (uint32_t)((int32_t)column[c] * d));
}

/// `logit_summary` of `C <= 16` logits in the lanes of `v` (lanes past `C` ignored), without a
/// branch per class: the top by one reduction, the best class by the lowest set bit of the lanes
/// equal to it. The same integers, so the same results.
TERN_INLINE uint64_t FN(small_summary)(v16i32 v, long C, const uint64_t *terms, long count, int32_t *top_out,
                                       int32_t *best_out) {
    const v16i32 lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const v16i32 valid = lane < (int32_t)C;
    v = (v & valid) | ((v16i32){0} + INT32_MIN & ~valid);
    const int32_t top = __builtin_reduce_max(v);
    const uint16_t hit = __builtin_bit_cast(uint16_t, __builtin_convertvector(v == top, b16));
    int32_t gaps[16];
    store_v16i32(gaps, (v16i32){0} + top - v);
    uint64_t sum = 0;
    // Scalar loads: a gather is slower here (perf on Zen 4: the kernel's time fell by about a quarter).
#pragma clang loop vectorize(disable)
    for (long k = 0; k < C; k++) {
        uint64_t gap = (uint64_t)(uint32_t)gaps[k];
        sum += gap < (uint64_t)count ? terms[gap] : 0;
    }
    *top_out = top;
    *best_out = __builtin_ctz(hit);
    return sum;
}

/// One changed example `b` of `tern_level_outputs` with `C <= 16` classes, in one vector: its
/// cached logits (16 lanes read: the cache keeps 16 spare entries past the logits and each
/// column layer) plus `d` times the column of each of its level changes; adds the number of
/// changes to `*count`; `*dense` walks the dense entries in example order.
TERN_INLINE v16i32 FN(small_level_logits)(const tern_level_outputs *job, long b, long *dense, long *count) {
    const long C = job->classes, P = job->padded, word = b >> 6, shift = b & 63;
    v16i32 z = load_v16i32(job->logits + b * C);
    for (long i = 0; i < job->directs; i++) {
        if (!(job->direct_masks[i * job->words + word] >> shift & 1)) continue;
        const long j = job->direct_neurons[i];
        const int32_t d = (int32_t)job->direct_levels[i * P + b] - (int32_t)job->old[j * P + b];
        v16i8 w;
        __builtin_memcpy(&w, job->columns + j * C, 16);
        z += __builtin_convertvector(w, v16i32) * d;
        (*count)++;
    }
    for (; *dense < job->dense && job->dense_examples[*dense] == b; (*dense)++) {
        const long j = job->dense_neurons[*dense];
        const int32_t d = (int32_t)job->dense_levels[*dense] - (int32_t)job->old[j * P + b];
        v16i8 w;
        __builtin_memcpy(&w, job->columns + j * C, 16);
        z += __builtin_convertvector(w, v16i32) * d;
        (*count)++;
    }
    return z;
}

/// One changed example `b` of `tern_level_outputs`: its cached logits into `z`, plus `d` times the
/// column of each of its level changes (direct neurons, then dense entries: `*dense` walks them
/// in example order); returns how many changes.
TERN_INLINE long FN(level_logits)(const tern_level_outputs *job, long b, long *dense, int32_t *z) {
    const long C = job->classes, P = job->padded, word = b >> 6, shift = b & 63;
    const int32_t *row = job->logits + b * C;
    for (long c = 0; c < C; c++) z[c] = row[c];
    long count = 0;
    for (long i = 0; i < job->directs; i++) {
        if (!(job->direct_masks[i * job->words + word] >> shift & 1)) continue;
        const long j = job->direct_neurons[i];
        const int32_t d = (int32_t)job->direct_levels[i * P + b] - (int32_t)job->old[j * P + b];
        FN(add_level_column)(z, job->columns + j * C, d, C);
        count++;
    }
    for (; *dense < job->dense && job->dense_examples[*dense] == b; (*dense)++) {
        const long j = job->dense_neurons[*dense];
        const int32_t d = (int32_t)job->dense_levels[*dense] - (int32_t)job->old[j * P + b];
        FN(add_level_column)(z, job->columns + j * C, d, C);
        count++;
    }
    return count;
}

/// The units of the `active` examples gathered in `gaps`, `sums` (examples `lanes`) minus their
/// cached units, added to `*units_delta`; the gathered lanes are reset.
TERN_INLINE void FN(flush_level_units)(const tern_level_outputs *job, v8i64 *gaps, v8u64 *sums, const long *lanes,
                                       long active, int64_t *units_delta) {
    v8i64 units = FN(units8)(*gaps, *sums, job->temperature, job->shift_nats);
    for (long i = 0; i < active; i++) *units_delta += units[i] - job->units[lanes[i]];
    *gaps = (v8i64){0};
    *sums = (v8u64){0} + 1;
}

/// See `tern_level_outputs`. Shapes: the E examples set in `changed` (W words), C classes, n
/// hidden inputs; per example O(C) per change (16 classes a vector) and `logit_summary`, eight
/// `log`s per vector.
static void FN(level_outputs)(tern_level_outputs *job) {
    int32_t *z = job->row;
    long dense = 0, changes = 0, done = 0, correct_delta = 0, active = 0, lanes[8];
    int64_t units_delta = 0;
    v8i64 gaps = {0};
    v8u64 sums = (v8u64){0} + 1;
    for (long w = 0; w < job->words; w++) {
        for (uint64_t bits = job->changed[w]; bits; bits &= bits - 1) {
            const long b = w * 64 + __builtin_ctzll(bits);
            int32_t top, best, label_logit;
            if (job->classes <= 16) {
                v16i32 v = FN(small_level_logits)(job, b, &dense, &changes);
                sums[active] = FN(small_summary)(v, job->classes, job->terms, job->term_count, &top, &best);
                label_logit = v[job->labels[b]];
            } else {
                changes += FN(level_logits)(job, b, &dense, z);
                sums[active] = FN(logit_summary)(z, job->classes, job->terms, job->term_count, &top, &best);
                label_logit = z[job->labels[b]];
            }
            gaps[active] = (int64_t)(int32_t)((uint32_t)top - (uint32_t)label_logit);
            correct_delta += (best == job->labels[b]) - (long)job->correct[b];
            lanes[active++] = b;
            done++;
            if (active == 8) {
                FN(flush_level_units)(job, &gaps, &sums, lanes, active, &units_delta);
                active = 0;
            }
        }
    }
    if (active > 0) FN(flush_level_units)(job, &gaps, &sums, lanes, active, &units_delta);
    job->units_delta = units_delta;
    job->correct_delta = correct_delta;
    job->examples_done = done;
    job->changes = changes;
}
