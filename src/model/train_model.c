/*
 * train_model.c - the trainable llama model: size table, initialization,
 * GGUF in and out, and the forward/backward pairs of every layer (see
 * train_model.h). Shapes: B batch, T time, N = B*T tokens, C dim, H query
 * heads, KVH key/value heads, D head dim, F ffn dim, V vocabulary.
 *
 * Every loop that writes shared memory is split by output element with a
 * static OpenMP schedule, so a run is bit-identical to a rerun with the
 * same thread count (the resume test depends on it).
 */
#include "train_model.h"

#include "../core/attention.h"
#include "../core/common.h"
#include "../core/gemm.h"
#include "../core/vecmath.h"
#include "../core/types.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* random numbers                                                            */

uint64_t train_rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double train_rng_normal(uint64_t *s) {
    /* Box-Muller on two 53-bit uniforms in (0, 1] and [0, 1) */
    const double u1 = ((train_rng_next(s) >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = (train_rng_next(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ------------------------------------------------------------------------ */
/* size table                                                                */

static void table_add(train_model *m, size_t *off, const char *name, int n_dims, int64_t ne0,
                      int64_t ne1) {
    train_tensor *t = &m->tensors[m->n_tensors++];
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = n_dims == 2 ? ne1 : 1;
    t->offset = *off;
    t->size = (size_t)(ne0 * t->ne[1]);
    t->decay = n_dims == 2;
    *off += t->size;
}

static void build_table(train_model *m) {
    const model_config *c = &m->cfg;
    const int C = c->dim, HD = c->n_heads * c->head_dim, KVD = c->n_kv_heads * c->head_dim;
    const int F = c->ffn_dim, V = c->vocab_size, L = c->n_layers;
    m->tensors = xcalloc((size_t)(9 * L + 3), sizeof(train_tensor));
    size_t off = 0;
    char nm[64];
    table_add(m, &off, "token_embd.weight", 2, C, V);
    table_add(m, &off, "output_norm.weight", 1, C, 1);
    if (!c->tied) table_add(m, &off, "output.weight", 2, C, V);
    for (int l = 0; l < L; l++) {
#define ADD(suffix, nd, a, b)                                                                  \
    snprintf(nm, sizeof(nm), "blk.%d." suffix ".weight", l);                                   \
    table_add(m, &off, nm, nd, a, b)
        ADD("attn_norm", 1, C, 1);
        ADD("attn_q", 2, C, HD);
        ADD("attn_k", 2, C, KVD);
        ADD("attn_v", 2, C, KVD);
        ADD("attn_output", 2, HD, C);
        ADD("ffn_norm", 1, C, 1);
        ADD("ffn_gate", 2, C, F);
        ADD("ffn_up", 2, C, F);
        ADD("ffn_down", 2, F, C);
#undef ADD
    }
    m->n_params = off;
}

static void point_views(train_model *m, float *base, float **tok, float **onorm, float **out,
                        train_layer *ls) {
    int i = 0;
    train_tensor *t = m->tensors;
    *tok = base + t[i++].offset;
    *onorm = base + t[i++].offset;
    *out = m->cfg.tied ? *tok : base + t[i++].offset;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        train_layer *w = &ls[l];
        w->attn_norm = base + t[i++].offset;
        w->wq = base + t[i++].offset;
        w->wk = base + t[i++].offset;
        w->wv = base + t[i++].offset;
        w->wo = base + t[i++].offset;
        w->ffn_norm = base + t[i++].offset;
        w->w_gate = base + t[i++].offset;
        w->w_up = base + t[i++].offset;
        w->w_down = base + t[i++].offset;
    }
}

/* Floats of the activations (and their gradients and scratch) of a B x T
 * batch: the size table train_model_new carves. */
static size_t act_floats(const model_config *c, int B, int T) {
    const int n_scratch = omp_get_max_threads();
    const size_t N = (size_t)B * T, C = c->dim, HD = (size_t)c->n_heads * c->head_dim;
    const size_t KVD = (size_t)c->n_kv_heads * c->head_dim, F = c->ffn_dim, V = c->vocab_size;
    const size_t H = c->n_heads, D = c->head_dim, L = c->n_layers;
    const size_t per_layer = N * C * 4 + N * 2 + N * HD * 2 + N * KVD * 2 + B * H * T * T + N * F * 3;
    const size_t sizes[] = {
        per_layer * L,                  /* layers */
        N * C, N * C, N, N * V, N,      /* x_final xnf rstdf logits losses */
        T * D / 2, T * D / 2,           /* rope cos sin */
        N * C, N * C, N * (HD + 2 * KVD), N * HD, /* d_res d_xn d_qkv d_y */
        N * 2 * F, N * F, N * C,        /* d_gu d_act d_h */
        (size_t)n_scratch * attn_scratch_floats(T, (int)D), /* attention scratch, per thread */
    };
    size_t total = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) total += sizes[i];
    return total;
}

train_model *train_model_new(const model_config *cfg, int B, int T) {
    train_model *m = xcalloc(1, sizeof(*m));
    m->cfg = *cfg;
    const model_config *c = &m->cfg;
    LLMOS_ASSERT(c->n_heads % c->n_kv_heads == 0 && c->head_dim % 2 == 0);
    build_table(m);
    /* parameters, gradients, AdamW's two moments and the activations */
    char what[96];
    snprintf(what, sizeof what, "training at batch %d x context %d", B, T);
    if (mem_check(what, sizeof(float) * (4.0 * (double)m->n_params + (double)act_floats(c, B, T))) < 0) {
        free(m->tensors);
        free(m);
        return NULL;
    }
    m->params = xcalloc(m->n_params, sizeof(float));
    m->grads = xcalloc(m->n_params, sizeof(float));
    m->layers = xcalloc((size_t)c->n_layers, sizeof(train_layer));
    m->g_layers = xcalloc((size_t)c->n_layers, sizeof(train_layer));
    point_views(m, m->params, &m->tok_embd, &m->out_norm, &m->output, m->layers);
    point_views(m, m->grads, &m->g_tok_embd, &m->g_out_norm, &m->g_output, m->g_layers);
    /* the forward and backward passes treat wq|wk|wv and w_gate|w_up as one
     * matrix each (one GEMM instead of three and two): the size table puts
     * them next to each other */
    for (int l = 0; l < c->n_layers; l++) {
        const train_layer *w = &m->layers[l];
        const size_t C0 = c->dim, HD0 = (size_t)c->n_heads * c->head_dim;
        const size_t KVD0 = (size_t)c->n_kv_heads * c->head_dim;
        LLMOS_ASSERT(w->wk == w->wq + HD0 * C0 && w->wv == w->wk + KVD0 * C0);
        LLMOS_ASSERT(w->w_up == w->w_gate + (size_t)c->ffn_dim * C0);
    }

    (void)vec_path(); /* picks the row-math path now, not first inside a parallel loop */

    /* activations: first count, then carve */
    m->B = B, m->T = T;
    const size_t N = (size_t)B * T, C = c->dim, HD = (size_t)c->n_heads * c->head_dim;
    const size_t KVD = (size_t)c->n_kv_heads * c->head_dim, F = c->ffn_dim, V = c->vocab_size;
    const size_t H = c->n_heads, D = c->head_dim, L = c->n_layers;
    const size_t total = act_floats(c, B, T);
    const int n_scratch = omp_get_max_threads(); /* as act_floats counts */
    m->n_acts = total;
    m->acts = xcalloc(total, sizeof(float));
    float *p = m->acts;
    m->la = xcalloc(L, sizeof(train_layer_acts));
    for (size_t l = 0; l < L; l++) {
        train_layer_acts *a = &m->la[l];
        a->x = p, p += N * C;
        a->xn1 = p, p += N * C;
        a->rstd1 = p, p += N;
        a->qkv = p, p += N * (HD + 2 * KVD);
        a->att = p, p += B * H * T * T;
        a->y = p, p += N * HD;
        a->h = p, p += N * C;
        a->xn2 = p, p += N * C;
        a->rstd2 = p, p += N;
        a->gu = p, p += N * 2 * F;
        a->act = p, p += N * F;
    }
    m->x_final = p, p += N * C;
    m->xnf = p, p += N * C;
    m->rstdf = p, p += N;
    m->logits = p, p += N * V;
    m->losses = p, p += N;
    m->rope_cos = p, p += T * D / 2;
    m->rope_sin = p, p += T * D / 2;
    m->d_res = p, p += N * C;
    m->d_xn = p, p += N * C;
    m->d_qkv = p, p += N * (HD + 2 * KVD);
    m->d_y = p, p += N * HD;
    m->d_gu = p, p += N * 2 * F;
    m->d_act = p, p += N * F;
    m->d_h = p, p += N * C;
    m->attn_scratch = p, p += (size_t)n_scratch * attn_scratch_floats(T, (int)D);
    m->n_scratch = n_scratch;
    LLMOS_ASSERT(p == m->acts + total);

    /* RoPE table, computed exactly as layers.c's rope_forward does */
    for (int t = 0; t < T; t++)
        for (int i = 0; i < (int)D; i += 2) {
            const float theta = t * powf(c->rope_base, -(float)i / (float)D);
            m->rope_cos[t * D / 2 + i / 2] = cosf(theta);
            m->rope_sin[t * D / 2 + i / 2] = sinf(theta);
        }
    return m;
}

void train_model_free(train_model *m) {
    if (!m) return;
    free(m->tensors);
    free(m->params);
    free(m->grads);
    free(m->layers);
    free(m->g_layers);
    free(m->acts);
    free(m->la);
    free(m);
}

size_t train_model_param_count(const train_model *m) { return m->n_params; }

void train_model_init_weights(train_model *m, uint64_t seed) {
    const double std = 0.02, std_res = 0.02 / sqrt(2.0 * m->cfg.n_layers);
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *t = &m->tensors[i];
        float *p = m->params + t->offset;
        /* each tensor gets its own stream, so adding a tensor changes no other */
        uint64_t s = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(i + 1));
        if (t->n_dims == 1) {
            for (size_t j = 0; j < t->size; j++) p[j] = 1.0f;
            continue;
        }
        const int residual = strstr(t->name, "attn_output") || strstr(t->name, "ffn_down");
        const double sd = residual ? std_res : std;
        for (size_t j = 0; j < t->size; j++) p[j] = (float)(sd * train_rng_normal(&s));
    }
}

void train_model_zero_grad(train_model *m) { memset(m->grads, 0, m->n_params * sizeof(float)); }

double train_model_flops_per_token(const model_config *c, int T) {
    const double C = c->dim, HD = (double)c->n_heads * c->head_dim;
    const double KVD = (double)c->n_kv_heads * c->head_dim, F = c->ffn_dim, V = c->vocab_size;
    const double per_layer = C * HD * 2 + C * KVD * 2 + 3 * C * F;
    const double matmul_params = c->n_layers * per_layer + V * C;
    /* QK^T and AV over the causal half: 2 products x 2 flops x HD x (T+1)/2
     * keys on average per query, x3 for forward + backward */
    const double attn = c->n_layers * 3.0 * 2 * 2 * HD * (T + 1) / 2.0;
    return 6.0 * matmul_params + attn;
}

/* ------------------------------------------------------------------------ */
/* GGUF                                                                      */

int train_model_config_from_gguf(const gguf_file *g, model_config *c) {
    if (model_config_from_gguf(g, c) < 0) return err_prefix(g->path);
    const gguf_tensor *te = gguf_find_tensor(g, "token_embd.weight");
    if (!te) return err_set("%s: tensor 'token_embd.weight' is missing", g->path);
    c->vocab_size = (int)te->ne[1];
    c->tied = gguf_find_tensor(g, "output.weight") == NULL;
    return 0;
}

int train_model_load_weights(train_model *m, const gguf_file *g) {
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *t = &m->tensors[i];
        const gguf_tensor *gt = gguf_find_tensor(g, t->name);
        if (!gt) return err_set("%s: tensor '%s' is missing", g->path, t->name);
        if (gt->ne[0] != t->ne[0] || gt->ne[1] != t->ne[1] || gt->ne[2] != 1 || gt->ne[3] != 1)
            return err_set("%s: tensor '%s' has shape (%lld, %lld), expected (%lld, %lld)", g->path,
                           t->name, (long long)gt->ne[0], (long long)gt->ne[1],
                           (long long)t->ne[0], (long long)t->ne[1]);
        if (gt->type != TYPE_F32 && gt->type != TYPE_F16 && gt->type != TYPE_BF16)
            return err_set("%s: tensor '%s' has type %s; training needs f32, f16 or bf16", g->path,
                           t->name, type_name(gt->type) ? type_name(gt->type) : "unknown");
        const size_t rb = type_row_bytes(gt->type, t->ne[0]);
        for (int64_t r = 0; r < t->ne[1]; r++)
            row_to_float(gt->type, (const uint8_t *)gt->data + r * rb,
                         m->params + t->offset + r * t->ne[0], t->ne[0]);
    }
    return 0;
}

