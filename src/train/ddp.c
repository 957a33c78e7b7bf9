/*
 * ddp.c - gradients summed over ranks in buckets during backward, and the
 * sharded AdamW of ZeRO stage 1 (see ddp.h).
 */
#include "ddp.h"

#include "../core/common.h"
#include "../core/dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the first parameter of layer l (l = L: the end) */
static size_t layer_start(const train_model *m, int l) {
    const int head = m->cfg.tied ? 2 : 3;
    return l >= m->cfg.n_layers ? m->n_params : m->tensors[head + 9 * l].offset;
}

static void bucket_add(ddp *d, size_t lo, size_t hi) {
    ddp_bucket *b = &d->bk[d->n_buckets++];
    const size_t n = hi - lo, N = (size_t)d->size;
    LLMOS_ASSERT(n < (size_t)1 << 31);
    b->lo = lo, b->hi = hi;
    b->counts = xmalloc(N * sizeof(int));
    b->displs = xmalloc(N * sizeof(int));
    for (size_t r = 0; r < N; r++) {
        b->displs[r] = (int)(n * r / N);
        b->counts[r] = (int)(n * (r + 1) / N - n * r / N);
    }
    b->shard_off = d->n_shard;
    d->n_shard += (size_t)b->counts[d->rank];
}

ddp *ddp_new(train_model *m, adamw *opt, int zero) {
    ddp *d = xcalloc(1, sizeof *d);
    d->m = m;
    d->rank = dist_rank(), d->size = dist_size(), d->zero = zero;
    const int L = m->cfg.n_layers;
    d->bk = xcalloc((size_t)L + 1, sizeof *d->bk);
    d->bucket_of_layer = xmalloc(((size_t)L + 1) * sizeof(int));
    for (int l = 0; l <= L; l++) d->bucket_of_layer[l] = -1;
    size_t hi = m->n_params;
    for (int l = L - 1; l >= 0; l--) {
        const size_t lo = layer_start(m, l);
        if (hi - lo >= DDP_BUCKET_FLOATS || l == 0) {
            d->bucket_of_layer[l + 1] = d->n_buckets;
            bucket_add(d, lo, hi);
            hi = lo;
        }
    }
    d->bucket_of_layer[0] = d->n_buckets;
    bucket_add(d, 0, hi);
    if (zero) { /* keep this rank's pieces of the moments */
        d->g_shard = xmalloc(d->n_shard * sizeof(float));
        float *mm = xmalloc(d->n_shard * sizeof(float)), *vv = xmalloc(d->n_shard * sizeof(float));
        for (int k = 0; k < d->n_buckets; k++) {
            const ddp_bucket *b = &d->bk[k];
            const size_t src = b->lo + (size_t)b->displs[d->rank], n = (size_t)b->counts[d->rank];
            memcpy(mm + b->shard_off, opt->m + src, n * sizeof(float));
            memcpy(vv + b->shard_off, opt->v + src, n * sizeof(float));
        }
        free(opt->m), free(opt->v);
        opt->m = mm, opt->v = vv;
        opt->n = d->n_shard;
    }
    return d;
}

void ddp_free(ddp *d) {
    if (!d) return;
    d->m->grad_hook = NULL;
    for (int k = 0; k < d->n_buckets; k++) free(d->bk[k].counts), free(d->bk[k].displs);
    free(d->bk), free(d->bucket_of_layer), free(d->g_shard);
    free(d);
}

static void launch(ddp *d, ddp_bucket *b) {
    float *g = d->m->grads + b->lo;
    if (d->zero) dist_ireduce_scatter_f32(g, d->g_shard + b->shard_off, b->counts);
    else dist_iallreduce_f32(g, (int)(b->hi - b->lo));
    b->launched = 1;
}

static void on_layer_done(void *ctx, int l) {
    ddp *d = ctx;
    const int k = d->bucket_of_layer[l + 1];
    if (k >= 0) launch(d, &d->bk[k]);
    dist_poll();
    if (l < 0) d->m->grad_hook = NULL;
}

