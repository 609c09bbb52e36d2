// Run-time choice of the forward kernels. KernelBody.h holds each kernel once, in clang's
// generic vector types; this file includes it once per instruction set inside a
// `#pragma clang attribute` region that sets the target of every function in it, so one
// object holds an AVX-512, an AVX2 and a portable copy, and `tern_kernels` hands out the one
// the caller chose (TernaryCore picks it once per process from `tern_cpu_supports`, or from
// the TERNEVO_ISA environment variable). Swift cannot compile one function for another target;
// a C target with target attributes can, and needs no build flags, so the package still builds
// and runs on any x86-64 or arm64 machine.
#include "CTernaryKernels.h"

#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

typedef int16_t v32i16 __attribute__((vector_size(64)));
typedef int8_t v16i8 __attribute__((vector_size(16)));
typedef uint8_t v16u8 __attribute__((vector_size(16)));
typedef int16_t v16i16 __attribute__((vector_size(32)));
typedef int32_t v8i32 __attribute__((vector_size(32)));
typedef int32_t v16i32 __attribute__((vector_size(64)));
typedef uint64_t v8u64 __attribute__((vector_size(64)));
typedef int64_t v8i64 __attribute__((vector_size(64)));
typedef double v8f64 __attribute__((vector_size(64)));
typedef float v16f32 __attribute__((vector_size(64)));
typedef float v8f32 __attribute__((vector_size(32)));
typedef float v4f32 __attribute__((vector_size(16)));
typedef float v2f32 __attribute__((vector_size(8)));
typedef _Bool b16 __attribute__((ext_vector_type(16)));
typedef _Bool b8 __attribute__((ext_vector_type(8)));

#define TERN_INLINE static inline __attribute__((always_inline))
// 512-bit vectors passed by value between always-inlined helpers never reach a call boundary.
#pragma clang diagnostic ignored "-Wpsabi"
// The loss kernels must give the bits of TernaryCore's Swift formulas, which never fuse a
// multiply and an add: no contraction into FMA anywhere in this file.
#pragma clang fp contract(off)

static double tern_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/// Keeps a result alive so the optimiser cannot drop the loop that made it.
static volatile uint64_t tern_sink;
static void tern_keep(uint64_t value) { tern_sink = value; }

#if defined(__x86_64__)

// Each set: its target features, then KernelBody.h with its parameters (the name suffix, the
// examples per popcount pass, the rows per block of the levels kernels, the float kernels'
// blocking); KernelBody.h undefines them.
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512cd,avx512vpopcntdq,avx2,fma,bmi,bmi2,popcnt,lzcnt"))), apply_to = function)
#define TERN_SUFFIX(name) name##_avx512
#define TERN_NAME "avx512"
#define TERN_PASS 128
#define TERN_LEVEL_ROWS 4
#define TERN_FLOAT_ROWS 4
#define TERN_FLOAT_EXAMPLES 4
#define TERN_GRADIENT_ROWS 4
#include "KernelBody.h"
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,bmi,bmi2,popcnt,lzcnt"))), apply_to = function)
#define TERN_SUFFIX(name) name##_avx2
#define TERN_NAME "avx2"
#define TERN_PASS 32
#define TERN_LEVEL_ROWS 2
#define TERN_FLOAT_ROWS 2
#define TERN_FLOAT_EXAMPLES 4
#define TERN_GRADIENT_ROWS 2
#include "KernelBody.h"
#pragma clang attribute pop

#endif

#define TERN_SUFFIX(name) name##_portable
#define TERN_NAME "portable"
#define TERN_PASS 16
#define TERN_LEVEL_ROWS 1
#define TERN_FLOAT_ROWS 2
#define TERN_FLOAT_EXAMPLES 2
#define TERN_GRADIENT_ROWS 2
#include "KernelBody.h"

const tern_kernel_table *tern_kernels(tern_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case TERN_ISA_AVX512: return &table_avx512;
    case TERN_ISA_AVX2: return &table_avx2;
#endif
    case TERN_ISA_PORTABLE: return &table_portable;
    default: return NULL;
    }
}

#if defined(__x86_64__)
/// The register state the operating system saves (XCR0): AVX needs bits 1-2, AVX-512 5-7 too.
static uint64_t tern_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
#endif

int tern_cpu_supports(tern_isa isa) {
    if (isa == TERN_ISA_PORTABLE) return 1;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, popcnt = (c >> 23) & 1;
    if (!(osxsave && avx && fma && popcnt)) return 0;
    uint64_t xcr0 = tern_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1, bmi1 = (b >> 3) & 1, bmi2 = (b >> 8) & 1;
    if (!(avx2 && bmi1 && bmi2)) return 0;
    if (isa == TERN_ISA_AVX2) return 1;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, cd = (b >> 28) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    int vpopcntdq = (c >> 14) & 1;
    if (isa == TERN_ISA_AVX512) return f && dq && cd && bw && vl && vpopcntdq && (xcr0 & 0xE6) == 0xE6;
#endif
    return 0;
}

void tern_cpu_name(char *buffer, long capacity) {
    if (capacity <= 0) return;
    buffer[0] = 0;
#if defined(__x86_64__)
    unsigned regs[12];
    if (__get_cpuid_max(0x80000000, NULL) < 0x80000004) return;
    for (unsigned leaf = 0; leaf < 3; leaf++)
        __get_cpuid(0x80000002 + leaf, &regs[4 * leaf], &regs[4 * leaf + 1], &regs[4 * leaf + 2], &regs[4 * leaf + 3]);
    char name[49];
    memcpy(name, regs, 48);
    name[48] = 0;
    const char *start = name;
    while (*start == ' ') start++;
    long length = (long)strlen(start);
    while (length > 0 && start[length - 1] == ' ') length--;
    if (length > capacity - 1) length = capacity - 1;
    memcpy(buffer, start, (size_t)length);
    buffer[length] = 0;
#endif
}