void train_model_to_gguf(const train_model *m, gguf_writer *w) {
    model_config_to_gguf(&m->cfg, w);
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *t = &m->tensors[i];
        gguf_writer_add_tensor_ref(w, t->name, TYPE_F32, t->n_dims, t->ne, m->params + t->offset);
    }
}

model *train_model_view(const train_model *m, const tokenizer *tok) {
    const model_config *c = &m->cfg;
    const int64_t C = c->dim, QD = (int64_t)c->n_heads * c->head_dim, KD = (int64_t)c->n_kv_heads * c->head_dim;
    model *v = xcalloc(1, sizeof *v);
    v->cfg = *c;
    v->view = 1;
    v->tok = (tokenizer *)tok;
    v->kv_type = TYPE_F16;
#define MAT(p, r, k) ((matrix){.type = TYPE_F32, .data = (p), .rows = (r), .cols = (k)})
    v->tok_embd = MAT(m->tok_embd, c->vocab_size, C);
    v->output = c->tied ? v->tok_embd : MAT(m->output, c->vocab_size, C);
    v->out_norm = m->out_norm;
    v->layers = xcalloc((size_t)c->n_layers, sizeof *v->layers);
    for (int l = 0; l < c->n_layers; l++) {
        const train_layer *t = &m->layers[l];
        v->layers[l] = (layer_weights){
            .attn_norm = t->attn_norm, .wq = MAT(t->wq, QD, C), .wk = MAT(t->wk, KD, C), .wv = MAT(t->wv, KD, C),
            .wo = MAT(t->wo, C, QD), .ffn_norm = t->ffn_norm, .w_gate = MAT(t->w_gate, c->ffn_dim, C),
            .w_up = MAT(t->w_up, c->ffn_dim, C), .w_down = MAT(t->w_down, C, c->ffn_dim)};
    }
#undef MAT
    return v;
}

