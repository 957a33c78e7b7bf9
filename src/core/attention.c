/*
 * attention.c - causal attention of one head through a small register-tiled
 * product (see attention.h).
 *
 * The one kernel: C (R x W) (+)= op(A) (R x K) . B (K x W) with R <= 8,
 * W <= 32, op(A)[r][k] = A[r * a_rs + k * a_cs] (so A may be read
 * transposed, as P^T and dS^T are) and B row-major with stride ldb. Each k
 * step loads one row of B (two vectors) and broadcasts the R values of A's
 * column k: 16 FMAs for 10 loads, the accumulators never leave registers.
 * Rows past R repeat row 0 (their results are dropped); columns past W are
 * masked, so the kernel never reads outside its operands.
 */
#include "attention.h"

#include "common.h"
#include "vecmath.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define TILE_R 8
#define TILE_W 32

typedef void (*tile_fn)(int R, int W, int K, const float *A, int64_t a_rs, int64_t a_cs,
                        const float *B, int64_t ldb, float *C, int64_t ldc, int acc);

static void tile_portable(int R, int W, int K, const float *A, int64_t a_rs, int64_t a_cs,
                          const float *B, int64_t ldb, float *C, int64_t ldc, int acc) {
    float t[TILE_R][TILE_W] = {{0}};
    for (int k = 0; k < K; k++, A += a_cs, B += ldb)
        for (int r = 0; r < R; r++) {
            const float a = A[r * a_rs];
            for (int j = 0; j < W; j++) t[r][j] += a * B[j];
        }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < W; j++) C[r * ldc + j] = acc ? C[r * ldc + j] + t[r][j] : t[r][j];
}

static inline __mmask16 lanes(int w) {
    return w >= 16 ? 0xffff : w <= 0 ? 0 : (__mmask16)((1u << w) - 1);
}

