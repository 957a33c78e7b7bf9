/*
 * kernels_x86.c - the x86-64 fast paths of matmul: AVX2 (+FMA, F16C),
 * AVX-512 (F, BW, VL), AVX-512 VNNI and AVX-512 BF16. Each path is compiled
 * with its own target pragma and handed out only when the CPU reports every
 * feature it needs, so the rest of the binary stays baseline x86-64.
 *
 * Every kernel computes a tile of R weight rows x T tokens, keeping the
 * R x T partial sums in registers over the whole row (the dot-product form
 * of a GEMM): each weight vector loaded is used T times and each activation
 * vector R times. Generation (n = 1) runs R x 1 tiles and is bound by the
 * speed weights stream from memory; prompt processing runs R x T tiles over
 * blocks of tokens small enough to stay in the L2 cache.
 *
 * Quantized weights (q8_0, q4_0) meet activations quantized to q8_0 blocks
 * (layout in kernels_impl.h). With VNNI, vpdpbusd multiplies unsigned bytes
 * by signed bytes: q4_0 nibbles are already unsigned and q8_0 weights are
 * made unsigned by adding 128; the activation row carries the per-lane sums
 * that undo the shift (-8 or -128 times the sum of the 4 activations), used
 * as the starting value of each dot product. Each 512-bit vector covers two
 * blocks; the block scales are spread to the lanes of their block.
 */
#include "kernels_impl.h"

#include "common.h"
#include "types.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

enum { KT_F32, KT_F16, KT_BF16 }; /* float-like weight types */

/* Calls TILE(R, t, args...) with t, a run-time count 1..TMAX, made a
 * compile-time constant. */
#define TILE_SWITCH6(TILE, R, t, ...)                                                              \
    switch (t) {                                                                                   \
    case 1: TILE(R, 1, __VA_ARGS__); break;                                                        \
    case 2: TILE(R, 2, __VA_ARGS__); break;                                                        \
    case 3: TILE(R, 3, __VA_ARGS__); break;                                                        \
    case 4: TILE(R, 4, __VA_ARGS__); break;                                                        \
    case 5: TILE(R, 5, __VA_ARGS__); break;                                                        \
    default: TILE(R, 6, __VA_ARGS__); break;                                                       \
    }
#define TILE_SWITCH4(TILE, R, t, ...)                                                              \
    switch (t) {                                                                                   \
    case 1: TILE(R, 1, __VA_ARGS__); break;                                                        \
    case 2: TILE(R, 2, __VA_ARGS__); break;                                                        \
    case 3: TILE(R, 3, __VA_ARGS__); break;                                                        \
    default: TILE(R, 4, __VA_ARGS__); break;                                                       \
    }
#define TILE_SWITCH2(TILE, R, t, ...)                                                              \
    switch (t) {                                                                                   \
    case 1: TILE(R, 1, __VA_ARGS__); break;                                                        \
    default: TILE(R, 2, __VA_ARGS__); break;                                                       \
    }

/* Token blocks for prompt processing: the activations of one block of
 * tokens stay in L2 while every weight row of the thread streams past. */
#define TOKEN_BLOCK 48

static uint16_t ld_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static float w_elem(int kt, const char *row, int64_t k) {
    if (kt == KT_F32) {
        float f;
        memcpy(&f, row + 4 * k, 4);
        return f;
    }
    uint16_t h = ld_u16(row + 2 * k);
    return kt == KT_F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
}