/* ------------------------------------------------------------------------ */
/* layers: forward and backward pairs                                        */

/* Threads only pay off above some work (waking them costs microseconds, a
 * lot more when the cores are shared): run small loops on one thread. The
 * decision depends on sizes only, so results stay reproducible. */
#define PAR(work) ((work) >= 65536)

static void embedding_forward(float *x, const int *tokens, const float *emb, int N, int C) {
#pragma omp parallel for schedule(static) if (PAR((size_t)N * C))
    for (int n = 0; n < N; n++) memcpy(x + (size_t)n * C, emb + (size_t)tokens[n] * C, C * sizeof(float));
}

static void embedding_backward(float *demb, const int *tokens, const float *dx, int N, int C) {
    /* split by channel so that repeated tokens never race */
#pragma omp parallel for schedule(static) if (PAR((size_t)N * C))
    for (int c = 0; c < C; c++)
        for (int n = 0; n < N; n++) demb[(size_t)tokens[n] * C + c] += dx[(size_t)n * C + c];
}

/* The row loops below are compiled twice, for AVX-512 and for the
 * baseline ISA, and the loader picks one for the CPU (GCC target_clones). */
#define ROW_CLONES __attribute__((target_clones("avx512f", "default")))

ROW_CLONES static float row_sumsq(const float *x, int C) {
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int i = 0; i < C; i++) ss += x[i] * x[i];
    return ss;
}

