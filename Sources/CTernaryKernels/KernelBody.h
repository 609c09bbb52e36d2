// The kernels, written once with clang's generic vector types and compiled once per
// instruction set: Kernels.c includes this file with TERN_SUFFIX(name) (the per-set name),
// TERN_NAME, TERN_PASS (examples whose popcount accumulators are held in registers at once),
// TERN_LEVEL_ROWS (rows per block of the levels kernels) and
// the float kernels' blocking (TERN_FLOAT_ROWS, TERN_FLOAT_EXAMPLES, TERN_GRADIENT_ROWS) defined,
// inside a `#pragma clang attribute` region that sets the target; this file undefines them. The vector types are 512
// bits wide everywhere; the compiler splits them into two AVX2 or four SSE/NEON registers, so
// every path does the same integer operations in the same order and gives the same bits.
//
// Layouts: see CTernaryKernels.h. Scratch (TERN_FORWARD_SCRATCH_BYTES, 64-byte aligned):
// bytes 0..8191 the int32 sums of a block of 16 rows for the 128 examples of a tile, bytes
// 8192..9215 the 64-row masks of the two halves of the tile before the bit transpose (levels
// kernels: 8192..16383, those masks for each of up to 8 bit planes).

#define FN(name) TERN_SUFFIX(name)
#define GROUPS (TERN_PASS / 8)
// The levels kernels' register tile: LEVEL_ROWS rows by LEVEL_GROUPS vectors of 8 examples.
#define LEVEL_ROWS TERN_LEVEL_ROWS
#define LEVEL_GROUPS (GROUPS / LEVEL_ROWS)

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

// The kernels by job, one file each.
#include "KernelForward.h"
#include "KernelLevels.h"
#include "KernelFloat.h"
#include "KernelPeak.h"
#include "KernelLoss.h"

static const tern_kernel_table FN(table) = {
    .name = TERN_NAME,
    .first_layer = FN(first_layer),
    .hidden_layer = FN(hidden_layer),
    .output_layer = FN(output_layer),
    .first_levels = FN(first_levels),
    .levels_from_sums = FN(levels_from_sums),
    .hidden_levels = FN(hidden_levels),
    .output_levels = FN(output_levels),
    .popcount_peak = FN(popcount_peak),
    .add_peak = FN(add_peak),
    .fma_peak = FN(fma_peak),
    .float_forward = FN(float_forward),
    .float_weight_gradients = FN(float_weight_gradients),
    .float_input_gradients = FN(float_input_gradients),
    .fixed_add = FN(fixed_add),
    .fixed_decode = FN(fixed_decode),
    .adam = FN(adam),
    .logit_summary = FN(logit_summary),
    .output_moves = FN(output_moves),
    .loss_units = FN(loss_units),
    .changed_outputs = FN(changed_outputs),
    .output_level_moves = FN(output_level_moves),
    .batch_levels = FN(batch_levels),
    .level_outputs = FN(level_outputs),
};

#undef load_v32i16
#undef load_v16i32
#undef load_v8u64
#undef store_v16i32
#undef load_v16f32
#undef store_v16f32
#undef FN
#undef GROUPS
#undef LEVEL_ROWS
#undef LEVEL_GROUPS
#undef TERN_LEVEL_ROWS
#undef TERN_SUFFIX
#undef TERN_NAME
#undef TERN_PASS
#undef TERN_FLOAT_ROWS
#undef TERN_FLOAT_EXAMPLES
#undef TERN_GRADIENT_ROWS
