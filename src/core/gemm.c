/*
 * gemm.c - packed, cache-blocked, OpenMP-parallel fp32 GEMM for training
 * (see gemm.h for the contract).
 *
 * Blocking (Goto/BLIS style): for each NC-wide column block of C and each
 * KC-deep slice of K, op(B) is packed into NR-column strips and op(A) (all M
 * rows) into MR-row strips, each strip k-major so that the micro-kernel
 * reads both operands sequentially. Each thread takes an equal share of
 * C's row strips (thread_region) and walks it in tiles of MC rows x TILE_N
 * columns; inside a tile, one B strip (KC x NR, 16-32 KB) stays in L1 while
 * the kernel walks down the MC rows of A (in L2), and each kernel call
 * prefetches its C tile, which it touches only after the k loop. Edge
 * tiles are computed into a small scratch tile and the valid part copied
 * out, so the kernels only ever see full MR x NR tiles.
 */
#include "gemm.h"

#include "common.h"

#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEMM_KC 256
#define GEMM_NC 2048
#define GEMM_MAX_MR 8
#define GEMM_MAX_NR 32

typedef void (*gemm_kernel)(int kc, const float *a, const float *b, float *c, int64_t ldc,
                            int acc);

typedef struct {
    const char *name;
    int mr, nr, mc, tile_n;
    gemm_kernel kernel;
} gemm_impl;

/* ---- micro-kernels: C (MR x NR) (+)= Ap (kc x MR) . Bp (kc x NR) ---- */

/* The C tile is read (or written) only after the k loop, and C is usually
 * far bigger than the caches: ask for its rows (two 64-byte lines each, the
 * widest tile is 128 bytes) at the start, so they arrive during the loop. */
static inline void prefetch_tile(const float *c, int64_t ldc, int rows) {
    for (int i = 0; i < rows; i++) {
        /* as asm: GCC 12 drops _mm_prefetch here at -O2 */
        __asm__ volatile("prefetcht0 %0" ::"m"(*(const char *)(c + i * ldc)));
        __asm__ volatile("prefetcht0 %0" ::"m"(*(const char *)(c + i * ldc + 16)));
    }
}

static void kernel_portable(int kc, const float *a, const float *b, float *c, int64_t ldc,
                            int acc) {
    enum { MR = 4, NR = 16 };
    float t[MR][NR] = {{0}};
    for (int k = 0; k < kc; k++, a += MR, b += NR)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) t[i][j] += a[i] * b[j];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] : t[i][j];
}

__attribute__((target("avx2,fma"))) static void kernel_avx2(int kc, const float *a,
                                                             const float *b, float *c,
                                                             int64_t ldc, int acc) {
    enum { MR = 6 };
    __m256 c0[MR], c1[MR];
    prefetch_tile(c, ldc, MR);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++, a += MR, b += 16) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (acc) {
            c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(ci));
            c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(ci + 8));
        }
        _mm256_storeu_ps(ci, c0[i]);
        _mm256_storeu_ps(ci + 8, c1[i]);
    }
}

__attribute__((target("avx512f"))) static void kernel_avx512(int kc, const float *a,
                                                             const float *b, float *c,
                                                             int64_t ldc, int acc) {
    enum { MR = 8 };
    __m512 c0[MR], c1[MR];
    prefetch_tile(c, ldc, MR);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++, a += MR, b += 32) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (acc) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(ci));
            c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(ci + 16));
        }
        _mm512_storeu_ps(ci, c0[i]);
        _mm512_storeu_ps(ci + 16, c1[i]);
    }
}

static const gemm_impl g_impls[] = {
    {"avx512", 8, 32, 96, 256, kernel_avx512},
    {"avx2", 6, 16, 96, 256, kernel_avx2},
    {"portable", 4, 16, 64, 128, kernel_portable},
};