ROW_CLONES static void row_norm(float *o, const float *x, const float *w, float r, int C) {
#pragma omp simd
    for (int i = 0; i < C; i++) o[i] = x[i] * r * w[i];
}

/* out (N, C) = x / sqrt(mean(x^2) + eps) * w, keeping rstd (N) */
static void rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int N, int C,
                        float eps) {
#pragma omp parallel for schedule(static) if (PAR((size_t)N * C))
    for (int n = 0; n < N; n++) {
        const float *xi = x + (size_t)n * C;
        const float r = 1.0f / sqrtf(row_sumsq(xi, C) / C + eps);
        rstd[n] = r;
        row_norm(out + (size_t)n * C, xi, w, r, C);
    }
}

ROW_CLONES static void row_rmsnorm_bwd(float *dx, const float *d, const float *x, const float *w,
                                       float r, int C) {
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int i = 0; i < C; i++) dot += d[i] * w[i] * x[i];
    const float k = dot * r * r * r / C;
#pragma omp simd
    for (int i = 0; i < C; i++) dx[i] += d[i] * w[i] * r - x[i] * k;
}

/* s[i] += d[i] * x[i] * r over one row's slice */
ROW_CLONES static void row_wgrad(float *s, const float *d, const float *x, float r, int n) {
#pragma omp simd
    for (int i = 0; i < n; i++) s[i] += d[i] * x[i] * r;
}

