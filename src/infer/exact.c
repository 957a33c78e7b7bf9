/*
 * exact.c - the forward pass of exact.h: the same bits on every path,
 * thread count and build. Nothing here may be contracted into fused
 * multiply-adds or reassociated; the pragmas below say so to gcc and clang,
 * fast-math builds are refused at compile time, and exact_selfcheck checks
 * the result at run time (a multiply-add whose fused and unfused results
 * differ, and every dot product path against the portable one).
 */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__FAST_MATH__)
#error "exact.c must be compiled without -ffast-math: its results must not depend on the build"
#endif

#include "exact.h"

#include "../core/common.h"
#include "../core/kernels.h"
#include "../core/types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EXACT_X86 1
#endif

/* ---- elementary functions from basic operations ---- */

#define LN2_HI 6.93147180369123816490e-01 /* ln 2 in two parts: k * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define LOG2E 1.44269504088896338700e+00

/* e^x for x in (-708, 709]: k = x / ln 2 rounded to the nearest integer
 * by adding 1.5 * 2^52 (round to nearest even, the default mode), so that
 * k also sits in the low bits of t; r = x - k ln 2, |r| <= 0.35; Taylor to
 * r^13 in Horner form with the 1/n! as constants the compiler rounds
 * correctly; then times 2^k made from k's bits (k in -1021 .. 1023: a
 * normal number, so the product is exact). Every path below does these
 * operations on each element. */
#define EXP_MAGIC 0x1.8p52
#define EXP_LO -708.0
#define EXP_HI 709.0
#define EXP_POLY(P, R, MUL, ADD, SET)                                                              \
    P = SET(1.0 / 6227020800.0);                                                                   \
    P = ADD(SET(1.0 / 479001600.0), MUL(R, P));                                                    \
    P = ADD(SET(1.0 / 39916800.0), MUL(R, P));                                                     \
    P = ADD(SET(1.0 / 3628800.0), MUL(R, P));                                                      \
    P = ADD(SET(1.0 / 362880.0), MUL(R, P));                                                       \
    P = ADD(SET(1.0 / 40320.0), MUL(R, P));                                                        \
    P = ADD(SET(1.0 / 5040.0), MUL(R, P));                                                         \
    P = ADD(SET(1.0 / 720.0), MUL(R, P));                                                          \
    P = ADD(SET(1.0 / 120.0), MUL(R, P));                                                          \
    P = ADD(SET(1.0 / 24.0), MUL(R, P));                                                           \
    P = ADD(SET(1.0 / 6.0), MUL(R, P));                                                            \
    P = ADD(SET(0.5), MUL(R, P));                                                                  \
    P = ADD(SET(1.0), MUL(R, P));                                                                  \
    P = ADD(SET(1.0), MUL(R, P))
#define S_MUL(a, b) ((a) * (b))
#define S_ADD(a, b) ((a) + (b))
#define S_SET(a) (a)

double exact_exp(double x) {
    if (!(x > EXP_LO)) return 0.0; /* and NaN: e^-708 ~ 3e-308 is nothing a table holds */
    if (x > EXP_HI) return HUGE_VAL;
    const double t = x * LOG2E + EXP_MAGIC, k = t - EXP_MAGIC;
    const double r = (x - k * LN2_HI) - k * LN2_LO;
    double p;
    EXP_POLY(p, r, S_MUL, S_ADD, S_SET);
    uint64_t tb, mb, bits;
    const double magic = EXP_MAGIC;
    memcpy(&tb, &t, 8);
    memcpy(&mb, &magic, 8);
    bits = (tb - mb + 1023) << 52;
    double two_k;
    memcpy(&two_k, &bits, 8);
    return p * two_k;
}

typedef void (*exp_fn)(double *x, int n);

static void exp_portable(double *x, int n) {
    for (int i = 0; i < n; i++) x[i] = exact_exp(x[i]);
}