static const gemm_impl *impl_get(void) {
    static const gemm_impl *g_impl;
    if (g_impl) return g_impl;
    const char *force = getenv("LLMOS_GEMM");
    int want = 2;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) want = 0;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) want = 1;
    if (force && !strcmp(force, "portable")) want = 2;
    if (force && !strcmp(force, "avx2") && want < 1) want = 1;
    g_impl = &g_impls[want];
    return g_impl;
}

const char *gemm_path(void) { return impl_get()->name; }

/* ---- packing ---- */

/* the 8 x 8 transpose of 32-bit words: in r[i][j] (row i, pair j),
 * out o[j][i] stored at dst + j * stride (in words) */
__attribute__((target("avx2"))) static inline void store_transposed8(uint32_t *dst, int64_t stride, const __m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int j = 0; j < 4; j++) {
        _mm256_storeu_si256((__m256i *)(dst + j * stride), _mm256_permute2x128_si256(u[j], u[j + 4], 0x20));
        _mm256_storeu_si256((__m256i *)(dst + (j + 4) * stride), _mm256_permute2x128_si256(u[j], u[j + 4], 0x31));
    }
}

/* 8 rows of floats along k (row i at src + i * rs): dst[k * stride + i]
 * for k < kc, by 8 x 8 transposes. Only for CPUs with AVX2 (the AVX-512
 * path, whose strips are 8 rows and 32 columns, uses it). */
__attribute__((target("avx2"))) static void pack8f_along_k(float *dst, int64_t stride,
                                                         const float *src, int64_t rs, int kc) {
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256i r[8];
        for (int i = 0; i < 8; i++) r[i] = _mm256_castps_si256(_mm256_loadu_ps(src + i * rs + k));
        store_transposed8((uint32_t *)(dst + k * stride), stride, r);
    }
    for (; k < kc; k++)
        for (int i = 0; i < 8; i++) dst[k * stride + i] = src[i * rs + k];
}

/* Ap: strips of MR rows of op(A)[m0 .. m0+mc)[k0 .. k0+kc), k-major, zero padded. */
static void pack_a(float *Ap, const float *A, int64_t rs, int64_t cs, int m0, int mc, int k0,
                   int kc, int MR) {
    const int strips = (mc + MR - 1) / MR;
#pragma omp for schedule(static)
    for (int p = 0; p < strips; p++) {
        float *dst = Ap + (size_t)p * MR * kc;
        const int rows = MIN(MR, mc - p * MR);
        if (MR == 8 && rows == 8 && cs == 1) { /* the AVX-512 path's full strips */
            pack8f_along_k(dst, 8, A + (int64_t)(m0 + p * 8) * rs + k0, rs, kc);
        } else if (MR == 8 && rows == 8 && rs == 1) {
            for (int k = 0; k < kc; k++) memcpy(dst + k * 8, A + (int64_t)(k0 + k) * cs + m0 + p * 8, 32);
        } else if (cs == 1) {
            for (int i = 0; i < rows; i++) {
                const float *src = A + (int64_t)(m0 + p * MR + i) * rs + k0;
                for (int k = 0; k < kc; k++) dst[k * MR + i] = src[k];
            }
        } else {
            for (int k = 0; k < kc; k++) {
                const float *src = A + (int64_t)(k0 + k) * cs + (int64_t)(m0 + p * MR) * rs;
                for (int i = 0; i < rows; i++) dst[k * MR + i] = src[i * rs];
            }
        }
        for (int i = rows; i < MR; i++)
            for (int k = 0; k < kc; k++) dst[k * MR + i] = 0;
    }
}