/* ================================================================== AVX2 */
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __attribute__((always_inline)) __m256 ld8(int kt, const char *row, int64_t k) {
    if (kt == KT_F32) return _mm256_loadu_ps((const float *)row + k);
    __m128i h = _mm_loadu_si128((const __m128i *)(row + 2 * k));
    if (kt == KT_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static inline __attribute__((always_inline)) void tile_avx2(int kt, int R, int T, const char *w,
                                                            size_t wrb, const char *x, size_t xs,
                                                            int64_t K, float *out, int64_t ldo) {
    __m256 acc[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 wv[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = ld8(kt, w + r * wrb, k);
#pragma GCC unroll 2
        for (int t = 0; t < T; t++) {
            __m256 xv = _mm256_loadu_ps((const float *)(x + t * xs) + k);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) {
            float s = hsum256(acc[r][t]);
            const float *xt = (const float *)(x + t * xs);
            for (int64_t j = k; j < K; j++) s += w_elem(kt, w + r * wrb, j) * xt[j];
            out[t * ldo + r] = s;
        }
}

#define TILE_AVX2(R, T, kt, w, wrb, x, xs, K, out, ldo) tile_avx2(kt, R, T, w, wrb, x, xs, K, out, ldo)

static inline __attribute__((always_inline)) void mm_float_avx2(int kt, float *out, int64_t ldo,
                                                                const void *xv, size_t xs,
                                                                const matrix *w, int n, int64_t r0,
                                                                int64_t r1) {
    const int64_t K = w->cols;
    const size_t wrb = type_row_bytes(w->type, K);
    const char *W = w->data, *X = xv;
    for (int t0 = 0; t0 < n; t0 += TOKEN_BLOCK) {
        int t1 = MIN(n, t0 + TOKEN_BLOCK);
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4)
            for (int t = t0; t < t1; t += 2)
                TILE_SWITCH2(TILE_AVX2, 4, t1 - t, kt, W + r * wrb, wrb, X + t * xs, xs, K,
                             out + t * ldo + r, ldo);
        for (; r < r1; r++)
            for (int t = t0; t < t1; t += 2)
                TILE_SWITCH2(TILE_AVX2, 1, t1 - t, kt, W + r * wrb, wrb, X + t * xs, xs, K,
                             out + t * ldo + r, ldo);
    }
}

static void mm_f32_avx2(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                        int64_t r0, int64_t r1) {
    mm_float_avx2(KT_F32, out, ldo, x, xs, w, n, r0, r1);
}
static void mm_f16_avx2(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                        int64_t r0, int64_t r1) {
    mm_float_avx2(KT_F16, out, ldo, x, xs, w, n, r0, r1);
}
static void mm_bf16_avx2(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                         int64_t r0, int64_t r1) {
    mm_float_avx2(KT_BF16, out, ldo, x, xs, w, n, r0, r1);
}

/* Quantized weights, one row against one token: 8 int32 lanes per block
 * from vpmaddubsw (unsigned x signed bytes to int16 pairs) and vpmaddwd. */
static inline __m256i dot_u8s8_avx2(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

static float dot_q8_0_avx2(const uint8_t *wr, const uint8_t *x, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = wr + b * sizeof(block_q8_0);
        const uint8_t *slot = x + (b / 2) * XQ_SLOT_BYTES + (b % 2) * 32;
        __m256i W = _mm256_loadu_si256((const __m256i *)(wb + 2));
        __m256i X = _mm256_load_si256((const __m256i *)slot);
        /* |w| times x with w's sign: unsigned x signed, as maddubs wants. */
        __m256i I = dot_u8s8_avx2(_mm256_sign_epi8(W, W), _mm256_sign_epi8(X, W));
        float dx;
        memcpy(&dx, slot + 128, 4);
        __m256 s = _mm256_set1_ps(fp16_to_fp32(ld_u16(wb)) * dx);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(I), s, acc);
    }
    return hsum256(acc);
}

static float dot_q4_0_avx2(const uint8_t *wr, const uint8_t *x, int64_t nb) {
    const __m256i lo = _mm256_set1_epi8(0x0f);
    const __m256i half_idx = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    __m256 acc = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) { /* a pair, activations in unpack order */
        const uint8_t *w0 = wr + b * sizeof(block_q4_0), *w1 = w0 + sizeof(block_q4_0);
        const uint8_t *slot = x + (b / 2) * XQ_SLOT_BYTES;
        __m256i Y = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(w0 + 2))),
            _mm_loadu_si128((const __m128i *)(w1 + 2)), 1);
        __m256i I0 = _mm256_add_epi32(
            dot_u8s8_avx2(_mm256_and_si256(Y, lo), _mm256_load_si256((const __m256i *)slot)),
            _mm256_load_si256((const __m256i *)(slot + 64)));
        __m256i I1 = _mm256_add_epi32(
            dot_u8s8_avx2(_mm256_and_si256(_mm256_srli_epi16(Y, 4), lo),
                          _mm256_load_si256((const __m256i *)(slot + 32))),
            _mm256_load_si256((const __m256i *)(slot + 96)));
        __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128(ld_u16(w0) | (uint32_t)ld_u16(w1) << 16));
        __m256 s = _mm256_mul_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(dw), half_idx),
                                 _mm256_load_ps((const float *)(slot + 128)));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(I0, I1)), s, acc);
    }
    if (b < nb) { /* a last odd block, natural order */
        const uint8_t *w0 = wr + b * sizeof(block_q4_0);
        const uint8_t *slot = x + (b / 2) * XQ_SLOT_BYTES;
        __m128i q = _mm_loadu_si128((const __m128i *)(w0 + 2));
        __m256i U = _mm256_and_si256(
            _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1), lo);
        __m256i I = _mm256_add_epi32(dot_u8s8_avx2(U, _mm256_load_si256((const __m256i *)slot)),
                                     _mm256_load_si256((const __m256i *)(slot + 64)));
        float dx;
        memcpy(&dx, slot + 128, 4);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(I), _mm256_set1_ps(fp16_to_fp32(ld_u16(w0)) * dx),
                              acc);
    }
    return hsum256(acc);
}

static void mm_q8_0_avx2(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                         int64_t r0, int64_t r1) {
    const int64_t nb = w->cols / QK;
    const size_t wrb = nb * sizeof(block_q8_0);
    for (int64_t r = r0; r < r1; r++)
        for (int t = 0; t < n; t++)
            out[t * ldo + r] =
                dot_q8_0_avx2((const uint8_t *)w->data + r * wrb, (const uint8_t *)x + t * xs, nb);
}

static void mm_q4_0_avx2(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                         int64_t r0, int64_t r1) {
    const int64_t nb = w->cols / QK;
    const size_t wrb = nb * sizeof(block_q4_0);
    for (int64_t r = r0; r < r1; r++)
        for (int t = 0; t < n; t++)
            out[t * ldo + r] =
                dot_q4_0_avx2((const uint8_t *)w->data + r * wrb, (const uint8_t *)x + t * xs, nb);
}

static void act_q8_row_perm(const float *x, void *dst, int64_t cols, tensor_type wtype) {
    act_q8_row(x, dst, cols, wtype, 1);
}