/* dx (N, C) += d(rmsnorm)/dx . dout; dw (C) += sum_n dout * x * rstd */
static void rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w,
                        const float *rstd, int N, int C) {
#pragma omp parallel for schedule(static) if (PAR((size_t)N * C))
    for (int n = 0; n < N; n++)
        row_rmsnorm_bwd(dx + (size_t)n * C, dout + (size_t)n * C, x + (size_t)n * C, w, rstd[n], C);
    /* dw in column slices, each summed over n in order */
    enum { SLICE = 64 };
    const int slices = (C + SLICE - 1) / SLICE;
#pragma omp parallel for schedule(static) if (PAR((size_t)N * C))
    for (int sl = 0; sl < slices; sl++) {
        const int i0 = sl * SLICE, len = MIN(SLICE, C - i0);
        float s[SLICE] = {0};
        for (int n = 0; n < N; n++)
            row_wgrad(s, dout + (size_t)n * C + i0, x + (size_t)n * C + i0, rstd[n], len);
        for (int i = 0; i < len; i++) dw[i0 + i] += s[i];
    }
}

/* Rotates adjacent pairs of the first nh heads of every token (row n of x
 * at x + n * ld) by the angle of its position t = n % T; dir = -1 applies
 * the inverse rotation (the backward pass of a rotation is its transpose). */