/* Bp: strips of NR columns of op(B)[k0 .. k0+kc)[n0 .. n0+nc), k-major. */
static void pack_b(float *Bp, const float *B, int64_t rs, int64_t cs, int n0, int nc, int k0,
                   int kc, int NR) {
    const int strips = (nc + NR - 1) / NR;
#pragma omp for schedule(static)
    for (int q = 0; q < strips; q++) {
        float *dst = Bp + (size_t)q * NR * kc;
        const int cols = MIN(NR, nc - q * NR);
        if (NR == 32 && cols == 32 && cs == 1) { /* the AVX-512 path's full strips */
            for (int k = 0; k < kc; k++) memcpy(dst + k * 32, B + (int64_t)(k0 + k) * rs + n0 + q * 32, 128);
        } else if (NR == 32 && cols == 32 && rs == 1) {
            for (int j = 0; j < 32; j += 8)
                pack8f_along_k(dst + j, 32, B + (int64_t)(n0 + q * 32 + j) * cs + k0, cs, kc);
        } else if (cs == 1) {
            for (int k = 0; k < kc; k++) {
                const float *src = B + (int64_t)(k0 + k) * rs + n0 + q * NR;
                for (int j = 0; j < cols; j++) dst[k * NR + j] = src[j];
                for (int j = cols; j < NR; j++) dst[k * NR + j] = 0;
            }
        } else {
            for (int j = 0; j < cols; j++) {
                const float *src = B + (int64_t)(n0 + q * NR + j) * cs + (int64_t)k0 * rs;
                for (int k = 0; k < kc; k++) dst[k * NR + j] = src[k * rs];
            }
            for (int j = cols; j < NR; j++)
                for (int k = 0; k < kc; k++) dst[k * NR + j] = 0;
        }
    }
}

/* ---- bf16 path: operands rounded to bf16 while packing, products summed in
 * float by vdpbf16ps (AVX512_BF16), two k at a time. A strip holds, for
 * each pair of k, the MR (or NR) pairs (x[k], x[k+1]) as 32-bit words. */

#define BF_MR 8
#define BF_NR 32

static inline uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* Vector packing for full strips and an even kc, with AVX512_BF16's own
 * conversion (round to nearest even, as to_bf16). A pair word holds
 * bf16(x[k]) in its low and bf16(x[k+1]) in its high half. Two layouts of
 * the source:
 *   "along k": each strip row (or column) has its k values contiguous;
 *     16 floats of one row give that row's words for 8 consecutive pairs,
 *     and an 8 x 8 transpose of 32-bit words puts 8 rows side by side.
 *   "across": the strip's rows are contiguous at each k; rows k and k+1
 *     convert together and one vpermw interleaves them into pair words. */
#define BF16_TARGET __attribute__((target("avx2,avx512f,avx512bw,avx512bf16")))

/* words of 8 consecutive pairs of x (16 floats) */
BF16_TARGET static inline __m256i pairs8(const float *x) {
    return (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x));
}

/* 8 rows (row i at src + i * rs) along k: dst[kp * stride + i] for kp < kc2 */
BF16_TARGET static void pack8_along_k(uint32_t *dst, int64_t stride, const float *src, int64_t rs,
                                      int kc2) {
    int kp = 0;
    for (; kp + 8 <= kc2; kp += 8) {
        __m256i r[8];
        for (int i = 0; i < 8; i++) r[i] = pairs8(src + i * rs + 2 * kp);
        store_transposed8(dst + kp * stride, stride, r);
    }
    for (; kp < kc2; kp++)
        for (int i = 0; i < 8; i++)
            dst[kp * stride + i] = (uint32_t)to_bf16(src[i * rs + 2 * kp]) |
                                   (uint32_t)to_bf16(src[i * rs + 2 * kp + 1]) << 16;
}

/* 16 values at k (lo) and k+1 (hi): their 16 pair words */
BF16_TARGET static inline __m512i pairs16(__m512 lo, __m512 hi) {
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                         23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}

/* two runs of 8 floats as one vector */
BF16_TARGET static inline __m512 join8(const float *a, const float *b) {
    const __m512d lo = _mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(a)));
    return _mm512_castpd_ps(_mm512_insertf64x4(lo, _mm256_castps_pd(_mm256_loadu_ps(b)), 1));
}