#ifdef EXACT_X86
#define V8_MUL _mm512_mul_pd
#define V8_ADD _mm512_add_pd
#define V8_SET _mm512_set1_pd
__attribute__((target("avx512f"))) static void exp_avx512(double *x, int n) {
    for (int i = 0; i < n; i += 8) {
        const __mmask8 m = n - i >= 8 ? 0xff : (__mmask8)((1u << (n - i)) - 1);
        const __m512d v = _mm512_maskz_loadu_pd(m, x + i);
        const __m512d t = V8_ADD(V8_MUL(v, V8_SET(LOG2E)), V8_SET(EXP_MAGIC)), k = _mm512_sub_pd(t, V8_SET(EXP_MAGIC));
        const __m512d r = _mm512_sub_pd(_mm512_sub_pd(v, V8_MUL(k, V8_SET(LN2_HI))), V8_MUL(k, V8_SET(LN2_LO)));
        __m512d p;
        EXP_POLY(p, r, V8_MUL, V8_ADD, V8_SET);
        const __m512i bits = _mm512_slli_epi64(
            _mm512_add_epi64(_mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_castpd_si512(V8_SET(EXP_MAGIC))),
                             _mm512_set1_epi64(1023)),
            52);
        __m512d y = V8_MUL(p, _mm512_castsi512_pd(bits));
        y = _mm512_mask_mov_pd(_mm512_setzero_pd(), _mm512_cmp_pd_mask(v, V8_SET(EXP_LO), _CMP_GT_OQ), y);
        y = _mm512_mask_mov_pd(y, _mm512_cmp_pd_mask(v, V8_SET(EXP_HI), _CMP_GT_OQ), V8_SET(HUGE_VAL));
        _mm512_mask_storeu_pd(x + i, m, y);
    }
}

#define V4_MUL _mm256_mul_pd
#define V4_ADD _mm256_add_pd
#define V4_SET _mm256_set1_pd
__attribute__((target("avx2"))) static void exp_avx2(double *x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256d v = _mm256_loadu_pd(x + i);
        const __m256d t = V4_ADD(V4_MUL(v, V4_SET(LOG2E)), V4_SET(EXP_MAGIC)), k = _mm256_sub_pd(t, V4_SET(EXP_MAGIC));
        const __m256d r = _mm256_sub_pd(_mm256_sub_pd(v, V4_MUL(k, V4_SET(LN2_HI))), V4_MUL(k, V4_SET(LN2_LO)));
        __m256d p;
        EXP_POLY(p, r, V4_MUL, V4_ADD, V4_SET);
        const __m256i bits = _mm256_slli_epi64(
            _mm256_add_epi64(_mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(V4_SET(EXP_MAGIC))),
                             _mm256_set1_epi64x(1023)),
            52);
        __m256d y = V4_MUL(p, _mm256_castsi256_pd(bits));
        y = _mm256_and_pd(y, _mm256_cmp_pd(v, V4_SET(EXP_LO), _CMP_GT_OQ));
        y = _mm256_blendv_pd(y, V4_SET(HUGE_VAL), _mm256_cmp_pd(v, V4_SET(EXP_HI), _CMP_GT_OQ));
        _mm256_storeu_pd(x + i, y);
    }
    for (; i < n; i++) x[i] = exact_exp(x[i]);
}
#endif

/* ln x for x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), and
 * ln m = 2 atanh((m - 1) / (m + 1)) as a series in z^2 <= 0.03. */
static double log_d(double x) {
    int e;
    double m = frexp(x, &e);
    if (m < 0.70710678118654752440) m *= 2, e--;
    const double z = (m - 1) / (m + 1), z2 = z * z;
    double s = 0;
    for (int i = 23; i >= 1; i -= 2) s = s * z2 + 1.0 / i;
    return e * LN2_HI + (e * LN2_LO + 2 * z * s);
}

/* sin and cos of x >= 0 (RoPE angles: positions times frequencies <= 1):
 * x = k pi/2 + r with pi/2 in three parts (Cody and Waite), |r| <= pi/4,
 * Taylor polynomials, and the quadrant k mod 4. */
static void sincos_d(double x, double *s, double *c) {
    const double k = floor(x * 6.36619772367581382433e-01 + 0.5);
    const double r = ((x - k * 1.57079632673412561417e+00) - k * 6.07710050630396597660e-11) -
                     k * 2.02226624871116645580e-21;
    const double r2 = r * r;
    double ps = 1.0, pc = 1.0;
    for (int i = 17; i >= 3; i -= 2) ps = 1.0 - ps * r2 / ((double)i * (i - 1));
    for (int i = 18; i >= 2; i -= 2) pc = 1.0 - pc * r2 / ((double)i * (i - 1));
    ps *= r;
    switch ((long long)k & 3) {
    case 0: *s = ps, *c = pc; break;
    case 1: *s = pc, *c = -ps; break;
    case 2: *s = -ps, *c = -pc; break;
    default: *s = -pc, *c = ps; break;
    }
}