static void rope_apply(float *x, int64_t ld, const float *cs, const float *sn, int N, int T,
                       int nh, int D, int dir) {
#pragma omp parallel for schedule(static) if (PAR((size_t)N * nh * D))
    for (int n = 0; n < N; n++) {
        const int t = n % T;
        const float *ct = cs + (size_t)t * D / 2, *st = sn + (size_t)t * D / 2;
        for (int h = 0; h < nh; h++) {
            float *p = x + n * ld + (size_t)h * D;
            for (int i = 0; i < D / 2; i++) {
                const float a = p[2 * i], b = p[2 * i + 1], c = ct[i], s = dir * st[i];
                p[2 * i] = a * c - b * s;
                p[2 * i + 1] = a * s + b * c;
            }
        }
    }
}

/* Causal attention with grouped KV heads: query head h reads kv head
 * h / (H/KVH). qkv (N, H*D + 2*KVH*D) as in train_layer_acts; y (N, H*D);
 * att (B, H, T, T). One task per (sequence, head), each on its thread's
 * scratch (core/attention.c). */
static void attention_fwd(float *y, float *att, const float *qkv, int B, int T, int H, int KVH,
                          int D, float *scratch, int n_scratch) {
    const int HD = H * D, KVD = KVH * D, G = H / KVH, QKV = HD + 2 * KVD;
    const size_t per = attn_scratch_floats(T, D);
#pragma omp parallel for schedule(static) collapse(2) num_threads(n_scratch) if (PAR((size_t)B * H * T * T * D / 2))
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *row = qkv + (size_t)b * T * QKV, *k = row + HD + (h / G) * D;
            attn_head_fwd(y + (size_t)b * T * HD + h * D, HD, att + ((size_t)b * H + h) * T * T,
                          row + h * D, QKV, k, k + KVD, QKV, T, D,
                          scratch + (size_t)omp_get_thread_num() * per);
        }
}

/* d_qkv (laid out as qkv) is overwritten from dy (N, H*D). One task per
 * (sequence, kv head): it owns dk, dv of that head and dq of its G query
 * heads. */
static void attention_bwd(float *d_qkv, const float *dy, const float *qkv, const float *att,
                          int B, int T, int H, int KVH, int D, float *scratch, int n_scratch) {
    const int HD = H * D, KVD = KVH * D, G = H / KVH, QKV = HD + 2 * KVD;
    const size_t per = attn_scratch_floats(T, D);
#pragma omp parallel for schedule(static) collapse(2) num_threads(n_scratch) if (PAR((size_t)B * H * T * T * D))
    for (int b = 0; b < B; b++)
        for (int kh = 0; kh < KVH; kh++) {
            const size_t r = (size_t)b * T * QKV, kv = r + HD + (size_t)kh * D;
            for (int h = kh * G; h < (kh + 1) * G; h++)
                attn_head_bwd(d_qkv + r + h * D, QKV, d_qkv + kv, d_qkv + kv + KVD, QKV,
                              dy + (size_t)b * T * HD + h * D, HD, qkv + r + h * D, qkv + kv,
                              qkv + kv + KVD, att + ((size_t)b * H + h) * T * T, T, D, h > kh * G,
                              scratch + (size_t)omp_get_thread_num() * per);
        }
}

/* act (N, F) = silu(gate) * up from gu (N, 2F), row by row */
static void swiglu_fwd(float *act, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static) if (PAR((size_t)N * F * 4))
    for (int n = 0; n < N; n++)
        vec_swiglu_fwd(act + (size_t)n * F, gu + (size_t)n * 2 * F, gu + (size_t)n * 2 * F + F, (size_t)F);
}

/* d_gu (N, 2F) from d_act (N, F) */
static void swiglu_bwd(float *d_gu, const float *d_act, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static) if (PAR((size_t)N * F * 4))
    for (int n = 0; n < N; n++) {
        const size_t r = (size_t)n * 2 * F;
        vec_swiglu_bwd(d_gu + r, d_gu + r + F, d_act + (size_t)n * F, gu + r, gu + r + F, (size_t)F);
    }
}