BF16_TARGET static void pack_a_bf16_fast(uint32_t *dst, const float *A, int64_t rs, int64_t cs,
                                         int m0, int k0, int kc2) {
    if (cs == 1) {
        pack8_along_k(dst, BF_MR, A + (int64_t)m0 * rs + k0, rs, kc2);
    } else { /* rs == 1: the MR rows of a k are contiguous; two pairs at a time */
        int kp = 0;
        for (; kp + 2 <= kc2; kp += 2) {
            const float *r0 = A + (int64_t)(k0 + 2 * kp) * cs + m0;
            _mm512_storeu_si512(dst + kp * BF_MR,
                                pairs16(join8(r0, r0 + 2 * cs), join8(r0 + cs, r0 + 3 * cs)));
        }
        for (; kp < kc2; kp++) {
            const float *r0 = A + (int64_t)(k0 + 2 * kp) * cs + m0, *r1 = r0 + cs;
            for (int i = 0; i < BF_MR; i++)
                dst[kp * BF_MR + i] = (uint32_t)to_bf16(r0[i]) | (uint32_t)to_bf16(r1[i]) << 16;
        }
    }
}

BF16_TARGET static void pack_b_bf16_fast(uint32_t *dst, const float *B, int64_t rs, int64_t cs,
                                         int n0, int k0, int kc2) {
    if (cs == 1) {
        for (int kp = 0; kp < kc2; kp++) {
            const float *r0 = B + (int64_t)(k0 + 2 * kp) * rs + n0, *r1 = r0 + rs;
            _mm512_storeu_si512(dst + kp * BF_NR, pairs16(_mm512_loadu_ps(r0), _mm512_loadu_ps(r1)));
            _mm512_storeu_si512(dst + kp * BF_NR + 16,
                                pairs16(_mm512_loadu_ps(r0 + 16), _mm512_loadu_ps(r1 + 16)));
        }
    } else { /* rs == 1: column j's k values are contiguous */
        for (int j = 0; j < BF_NR; j += 8)
            pack8_along_k(dst + j, BF_NR, B + (int64_t)(n0 + j) * cs + k0, cs, kc2);
    }
}

static void pack_a_bf16(uint16_t *Ap, const float *A, int64_t rs, int64_t cs, int mc, int k0,
                        int kc) {
    const int strips = (mc + BF_MR - 1) / BF_MR, kc2 = (kc + 1) / 2;
#pragma omp for schedule(static)
    for (int p = 0; p < strips; p++) {
        uint16_t *dst = Ap + (size_t)p * BF_MR * 2 * kc2;
        const int rows = MIN(BF_MR, mc - p * BF_MR);
        if (rows == BF_MR && kc % 2 == 0 && (cs == 1 || rs == 1)) {
            pack_a_bf16_fast((uint32_t *)dst, A, rs, cs, p * BF_MR, k0, kc2);
            continue;
        }
        for (int kp = 0; kp < kc2; kp++)
            for (int i = 0; i < BF_MR; i++)
                for (int h = 0; h < 2; h++) {
                    const int k = 2 * kp + h;
                    dst[(kp * BF_MR + i) * 2 + h] =
                        i < rows && k < kc ? to_bf16(A[(int64_t)(p * BF_MR + i) * rs + (int64_t)(k0 + k) * cs]) : 0;
                }
    }
}

static void pack_b_bf16(uint16_t *Bp, const float *B, int64_t rs, int64_t cs, int n0, int nc,
                        int k0, int kc) {
    const int strips = (nc + BF_NR - 1) / BF_NR, kc2 = (kc + 1) / 2;
#pragma omp for schedule(static)
    for (int q = 0; q < strips; q++) {
        uint16_t *dst = Bp + (size_t)q * BF_NR * 2 * kc2;
        const int cols = MIN(BF_NR, nc - q * BF_NR);
        if (cols == BF_NR && kc % 2 == 0 && (cs == 1 || rs == 1)) {
            pack_b_bf16_fast((uint32_t *)dst, B, rs, cs, n0 + q * BF_NR, k0, kc2);
            continue;
        }
        for (int kp = 0; kp < kc2; kp++)
            for (int h = 0; h < 2; h++) {
                const int k = 2 * kp + h;
                for (int j = 0; j < BF_NR; j++)
                    dst[(kp * BF_NR + j) * 2 + h] =
                        j < cols && k < kc ? to_bf16(B[(int64_t)(k0 + k) * rs + (int64_t)(n0 + q * BF_NR + j) * cs]) : 0;
            }
    }
}