/* ---- the dot product: 16 lanes, then a tree ---- */

typedef float (*dot_fn)(const float *a, const float *b, int n);
/* out[k] = dot(a, b[k], n) for k < 4: four independent sums in flight,
 * each exactly as dot_fn computes it */
typedef void (*dot4_fn)(float *out, const float *a, const float *const *b, int n);

static float lanes_sum(float *acc) {
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] = acc[j] + acc[j + w];
    return acc[0];
}

static float dot_portable(const float *a, const float *b, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] = acc[j] + a[i + j] * b[i + j];
    if (i < n)
        for (int j = 0; j < 16; j++) acc[j] = acc[j] + (i + j < n ? a[i + j] * b[i + j] : 0.0f);
    return lanes_sum(acc);
}

static void dot4_portable(float *out, const float *a, const float *const *b, int n) {
    for (int k = 0; k < 4; k++) out[k] = dot_portable(a, b[k], n);
}

#ifdef EXACT_X86
/* lanes j + j+4, then j + j+2, then 0 + 1 of the 8 lanes j + j+8 */
__attribute__((target("avx"))) static inline float sum8(__m256 s8) {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

__attribute__((target("avx2"))) static float dot_avx2(const float *a, const float *b, int n) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8)));
    }
    if (i < n) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - i), lane);
        const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - i - 8), lane);
        lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_maskload_ps(a + i, m0), _mm256_maskload_ps(b + i, m0)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_maskload_ps(a + i + 8, m1),
                                             _mm256_maskload_ps(b + i + 8, m1)));
    }
    return sum8(_mm256_add_ps(lo, hi));
}

__attribute__((target("avx512f"))) static float dot_avx512(const float *a, const float *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
    return sum8(_mm256_add_ps(_mm512_castps512_ps256(acc), hi));
}

__attribute__((target("avx2"))) static void dot4_avx2(float *out, const float *a, const float *const *b, int n) {
    __m256 lo[4], hi[4];
    for (int k = 0; k < 4; k++) lo[k] = hi[k] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 al = _mm256_loadu_ps(a + i), ah = _mm256_loadu_ps(a + i + 8);
        for (int k = 0; k < 4; k++) {
            lo[k] = _mm256_add_ps(lo[k], _mm256_mul_ps(al, _mm256_loadu_ps(b[k] + i)));
            hi[k] = _mm256_add_ps(hi[k], _mm256_mul_ps(ah, _mm256_loadu_ps(b[k] + i + 8)));
        }
    }
    if (i < n) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - i), lane);
        const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - i - 8), lane);
        const __m256 al = _mm256_maskload_ps(a + i, m0), ah = _mm256_maskload_ps(a + i + 8, m1);
        for (int k = 0; k < 4; k++) {
            lo[k] = _mm256_add_ps(lo[k], _mm256_mul_ps(al, _mm256_maskload_ps(b[k] + i, m0)));
            hi[k] = _mm256_add_ps(hi[k], _mm256_mul_ps(ah, _mm256_maskload_ps(b[k] + i + 8, m1)));
        }
    }
    for (int k = 0; k < 4; k++) out[k] = sum8(_mm256_add_ps(lo[k], hi[k]));
}

__attribute__((target("avx512f"))) static void dot4_avx512(float *out, const float *a, const float *const *b,
                                                           int n) {
    __m512 acc[4];
    for (int k = 0; k < 4; k++) acc[k] = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 av = _mm512_loadu_ps(a + i);
        for (int k = 0; k < 4; k++) acc[k] = _mm512_add_ps(acc[k], _mm512_mul_ps(av, _mm512_loadu_ps(b[k] + i)));
    }
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        const __m512 av = _mm512_maskz_loadu_ps(m, a + i);
        for (int k = 0; k < 4; k++)
            acc[k] = _mm512_add_ps(acc[k], _mm512_mul_ps(av, _mm512_maskz_loadu_ps(m, b[k] + i)));
    }
    for (int k = 0; k < 4; k++) {
        const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[k]), 1));
        out[k] = sum8(_mm256_add_ps(_mm512_castps512_ps256(acc[k]), hi));
    }
}
#endif

/* The paths of the dot product and exp for a kernels path name (kernels.h). */
typedef struct {
    const char *name;
    dot_fn dot;
    dot4_fn dot4;
    exp_fn exp;
} exact_path_fns;