/* Softmax cross-entropy, fused: logits (N, V) become probabilities; losses
 * (N) gets -log p[target] = log(sum) - (logit - max) (0 where the target
 * does not count). Returns the total weight of the counted targets. */
static float crossentropy_fwd(float *logits, float *losses, const int *targets,
                              const float *mask, int N, int V) {
    float wsum = 0;
#pragma omp parallel for schedule(static) reduction(+ : wsum) if (PAR((size_t)N * V * 4))
    for (int n = 0; n < N; n++) {
        float *l = logits + (size_t)n * V;
        const int tg = targets[n];
        const float w = tg < 0 ? 0.0f : mask ? mask[n] : 1.0f;
        const float mx = vec_max(l, V), lt = w != 0 ? l[tg] : 0.0f;
        const float sum = vec_exp_sum(l, V, 1.0f, mx);
        losses[n] = w != 0 ? logf(sum) - (lt - mx) : 0.0f;
        vec_scale(l, V, 1.0f / sum);
        wsum += w;
    }
    return wsum;
}

static void crossentropy_bwd(float *probs, const int *targets, const float *mask, float dscale,
                             int N, int V) {
#pragma omp parallel for schedule(static) if (PAR((size_t)N * V))
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        const int tg = targets[n];
        const float w = tg < 0 ? 0.0f : mask ? mask[n] : 1.0f;
        const float d = w * dscale;
        if (d == 0) {
            memset(p, 0, (size_t)V * sizeof(float));
            continue;
        }
        for (int i = 0; i < V; i++) p[i] *= d;
        p[tg] -= d;
    }
}

/* ------------------------------------------------------------------------ */
/* the model                                                                 */

float train_model_forward(train_model *m, const int *tokens, const int *targets,
                          const float *mask, int B, int T) {
    const model_config *c = &m->cfg;
    LLMOS_ASSERT(B <= m->B && T <= m->T && B > 0 && T > 0);
    const int N = B * T, C = c->dim, H = c->n_heads, KVH = c->n_kv_heads, D = c->head_dim;
    const int HD = H * D, KVD = KVH * D, F = c->ffn_dim, V = c->vocab_size, L = c->n_layers;
    const int QKV = HD + 2 * KVD;
    /* the activation layout is for (m->B, m->T); a smaller batch uses the
     * front of each buffer, att with the smaller T stride */
    m->cur_B = B, m->cur_T = T;
    embedding_forward(m->la[0].x, tokens, m->tok_embd, N, C);
    for (int l = 0; l < L; l++) {
        train_layer_acts *a = &m->la[l];
        const train_layer *w = &m->layers[l];
        float *next = l + 1 < L ? m->la[l + 1].x : m->x_final;
        rmsnorm_fwd(a->xn1, a->rstd1, a->x, w->attn_norm, N, C, c->norm_eps);
        gemm_nt(a->qkv, a->xn1, w->wq, N, C, QKV, 0); /* wq|wk|wv */
        rope_apply(a->qkv, QKV, m->rope_cos, m->rope_sin, N, T, H + KVH, D, 1); /* q and k */
        attention_fwd(a->y, a->att, a->qkv, B, T, H, KVH, D, m->attn_scratch, m->n_scratch);
        memcpy(a->h, a->x, (size_t)N * C * sizeof(float));
        gemm_nt(a->h, a->y, w->wo, N, HD, C, 1);
        rmsnorm_fwd(a->xn2, a->rstd2, a->h, w->ffn_norm, N, C, c->norm_eps);
        gemm_nt(a->gu, a->xn2, w->w_gate, N, C, 2 * F, 0); /* w_gate|w_up */
        swiglu_fwd(a->act, a->gu, N, F);
        memcpy(next, a->h, (size_t)N * C * sizeof(float));
        gemm_nt(next, a->act, w->w_down, N, F, C, 1);
    }
    rmsnorm_fwd(m->xnf, m->rstdf, m->x_final, m->out_norm, N, C, c->norm_eps);
    gemm_nt(m->logits, m->xnf, m->output, N, C, V, 0);
    m->targets = targets;
    m->mask = mask;
    if (!targets) return 0;
    m->loss_weight_sum = crossentropy_fwd(m->logits, m->losses, targets, mask, N, V);
    if (m->loss_weight_sum == 0) return 0;
    double total = 0;
    for (int n = 0; n < N; n++) {
        const float w = targets[n] < 0 ? 0.0f : mask ? mask[n] : 1.0f;
        total += (double)w * m->losses[n];
    }
    return (float)(total / m->loss_weight_sum);
}