__attribute__((target("avx512f,avx512bf16"))) static void kernel_avx512bf16(
    int kc2, const uint16_t *a, const uint16_t *b, float *c, int64_t ldc, int acc) {
    __m512 c0[BF_MR], c1[BF_MR];
    prefetch_tile(c, ldc, BF_MR);
#pragma GCC unroll 8
    for (int i = 0; i < BF_MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int kp = 0; kp < kc2; kp++, a += 2 * BF_MR, b += 2 * BF_NR) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 32);
#pragma GCC unroll 8
        for (int i = 0; i < BF_MR; i++) {
            int32_t w;
            memcpy(&w, a + 2 * i, 4);
            const __m512bh ai = (__m512bh)_mm512_set1_epi32(w);
            c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
            c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < BF_MR; i++) {
        float *ci = c + i * ldc;
        if (acc) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(ci));
            c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(ci + 16));
        }
        _mm512_storeu_ps(ci, c0[i]);
        _mm512_storeu_ps(ci + 16, c1[i]);
    }
}

static int g_bf16;

int gemm_set_bf16(int on) {
    __builtin_cpu_init();
    const int ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512bf16");
    g_bf16 = on && ok;
    return on && !ok ? -1 : 0;
}

int gemm_bf16(void) { return g_bf16; }

/* ---- driver ---- */

/* The part of C (M x nc) the calling OpenMP thread computes: an equal share
 * of the MR-row strips (all columns), or of the NR-column strips when there
 * are too few row strips to share well. The split depends only on the sizes
 * and the thread count, and each element of C is still summed by one
 * thread in k order, so results do not depend on it. */
static void thread_region(int M, int nc, int MR, int NR, int *r0, int *r1, int *c0, int *c1) {
    const int nth = omp_get_num_threads(), me = omp_get_thread_num();
    const int S = (M + MR - 1) / MR, Q = (nc + NR - 1) / NR;
    *r0 = 0, *r1 = M, *c0 = 0, *c1 = nc;
    if (nth == 1) return;
    if (S >= 4 * nth || S >= Q) {
        *r0 = MIN(M, (int)((int64_t)S * me / nth) * MR);
        *r1 = MIN(M, (int)((int64_t)S * (me + 1) / nth) * MR);
    } else {
        *c0 = MIN(nc, (int)((int64_t)Q * me / nth) * NR);
        *c1 = MIN(nc, (int)((int64_t)Q * (me + 1) / nth) * NR);
    }
}

static float *g_apack, *g_bpack;
static size_t g_apack_n, g_bpack_n;

static float *buf_reserve(float **p, size_t *have, size_t n) {
    if (n > *have) {
        free(*p);
        *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
        LLMOS_ASSERT(*p);
        *have = n;
    }
    return *p;
}

/* The bf16 twin of the driver below: same blocking and static tiling, K
 * slices of GEMM_KC (an even number) consumed two at a time. */