static exact_path_fns paths_for(const char *kpath) {
#ifdef EXACT_X86
    if (!strncmp(kpath, "avx512", 6)) return (exact_path_fns){"avx512", dot_avx512, dot4_avx512, exp_avx512};
    if (!strcmp(kpath, "avx2")) return (exact_path_fns){"avx2", dot_avx2, dot4_avx2, exp_avx2};
#endif
    (void)kpath;
    return (exact_path_fns){"portable", dot_portable, dot4_portable, exp_portable};
}

/* ---- the model ---- */

typedef struct {
    const float *attn_norm, *ffn_norm; /* (C) */
    const float *wq, *wk, *wv, *wo;     /* (H*D, C) (KVH*D, C) (KVH*D, C) (C, H*D) */
    const float *w_gate, *w_up, *w_down; /* (F, C) (F, C) (C, F) */
} exact_layer;

struct exact_model {
    model_config c;
    int n_ctx;
    const float *tok_embd; /* (V, C) */
    const float *out_norm; /* (C) */
    const float *output;   /* (V, C) */
    exact_layer *layers;   /* (L) */
    float *rope;           /* (n_ctx, D): cos and sin of each pair at each position */
    float **owned;         /* f32 copies of weights stored otherwise */
    int n_owned;
    exact_path_fns fn;
};

struct exact_state {
    int n_batch;
    int threads;          /* for the matrix products (1: none started) */
    float *x, *xb, *tmp;  /* (n_batch, C) */
    float *q, *att;       /* (n_batch, H*D) */
    float *hg, *hu;       /* (n_batch, F) */
    float *scores;        /* (n_ctx) */
    double *ex;           /* (max(n_ctx, n_batch * F)): exp's arguments and results */
    float *kc, *vc;       /* (L, n_ctx, KVH*D) */
    float *logits;        /* (n_batch, V) */
};

/* The matrix as f32 rows: its own data when f32, else a converted copy. */
static const float *f32_of(exact_model *x, const matrix *w) {
    if (w->type == TYPE_F32) return w->data;
    float *f = xmalloc(sizeof(float) * (size_t)(w->rows * w->cols));
    const size_t rb = type_row_bytes(w->type, w->cols);
    for (int64_t r = 0; r < w->rows; r++)
        row_to_float(w->type, (const char *)w->data + r * rb, f + r * w->cols, w->cols);
    x->owned = xrealloc(x->owned, sizeof(float *) * (size_t)(x->n_owned + 1));
    x->owned[x->n_owned++] = f;
    return f;
}

exact_model *exact_model_new(const model *m, int n_ctx) {
    const char *arch = gguf_get_str(m->file, "general.architecture");
    if (!arch || strcmp(arch, "llama"))
        return err_set("architecture '%s' has no exact forward (only 'llama')", arch ? arch : "?"), NULL;
    if (n_ctx < 1 || n_ctx > m->cfg.ctx_len)
        return err_set("context %d is out of range (1 .. %d)", n_ctx, m->cfg.ctx_len), NULL;
    exact_model *x = xcalloc(1, sizeof(*x));
    x->c = m->cfg;
    x->n_ctx = n_ctx;
    x->fn = paths_for(kernels_path());
    x->tok_embd = f32_of(x, &m->tok_embd);
    x->output = m->cfg.tied ? x->tok_embd : f32_of(x, &m->output);
    x->out_norm = m->out_norm;
    x->layers = xcalloc((size_t)m->cfg.n_layers, sizeof(exact_layer));
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const layer_weights *w = &m->layers[l];
        exact_layer *e = &x->layers[l];
        e->attn_norm = w->attn_norm;
        e->ffn_norm = w->ffn_norm;
        e->wq = f32_of(x, &w->wq), e->wk = f32_of(x, &w->wk), e->wv = f32_of(x, &w->wv);
        e->wo = f32_of(x, &w->wo);
        e->w_gate = f32_of(x, &w->w_gate), e->w_up = f32_of(x, &w->w_up), e->w_down = f32_of(x, &w->w_down);
    }
    /* theta_i = base^(-i / D) for the pair (i, i + 1), angle pos * theta_i */
    const int D = m->cfg.head_dim;
    const double lnb = log_d((double)m->cfg.rope_base);
    x->rope = xmalloc(sizeof(float) * (size_t)n_ctx * D);
    for (int i = 0; i < D; i += 2) {
        const double theta = exact_exp(-(double)i / D * lnb);
        for (int p = 0; p < n_ctx; p++) {
            double s, co;
            sincos_d(p * theta, &s, &co);
            x->rope[(size_t)p * D + i] = (float)co;
            x->rope[(size_t)p * D + i + 1] = (float)s;
        }
    }
    return x;
}