#pragma GCC pop_options

/* =============================================================== AVX-512 */
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

static inline __attribute__((always_inline)) __m512 ld16(int kt, const char *row, int64_t k) {
    if (kt == KT_F32) return _mm512_loadu_ps((const float *)row + k);
    __m256i h = _mm256_loadu_si256((const __m256i *)(row + 2 * k));
    if (kt == KT_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static inline __attribute__((always_inline)) __m512 ld16_mask(int kt, const char *row, int64_t k,
                                                              __mmask16 m) {
    if (kt == KT_F32) return _mm512_maskz_loadu_ps(m, (const float *)row + k);
    __m256i h = _mm256_maskz_loadu_epi16(m, row + 2 * k);
    if (kt == KT_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static inline __attribute__((always_inline)) void tile_512(int kt, int R, int T, const char *w,
                                                           size_t wrb, const char *x, size_t xs,
                                                           int64_t K, float *out, int64_t ldo) {
    __m512 acc[4][6];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 wv[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = ld16(kt, w + r * wrb, k);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            __m512 xv = _mm512_loadu_ps((const float *)(x + t * xs) + k);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        __m512 wv[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) wv[r] = ld16_mask(kt, w + r * wrb, k, m);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, (const float *)(x + t * xs) + k);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) out[t * ldo + r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* Generation: one weight row against one token, four independent sums so
 * that FMA latency never limits the stream. */
static inline __attribute__((always_inline)) float row_512(int kt, const char *w, const float *x,
                                                           int64_t K) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t k = 0;
    for (; k + 64 <= K; k += 64) {
        a0 = _mm512_fmadd_ps(ld16(kt, w, k), _mm512_loadu_ps(x + k), a0);
        a1 = _mm512_fmadd_ps(ld16(kt, w, k + 16), _mm512_loadu_ps(x + k + 16), a1);
        a2 = _mm512_fmadd_ps(ld16(kt, w, k + 32), _mm512_loadu_ps(x + k + 32), a2);
        a3 = _mm512_fmadd_ps(ld16(kt, w, k + 48), _mm512_loadu_ps(x + k + 48), a3);
    }
    for (; k + 16 <= K; k += 16) a0 = _mm512_fmadd_ps(ld16(kt, w, k), _mm512_loadu_ps(x + k), a0);
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        a1 = _mm512_fmadd_ps(ld16_mask(kt, w, k, m), _mm512_maskz_loadu_ps(m, x + k), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

#define TILE_512(R, T, kt, w, wrb, x, xs, K, out, ldo) tile_512(kt, R, T, w, wrb, x, xs, K, out, ldo)

/* Prompt processing: the outer-product form. A panel of 32 weight rows is
 * transposed (and converted to float) once into a buffer that stays in L2:
 * panel[k * 32 + i] = W[r + i][k]. Then for each k, two panel vectors (32
 * rows) times 12 broadcast activations feed 24 FMAs into accumulators that
 * each hold 16 finished outputs: no horizontal sums. */
#define PANEL_ROWS 32
#define GEMM_TOKENS 12

static inline __attribute__((always_inline)) void micro_512(int T, const float *panel,
                                                            const float *x, int64_t xsf, int64_t K,
                                                            float *out, int64_t ldo) {
    __m512 a0[GEMM_TOKENS], a1[GEMM_TOKENS];
#pragma GCC unroll 12
    for (int t = 0; t < T; t++) a0[t] = a1[t] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        __m512 p0 = _mm512_load_ps(panel + k * PANEL_ROWS), p1 = _mm512_load_ps(panel + k * PANEL_ROWS + 16);
#pragma GCC unroll 12
        for (int t = 0; t < T; t++) {
            __m512 xb = _mm512_set1_ps(x[t * xsf + k]);
            a0[t] = _mm512_fmadd_ps(p0, xb, a0[t]);
            a1[t] = _mm512_fmadd_ps(p1, xb, a1[t]);
        }
    }
#pragma GCC unroll 12
    for (int t = 0; t < T; t++) {
        _mm512_storeu_ps(out + t * ldo, a0[t]);
        _mm512_storeu_ps(out + t * ldo + 16, a1[t]);
    }
}

#define MICRO(R, T, panel, x, xsf, K, out, ldo) micro_512(T, panel, x, xsf, K, out, ldo)
#define TILE_SWITCH12(TILE, R, t, ...)                                                             \
    switch (t) {                                                                                   \
    case 1: TILE(R, 1, __VA_ARGS__); break;                                                        \
    case 2: TILE(R, 2, __VA_ARGS__); break;                                                        \
    case 3: TILE(R, 3, __VA_ARGS__); break;                                                        \
    case 4: TILE(R, 4, __VA_ARGS__); break;                                                        \
    case 5: TILE(R, 5, __VA_ARGS__); break;                                                        \
    case 6: TILE(R, 6, __VA_ARGS__); break;                                                        \
    case 7: TILE(R, 7, __VA_ARGS__); break;                                                        \
    case 8: TILE(R, 8, __VA_ARGS__); break;                                                        \
    case 9: TILE(R, 9, __VA_ARGS__); break;                                                        \
    case 10: TILE(R, 10, __VA_ARGS__); break;                                                      \
    case 11: TILE(R, 11, __VA_ARGS__); break;                                                      \
    default: TILE(R, 12, __VA_ARGS__); break;                                                      \
    }

/* r[i] (16 floats each) becomes column i: r[j][i] = old r[i][j]. */
static inline __attribute__((always_inline)) void transpose16(__m512 r[16]) {
    __m512 t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

/* Rows 0..31 of w, transposed into panel (K x 32 floats), 16 x 16 blocks
 * at a time in registers. */
static inline __attribute__((always_inline)) void pack_panel_512(int kt, const char *w, size_t wrb,
                                                                 int64_t K, float *panel) {
    for (int64_t k = 0; k < K; k += 16) {
        const int64_t nk = MIN(16, K - k);
        const __mmask16 m = (__mmask16)((1u << nk) - 1);
        for (int h = 0; h < 2; h++) {
            __m512 r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                r[i] = nk == 16 ? ld16(kt, w + (16 * h + i) * wrb, k) : ld16_mask(kt, w + (16 * h + i) * wrb, k, m);
            transpose16(r);
            for (int j = 0; j < nk; j++) _mm512_store_ps(panel + (k + j) * PANEL_ROWS + 16 * h, r[j]);
        }
    }
}

static inline __attribute__((always_inline)) void mm_float_512(int kt, float *out, int64_t ldo,
                                                               const void *xv, size_t xs,
                                                               const matrix *w, int n, int64_t r0,
                                                               int64_t r1) {
    const int64_t K = w->cols;
    const size_t wrb = type_row_bytes(w->type, K);
    const char *W = w->data, *X = xv;
    if (n == 1) {
        /* Generation: one row after the other, so the matrix is read as one
         * sequential stream the hardware prefetcher follows (tiles of rows
         * read as interleaved short streams ran at half the bandwidth). */
        for (int64_t r = r0; r < r1; r++) out[r] = row_512(kt, W + r * wrb, xv, K);
        return;
    }
    int64_t r = r0;
    if (r1 - r0 >= PANEL_ROWS) {
        float *panel = aligned_alloc(64, (size_t)K * PANEL_ROWS * sizeof(float));
        LLMOS_ASSERT(panel);
        for (; r + PANEL_ROWS <= r1; r += PANEL_ROWS) {
            pack_panel_512(kt, W + r * wrb, wrb, K, panel);
            for (int t = 0; t < n; t += GEMM_TOKENS)
                TILE_SWITCH12(MICRO, PANEL_ROWS, n - t, panel, (const float *)(X + t * xs),
                              (int64_t)(xs / sizeof(float)), K, out + t * ldo + r, ldo);
        }
        free(panel);
    }
    for (int t0 = 0; t0 < n; t0 += TOKEN_BLOCK) { /* the rows left over */
        int t1 = MIN(n, t0 + TOKEN_BLOCK);
        int64_t rr = r;
        for (; rr + 4 <= r1; rr += 4)
            for (int t = t0; t < t1; t += 6)
                TILE_SWITCH6(TILE_512, 4, t1 - t, kt, W + rr * wrb, wrb, X + t * xs, xs, K,
                             out + t * ldo + rr, ldo);
        for (; rr < r1; rr++)
            for (int t = t0; t < t1; t += 6)
                TILE_SWITCH6(TILE_512, 1, t1 - t, kt, W + rr * wrb, wrb, X + t * xs, xs, K,
                             out + t * ldo + rr, ldo);
    }
}

static void mm_f32_512(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                       int64_t r0, int64_t r1) {
    mm_float_512(KT_F32, out, ldo, x, xs, w, n, r0, r1);
}
static void mm_f16_512(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                       int64_t r0, int64_t r1) {
    mm_float_512(KT_F16, out, ldo, x, xs, w, n, r0, r1);
}
static void mm_bf16_512(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                        int64_t r0, int64_t r1) {
    mm_float_512(KT_BF16, out, ldo, x, xs, w, n, r0, r1);
}

static float vec_dot_512(const float *a, const float *b, int n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static void vec_axpy_512(float *y, float a, const float *x, int n) {
    const __m512 va = _mm512_set1_ps(a);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i),
                                                         _mm512_maskz_loadu_ps(m, y + i)));
    }
}

/* Quantizes one row to ACT_Q8 (see kernels_impl.h): the same values as
 * act_q8_row, 16 at a time. roundf's ties away from zero: truncate, then
 * add trunc(2 * fraction), which is +-1 exactly when |fraction| >= 0.5. */
static inline __m128i quant16(__m512 v, __m512 id) {
    __m512 s = _mm512_mul_ps(v, id);
    __m512 t = _mm512_roundscale_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(s, t);
    t = _mm512_add_ps(t, _mm512_roundscale_ps(_mm512_add_ps(f, f), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
    return _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(t));
}

static void act_q8_row_512(const float *x, void *dst, int64_t cols, tensor_type wtype) {
    const int64_t nb = cols / QK;
    const int32_t c = wtype == TYPE_Q8_0 ? 128 : 8;
    memset(dst, 0, act_row_bytes(ACT_Q8, cols));
    for (int64_t b = 0; b < nb; b++) {
        char *slot = (char *)dst + (b / 2) * XQ_SLOT_BYTES;
        int half = (int)(b % 2);
        int perm = wtype == TYPE_Q4_0 && (b / 2) * 2 + 1 < nb;
        __m512 v0 = _mm512_loadu_ps(x + b * QK), v1 = _mm512_loadu_ps(x + b * QK + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        float dq = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m128i q0 = quant16(v0, _mm512_set1_ps(id)), q1 = quant16(v1, _mm512_set1_ps(id));
        memcpy((char *)dst + (nb + 1) / 2 * XQ_SLOT_BYTES + 4 * nb + 4 * b, &dq, 4);
        __m256 dv = _mm256_set1_ps(dq);
        if (perm) {
            _mm_storeu_si128((__m128i *)(slot + half * 16), q0);
            _mm_storeu_si128((__m128i *)(slot + 32 + half * 16), q1);
            _mm_storeu_ps((float *)(slot + 128) + half * 4, _mm256_castps256_ps128(dv));
            _mm_storeu_ps((float *)(slot + 128) + 8 + half * 4, _mm256_castps256_ps128(dv));
        } else {
            _mm_storeu_si128((__m128i *)(slot + half * 32), q0);
            _mm_storeu_si128((__m128i *)(slot + half * 32 + 16), q1);
            _mm256_storeu_ps((float *)(slot + 128) + half * 8, dv);
        }
    }
    const __m512i ones8 = _mm512_set1_epi8(1), ones16 = _mm512_set1_epi16(1);
    const __m512i negc = _mm512_set1_epi32(-c);
    for (int64_t p = 0; p < (nb + 1) / 2; p++) {
        char *slot = (char *)dst + p * XQ_SLOT_BYTES;
        __m512i q = _mm512_load_si512(slot);
        __m512i sum = _mm512_madd_epi16(_mm512_maddubs_epi16(ones8, q), ones16);
        __m512i off = _mm512_mullo_epi32(sum, negc);
        _mm512_store_si512(slot + 64, off);
        /* per-block totals: which lanes belong to which block */
        int perm = wtype == TYPE_Q4_0 && 2 * p + 1 < nb;
        int32_t *tot = (int32_t *)((char *)dst + (nb + 1) / 2 * XQ_SLOT_BYTES) + 2 * p;
        tot[0] = _mm512_mask_reduce_add_epi32(perm ? 0x0f0f : 0x00ff, off);
        if (2 * p + 1 < nb) tot[1] = _mm512_mask_reduce_add_epi32(perm ? 0xf0f0 : 0xff00, off);
    }
}

#pragma GCC pop_options

/* ========================================================== AVX-512 VNNI */
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")

/* A pair of q4_0 blocks (36 bytes, read with a masked load so nothing past
 * the pair is touched) gives both the 64 unsigned weight bytes, in the
 * order the activations are stored, and the scales spread to the lanes:
 * every field sits at an even offset, so word permutes pick them out. */
static inline __attribute__((always_inline)) __m512i unpack_q4_pair(__m512i raw) {
    /* words 1..8 are block b's nibbles, 10..17 block b+1's */
    static const uint16_t qidx[32] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17,
                                      1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17};
    __m512i Y = _mm512_permutexvar_epi16(_mm512_loadu_si512(qidx), raw);
    Y = _mm512_mask_srli_epi16(Y, 0xffff0000u, Y, 4);
    return _mm512_and_si512(Y, _mm512_set1_epi8(0x0f));
}

/* Scales of a pair from its raw bytes: word w0 for block b, w1 for b+1,
 * spread as the activations' lanes are (q4: 4 and 4, q8: 8 and 8). */
static inline __attribute__((always_inline)) __m512 scales_raw(__m512i raw, int q4) {
    static const uint16_t q4idx[32] = {0, 0, 0, 0, 9, 9, 9, 9, 0, 0, 0, 0, 9, 9, 9, 9};
    static const uint16_t q8idx[32] = {0, 0, 0, 0, 0, 0, 0, 0, 17, 17, 17, 17, 17, 17, 17, 17};
    __m512i h = _mm512_permutexvar_epi16(_mm512_loadu_si512(q4 ? q4idx : q8idx), raw);
    return _mm512_cvtph_ps(_mm512_castsi512_si256(h));
}

static inline __attribute__((always_inline)) __m512i unpack_q4_single(const uint8_t *w0) {
    __m128i q = _mm_loadu_si128((const __m128i *)(w0 + 2));
    __m256i Y = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
    Y = _mm256_and_si256(Y, _mm256_set1_epi8(0x0f));
    return _mm512_inserti64x4(_mm512_setzero_si512(), Y, 0);
}

static inline __attribute__((always_inline)) __m512i unpack_q8_pair(const uint8_t *w0) {
    __m512i Z = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(w0 + 2))),
        _mm256_loadu_si256((const __m256i *)(w0 + 2 + sizeof(block_q8_0))), 1);
    return _mm512_xor_si512(Z, _mm512_set1_epi8((char)0x80));
}

static inline __attribute__((always_inline)) __m512i unpack_q8_single(const uint8_t *w0) {
    __m256i Y = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w0 + 2)),
                                 _mm256_set1_epi8((char)0x80));
    return _mm512_inserti64x4(_mm512_setzero_si512(), Y, 0);
}

