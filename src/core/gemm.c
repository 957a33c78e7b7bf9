/*
 * gemm.c - packed, cache-blocked, OpenMP-parallel fp32 GEMM for training
 * (see gemm.h for the contract).
 *
 * Blocking (Goto/BLIS style): for each NC-wide column block of C and each
 * KC-deep slice of K, op(B) is packed into NR-column strips and op(A) (all M
 * rows) into MR-row strips, each strip k-major so that the micro-kernel
 * reads both operands sequentially. C is then cut into tiles of MC rows x
 * TILE_N columns that the threads take in a fixed (static) order; inside a
 * tile, one B strip (KC x NR, ~32 KB) stays in L1 while the kernel walks
 * down the MC rows of A (in L2). Edge tiles are computed into a small
 * scratch tile and the valid part copied out, so the kernels only ever see
 * full MR x NR tiles.
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

/* Ap: strips of MR rows of op(A)[m0 .. m0+mc)[k0 .. k0+kc), k-major, zero padded. */
static void pack_a(float *Ap, const float *A, int64_t rs, int64_t cs, int m0, int mc, int k0,
                   int kc, int MR) {
    const int strips = (mc + MR - 1) / MR;
#pragma omp for schedule(static)
    for (int p = 0; p < strips; p++) {
        float *dst = Ap + (size_t)p * MR * kc;
        const int rows = MIN(MR, mc - p * MR);
        if (cs == 1) {
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
        if (cs == 1) {
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

/* ---- driver ---- */

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

void gemm_f32(int M, int N, int K, const float *A, int64_t a_rs, int64_t a_cs, const float *B,
              int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(C + (int64_t)i * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    const gemm_impl *im = impl_get();
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
                pack_b(Bp, B, b_rs, b_cs, jc, nc, pc, kc, NR);
                pack_a(Ap, A, a_rs, a_cs, 0, M, pc, kc, MR);
                /* implicit barrier after each omp for */
                const int tm = (M + MC - 1) / MC, tn = (nc + TN - 1) / TN;
#pragma omp for schedule(static)
                for (int t = 0; t < tm * tn; t++) {
                    const int i0 = (t / tn) * MC, j0 = (t % tn) * TN;
                    const int i1 = MIN(M, i0 + MC), j1 = MIN(nc, j0 + TN);
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