void exact_model_free(exact_model *x) {
    if (!x) return;
    for (int i = 0; i < x->n_owned; i++) free(x->owned[i]);
    free(x->owned);
    free(x->layers);
    free(x->rope);
    free(x);
}

const char *exact_path(const exact_model *x) { return x->fn.name; }

void exact_exp_array(const exact_model *x, double *v, int n) { x->fn.exp(v, n); }

exact_state *exact_state_new(const exact_model *x, int n_batch) {
    const model_config *c = &x->c;
    const size_t C = c->dim, HD = (size_t)c->n_heads * c->head_dim, KVD = (size_t)c->n_kv_heads * c->head_dim;
    exact_state *s = xcalloc(1, sizeof(*s));
    s->n_batch = n_batch;
    s->threads = 1;
    s->x = xmalloc(sizeof(float) * n_batch * C);
    s->xb = xmalloc(sizeof(float) * n_batch * C);
    s->tmp = xmalloc(sizeof(float) * n_batch * C);
    s->q = xmalloc(sizeof(float) * n_batch * HD);
    s->att = xmalloc(sizeof(float) * n_batch * HD);
    s->hg = xmalloc(sizeof(float) * n_batch * (size_t)c->ffn_dim);
    s->hu = xmalloc(sizeof(float) * n_batch * (size_t)c->ffn_dim);
    s->scores = xmalloc(sizeof(float) * (size_t)x->n_ctx);
    s->ex = xmalloc(sizeof(double) * MAX((size_t)x->n_ctx, (size_t)n_batch * c->ffn_dim));
    s->kc = xmalloc(sizeof(float) * (size_t)c->n_layers * x->n_ctx * KVD);
    s->vc = xmalloc(sizeof(float) * (size_t)c->n_layers * x->n_ctx * KVD);
    s->logits = xmalloc(sizeof(float) * n_batch * (size_t)c->vocab_size);
    return s;
}

void exact_state_set_threads(exact_state *s, int n) { s->threads = MAX(n, 1); }

void exact_state_free(exact_state *s) {
    if (!s) return;
    float *bufs[] = {s->x, s->xb, s->tmp, s->q, s->att, s->hg, s->hu, s->scores, s->kc, s->vc, s->logits};
    for (size_t i = 0; i < ARRAY_LEN(bufs); i++) free(bufs[i]);
    free(s->ex);
    free(s);
}

/* out (n, rows), row stride ldo = x (n, cols) . W^T, W (rows, cols); each
 * element one dot product, whatever n is. */
static void matmul_exact(const exact_model *m, const exact_state *s, float *out, size_t ldo, const float *x,
                         const float *w, int n, int rows, int cols) {
    const int groups = (rows + 3) / 4;
    /* threads take groups of 4 rows; each element is one dot product
     * whoever computes it */
#pragma omp parallel for schedule(static) num_threads(s->threads) if (s->threads > 1 && (double)rows * cols * n > 1e5)
    for (int g = 0; g < groups; g++) {
        const int r = 4 * g;
        if (r + 4 <= rows) {
            const float *wr[4] = {w + (size_t)r * cols, w + (size_t)(r + 1) * cols, w + (size_t)(r + 2) * cols,
                                  w + (size_t)(r + 3) * cols};
            for (int t = 0; t < n; t++) m->fn.dot4(out + (size_t)t * ldo + r, x + (size_t)t * cols, wr, cols);
        } else {
            for (int k = r; k < rows; k++)
                for (int t = 0; t < n; t++)
                    out[(size_t)t * ldo + k] = m->fn.dot(x + (size_t)t * cols, w + (size_t)k * cols, cols);
        }
    }
}

/* out = x / sqrt(mean(x^2) + eps) * w */
static void rmsnorm_exact(const exact_model *m, float *out, const float *x, const float *w) {
    const int C = m->c.dim;
    const float r = 1.0f / sqrtf(m->fn.dot(x, x, C) / (float)C + m->c.norm_eps);
    for (int i = 0; i < C; i++) out[i] = x[i] * r * w[i];
}