__attribute__((target("avx512f"))) static void tile_avx512(int R, int W, int K, const float *A,
                                                           int64_t a_rs, int64_t a_cs,
                                                           const float *B, int64_t ldb, float *C,
                                                           int64_t ldc, int acc) {
    const __mmask16 m0 = lanes(W), m1 = lanes(W - 16);
    for (int r = 0; r < R; r++) { /* C is touched after the k loop: fetch it meanwhile */
        __asm__ volatile("prefetcht0 %0" ::"m"(*(const char *)(C + r * ldc)));
        __asm__ volatile("prefetcht0 %0" ::"m"(*(const char *)(C + r * ldc + W - 1)));
    }
    int64_t off[TILE_R];
    for (int r = 0; r < TILE_R; r++) off[r] = (r < R ? r : 0) * a_rs;
    __m512 c0[TILE_R], c1[TILE_R];
#pragma GCC unroll 8
    for (int r = 0; r < TILE_R; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    if (m1) {
        for (int k = 0; k < K; k++, A += a_cs, B += ldb) {
            const __m512 b0 = _mm512_maskz_loadu_ps(m0, B), b1 = _mm512_maskz_loadu_ps(m1, B + 16);
#pragma GCC unroll 8
            for (int r = 0; r < TILE_R; r++) {
                const __m512 a = _mm512_set1_ps(A[off[r]]);
                c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
                c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
            }
        }
    } else {
        /* W <= 16: two independent chains per row over even and odd k */
        int k = 0;
        for (; k + 1 < K; k += 2, A += 2 * a_cs, B += 2 * ldb) {
            const __m512 b0 = _mm512_maskz_loadu_ps(m0, B), b1 = _mm512_maskz_loadu_ps(m0, B + ldb);
#pragma GCC unroll 8
            for (int r = 0; r < TILE_R; r++) {
                c0[r] = _mm512_fmadd_ps(_mm512_set1_ps(A[off[r]]), b0, c0[r]);
                c1[r] = _mm512_fmadd_ps(_mm512_set1_ps(A[off[r] + a_cs]), b1, c1[r]);
            }
        }
        if (k < K) {
            const __m512 b0 = _mm512_maskz_loadu_ps(m0, B);
#pragma GCC unroll 8
            for (int r = 0; r < TILE_R; r++) c0[r] = _mm512_fmadd_ps(_mm512_set1_ps(A[off[r]]), b0, c0[r]);
        }
#pragma GCC unroll 8
        for (int r = 0; r < TILE_R; r++) c0[r] = _mm512_add_ps(c0[r], c1[r]), c1[r] = _mm512_setzero_ps();
    }
    /* constant indices only (an unrolled loop with a guard), so the
     * accumulators stay in registers */
#pragma GCC unroll 8
    for (int r = 0; r < TILE_R; r++) {
        if (r >= R) break;
        float *cr = C + r * ldc;
        __m512 v0 = c0[r], v1 = c1[r];
        if (acc) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

static tile_fn tile_get(void) {
    return !strcmp(vec_path(), "avx512") ? tile_avx512 : tile_portable;
}

/* C (R x N) (+)= op(A) (R x K) . B (K x N), in 32-column tiles. */
static void rows_mm(tile_fn tile, int R, int N, int K, const float *A, int64_t a_rs, int64_t a_cs,
                    const float *B, int64_t ldb, float *C, int64_t ldc, int acc) {
    for (int j = 0; j < N; j += TILE_W)
        tile(R, MIN(TILE_W, N - j), K, A, a_rs, a_cs, B + j, ldb, C + j, ldc, acc);
}

size_t attn_scratch_floats(int T, int D) { return (size_t)D * T + (size_t)T * T; }

/* xT (D, T) = x (T, D) with row stride ld */
static void transpose(float *xT, const float *x, int64_t ld, int T, int D) {
    for (int s = 0; s < T; s++)
        for (int i = 0; i < D; i++) xT[(size_t)i * T + s] = x[s * ld + i];
}

void attn_head_fwd(float *y, int64_t ldy, float *att, const float *q, int64_t ldq,
                   const float *k, const float *v, int64_t ldkv, int T, int D, float *scratch) {
    const tile_fn tile = tile_get();
    const float scale = 1.0f / sqrtf((float)D);
    float *kT = scratch;
    transpose(kT, k, ldkv, T, D);
    for (int t0 = 0; t0 < T; t0 += TILE_R) {
        const int R = MIN(TILE_R, T - t0), n = t0 + R; /* rows t0 .. n-1 see s < n */
        float *a = att + (size_t)t0 * T;
        rows_mm(tile, R, n, D, q + t0 * ldq, ldq, 1, kT, T, a, T, 0);
        for (int r = 0; r < R; r++) {
            float *row = a + (size_t)r * T;
            const int len = t0 + r + 1;
            const float mx = vec_max(row, len);
            const float sum = vec_exp_sum(row, len, scale, mx * scale);
            vec_scale(row, len, 1.0f / sum);
            memset(row + len, 0, (size_t)(T - len) * sizeof(float));
        }
        rows_mm(tile, R, D, n, a, T, 1, v, ldkv, y + t0 * ldy, ldy, 0);
    }
}

void attn_head_bwd(float *dq, int64_t ldq, float *dk, float *dv, int64_t ldkv, const float *dy,
                   int64_t ldy, const float *q, const float *k, const float *v, const float *att,
                   int T, int D, int accumulate, float *scratch) {
    const tile_fn tile = tile_get();
    const float scale = 1.0f / sqrtf((float)D);
    float *vT = scratch, *ds = scratch + (size_t)D * T; /* ds (T, T) */
    transpose(vT, v, ldkv, T, D);
    for (int t0 = 0; t0 < T; t0 += TILE_R) {
        const int R = MIN(TILE_R, T - t0), n = t0 + R;
        float *d = ds + (size_t)t0 * T;
        /* dP = dy v^T, then dS through the softmax; zero above the diagonal */
        rows_mm(tile, R, n, D, dy + t0 * ldy, ldy, 1, vT, T, d, T, 0);
        for (int r = 0; r < R; r++) {
            const int len = t0 + r + 1;
            vec_softmax_bwd(d + (size_t)r * T, att + (size_t)(t0 + r) * T, len, scale);
            memset(d + (size_t)r * T + len, 0, (size_t)(n - len) * sizeof(float));
        }
        rows_mm(tile, R, D, n, d, T, 1, k, ldkv, dq + t0 * ldq, ldq, 0); /* dq = dS k */
    }
    /* rows s0.. of dv and dk: sums over t >= s0 of P[t][s] dy[t] and dS[t][s] q[t] */
    for (int s0 = 0; s0 < T; s0 += TILE_R) {
        const int R = MIN(TILE_R, T - s0), K = T - s0;
        rows_mm(tile, R, D, K, att + (size_t)s0 * T + s0, 1, T, dy + s0 * ldy, ldy, dv + s0 * ldkv,
                ldkv, accumulate);
        rows_mm(tile, R, D, K, ds + (size_t)s0 * T + s0, 1, T, q + s0 * ldq, ldq, dk + s0 * ldkv,
                ldkv, accumulate);
    }
}