void train_model_backward(train_model *m, const int *tokens, float loss_scale) {
    const model_config *c = &m->cfg;
    const int B = m->cur_B, T = m->cur_T;
    const int N = B * T, C = c->dim, H = c->n_heads, KVH = c->n_kv_heads, D = c->head_dim;
    const int HD = H * D, KVD = KVH * D, F = c->ffn_dim, V = c->vocab_size, L = c->n_layers;
    const int QKV = HD + 2 * KVD;
    LLMOS_ASSERT(m->targets);
    if (m->loss_weight_sum == 0) return;
    float *d_res = m->d_res, *d_h = m->d_h;

    crossentropy_bwd(m->logits, m->targets, m->mask, loss_scale / m->loss_weight_sum, N, V);
    gemm_tn(m->g_output, m->logits, m->xnf, N, C, V, 1);
    gemm_nn(m->d_xn, m->logits, m->output, N, C, V, 0);
    memset(d_res, 0, (size_t)N * C * sizeof(float));
    rmsnorm_bwd(d_res, m->g_out_norm, m->d_xn, m->x_final, m->out_norm, m->rstdf, N, C);

    for (int l = L - 1; l >= 0; l--) {
        const train_layer_acts *a = &m->la[l];
        const train_layer *w = &m->layers[l];
        train_layer *g = &m->g_layers[l];
        /* ffn: x_next = h + act . w_down^T */
        gemm_tn(g->w_down, d_res, a->act, N, F, C, 1);
        gemm_nn(m->d_act, d_res, w->w_down, N, F, C, 0);
        swiglu_bwd(m->d_gu, m->d_act, a->gu, N, F);
        gemm_tn(g->w_gate, m->d_gu, a->xn2, N, C, 2 * F, 1);
        gemm_nn(m->d_xn, m->d_gu, w->w_gate, N, C, 2 * F, 0);
        memcpy(d_h, d_res, (size_t)N * C * sizeof(float));
        rmsnorm_bwd(d_h, g->ffn_norm, m->d_xn, a->h, w->ffn_norm, a->rstd2, N, C);
        /* attention: h = x + y . wo^T */
        gemm_tn(g->wo, d_h, a->y, N, HD, C, 1);
        gemm_nn(m->d_y, d_h, w->wo, N, HD, C, 0);
        attention_bwd(m->d_qkv, m->d_y, a->qkv, a->att, B, T, H, KVH, D, m->attn_scratch,
                      m->n_scratch);
        rope_apply(m->d_qkv, QKV, m->rope_cos, m->rope_sin, N, T, H + KVH, D, -1);
        gemm_tn(g->wq, m->d_qkv, a->xn1, N, C, QKV, 1);
        gemm_nn(m->d_xn, m->d_qkv, w->wq, N, C, QKV, 0);
        rmsnorm_bwd(d_h, g->attn_norm, m->d_xn, a->x, w->attn_norm, a->rstd1, N, C);
        /* d_h is now the gradient of this layer's input */
        float *tmp = d_res;
        d_res = d_h;
        d_h = tmp;
        if (m->grad_hook) m->grad_hook(m->grad_hook_ctx, l);
    }
    embedding_backward(m->g_tok_embd, tokens, d_res, N, C);
    if (m->grad_hook) m->grad_hook(m->grad_hook_ctx, -1);
}
