// The kernels of TernEvo (the ternary forward pass, the float products of the backprop
// baselines and the fixed-point loss loops of the incremental scorer), one source compiled for
// several instruction sets (KernelBody.h, included once per set by Kernels.c) and chosen once
// per process at run time. Swift reaches them only through TernaryCore's ForwardScratch
// (ForwardKernels.swift), LossTable (Scoring.swift) and DeltaCache (DeltaCache+Score.swift),
// and TernaryBackprop's FloatKernels (FloatKernels.swift).
//
// Layouts (T = 128 examples per tile, W words of 64 inputs per row):
//   tile         int16  [I][128]      input i of example b at i * 128 + b (first layer)
//   plus, minus  uint64 [O][W]        bit planes of a ternary matrix (+1 and -1 weights)
//   activations  uint64 [W][128]      word w of example b at w * 128 + b, bit set = +1
//   levels       uint64 [K][W][128]   K-bit levels as K such planes, plane k = bit k of each level
//   logits/sums  int32  [examples][O]
#ifndef CTERNARYKERNELS_H
#define CTERNARYKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes of scratch memory one worker passes to the forward kernels (64-byte aligned).
#define TERN_FORWARD_SCRATCH_BYTES 16384

/// Instruction sets a kernel table can be compiled for.
typedef enum {
    TERN_ISA_PORTABLE = 0,  ///< the target's baseline (x86-64: SSE2; arm64: NEON)
    TERN_ISA_AVX2 = 1,      ///< x86-64-v3: AVX2, FMA, BMI2, POPCNT
    TERN_ISA_AVX512 = 2,    ///< x86-64-v4 with VPOPCNTDQ: AVX-512 F, BW, DQ, VL
} tern_isa;

/// Output-layer trit moves scored on the examples whose hidden signs did not change (the
/// incremental scorer's O(1)-per-example path; see TernaryCore's DeltaCache+Score.swift).
/// Example `b` (of `examples`, skipping those set in `skip`) keeps its top logit `tops[b]`; each
/// moved row `r` changes its logit by `d_r = sum delta_t h_t(b)` over the moves `t` of that row
/// (`h_t(b)` = +1 when bit `b` of `signs[t]` is set, else -1; moves sorted by row). While no moved
/// logit rises above the top and the top class does not fall, its normaliser changes by one
/// table term per moved row and its new loss is `units(top, z_label, S)` (the formula of
/// TernaryCore's LossTable, with the same `log`, so the same bits); otherwise `b` is appended to
/// `fallback` for the caller's O(C) path.
typedef struct tern_output_moves {
    const int32_t *logits;       ///< [examples][classes]
    long classes, examples;
    const int32_t *tops, *bests, *labels, *label_logits;
    const uint64_t *normalisers;
    const int64_t *units;
    const uint8_t *correct;
    const uint64_t *skip;        ///< examples left out (bit b of word b / 64), or NULL
    long moves;
    const int32_t *rows;         ///< per move: its output row
    const int32_t *deltas;       ///< per move: its trit change, -2 ... 2
    const uint64_t *const *signs;  ///< per move: the sign bits of its column's hidden neuron
    /// Levels networks (`output_level_moves`; NULL for `output_moves`): per move, the levels
    /// `[examples]` of its column's hidden neuron, used as `h_t(b)` in place of the signs.
    const uint8_t *const *levels;
    const uint64_t *terms;       ///< exp(-tau g) in units of 2^-shift, g < term_count
    long term_count;
    double temperature, shift_nats;
    /// When not NULL (applying the moves, not scoring them): each scored example's new best
    /// class, normaliser, units, correct flag and label logit are stored here (the cache's own
    /// arrays).
    int32_t *store_bests;
    uint64_t *store_normalisers;
    int64_t *store_units;
    uint8_t *store_correct;
    int32_t *store_label_logits;
    int32_t *fallback;           ///< out: examples for the O(C) path, room for `examples`
    long fallback_count;         ///< out
    long handled;                ///< out: examples scored here
    int64_t units_delta;         ///< out: sum of new minus old units of the examples scored here
    long correct_delta;          ///< out: likewise for the correct counts
} tern_output_moves;

/// Examples whose hidden inputs to the output layer changed, under a candidate that moves no
/// output weight (the incremental scorer's O(C) path): example `examples[i]` has logits
/// `logits[b][..]` plus `2 s W[.][j]` for each of its changes `k` in `starts[i] ..< starts[i + 1]`
/// (`j = neurons[k]`, new sign `s = signs[k]`, weight column `j` at `columns + j * classes`);
/// writes `gaps[i] = top - z_label`, `normalisers[i]` and `bests[i]` as `logit_summary` would
/// on those logits. Wrapping int32 adds, so every set gives the same results.
typedef struct tern_changed_outputs {
    const int32_t *logits;       ///< [examples][classes]
    long classes;
    const int8_t *columns;       ///< [inputs][classes]: the output weights by column
    const int32_t *labels;
    const uint64_t *terms;
    long term_count;
    long count;                  ///< examples listed
    const int32_t *examples, *starts, *neurons, *signs;
    int32_t *gaps;               ///< out, [count]
    uint64_t *normalisers;       ///< out, [count]
    int32_t *bests;              ///< out, [count]
    int32_t *row;                ///< scratch of `classes` int32
} tern_changed_outputs;