static inline __attribute__((always_inline)) void qtile_vnni(int q4, int R, int T, const uint8_t *w,
                                                             size_t wrb, const uint8_t *x,
                                                             size_t xs, int64_t nb, float *out,
                                                             int64_t ldo) {
    const size_t bb = q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    const int64_t np = (nb + 1) / 2;
    for (int64_t p = 0; p < np; p++) {
        const int single = 2 * p + 1 == nb;
        __m512i W[4];
        __m512 DW[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *w0 = w + r * wrb + 2 * p * bb;
            if (__builtin_expect(single, 0)) {
                W[r] = q4 ? unpack_q4_single(w0) : unpack_q8_single(w0);
                DW[r] = _mm512_set1_ps(fp16_to_fp32(ld_u16(w0)));
            } else if (q4) {
                __m512i raw = _mm512_maskz_loadu_epi8((1ull << 36) - 1, w0);
                W[r] = unpack_q4_pair(raw);
                DW[r] = scales_raw(raw, 1);
            } else {
                W[r] = unpack_q8_pair(w0);
                DW[r] = scales_raw(_mm512_loadu_si512(w0), 0);
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            const uint8_t *slot = x + t * xs + p * XQ_SLOT_BYTES;
            __m512i X = _mm512_load_si512(slot);
            __m512 DX = _mm512_load_ps(slot + 128);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                __m512i I = _mm512_dpbusd_epi32(_mm512_load_si512(slot + 64), W[r], X);
                acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(I), DW[r]), DX, acc[r][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) out[t * ldo + r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* Generation: pair p of one quantized row against the activations, added
 * to acc. */
static inline __attribute__((always_inline)) __m512 qpair_vnni(int q4, const uint8_t *w,
                                                               const uint8_t *x, int64_t p,
                                                               __m512 acc) {
    const size_t bb = q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    const uint8_t *w0 = w + 2 * p * bb, *slot = x + p * XQ_SLOT_BYTES;
    __m512i W;
    __m512 DW;
    if (q4) {
        __m512i raw = _mm512_maskz_loadu_epi8((1ull << 36) - 1, w0);
        W = unpack_q4_pair(raw);
        DW = scales_raw(raw, 1);
    } else {
        W = unpack_q8_pair(w0);
        DW = scales_raw(_mm512_loadu_si512(w0), 0);
    }
    __m512i I = _mm512_dpbusd_epi32(_mm512_load_si512(slot + 64), W, _mm512_load_si512(slot));
    return _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(I), DW), _mm512_load_ps(slot + 128), acc);
}

static inline __attribute__((always_inline)) float qrow_vnni(int q4, const uint8_t *w,
                                                             const uint8_t *x, int64_t nb) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const int64_t np = nb / 2;
    int64_t p = 0;
    for (; p + 4 <= np; p += 4) {
        a0 = qpair_vnni(q4, w, x, p, a0);
        a1 = qpair_vnni(q4, w, x, p + 1, a1);
        a2 = qpair_vnni(q4, w, x, p + 2, a2);
        a3 = qpair_vnni(q4, w, x, p + 3, a3);
    }
    for (; p < np; p++) a0 = qpair_vnni(q4, w, x, p, a0);
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    if (nb & 1) {
        float t;
        qtile_vnni(q4, 1, 1, w + (nb - 1) * (q4 ? sizeof(block_q4_0) : sizeof(block_q8_0)), 0,
                   x + np * XQ_SLOT_BYTES, 0, 1, &t, 0);
        s += t;
    }
    return s;
}

#define QTILE(R, T, q4, w, wrb, x, xs, nb, out, ldo) qtile_vnni(q4, R, T, w, wrb, x, xs, nb, out, ldo)

static inline __attribute__((always_inline)) void mm_quant_vnni(int q4, float *out, int64_t ldo,
                                                                const void *xv, size_t xs,
                                                                const matrix *w, int n, int64_t r0,
                                                                int64_t r1) {
    const int64_t nb = w->cols / QK;
    const size_t wrb = type_row_bytes(w->type, w->cols);
    const uint8_t *W = w->data, *X = xv;
    if (n == 1) {
        for (int64_t r = r0; r < r1; r++) out[r] = qrow_vnni(q4, W + r * wrb, X, nb);
        return;
    }
    for (int t0 = 0; t0 < n; t0 += TOKEN_BLOCK) {
        int t1 = MIN(n, t0 + TOKEN_BLOCK);
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4)
            for (int t = t0; t < t1; t += 4)
                TILE_SWITCH4(QTILE, 4, t1 - t, q4, W + r * wrb, wrb, X + t * xs, xs, nb,
                             out + t * ldo + r, ldo);
        for (; r < r1; r++)
            for (int t = t0; t < t1; t += 4)
                TILE_SWITCH4(QTILE, 1, t1 - t, q4, W + r * wrb, wrb, X + t * xs, xs, nb,
                             out + t * ldo + r, ldo);
    }
}