static void gemm_bf16_driver(int M, int N, int K, const float *A, int64_t a_rs, int64_t a_cs,
                             const float *B, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc,
                             int accumulate) {
    const int MC = 96, TN = 256;
    const int mpad = (M + BF_MR - 1) / BF_MR * BF_MR;
    const int nc_max = MIN(N, GEMM_NC);
    uint16_t *Ap = (uint16_t *)buf_reserve(&g_apack, &g_apack_n, (size_t)mpad * GEMM_KC / 2 + 64);
    uint16_t *Bp = (uint16_t *)buf_reserve(&g_bpack, &g_bpack_n,
                                           (size_t)((nc_max + BF_NR - 1) / BF_NR * BF_NR) * GEMM_KC / 2 + 64);
#pragma omp parallel if ((double)M * N * K >= 262144.0)
    {
        float tmp[BF_MR * BF_NR] __attribute__((aligned(64)));
        for (int jc = 0; jc < N; jc += GEMM_NC) {
            const int nc = MIN(GEMM_NC, N - jc);
            for (int pc = 0; pc < K; pc += GEMM_KC) {
                const int kc = MIN(GEMM_KC, K - pc), kc2 = (kc + 1) / 2;
                const int acc = accumulate || pc > 0;
#pragma omp barrier /* everyone is done with the previous panels */
                pack_b_bf16(Bp, B, b_rs, b_cs, jc, nc, pc, kc);
                pack_a_bf16(Ap, A, a_rs, a_cs, M, pc, kc);
                int r0, r1, c0, c1;
                thread_region(M, nc, BF_MR, BF_NR, &r0, &r1, &c0, &c1);
                for (int i0 = r0; i0 < r1; i0 += MC)
                for (int j0 = c0; j0 < c1; j0 += TN) {
                    const int i1 = MIN(r1, i0 + MC), j1 = MIN(c1, j0 + TN);
                    for (int jr = j0; jr < j1; jr += BF_NR) {
                        const uint16_t *bp = Bp + (size_t)(jr / BF_NR) * BF_NR * 2 * kc2;
                        const int cols = MIN(BF_NR, j1 - jr);
                        for (int ir = i0; ir < i1; ir += BF_MR) {
                            const uint16_t *ap = Ap + (size_t)(ir / BF_MR) * BF_MR * 2 * kc2;
                            const int rows = MIN(BF_MR, i1 - ir);
                            float *c = C + (int64_t)ir * ldc + jc + jr;
                            if (rows == BF_MR && cols == BF_NR) {
                                kernel_avx512bf16(kc2, ap, bp, c, ldc, acc);
                            } else {
                                kernel_avx512bf16(kc2, ap, bp, tmp, BF_NR, 0);
                                for (int i = 0; i < rows; i++)
                                    for (int j = 0; j < cols; j++)
                                        c[(int64_t)i * ldc + j] = acc
                                            ? c[(int64_t)i * ldc + j] + tmp[i * BF_NR + j]
                                            : tmp[i * BF_NR + j];
                            }
                        }
                    }
                }
            }
        }
    }
}