/// A hidden neuron of a levels network recomputed over the batch (the incremental scorer's
/// direct neuron; see TernaryCore's DeltaCache+Levels.swift). Example `b` (of `words * 64`,
/// padding included) has the sum `sums[b] + sum_t deltas[t] inputs[t][b]` (wrapping int32), and
/// the level `clamp(floor((s - theta) / step), 0, top)`; bit `b` of `out` is set when that differs
/// from `old[b]` (and `b` is not set in `exclude`, and `b` is a real example: the last word is
/// masked with `last_mask`), and then `levels[b]` is the new level (other entries unspecified).
/// Levels are computed in double (exact, see KernelLevels.h): with `bounds` (the caller checks
/// that `theta + (top + 1) step` and the sums cannot overflow int32) by a multiply with
/// `1 / step` and one integer correction, else by a divide.
typedef struct tern_batch_levels {
    const int32_t *sums;         ///< [words * 64]: the neuron's cached sums
    const uint8_t *old;          ///< [words * 64]: its cached levels
    long words;
    long moves;
    const uint8_t *const *inputs;  ///< per move: its column's inputs or levels [words * 64]
    const int32_t *deltas;       ///< per move: its trit change, -2 ... 2
    int32_t theta, step, top;
    int bounds;
    const uint64_t *exclude;     ///< or NULL
    uint64_t last_mask;
    uint64_t *out;               ///< out, [words]
    uint8_t *levels;             ///< out, [words * 64]
} tern_batch_levels;

/// The examples of a levels network whose levels of the last hidden layer changed, under a
/// candidate that moves no output weight (the incremental scorer's O(C) path, see TernaryCore's
/// DeltaCache+Levels.swift): example `b` set in `changed` (of `words` words) gathers its changes
/// (neuron `j`, level change `d`): from each direct neuron `i` (`direct_neurons[i]`) whose mask
/// `direct_masks[i][..]` has `b`, `d = direct_levels[i][b] - old[j][b]`; then from the dense
/// entries at `dense_examples[k] == b` (sorted by example), `d = dense_levels[k] - old[j][b]`.
/// Its logits are `logits[b][..] + sum d W[.][j]` (column `j` at `columns + j * classes`), its
/// new loss `units(top, z_label, S)` as `output_moves` computes it. Writes the change of the
/// units and correct counts against `units` and `correct` and the number of changes gathered.
typedef struct tern_level_outputs {
    const int32_t *logits;       ///< [examples][classes]
    long classes, words, padded;
    const int8_t *columns;       ///< [inputs][classes]
    const int32_t *labels;
    const int64_t *units;
    const uint8_t *correct;
    const uint64_t *changed;     ///< [words]
    const uint8_t *old;          ///< [inputs][padded]: the cached levels of the last hidden layer
    long directs;
    const uint64_t *direct_masks;  ///< [directs][words]
    const int32_t *direct_neurons;
    const uint8_t *direct_levels;  ///< [directs][padded]
    long dense;
    const int32_t *dense_examples, *dense_neurons;
    const uint8_t *dense_levels;
    const uint64_t *terms;
    long term_count;
    double temperature, shift_nats;
    int32_t *row;                ///< scratch of `classes` int32 (more than 16 classes)
    int64_t units_delta;         ///< out
    long correct_delta;          ///< out
    long examples_done;          ///< out: changed examples
    long changes;                ///< out: changes gathered
} tern_level_outputs;