/* Rotates each pair (a, b) of n_heads heads by the angle of position pos. */
static void rope_exact(const exact_model *m, float *v, int n_heads, int pos) {
    const int D = m->c.head_dim;
    const float *cs = m->rope + (size_t)pos * D;
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < D; i += 2) {
            float *p = v + (size_t)h * D + i;
            const float a = p[0], b = p[1];
            p[0] = a * cs[i] - b * cs[i + 1];
            p[1] = a * cs[i + 1] + b * cs[i];
        }
}

/* o += e v, element by element (each element the same two roundings
 * whether or not the compiler vectorizes the loop). */
static void axpy_exact(float *restrict o, float e, const float *restrict v, int n) {
    for (int d = 0; d < n; d++) o[d] = o[d] + e * v[d];
}

/* Causal attention of the query row q (H*D) at position pos over cache
 * positions 0 .. pos of layer caches kc, vc (n_ctx, KVH*D) into out. */
static void attend_exact(const exact_model *m, exact_state *s, float *out, const float *q, const float *kc,
                         const float *vc, int pos) {
    const model_config *c = &m->c;
    const int D = c->head_dim, KVD = c->n_kv_heads * D, group = c->n_heads / c->n_kv_heads;
    const float scale = 1.0f / sqrtf((float)D);
    for (int h = 0; h < c->n_heads; h++) {
        const float *qh = q + (size_t)h * D;
        const size_t kvo = (size_t)(h / group) * D;
        float mx = -INFINITY, sum = 0;
        for (int p = 0; p <= pos; p++) {
            s->scores[p] = m->fn.dot(qh, kc + (size_t)p * KVD + kvo, D) * scale;
            if (s->scores[p] > mx) mx = s->scores[p];
        }
        for (int p = 0; p <= pos; p++) s->ex[p] = (double)(s->scores[p] - mx);
        m->fn.exp(s->ex, pos + 1);
        float *o = out + (size_t)h * D;
        for (int d = 0; d < D; d++) o[d] = 0;
        for (int p = 0; p <= pos; p++) {
            const float e = (float)s->ex[p];
            sum = sum + e;
            axpy_exact(o, e, vc + (size_t)p * KVD + kvo, D);
        }
        const float inv = 1.0f / sum;
        for (int d = 0; d < D; d++) o[d] = o[d] * inv;
    }
}

const float *exact_forward(const exact_model *m, exact_state *s, const int *tokens, int n, int pos, int all) {
    const model_config *c = &m->c;
    const int C = c->dim, D = c->head_dim, HD = c->n_heads * D, KVD = c->n_kv_heads * D, F = c->ffn_dim;
    const int V = c->vocab_size;
    for (int t = 0; t < n; t++) memcpy(s->x + (size_t)t * C, m->tok_embd + (size_t)tokens[t] * C, sizeof(float) * C);
    for (int l = 0; l < c->n_layers; l++) {
        const exact_layer *w = &m->layers[l];
        float *kc = s->kc + (size_t)l * m->n_ctx * KVD, *vc = s->vc + (size_t)l * m->n_ctx * KVD;
        for (int t = 0; t < n; t++) rmsnorm_exact(m, s->xb + (size_t)t * C, s->x + (size_t)t * C, w->attn_norm);
        matmul_exact(m, s, s->q, HD, s->xb, w->wq, n, HD, C);
        matmul_exact(m, s, kc + (size_t)pos * KVD, KVD, s->xb, w->wk, n, KVD, C);
        matmul_exact(m, s, vc + (size_t)pos * KVD, KVD, s->xb, w->wv, n, KVD, C);
        for (int t = 0; t < n; t++) {
            rope_exact(m, s->q + (size_t)t * HD, c->n_heads, pos + t);
            rope_exact(m, kc + (size_t)(pos + t) * KVD, c->n_kv_heads, pos + t);
        }
        for (int t = 0; t < n; t++) attend_exact(m, s, s->att + (size_t)t * HD, s->q + (size_t)t * HD, kc, vc, pos + t);
        matmul_exact(m, s, s->tmp, C, s->att, w->wo, n, C, HD);
        for (size_t i = 0; i < (size_t)n * C; i++) s->x[i] = s->x[i] + s->tmp[i];
        for (int t = 0; t < n; t++) rmsnorm_exact(m, s->xb + (size_t)t * C, s->x + (size_t)t * C, w->ffn_norm);
        matmul_exact(m, s, s->hg, F, s->xb, w->w_gate, n, F, C);
        matmul_exact(m, s, s->hu, F, s->xb, w->w_up, n, F, C);
        /* silu(g) u = g / (1 + e^-g) u */
        for (size_t i = 0; i < (size_t)n * F; i++) s->ex[i] = -(double)s->hg[i];
        m->fn.exp(s->ex, n * F);
        for (size_t i = 0; i < (size_t)n * F; i++) s->hg[i] = s->hg[i] / (1.0f + (float)s->ex[i]) * s->hu[i];
        matmul_exact(m, s, s->tmp, C, s->hg, w->w_down, n, C, F);
        for (size_t i = 0; i < (size_t)n * C; i++) s->x[i] = s->x[i] + s->tmp[i];
    }
    const int first = all ? 0 : n - 1;
    for (int t = first; t < n; t++)
        rmsnorm_exact(m, s->xb + (size_t)(t - first) * C, s->x + (size_t)t * C, m->out_norm);
    matmul_exact(m, s, s->logits, V, s->xb, m->output, n - first, V, C);
    return s->logits;
}