static void mm_q8_0_vnni(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                         int64_t r0, int64_t r1) {
    mm_quant_vnni(0, out, ldo, x, xs, w, n, r0, r1);
}
static void mm_q4_0_vnni(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                         int64_t r0, int64_t r1) {
    mm_quant_vnni(1, out, ldo, x, xs, w, n, r0, r1);
}

/* Packed matrices (layout in kernels_impl.h): 16 rows x T tokens per tile.
 * Each 4-byte lane is one row, so four activations broadcast to every lane
 * meet four values of each of the 16 rows in one vpdpbusd; a block's
 * result is 16 finished row sums, scaled by the 16 row scales at once. The
 * unpacked weights of a block serve all T tokens. */
static inline __attribute__((always_inline)) int32_t ld_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline __attribute__((always_inline)) void ptile_vnni(int q4, int T, const uint8_t *pk,
                                                             int64_t nb, const uint8_t *x, size_t xs,
                                                             float *out, int64_t ldo) {
    const size_t bb = q4 ? PACK_Q4_BYTES : PACK_Q8_BYTES;
    const size_t tbl = (size_t)((nb + 1) / 2) * XQ_SLOT_BYTES;
    const __m512i lo = _mm512_set1_epi8(0x0f);
    __m512 acc[4];
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = pk + b * bb;
        __m512i W[8];
        if (q4) {
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                __m512i Z = _mm512_loadu_si512(blk + 32 + 64 * j);
                W[j] = _mm512_and_si512(Z, lo);
                W[j + 4] = _mm512_and_si512(_mm512_srli_epi16(Z, 4), lo);
            }
        } else {
#pragma GCC unroll 8
            for (int g = 0; g < 8; g++) W[g] = _mm512_loadu_si512(blk + 32 + 64 * g);
        }
        __m512 DW = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
        /* where this block's values 0..15 and 16..31 sit in an activation row */
        const size_t so = (size_t)(b / 2) * XQ_SLOT_BYTES;
        const int h = (int)(b % 2), pair = (b / 2) * 2 + 1 < nb;
        size_t olo = so + h * 32, ohi = so + h * 32 + 16;
        if (q4 && pair) olo = so + h * 16, ohi = so + 32 + h * 16;
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            const uint8_t *xt = x + t * xs;
            float dx;
            memcpy(&dx, xt + tbl + 4 * nb + 4 * b, 4);
            __m512i i0 = _mm512_set1_epi32(ld_i32(xt + tbl + 4 * b)), i1 = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                i0 = _mm512_dpbusd_epi32(i0, W[j], _mm512_set1_epi32(ld_i32(xt + olo + 4 * j)));
                i1 = _mm512_dpbusd_epi32(i1, W[j + 4], _mm512_set1_epi32(ld_i32(xt + ohi + 4 * j)));
            }
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(i0, i1)),
                                     _mm512_mul_ps(DW, _mm512_set1_ps(dx)), acc[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) _mm512_storeu_ps(out + t * ldo, acc[t]);
}

