/*
 * vecmath.c - row math for training's elementwise passes (see vecmath.h):
 * the portable C path, then the AVX-512 path and its exp.
 */
#include "vecmath.h"

#include "types.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- portable */

static float max_portable(const float *x, int n) {
    float m = x[0];
    for (int i = 1; i < n; i++) m = x[i] > m || m != m ? x[i] : m;
    return m;
}

static float exp_sum_portable(float *x, int n, float scale, float sub) {
    float s = 0;
    for (int i = 0; i < n; i++) s += (x[i] = expf(x[i] * scale - sub));
    return s;
}

static void scale_portable(float *x, int n, float s) {
    for (int i = 0; i < n; i++) x[i] *= s;
}

static void softmax_bwd_portable(float *d, const float *p, int n, float scale) {
    float s = 0;
    for (int i = 0; i < n; i++) s += p[i] * d[i];
    for (int i = 0; i < n; i++) d[i] = p[i] * (d[i] - s) * scale;
}

static void swiglu_fwd_portable(float *out, const float *g, const float *u, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void swiglu_bwd_portable(float *dg, float *du, const float *dout, const float *g,
                                const float *u, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float sig = 1.0f / (1.0f + expf(-g[i]));
        du[i] = dout[i] * g[i] * sig;
        dg[i] = dout[i] * u[i] * sig * (1.0f + g[i] * (1.0f - sig));
    }
}

static void f16_to_f32_portable(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = fp16_to_fp32(src[i]);
}

static void f32_to_f16_portable(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = fp32_to_fp16(src[i]);
}

/* ----------------------------------------------------------------- AVX-512 */

/* e^x = 2^n e^r with n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two
 * so r is exact to float), |r| <= ln2/2, e^r by its Taylor series to r^7
 * (truncation error below 6e-9 relative), 2^n applied by vscalefps, which
 * saturates to 0 and inf without integer tricks. x is clamped to +-104
 * first (beyond it the result is 0 or inf anyway); the clamp keeps NaN. */
__attribute__((target("avx512f"))) static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x); /* the second operand wins on NaN */
    x = _mm512_min_ps(_mm512_set1_ps(104.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static inline __mmask16 tail_mask(size_t left) {
    return left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
}

__attribute__((target("avx512f"))) static float max_avx512(const float *x, int n) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) {
        const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask((size_t)(n - i)), x + i);
        m = _mm512_max_ps(v, m); /* a NaN in v is skipped */
    }
    const float r = _mm512_reduce_max_ps(m);
    return r == -INFINITY ? max_portable(x, n) : r;
}

__attribute__((target("avx512f"))) static float exp_sum_avx512(float *x, int n, float scale,
                                                               float sub) {
    const __m512 sc = _mm512_set1_ps(scale), sb = _mm512_set1_ps(sub);
    __m512 s = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask((size_t)(n - i));
        const __m512 e = exp512(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(k, x + i), sc, sb));
        _mm512_mask_storeu_ps(x + i, k, e);
        s = _mm512_mask_add_ps(s, k, s, e);
    }
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f"))) static void scale_avx512(float *x, int n, float s) {
    const __m512 sv = _mm512_set1_ps(s);
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask((size_t)(n - i));
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), sv));
    }
}

__attribute__((target("avx512f"))) static void softmax_bwd_avx512(float *d, const float *p, int n,
                                                                  float scale) {
    __m512 s = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask((size_t)(n - i));
        s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + i), _mm512_maskz_loadu_ps(k, d + i), s);
    }
    const __m512 sum = _mm512_set1_ps(_mm512_reduce_add_ps(s)), sc = _mm512_set1_ps(scale);
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask((size_t)(n - i));
        const __m512 pv = _mm512_maskz_loadu_ps(k, p + i), dv = _mm512_maskz_loadu_ps(k, d + i);
        _mm512_mask_storeu_ps(d + i, k, _mm512_mul_ps(_mm512_mul_ps(pv, _mm512_sub_ps(dv, sum)), sc));
    }
}

__attribute__((target("avx512f"))) static inline __m512 sigmoid512(__m512 g) {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), g))));
}