/* ---- the self-check ---- */

int exact_selfcheck(void) {
    /* (1 + 2^-12)^2 - 1: 2^-11 when the product is rounded before the add,
     * 2^-11 + 2^-24 when fused */
    static volatile float va = 1.0f + 0x1p-12f, vm = -1.0f; /* not folded at compile time */
    const float a[2] = {va, vm}, b[2] = {va, 0.0f};
    float acc[16] = {0};
    acc[0] = acc[0] + a[0] * b[0];
    acc[0] = acc[0] + a[1];
    if (acc[0] != 0x1p-11f) return err_set("exact forward: this build fuses multiply-adds (compile exact.c with -ffp-contract=off)");
    if (dot_portable(a, b, 1) + a[1] != 0x1p-11f) return err_set("exact forward: the portable dot product fuses multiply-adds");
    /* the elementary functions at points whose values are known */
    if (exact_exp(0) != 1.0 || fabs(exact_exp(1) - 2.718281828459045) > 1e-15 || exact_exp(-800) != 0 ||
        fabs(log_d(10000.0) - 9.210340371976184) > 1e-14)
        return err_set("exact forward: exp or log gives unexpected values in this build");
    double s, co;
    sincos_d(100.0, &s, &co);
    if (fabs(s + 0.5063656411097588) > 1e-15 || fabs(co - 0.8623188722876839) > 1e-15)
        return err_set("exact forward: sin or cos gives unexpected values in this build");
    /* every SIMD path this CPU has gives the portable path's bits, at awkward lengths */
    enum { N = 203 };
    float x[N], y[N];
    uint32_t r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (float)(int32_t)r * 0x1p-31f;
        r = r * 1664525u + 1013904223u;
        y[i] = (float)(int32_t)r * 0x1p-27f;
    }
    static const char *const paths[] = {"avx2", "avx512"};
    for (size_t k = 0; k < ARRAY_LEN(paths); k++) {
#ifdef EXACT_X86
        if (!(k ? __builtin_cpu_supports("avx512f") : __builtin_cpu_supports("avx2"))) continue;
#endif
        const exact_path_fns f = paths_for(paths[k]);
        const char *name = f.name;
        for (int n = 0; n <= N; n += n < 40 ? 1 : 37) {
            float d4[4];
            const float *rows[4] = {y, x, y + 1, x + 2};
            f.dot4(d4, x, rows, MIN(n, N - 2));
            if (f.dot(x, y, n) != dot_portable(x, y, n) || d4[2] != dot_portable(x, y + 1, MIN(n, N - 2)))
                return err_set("exact forward: the %s dot product differs from the portable one (n = %d)", name, n);
        }
        double a1[N], a2[N];
        for (int i = 0; i < N; i++) a1[i] = a2[i] = i < 8 ? (double[]){-709, -708, -707.5, 0, 708.9, 709, 709.5, NAN}[i]
                                                          : (double)y[i] * 2.5;
        f.exp(a1, N);
        exp_portable(a2, N);
        if (memcmp(a1, a2, sizeof(a1)))
            return err_set("exact forward: the %s exp differs from the portable one", name);
    }
    return 0;
}