#define PTILE(R, T, q4, pk, nb, x, xs, out, ldo) ptile_vnni(q4, T, pk, nb, x, xs, out, ldo)

static inline __attribute__((always_inline)) void mm_quant_packed(int q4, float *out, int64_t ldo,
                                                                  const void *xv, size_t xs,
                                                                  const matrix *w, int n,
                                                                  int64_t r0, int64_t r1) {
    const int64_t nb = w->cols / QK, full = w->rows / PACK_ROWS * PACK_ROWS;
    const size_t gb = (size_t)nb * (q4 ? PACK_Q4_BYTES : PACK_Q8_BYTES);
    const uint8_t *pk = w->packed, *X = xv;
    const int64_t rend = MIN(r1, full);
    LLMOS_ASSERT(r0 % PACK_ROWS == 0);
    for (int t0 = 0; t0 < n; t0 += TOKEN_BLOCK) {
        int t1 = MIN(n, t0 + TOKEN_BLOCK);
        for (int64_t r = r0; r < rend; r += PACK_ROWS)
            for (int t = t0; t < t1; t += 4)
                TILE_SWITCH4(PTILE, 16, t1 - t, q4, pk + (r / PACK_ROWS) * gb, nb, X + t * xs, xs,
                             out + t * ldo + r, ldo);
    }
    if (r1 > rend) mm_quant_vnni(q4, out, ldo, xv, xs, w, n, MAX(r0, rend), r1);
}