typedef struct tern_kernel_table {
    const char *name;
    /// First layer of one tile: bytes (as int16) times trits by adds. Writes bit-packed
    /// activations `out [ceil(O / 64)][128]` (`s >= theta`), or, when `sums` is not NULL, the
    /// int32 sums of the first `examples` examples as `sums [examples][O]`.
    void (*first_layer)(const int16_t *tile, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                        const int32_t *thresholds, uint64_t *out, int32_t *sums, long examples, void *scratch);
    /// A later hidden layer on activations `act [W][128]`: `s = nonzero - 2 popcount(m & (p ^ h))`.
    void (*hidden_layer)(const uint64_t *act, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                         const int32_t *thresholds, uint64_t *out, void *scratch);
    /// The output layer: int32 logits `[examples][O]` of the first `examples` of the tile.
    void (*output_layer)(const uint64_t *act, long examples, const uint64_t *plus, const uint64_t *minus,
                         long rows, long words, int32_t *logits, void *scratch);
    /// K-bit levels networks (`bits` = K in 2 ... 8; DESIGN 13): activations are K bit planes
    /// `[K][ceil(n / 64)][128]` of the layout above, plane b holding bit b of each level
    /// `h = clamp(floor((s - theta) / step), 0, 2^K - 1)`. The first layer of one tile into levels:
    void (*first_levels)(const int16_t *tile, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                         const int32_t *thresholds, int32_t step, long bits, uint64_t *out, void *scratch);
    /// int32 sums `[examples][O]` (a token network's first layer) into levels;
    void (*levels_from_sums)(const int32_t *sums, long examples, long rows, const int32_t *thresholds, int32_t step,
                             long bits, uint64_t *out, void *scratch);
    /// a later hidden layer, levels to levels, `s = sum_b 2^b (popcount(p & h_b) - popcount(n & h_b))`;
    void (*hidden_levels)(const uint64_t *act, const uint64_t *plus, const uint64_t *minus, long rows, long words,
                          long bits, const int32_t *thresholds, int32_t step, uint64_t *out, void *scratch);
    /// the output layer on levels: int32 logits `[examples][O]` of the first `examples` of the tile.
    void (*output_levels)(const uint64_t *act, long examples, const uint64_t *plus, const uint64_t *minus,
                          long rows, long words, long bits, int32_t *logits, void *scratch);
    /// Register-only loops on one core: synaptic operations per second of xor-and-popcount
    /// (one bit = one operation) and of int16 adds (one lane = one operation).
    double (*popcount_peak)(long iterations);
    double (*add_peak)(long iterations);
    /// Float32 multiply-adds per second of an FMA loop with 16-lane vectors, on one core.
    double (*fma_peak)(long iterations);
    /// Float32 products of the backprop baselines, row-major, with fused multiply-adds in one
    /// fixed order on every set (the same bits everywhere):
    /// `y [B][O] = x [B][I] w^T` for the rows `first ..< end` of `w [O][I]`;
    void (*float_forward)(const float *x, const float *w, float *y, long B, long I, long O, long first, long end);
    /// `dw [O][I] = d^T x` for `d [B][O]`, `x [B][I]`, columns `first ..< first + width` (width <= 32),
    /// in fixed point: the examples in blocks of `block`, each block's float sum (FMA, example
    /// order) times 2^40, NaN as 0, clamped to +-2^62, truncated, and the blocks' integers added
    /// (wrapping), so any split of whole blocks over processes sums to the same totals;
    void (*float_weight_gradients)(const float *d, const float *x, int64_t *dw, long B, long I, long O, long first,
                                   long width, long block);
    /// `acc[k] += fixed(x[k])` for `k < n` in the fixed point above (wrapping), and back:
    /// `out[k] = float(totals[k] * 2^-40)`;
    void (*fixed_add)(const float *x, int64_t *acc, long n);
    void (*fixed_decode)(const int64_t *totals, float *out, long n);
    /// One Adam step on `n` parameters, each operation rounded on its own (no fused
    /// multiply-add): `m = b1 m + a1 g`, `v = b2 v + a2 g g` (0 below `flush`),
    /// `p = p decay - step m / (sqrt(v c2) + eps)`;
    void (*adam)(float *p, const float *g, float *m, float *v, long n, float b1, float a1, float b2, float a2,
                 float step, float c2, float eps, float decay, float flush);
    /// `dx [B][I] = d w` for `d [B][O]`, `w [O][I]`, examples `first ..< end`.
    void (*float_input_gradients)(const float *d, const float *w, float *dx, long I, long O, long first, long end);
    /// The parts of the softmax loss of `C >= 1` int32 logits `z`: returns the integer normaliser
    /// `sum_c terms[top - z_c]` (0 for a gap at or past `count`) and writes `top = max z` and
    /// `best`, the lowest class holding it. Integer sums, so every set gives the same result.
    uint64_t (*logit_summary)(const int32_t *z, long C, const uint64_t *terms, long count, int32_t *top, int32_t *best);
    /// See `tern_output_moves`: eight examples' losses at a time.
    void (*output_moves)(tern_output_moves *job);
    /// `units[i]` of `count` examples from their `gaps[i] = top - z_label` and normalisers: the
    /// loss formula of `tern_output_moves`, eight examples at a time (the scorer's recomputed
    /// examples, and tests).
    void (*loss_units)(const int32_t *gaps, const uint64_t *normalisers, long count, double temperature,
                       double shift_nats, int64_t *units);
    /// See `tern_changed_outputs`.
    void (*changed_outputs)(tern_changed_outputs *job);
    /// `output_moves` of a levels network: `h_t(b)` is `levels[t][b]`.
    void (*output_level_moves)(tern_output_moves *job);
    /// See `tern_batch_levels`.
    void (*batch_levels)(tern_batch_levels *job);
    /// See `tern_level_outputs`.
    void (*level_outputs)(tern_level_outputs *job);
} tern_kernel_table;

/// The kernel table for `isa`, or NULL when this build lacks it (an arm64 build has only the
/// portable table). Does not check the CPU: see `tern_cpu_supports`.
const tern_kernel_table *tern_kernels(tern_isa isa);

/// 1 when the CPU (and the operating system, for the AVX register state) can run `isa`.
int tern_cpu_supports(tern_isa isa);

/// The CPU's brand string (empty where unknown), at most `capacity - 1` bytes.
void tern_cpu_name(char *buffer, long capacity);

#ifdef __cplusplus
}
#endif

#endif