void gemm_f32(int M, int N, int K, const float *A, int64_t a_rs, int64_t a_cs, const float *B,
              int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(C + (int64_t)i * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    const gemm_impl *im = impl_get();
    if (g_bf16) {
        gemm_bf16_driver(M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, accumulate);
        return;
    }
    const int MR = im->mr, NR = im->nr, MC = im->mc, TN = im->tile_n;
    const int mpad = (M + MR - 1) / MR * MR;
    const int nc_max = MIN(N, GEMM_NC);
    float *Ap = buf_reserve(&g_apack, &g_apack_n, (size_t)mpad * GEMM_KC);
    float *Bp = buf_reserve(&g_bpack, &g_bpack_n, (size_t)((nc_max + NR - 1) / NR * NR) * GEMM_KC);

#pragma omp parallel if ((double)M * N * K >= 262144.0)
    {
        float tmp[GEMM_MAX_MR * GEMM_MAX_NR] __attribute__((aligned(64)));
        for (int jc = 0; jc < N; jc += GEMM_NC) {
            const int nc = MIN(GEMM_NC, N - jc);
            for (int pc = 0; pc < K; pc += GEMM_KC) {
                const int kc = MIN(GEMM_KC, K - pc);
                const int acc = accumulate || pc > 0;
#pragma omp barrier /* everyone is done with the previous panels */
                pack_b(Bp, B, b_rs, b_cs, jc, nc, pc, kc, NR);
                pack_a(Ap, A, a_rs, a_cs, 0, M, pc, kc, MR);
                /* implicit barrier after each omp for */
                int r0, r1, c0, c1;
                thread_region(M, nc, MR, NR, &r0, &r1, &c0, &c1);
                for (int i0 = r0; i0 < r1; i0 += MC)
                for (int j0 = c0; j0 < c1; j0 += TN) {
                    const int i1 = MIN(r1, i0 + MC), j1 = MIN(c1, j0 + TN);
                    for (int jr = j0; jr < j1; jr += NR) {
                        const float *bp = Bp + (size_t)(jr / NR) * NR * kc;
                        const int cols = MIN(NR, j1 - jr);
                        for (int ir = i0; ir < i1; ir += MR) {
                            const float *ap = Ap + (size_t)(ir / MR) * MR * kc;
                            const int rows = MIN(MR, i1 - ir);
                            float *c = C + (int64_t)ir * ldc + jc + jr;
                            if (rows == MR && cols == NR) {
                                im->kernel(kc, ap, bp, c, ldc, acc);
                            } else {
                                im->kernel(kc, ap, bp, tmp, NR, 0);
                                for (int i = 0; i < rows; i++)
                                    for (int j = 0; j < cols; j++)
                                        c[(int64_t)i * ldc + j] = acc
                                            ? c[(int64_t)i * ldc + j] + tmp[i * NR + j]
                                            : tmp[i * NR + j];
                            }
                        }
                    }
                }
            }
        }
    }
}

void gemm_nt(float *y, const float *x, const float *W, int N, int I, int O, int accumulate) {
    /* op(A) = x (N, I); op(B)[k][n] = W[n][k] */
    gemm_f32(N, O, I, x, I, 1, W, 1, I, y, O, accumulate);
}

void gemm_nn(float *dx, const float *dy, const float *W, int N, int I, int O, int accumulate) {
    /* op(A) = dy (N, O); op(B) = W (O, I) */
    gemm_f32(N, I, O, dy, O, 1, W, I, 1, dx, I, accumulate);
}

void gemm_tn(float *dW, const float *dy, const float *x, int N, int I, int O, int accumulate) {
    /* op(A)[o][n] = dy[n][o]; op(B) = x (N, I) */
    gemm_f32(O, I, N, dy, 1, O, x, I, 1, dW, I, accumulate);
}

void gemm_f32_ref(int M, int N, int K, const float *A, int64_t a_rs, int64_t a_cs,
                  const float *B, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc,
                  int accumulate) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = accumulate ? C[(int64_t)m * ldc + n] : 0;
            for (int k = 0; k < K; k++)
                s += (double)A[m * a_rs + k * a_cs] * B[k * b_rs + n * b_cs];
            C[(int64_t)m * ldc + n] = (float)s;
        }
}

/* ---- peak ---- */

__attribute__((target("avx512f"))) static float peak_loop_avx512(long iters) {
    __m512 acc[12];
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
    }
    __m512 s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float peak_loop_avx2(long iters) {
    __m256 acc[12];
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
    }
    float out[8];
    __m256 s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

/* CPU seconds of the calling thread: the peak is measured per thread on CPU
 * time, so a machine shared with other work still gives its real peak. */
static double thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double gemm_peak_gflops(int threads) {
    const gemm_impl *im = impl_get();
    const int lanes = im->kernel == kernel_avx512 ? 16 : im->kernel == kernel_avx2 ? 8 : 4;
    const long iters = 2000000;
    volatile float sink = 0;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double slowest = 0;
#pragma omp parallel num_threads(threads)
        {
            const double t0 = thread_cpu_seconds();
            float r = lanes == 16 ? peak_loop_avx512(iters) : lanes == 8 ? peak_loop_avx2(iters) : 0;
            const double dt = thread_cpu_seconds() - t0;
#pragma omp critical
            {
                sink += r;
                if (dt > slowest) slowest = dt;
            }
        }
        const double gf = (double)threads * iters * 12 * lanes * 2 / slowest / 1e9;
        if (gf > best) best = gf;
    }
    (void)sink;
    return lanes == 4 ? 8.0 * threads : best;
}