static void mm_q8_0_packed(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                           int64_t r0, int64_t r1) {
    mm_quant_packed(0, out, ldo, x, xs, w, n, r0, r1);
}
static void mm_q4_0_packed(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w, int n,
                           int64_t r0, int64_t r1) {
    mm_quant_packed(1, out, ldo, x, xs, w, n, r0, r1);
}

#pragma GCC pop_options

/* ========================================================== AVX-512 BF16 */
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")

/* bf16 weights against bf16 activations (rows padded with zeros to 32):
 * vdpbf16ps multiplies 32 pairs per instruction, in float. */
static inline __attribute__((always_inline)) void tile_bf16dp(int R, int T, const char *w,
                                                              size_t wrb, const char *x, size_t xs,
                                                              int64_t K, float *out, int64_t ldo) {
    __m512 acc[4][6];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k < K; k += 32) {
        __m512i wv[4];
        if (__builtin_expect(k + 32 <= K, 1)) {
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) wv[r] = _mm512_loadu_si512(w + r * wrb + 2 * k);
        } else {
            __mmask32 m = (__mmask32)((1ull << (K - k)) - 1);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) wv[r] = _mm512_maskz_loadu_epi16(m, w + r * wrb + 2 * k);
        }
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            __m512i xv = _mm512_load_si512(x + t * xs + 2 * k);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++)
                acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv[r], (__m512bh)xv);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) out[t * ldo + r] = _mm512_reduce_add_ps(acc[r][t]);
}