__attribute__((target("avx512f"))) static void swiglu_fwd_avx512(float *out, const float *g,
                                                                 const float *u, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        const __m512 gv = _mm512_maskz_loadu_ps(k, g + i), uv = _mm512_maskz_loadu_ps(k, u + i);
        _mm512_mask_storeu_ps(out + i, k, _mm512_mul_ps(_mm512_mul_ps(gv, sigmoid512(gv)), uv));
    }
}

__attribute__((target("avx512f"))) static void swiglu_bwd_avx512(float *dg, float *du,
                                                                 const float *dout, const float *g,
                                                                 const float *u, size_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        const __m512 gv = _mm512_maskz_loadu_ps(k, g + i), uv = _mm512_maskz_loadu_ps(k, u + i);
        const __m512 dv = _mm512_maskz_loadu_ps(k, dout + i), sig = sigmoid512(gv);
        _mm512_mask_storeu_ps(du + i, k, _mm512_mul_ps(_mm512_mul_ps(dv, gv), sig));
        const __m512 t = _mm512_fmadd_ps(gv, _mm512_sub_ps(one, sig), one);
        _mm512_mask_storeu_ps(dg + i, k, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dv, uv), sig), t));
    }
}

__attribute__((target("avx512f"))) static void f16_to_f32_avx512(float *dst, const uint16_t *src,
                                                                size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    for (; i < n; i++) dst[i] = fp16_to_fp32(src[i]);
}

__attribute__((target("avx512f"))) static void f32_to_f16_avx512(uint16_t *dst, const float *src,
                                                                size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) dst[i] = fp32_to_fp16(src[i]);
}

/* ---------------------------------------------------------------- dispatch */

/* -1 until the first call decides. Threads of a parallel region may be the
 * first to ask; they all compute the same value, and the relaxed atomics
 * make that a well-defined race (a plain load/store on x86). */
static int g_path = -1;

static int use_avx512(void) {
    int p = __atomic_load_n(&g_path, __ATOMIC_RELAXED);
    if (p < 0) {
        const char *force = getenv("LLMOS_VECMATH");
        __builtin_cpu_init();
        p = __builtin_cpu_supports("avx512f") && !(force && !strcmp(force, "portable"));
        __atomic_store_n(&g_path, p, __ATOMIC_RELAXED);
    }
    return p;
}

void vec_set_portable(int on) {
    __atomic_store_n(&g_path, on ? 0 : -1, __ATOMIC_RELAXED);
    if (!on) (void)use_avx512();
}

const char *vec_path(void) { return use_avx512() ? "avx512" : "portable"; }

float vec_max(const float *x, int n) { return use_avx512() ? max_avx512(x, n) : max_portable(x, n); }

float vec_exp_sum(float *x, int n, float scale, float sub) {
    return use_avx512() ? exp_sum_avx512(x, n, scale, sub) : exp_sum_portable(x, n, scale, sub);
}

void vec_scale(float *x, int n, float s) {
    if (use_avx512()) scale_avx512(x, n, s);
    else scale_portable(x, n, s);
}

void vec_softmax_bwd(float *d, const float *p, int n, float scale) {
    if (use_avx512()) softmax_bwd_avx512(d, p, n, scale);
    else softmax_bwd_portable(d, p, n, scale);
}

void vec_swiglu_fwd(float *out, const float *g, const float *u, size_t n) {
    if (use_avx512()) swiglu_fwd_avx512(out, g, u, n);
    else swiglu_fwd_portable(out, g, u, n);
}

void vec_swiglu_bwd(float *dg, float *du, const float *dout, const float *g, const float *u,
                    size_t n) {
    if (use_avx512()) swiglu_bwd_avx512(dg, du, dout, g, u, n);
    else swiglu_bwd_portable(dg, du, dout, g, u, n);
}

void vec_f16_to_f32(float *dst, const uint16_t *src, size_t n) {
    if (use_avx512()) f16_to_f32_avx512(dst, src, n);
    else f16_to_f32_portable(dst, src, n);
}

void vec_f32_to_f16(uint16_t *dst, const float *src, size_t n) {
    if (use_avx512()) f32_to_f16_avx512(dst, src, n);
    else f32_to_f16_portable(dst, src, n);
}