void ddp_arm(ddp *d) {
    d->m->grad_hook = on_layer_done;
    d->m->grad_hook_ctx = d;
}

/* Sum of squares in a fixed order whatever the address or the thread count
 * (eight lanes, then the lanes in order), so every rank and mode that sums
 * the same numbers gets the same bits. */
static double sumsq(const float *g, size_t n) {
    double lane[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) lane[j] += (double)g[i + j] * g[i + j];
    for (; i < n; i++) lane[i % 8] += (double)g[i] * g[i];
    double s = 0;
    for (int j = 0; j < 8; j++) s += lane[j];
    return s;
}

/* rank r's partial sum of squares over its pieces; grads laid out as the
 * parameters (plain) or as the shard (zero, r = this rank) */
static double pieces_sumsq(const ddp *d, const float *g, int r, int shard) {
    double s = 0;
    for (int k = 0; k < d->n_buckets; k++) {
        const ddp_bucket *b = &d->bk[k];
        s += sumsq(g + (shard ? b->shard_off : b->lo + (size_t)b->displs[r]), (size_t)b->counts[r]);
    }
    return s;
}

double ddp_grad_clip(ddp *d, double clip) {
    d->m->grad_hook = NULL;
    for (int k = 0; k < d->n_buckets; k++)
        if (!d->bk[k].launched) launch(d, &d->bk[k]);
    dist_wait_all();
    for (int k = 0; k < d->n_buckets; k++) d->bk[k].launched = 0;
    double *part = xmalloc((size_t)d->size * sizeof(double));
    if (d->zero) dist_allgather_f64(pieces_sumsq(d, d->g_shard, d->rank, 1), part);
    else
        for (int r = 0; r < d->size; r++) part[r] = pieces_sumsq(d, d->m->grads, r, 0);
    double total = 0;
    for (int r = 0; r < d->size; r++) total += part[r];
    free(part);
    const double norm = sqrt(total);
    if (clip > 0 && norm > clip) {
        const float coef = (float)(clip / (norm + 1e-6));
        float *g = d->zero ? d->g_shard : d->m->grads;
        const long n = (long)(d->zero ? d->n_shard : d->m->n_params);
#pragma omp parallel for schedule(static) if (n >= 65536)
        for (long i = 0; i < n; i++) g[i] *= coef;
    }
    return norm;
}

void ddp_adamw_step(ddp *d, adamw *opt, float lr) {
    if (!d->zero) {
        adamw_step(opt, d->m, lr);
        return;
    }
    opt->t++;
    for (int k = 0; k < d->n_buckets; k++) {
        const ddp_bucket *b = &d->bk[k];
        const size_t lo = b->lo + (size_t)b->displs[d->rank], n = (size_t)b->counts[d->rank];
        adamw_update(opt, d->m, lr, lo, lo + n, d->g_shard + b->shard_off, opt->m + b->shard_off,
                     opt->v + b->shard_off);
    }
    for (int k = 0; k < d->n_buckets; k++) {
        const ddp_bucket *b = &d->bk[k];
        dist_iallgatherv_f32(d->m->params + b->lo, b->counts, b->displs);
    }
    dist_wait_all();
}

void ddp_gather_moments(const ddp *d, const adamw *opt, float **m, float **v) {
    *m = *v = NULL;
    if (d->rank == 0) {
        *m = xmalloc(d->m->n_params * sizeof(float));
        *v = xmalloc(d->m->n_params * sizeof(float));
    }
    for (int k = 0; k < d->n_buckets; k++) {
        const ddp_bucket *b = &d->bk[k];
        const int n = b->counts[d->rank];
        dist_gatherv_f32(opt->m + b->shard_off, n, *m ? *m + b->lo : NULL, b->counts, b->displs);
        dist_gatherv_f32(opt->v + b->shard_off, n, *v ? *v + b->lo : NULL, b->counts, b->displs);
    }
}

double ddp_optimizer_bytes(const ddp *d) {
    return 2.0 * sizeof(float) * (double)(d->zero ? d->n_shard : d->m->n_params);
}