#define TILE_BF16(R, T, w, wrb, x, xs, K, out, ldo) tile_bf16dp(R, T, w, wrb, x, xs, K, out, ldo)

static void mm_bf16_dp(float *out, int64_t ldo, const void *xv, size_t xs, const matrix *w, int n,
                       int64_t r0, int64_t r1) {
    const int64_t K = w->cols;
    const size_t wrb = type_row_bytes(w->type, K);
    const char *W = w->data, *X = xv;
    if (n == 1) {
        int64_t r = r0;
        for (; r < r1; r++) tile_bf16dp(1, 1, W + r * wrb, wrb, X, xs, K, out + r, ldo);
        return;
    }
    for (int t0 = 0; t0 < n; t0 += TOKEN_BLOCK) {
        int t1 = MIN(n, t0 + TOKEN_BLOCK);
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4)
            for (int t = t0; t < t1; t += 6)
                TILE_SWITCH6(TILE_BF16, 4, t1 - t, W + r * wrb, wrb, X + t * xs, xs, K,
                             out + t * ldo + r, ldo);
        for (; r < r1; r++)
            for (int t = t0; t < t1; t += 6)
                TILE_SWITCH6(TILE_BF16, 1, t1 - t, W + r * wrb, wrb, X + t * xs, xs, K,
                             out + t * ldo + r, ldo);
    }
}

static void act_bf16_row_512(const float *x, void *dst, int64_t cols, tensor_type wtype) {
    (void)wtype;
    uint16_t *d = dst;
    int64_t i = 0;
    for (; i + 16 <= cols; i += 16)
        _mm256_storeu_si256((__m256i *)(d + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
    for (; i < cols; i++) d[i] = fp32_to_bf16(x[i]);
    for (int64_t pad = (cols + 31) / 32 * 32; i < pad; i++) d[i] = 0;
}

#pragma GCC pop_options

/* ============================================================ the tables */

static int has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static int has_avx512(void) {
    return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
static int has_vnni(void) { return has_avx512() && __builtin_cpu_supports("avx512vnni"); }
static int has_bf16(void) { return has_vnni() && __builtin_cpu_supports("avx512bf16"); }

/* F16C has no __builtin_cpu_supports name in every compiler; every CPU
 * with AVX2 and FMA has it. */

static const kernel_set g_avx2 = {
    .name = "avx2",
    .mm = {mm_f32_avx2, mm_f16_avx2, mm_bf16_avx2, mm_q8_0_avx2, mm_q4_0_avx2},
    .act = {ACT_F32, ACT_F32, ACT_F32, ACT_Q8, ACT_Q8},
    .dot = vec_dot_portable,
    .axpy = vec_axpy_portable,
    .to_q8 = act_q8_row_perm,
    .to_bf16 = act_bf16_row,
};
static const kernel_set g_avx512 = {
    .name = "avx512",
    .mm = {mm_f32_512, mm_f16_512, mm_bf16_512, mm_q8_0_avx2, mm_q4_0_avx2},
    .act = {ACT_F32, ACT_F32, ACT_F32, ACT_Q8, ACT_Q8},
    .dot = vec_dot_512,
    .axpy = vec_axpy_512,
    .to_q8 = act_q8_row_512,
    .to_bf16 = act_bf16_row,
};
static const kernel_set g_avx512vnni = {
    .name = "avx512vnni",
    .mm = {mm_f32_512, mm_f16_512, mm_bf16_512, mm_q8_0_vnni, mm_q4_0_vnni},
    .mm_packed = {NULL, NULL, NULL, mm_q8_0_packed, mm_q4_0_packed},
    .act = {ACT_F32, ACT_F32, ACT_F32, ACT_Q8, ACT_Q8},
    .dot = vec_dot_512,
    .axpy = vec_axpy_512,
    .to_q8 = act_q8_row_512,
    .to_bf16 = act_bf16_row,
};
static const kernel_set g_avx512bf16 = {
    .name = "avx512bf16",
    .mm = {mm_f32_512, mm_f16_512, mm_bf16_dp, mm_q8_0_vnni, mm_q4_0_vnni},
    .mm_packed = {NULL, NULL, NULL, mm_q8_0_packed, mm_q4_0_packed},
    .act = {ACT_F32, ACT_F32, ACT_BF16, ACT_Q8, ACT_Q8},
    .dot = vec_dot_512,
    .axpy = vec_axpy_512,
    .to_q8 = act_q8_row_512,
    .to_bf16 = act_bf16_row_512,
};

const kernel_set *kernels_x86_avx2(void) { return has_avx2() ? &g_avx2 : NULL; }
const kernel_set *kernels_x86_avx512(void) { return has_avx512() ? &g_avx512 : NULL; }
const kernel_set *kernels_x86_avx512vnni(void) { return has_vnni() ? &g_avx512vnni : NULL; }
const kernel_set *kernels_x86_avx512bf16(void) { return has_bf16() ? &g_avx512bf16 : NULL; }

#else /* not x86-64 with GCC or clang: the portable path only */

const kernel_set *kernels_x86_avx2(void) { return NULL; }
const kernel_set *kernels_x86_avx512(void) { return NULL; }
const kernel_set *kernels_x86_avx512vnni(void) { return NULL; }
const kernel_set *kernels_x86_avx512bf16(void) { return NULL; }

#endif
