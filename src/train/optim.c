/*
 * optim.c - AdamW, learning-rate schedules and gradient clipping (see
 * optim.h). The arithmetic follows torch.optim.AdamW (PyTorch 1.13, the
 * single-tensor path) operation by operation, in float, so that a trajectory
 * matches PyTorch's to rounding.
 */
#include "optim.h"

#include "../core/common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

adamw *adamw_new(size_t n, float beta1, float beta2, float eps, float weight_decay) {
    adamw *o = xcalloc(1, sizeof(*o));
    o->beta1 = beta1, o->beta2 = beta2, o->eps = eps, o->weight_decay = weight_decay;
    o->n = n;
    o->m = xcalloc(n, sizeof(float));
    o->v = xcalloc(n, sizeof(float));
    return o;
}

void adamw_free(adamw *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o);
}

/* One range of the update, element by element; compiled for AVX-512 and
 * for the baseline ISA (GCC target_clones), with the same result bits:
 * every operation is a correctly rounded IEEE one and nothing is fused. */
#define ADAMW_CHUNK 16384
__attribute__((target_clones("avx512f", "default"))) static void adamw_range(
    float *p, const float *g, float *m, float *v, long n, float decay, float b1, float b2,
    float eps, float step_size, float bc2_sqrt) {
#pragma omp simd
    for (long i = 0; i < n; i++) {
        const float gi = g[i];
        const float pi = p[i] * decay;
        m[i] = m[i] * b1 + gi * (1.0f - b1);
        v[i] = v[i] * b2 + (1.0f - b2) * gi * gi;
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] = pi - step_size * (m[i] / denom);
    }
}

void adamw_step(adamw *o, train_model *tm, float lr) {
    LLMOS_ASSERT(o->n == tm->n_params);
    o->t++;
    adamw_update(o, tm, lr, 0, tm->n_params, tm->grads, o->m, o->v);
}

void adamw_update(const adamw *o, train_model *tm, float lr, size_t lo, size_t hi, const float *grads, float *mom1,
                  float *mom2) {
    const double bc1 = 1.0 - pow(o->beta1, (double)o->t);
    const double bc2 = 1.0 - pow(o->beta2, (double)o->t);
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    for (int ti = 0; ti < tm->n_tensors; ti++) {
        const train_tensor *t = &tm->tensors[ti];
        const size_t t0 = MAX(t->offset, lo), t1 = MIN(t->offset + t->size, hi);
        if (t0 >= t1) continue;
        float *p = tm->params + t0, *m = mom1 + (t0 - lo), *v = mom2 + (t0 - lo);
        const float *g = grads + (t0 - lo);
        const float decay = t->decay ? (float)(1.0 - (double)lr * o->weight_decay) : 1.0f;
        const long n = (long)(t1 - t0), chunks = (n + ADAMW_CHUNK - 1) / ADAMW_CHUNK;
#pragma omp parallel for schedule(static) if (n >= 65536)
        for (long c = 0; c < chunks; c++) {
            const long i0 = c * ADAMW_CHUNK, len = MIN(ADAMW_CHUNK, n - i0);
            adamw_range(p + i0, g + i0, m + i0, v + i0, len, decay, b1, b2, eps, step_size, bc2_sqrt);
        }
    }
}

double lr_at(const lr_schedule *s, int64_t step) {
    if (s->warmup > 0 && step <= s->warmup) return s->lr * (double)step / (double)s->warmup;
    if (s->kind == SCHED_CONSTANT || s->total <= s->warmup) return s->lr;
    double p = (double)(step - s->warmup) / (double)(s->total - s->warmup);
    if (p > 1) p = 1;
    const double lo = s->lr * s->min_ratio;
    if (s->kind == SCHED_LINEAR) return s->lr - (s->lr - lo) * p;
    return lo + (s->lr - lo) * 0.5 * (1.0 + cos(M_PI * p));
}

int sched_from_name(const char *name) {
    if (!strcmp(name, "cosine")) return SCHED_COSINE;
    if (!strcmp(name, "linear")) return SCHED_LINEAR;
    if (!strcmp(name, "constant")) return SCHED_CONSTANT;
    return -1;
}

const char *sched_name(sched_kind k) {
    return k == SCHED_COSINE ? "cosine" : k == SCHED_LINEAR ? "linear" : "constant";
}

__attribute__((target_clones("avx512f", "default"))) static double sumsq_range(const float *g,
                                                                                long n) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (long i = 0; i < n; i++) s += (double)g[i] * g[i];
    return s;
}

double grad_global_norm(const train_model *m) {
    double total = 0;
    for (int ti = 0; ti < m->n_tensors; ti++) {
        const train_tensor *t = &m->tensors[ti];
        const float *g = m->grads + t->offset;
        double s = 0;
        const long n = (long)t->size, chunks = (n + ADAMW_CHUNK - 1) / ADAMW_CHUNK;
#pragma omp parallel for schedule(static) reduction(+ : s) if (n >= 65536)
        for (long c = 0; c < chunks; c++)
            s += sumsq_range(g + c * ADAMW_CHUNK, MIN(ADAMW_CHUNK, n - c * ADAMW_CHUNK));
        total += s;
    }
    return sqrt(total);
}

double grad_clip(train_model *m, double clip) {
    const double norm = grad_global_norm(m);
    if (clip <= 0 || !(norm > clip)) return norm;
    const float coef = (float)(clip / (norm + 1e-6));
    const long n = (long)m->n_params;
    float *g = m->grads;
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (long i = 0; i < n; i++) g[i] *= coef;
    return norm;
}

train_hparams train_hparams_default(double lr) {
    return (train_hparams){.lr = lr, .min_ratio = 0.1, .weight_decay = 0.0, .beta1 = 0.9,
                           .beta2 = 0.95, .eps = 1e-8, .clip = 1.0, .warmup = -1,
                           .sched = SCHED_COSINE};
}
