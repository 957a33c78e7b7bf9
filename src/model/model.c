/*
 * model.c - loading a 'llama' GGUF and running it: the inference forward
 * pass with a KV cache. Prompt processing feeds many tokens per call
 * (matrix-matrix work in matmul); generation feeds one (matrix-vector).
 * The math is written out at the top of model.h.
 *
 * Threads: prompt processing splits each step between them (matrix rows,
 * attention by head and block of queries, the row math by token);
 * generation runs each token in one parallel region (forward_one), since
 * a wake-up per matrix costs more than a small matrix takes to stream.
 */
#include "model.h"

#include "../core/common.h"
#include "../core/vecmath.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */

static int get_dim(const gguf_file *g, const char *key, int64_t lo, int64_t hi, int *out) {
    int64_t v;
    if (gguf_get_int(g, key, &v)) return -1;
    if (v < lo || v > hi)
        return err_set("'%s' = %lld is out of range [%lld, %lld]", key, (long long)v,
                       (long long)lo, (long long)hi);
    *out = (int)v;
    return 0;
}

int model_config_from_gguf(const gguf_file *g, model_config *c) {
    memset(c, 0, sizeof(*c));
    const char *arch = gguf_get_str(g, "general.architecture");
    if (!arch) return err_set("missing key 'general.architecture'");
    if (strcmp(arch, "llama"))
        return err_set("architecture '%s' is not supported (only 'llama')", arch);
    if (get_dim(g, "llama.embedding_length", 1, 1 << 16, &c->dim) ||
        get_dim(g, "llama.block_count", 1, 1024, &c->n_layers) ||
        get_dim(g, "llama.attention.head_count", 1, 4096, &c->n_heads) ||
        get_dim(g, "llama.feed_forward_length", 1, 1 << 18, &c->ffn_dim) ||
        get_dim(g, "llama.context_length", 1, 1 << 24, &c->ctx_len))
        return -1;
    c->n_kv_heads = c->n_heads;
    if (gguf_find(g, "llama.attention.head_count_kv") &&
        get_dim(g, "llama.attention.head_count_kv", 1, c->n_heads, &c->n_kv_heads))
        return -1;
    if (c->dim % c->n_heads)
        return err_set("embedding_length %d is not a multiple of head_count %d", c->dim, c->n_heads);
    if (c->n_heads % c->n_kv_heads)
        return err_set("head_count %d is not a multiple of head_count_kv %d", c->n_heads, c->n_kv_heads);
    c->head_dim = c->dim / c->n_heads;
    if (c->head_dim % 2) return err_set("head dimension %d is odd (RoPE needs pairs)", c->head_dim);
    int rope_dim = c->head_dim;
    if (gguf_find(g, "llama.rope.dimension_count") &&
        get_dim(g, "llama.rope.dimension_count", 1, 1 << 16, &rope_dim))
        return -1;
    if (rope_dim != c->head_dim)
        return err_set("partial RoPE (rope.dimension_count %d, head dim %d) is not supported",
                       rope_dim, c->head_dim);
    double eps = 1e-5, base = 10000.0;
    if (gguf_find(g, "llama.attention.layer_norm_rms_epsilon") &&
        gguf_get_float(g, "llama.attention.layer_norm_rms_epsilon", &eps))
        return -1;
    if (gguf_find(g, "llama.rope.freq_base") && gguf_get_float(g, "llama.rope.freq_base", &base))
        return -1;
    if (!(eps > 0 && eps < 1)) return err_set("rms epsilon %g is out of range", eps);
    if (!(base > 1)) return err_set("rope freq_base %g is out of range", base);
    c->norm_eps = (float)eps;
    c->rope_base = (float)base;
    return 0;
}

void model_config_to_gguf(const model_config *c, gguf_writer *w) {
    gguf_set_str(w, "general.architecture", "llama");
    gguf_set_u32(w, "llama.context_length", c->ctx_len);
    gguf_set_u32(w, "llama.embedding_length", c->dim);
    gguf_set_u32(w, "llama.block_count", c->n_layers);
    gguf_set_u32(w, "llama.feed_forward_length", c->ffn_dim);
    gguf_set_u32(w, "llama.rope.dimension_count", c->head_dim);
    gguf_set_u32(w, "llama.attention.head_count", c->n_heads);
    gguf_set_u32(w, "llama.attention.head_count_kv", c->n_kv_heads);
    gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", c->norm_eps);
    gguf_set_f32(w, "llama.rope.freq_base", c->rope_base);
    gguf_set_u32(w, "llama.vocab_size", c->vocab_size);
}

int64_t model_param_count(const model_config *c, int64_t *non_embedding) {
    int64_t C = c->dim, F = c->ffn_dim, D = c->head_dim, V = c->vocab_size;
    int64_t per_layer = 2 * C + C * c->n_heads * D * 2 + 2 * C * c->n_kv_heads * D + 3 * C * F;
    int64_t body = c->n_layers * per_layer + C;
    if (non_embedding) *non_embedding = body;
    return body + V * C + (c->tied ? 0 : V * C);
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */

static int get_matrix(const gguf_file *g, const char *name, int64_t rows, int64_t cols, matrix *m) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) return err_set("missing tensor '%s'", name);
    if (t->n_dims != 2 || t->ne[0] != cols || t->ne[1] != rows)
        return err_set("tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]", name,
                       (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                       (long long)t->ne[3], (long long)cols, (long long)rows);
    *m = (matrix){.type = t->type, .data = t->data, .rows = rows, .cols = cols};
    return 0;
}

/* Norm weights are used as f32; other types are converted into dst. */
static int get_vector(const gguf_file *g, const char *name, int64_t n, float *dst, const float **out) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) return err_set("missing tensor '%s'", name);
    if (t->n_dims != 1 || t->ne[0] != n)
        return err_set("tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld]", name,
                       (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                       (long long)t->ne[3], (long long)n);
    if (t->type == TYPE_F32 && ((uintptr_t)t->data % 4) == 0) {
        *out = t->data;
        return 0;
    }
    if (type_block_size(t->type) != 1 && n % type_block_size(t->type))
        return err_set("tensor '%s': bad size for its type", name);
    row_to_float(t->type, t->data, dst, n);
    *out = dst;
    return 0;
}

static int load_weights(model *m) {
    const gguf_file *g = m->file;
    model_config *c = &m->cfg;
    const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
    if (!emb) return err_set("missing tensor 'token_embd.weight'");
    if (emb->n_dims != 2 || emb->ne[0] != c->dim || emb->ne[1] < 1 || emb->ne[1] > (1 << 24))
        return err_set("tensor 'token_embd.weight' has shape [%lld, %lld], expected [%d, n_vocab]",
                       (long long)emb->ne[0], (long long)emb->ne[1], c->dim);
    c->vocab_size = (int)emb->ne[1];
    int64_t C = c->dim, QD = (int64_t)c->n_heads * c->head_dim, KD = (int64_t)c->n_kv_heads * c->head_dim;
    if (get_matrix(g, "token_embd.weight", c->vocab_size, C, &m->tok_embd)) return -1;
    c->tied = gguf_find_tensor(g, "output.weight") == NULL;
    if (c->tied) m->output = m->tok_embd;
    else if (get_matrix(g, "output.weight", c->vocab_size, C, &m->output)) return -1;
    m->norm_f32 = xmalloc(sizeof(float) * C * (2 * c->n_layers + 1));
    if (get_vector(g, "output_norm.weight", C, m->norm_f32, &m->out_norm)) return -1;
    m->layers = xcalloc(c->n_layers, sizeof(layer_weights));
    for (int l = 0; l < c->n_layers; l++) {
        layer_weights *w = &m->layers[l];
        char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s.weight", l, s), n)
        if (get_vector(g, NAME("attn_norm"), C, m->norm_f32 + C * (1 + 2 * l), &w->attn_norm) ||
            get_vector(g, NAME("ffn_norm"), C, m->norm_f32 + C * (2 + 2 * l), &w->ffn_norm) ||
            get_matrix(g, NAME("attn_q"), QD, C, &w->wq) ||
            get_matrix(g, NAME("attn_k"), KD, C, &w->wk) ||
            get_matrix(g, NAME("attn_v"), KD, C, &w->wv) ||
            get_matrix(g, NAME("attn_output"), C, QD, &w->wo) ||
            get_matrix(g, NAME("ffn_gate"), c->ffn_dim, C, &w->w_gate) ||
            get_matrix(g, NAME("ffn_up"), c->ffn_dim, C, &w->w_up) ||
            get_matrix(g, NAME("ffn_down"), C, c->ffn_dim, &w->w_down))
            return -1;
#undef NAME
    }
    return 0;
}

/* matrix_pack, then the pages of the file mapping that hold the original
 * are released from this process: matmul reads the copy (and rows the copy
 * lacks, a quantized matrix's last rows past a multiple of 16, fault back
 * in from the file when read). The mapping is private, read-only and never
 * written, so a released page reads back the same bytes; without this the
 * weights would take twice their size in memory. */
static void pack_matrix(matrix *w) {
    matrix_pack(w);
    if (!w->packed) return;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)w->data;
    const uintptr_t lo = (a + page - 1) / page * page,
                    hi = (a + type_row_bytes(w->type, w->cols) * (size_t)w->rows) / page * page;
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice: errors change nothing */
}

model *model_load(const char *path) {
    gguf_file *g = gguf_open(path);
    if (!g) return NULL;
    model *m = xcalloc(1, sizeof(*m));
    m->file = g;
    m->kv_type = TYPE_F16;
    if (model_config_from_gguf(g, &m->cfg) || load_weights(m)) goto fail;
    if (gguf_find(g, "tokenizer.ggml.model")) {
        m->tok = tok_from_gguf(g);
        if (!m->tok) goto fail;
        if (tok_vocab_size(m->tok) != m->cfg.vocab_size) /* llama.cpp refuses these too */
            { err_set("tokenizer has %d tokens but token_embd has %d rows", tok_vocab_size(m->tok),
                      m->cfg.vocab_size); goto fail; }
    }
    /* Matrices copied into the memory and layout the kernels read fastest;
     * the file's pages of each are dropped once copied. */
    for (int l = 0; l < m->cfg.n_layers; l++) {
        layer_weights *w = &m->layers[l];
        matrix *ms[] = {&w->wq, &w->wk, &w->wv, &w->wo, &w->w_gate, &w->w_up, &w->w_down};
        for (size_t i = 0; i < ARRAY_LEN(ms); i++) pack_matrix(ms[i]);
    }
    pack_matrix(&m->output);
    return m;
fail:
    err_prefix(path);
    model_free(m);
    return NULL;
}

void model_free(model *m) {
    if (!m) return;
    if (m->tok && !m->view) tok_free(m->tok);
    gguf_close(m->file);
    for (int l = 0; m->layers && l < m->cfg.n_layers; l++) {
        layer_weights *w = &m->layers[l];
        matrix *ms[] = {&w->wq, &w->wk, &w->wv, &w->wo, &w->w_gate, &w->w_up, &w->w_down};
        for (size_t i = 0; i < ARRAY_LEN(ms); i++) matrix_pack_free(ms[i]);
    }
    matrix_pack_free(&m->output);
    free(m->layers);
    free(m->norm_f32);
    free(m);
}

void model_set_threads(int n) {
    if (n > 0) omp_set_num_threads(n);
}

/* ------------------------------------------------------------------------ */
/* Forward                                                                  */

/* The row math below is plain C that GCC compiles twice (target_clones):
 * once for AVX-512 and once for the baseline ISA, the loader picking one
 * for the CPU. f32x16 is GCC's generic vector of 16 floats: one zmm
 * register on AVX-512, four SSE registers on the baseline.
 * -DLLMOS_NO_CLONES builds the baseline only (to test it on any CPU). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(LLMOS_NO_CLONES)
#define FWD_CLONES __attribute__((target_clones("avx512f", "default")))
#else
#define FWD_CLONES
#endif
#define INLINE static inline __attribute__((always_inline))

typedef float f32x16 __attribute__((vector_size(64)));
/* f32x16 values never cross a call (every helper is inlined): no ABI. */
#pragma GCC diagnostic ignored "-Wpsabi"

INLINE f32x16 ld16(const float *p) {
    f32x16 v;
    memcpy(&v, p, sizeof(v));
    return v;
}
/* a macro: a vector passed by value gets GCC's ABI note on the baseline */
#define st16(p, v)                                                                                 \
    do {                                                                                           \
        const f32x16 st16_v = (v);                                                                 \
        memcpy((p), &st16_v, sizeof(st16_v));                                                      \
    } while (0)

/* Keys are cached transposed in tiles of ATT_KEYS positions, so that a
 * query's scores against a tile are whole vectors and a tile is one
 * contiguous read: per layer and kv head, ctx_stride / ATT_KEYS tiles
 * (n_ctx rounded up, so a tile never reads past the end), each D rows of
 * ATT_KEYS values. Values are cached per layer and kv head as n_ctx rows
 * of D. Elements are floats, or f16 (kv_f16): generation converts a tile
 * (ATT_KEYS positions) at a time into the thread's scratch as it reads
 * it, prompt processing a layer's whole cache once per batch (kv_f32). */
#define ATT_KEYS 32 /* keys per score tile */
#define ATT_QUERIES 8 /* queries per work item */

struct model_state {
    int n_ctx, n_batch;
    int ctx_stride;     /* n_ctx rounded up to ATT_KEYS */
    int kv_f16;         /* the caches hold f16 (uint16_t), else float */
    void *key_cache;    /* (L, KVH, ctx_stride / ATT_KEYS, D, ATT_KEYS) */
    void *value_cache;  /* (L, KVH, n_ctx, D) */
    float *x;           /* (n_batch, C) residual stream */
    float *xb;          /* (n_batch, C) normed input */
    float *q;           /* (n_batch, H*D) */
    float *k, *v;       /* (n_batch, KVH*D) */
    uint16_t *k16;      /* (n_batch, KVH*D) k rounded to f16, with an f16 cache */
    float *att_out;     /* (n_batch, H*D) */
    float *tmp;         /* (n_batch, C) */
    float *hb, *hb2;    /* (n_batch, F) */
    float *rope;        /* (n_batch, D) cos and sin of each pair, per position */
    float *att;         /* (threads, att_stride): per thread ATT_QUERIES rows of
                           ctx_stride attention scores, then ATT_KEYS * D floats
                           for an f16 cache tile converted */
    size_t att_stride;
    float *kv_f32;      /* with an f16 cache: one layer's K (as key_cache) and V
                           (as value_cache) converted to float, for prompt
                           processing, where every query tile would convert
                           the same tiles again */
    int n_att;          /* threads the per-thread scratch was made for */
    float *xb_thr;      /* (threads, xb_stride) each thread's normed input (forward_one) */
    size_t xb_stride;
    char *scratch;      /* (threads, scratch_stride) converted activations (forward_one) */
    size_t scratch_stride;
    float *logits;      /* (n_batch, V) */
};

double model_state_bytes(const model *m, int n_ctx, int n_batch) {
    const model_config *c = &m->cfg;
    const double kvd = (double)c->n_kv_heads * c->head_dim, qd = (double)c->n_heads * c->head_dim;
    const double stride = (double)((n_ctx + ATT_KEYS - 1) / ATT_KEYS * ATT_KEYS);
    const double es = m->kv_type == TYPE_F16 ? 2 : 4, L = c->n_layers, B = n_batch;
    double bytes = es * L * (stride + n_ctx) * kvd; /* the KV cache */
    if (m->kv_type == TYPE_F16 && n_batch > ATT_QUERIES) bytes += 4 * (stride + n_ctx) * kvd;
    bytes += 4 * B * (3.0 * c->dim + 2 * qd + 2 * kvd + 2.0 * c->ffn_dim + c->head_dim + c->vocab_size);
    bytes += 4.0 * omp_get_max_threads() * ((double)ATT_QUERIES * stride + (double)ATT_KEYS * c->head_dim + c->dim);
    return bytes;
}

model_state *model_state_new(const model *m, int n_ctx, int n_batch) {
    const model_config *c = &m->cfg;
    LLMOS_ASSERT(n_ctx > 0 && n_batch > 0);
    model_state *s = xcalloc(1, sizeof(*s));
    s->n_ctx = n_ctx;
    s->n_batch = n_batch;
    s->ctx_stride = (n_ctx + ATT_KEYS - 1) / ATT_KEYS * ATT_KEYS;
    size_t kvd = (size_t)c->n_kv_heads * c->head_dim, qd = (size_t)c->n_heads * c->head_dim;
    s->kv_f16 = m->kv_type == TYPE_F16;
    LLMOS_ASSERT(s->kv_f16 || m->kv_type == TYPE_F32);
    const size_t es = s->kv_f16 ? sizeof(uint16_t) : sizeof(float);
    s->key_cache = xcalloc_aligned(es * (size_t)c->n_layers * s->ctx_stride * kvd);
    s->value_cache = xcalloc_aligned(es * (size_t)c->n_layers * n_ctx * kvd);
    if (s->kv_f16) {
        s->k16 = xcalloc_aligned(sizeof(uint16_t) * n_batch * kvd);
        if (n_batch > ATT_QUERIES) /* only batches of several query tiles convert in bulk */
            s->kv_f32 = xcalloc_aligned(sizeof(float) * ((size_t)s->ctx_stride + n_ctx) * kvd);
    }
    s->x = xcalloc_aligned(sizeof(float) * n_batch * c->dim);
    s->xb = xcalloc_aligned(sizeof(float) * n_batch * c->dim);
    s->tmp = xcalloc_aligned(sizeof(float) * n_batch * c->dim);
    s->q = xcalloc_aligned(sizeof(float) * n_batch * qd);
    s->att_out = xcalloc_aligned(sizeof(float) * n_batch * qd);
    s->k = xcalloc_aligned(sizeof(float) * n_batch * kvd);
    s->v = xcalloc_aligned(sizeof(float) * n_batch * kvd);
    s->hb = xcalloc_aligned(sizeof(float) * n_batch * c->ffn_dim);
    s->hb2 = xcalloc_aligned(sizeof(float) * n_batch * c->ffn_dim);
    s->rope = xcalloc_aligned(sizeof(float) * n_batch * c->head_dim);
    s->n_att = omp_get_max_threads();
    s->att_stride = (size_t)ATT_QUERIES * s->ctx_stride + (size_t)ATT_KEYS * c->head_dim;
    s->att_stride = (s->att_stride + 15) / 16 * 16;
    s->att = xcalloc_aligned(sizeof(float) * s->n_att * s->att_stride);
    s->xb_stride = ((size_t)c->dim + 15) / 16 * 16;
    s->xb_thr = xcalloc_aligned(sizeof(float) * s->n_att * s->xb_stride);
    size_t sb = matmul_scratch_bytes(&m->output, 1); /* the largest conversion of one token */
    for (int l = 0; l < c->n_layers; l++) {
        const layer_weights *w = &m->layers[l];
        const matrix *ms[] = {&w->wq, &w->wk, &w->wv, &w->wo, &w->w_gate, &w->w_up, &w->w_down};
        for (size_t i = 0; i < ARRAY_LEN(ms); i++) sb = MAX(sb, matmul_scratch_bytes(ms[i], 1));
    }
    s->scratch_stride = (sb + 63) / 64 * 64;
    s->scratch = xcalloc_aligned(s->scratch_stride * s->n_att + 64);
    s->logits = xcalloc_aligned(sizeof(float) * n_batch * c->vocab_size);
    return s;
}

void model_state_free(model_state *s) {
    if (!s) return;
    void *const bufs[] = {s->key_cache, s->value_cache, s->x,      s->xb,     s->tmp,
                          s->q,         s->att_out,     s->k,      s->v,      s->hb,
                          s->hb2,       s->rope,        s->att,    s->logits, s->xb_thr,
                          s->scratch,   s->kv_f32,      s->k16};
    for (size_t i = 0; i < ARRAY_LEN(bufs); i++) xfree_aligned(bufs[i]);
    free(s);
}

/* out (C) = x / sqrt(mean(x^2) + eps) * w, as layers.c's rmsnorm_forward
 * with the sum of squares taken in vector lanes. */
FWD_CLONES static void rmsnorm_row(float *out, const float *x, const float *w, int C, float eps) {
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int i = 0; i < C; i++) ss += x[i] * x[i];
    const float r = 1.0f / sqrtf(ss / C + eps);
#pragma omp simd
    for (int i = 0; i < C; i++) out[i] = x[i] * r * w[i];
}

/* x (C) += d (C). */
FWD_CLONES static void add_row(float *x, const float *d, int C) {
#pragma omp simd
    for (int i = 0; i < C; i++) x[i] += d[i];
}

/* x (n, C) += d (n, C), then xb = rmsnorm(x) row by row (d NULL: no add). */
static void residual_norm(float *xb, float *x, const float *d, const float *w, int n, int C, float eps) {
#pragma omp parallel for schedule(static) if (n > 1)
    for (int t = 0; t < n; t++) {
        if (d) add_row(x + (size_t)t * C, d + (size_t)t * C, C);
        rmsnorm_row(xb + (size_t)t * C, x + (size_t)t * C, w, C, eps);
    }
}

/* The cos and sin of every pair of head dims at positions pos .. pos+n-1,
 * computed exactly as layers.c's rope_forward does. */
static void rope_table(float *tab, int n, int pos, int D, float base) {
    for (int i = 0; i < D; i += 2) {
        const float freq = powf(base, -(float)i / D);
        for (int t = 0; t < n; t++) {
            const float theta = (pos + t) * freq;
            tab[(size_t)t * D + i] = cosf(theta);
            tab[(size_t)t * D + i + 1] = sinf(theta);
        }
    }
}

/* Rotates the pairs of n_heads heads of D dims (rope_forward's math). */
FWD_CLONES static void rope_row(float *x, const float *cs, int n_heads, int D) {
    for (int h = 0; h < n_heads; h++) {
        float *p = x + (size_t)h * D;
#pragma omp simd
        for (int i = 0; i < D; i += 2) {
            const float a = p[i], b = p[i + 1];
            p[i] = a * cs[i] - b * cs[i + 1];
            p[i + 1] = a * cs[i + 1] + b * cs[i];
        }
    }
}

/* Where position p's value of dim d sits in a kv head's key cache. */
#define KEY_AT(p, d, D) (((size_t)(p) / ATT_KEYS * (D) + (d)) * ATT_KEYS + (p) % ATT_KEYS)

/* Scores of TQ queries (rows of q, ldq apart) against keys p0 .. p0+31 (a
 * tile) of one kv head's key cache kt: s[i][p] = q_i . k_p. */
INLINE void score_tile(int TQ, float *s, int lds, const float *q, int ldq, const float *kt, int D,
                       int p0) {
    kt += (size_t)p0 * D;
    f32x16 a[ATT_QUERIES][2];
#pragma GCC unroll 8
    for (int i = 0; i < TQ; i++) a[i][0] = a[i][1] = (f32x16){0};
    for (int d = 0; d < D; d++) {
        const f32x16 k0 = ld16(kt + (size_t)d * ATT_KEYS), k1 = ld16(kt + (size_t)d * ATT_KEYS + 16);
#pragma GCC unroll 8
        for (int i = 0; i < TQ; i++) {
            const float qv = q[(size_t)i * ldq + d];
            a[i][0] += qv * k0;
            a[i][1] += qv * k1;
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < TQ; i++) {
        st16(s + (size_t)i * lds + p0, a[i][0]);
        st16(s + (size_t)i * lds + p0 + 16, a[i][1]);
    }
}

/* out[i][d0 .. d0+16 NV) = sum over p < np of s[i][p] v_p[d0 ..] (add: plus
 * what out held), for TQ <= 4 queries. */
INLINE void pv_tile(int TQ, int NV, float *out, int ldo, const float *s, int lds, const float *v,
                    int D, int np, int d0, int add) {
    f32x16 a[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < TQ; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            a[i][j] = add ? ld16(out + (size_t)i * ldo + d0 + 16 * j) : (f32x16){0};
    for (int p = 0; p < np; p++) {
        f32x16 vv[4];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) vv[j] = ld16(v + (size_t)p * D + d0 + 16 * j);
#pragma GCC unroll 4
        for (int i = 0; i < TQ; i++) {
            const float sv = s[(size_t)i * lds + p];
#pragma GCC unroll 4
            for (int j = 0; j < NV; j++) a[i][j] += sv * vv[j];
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < TQ; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) st16(out + (size_t)i * ldo + d0 + 16 * j, a[i][j]);
}

#define SCORE_CASE(TQ)                                                                             \
    case TQ:                                                                                       \
        for (int p0 = 0; p0 < np; p0 += ATT_KEYS) score_tile(TQ, s, lds, q, ldq, kt, D, p0); \
        break;

/* s (tq, lds) = q (tq, D; rows ldq apart) . keys 0 .. np-1 (np a multiple
 * of ATT_KEYS), for tq <= ATT_QUERIES. */
FWD_CLONES static void att_scores(float *s, int lds, const float *q, int ldq, int tq, const float *kt,
                                  int D, int np) {
    switch (tq) {
        SCORE_CASE(1) SCORE_CASE(2) SCORE_CASE(3) SCORE_CASE(4)
        SCORE_CASE(5) SCORE_CASE(6) SCORE_CASE(7) default : SCORE_CASE(8)
    }
}

#define PV_CASE(TQ)                                                                                \
    case TQ:                                                                                       \
        for (; d0 + 64 <= D; d0 += 64) pv_tile(TQ, 4, out, ldo, s, lds, v, D, np, d0, add);        \
        switch ((D - d0) / 16) {                                                                   \
        case 3: pv_tile(TQ, 3, out, ldo, s, lds, v, D, np, d0, add); break;                        \
        case 2: pv_tile(TQ, 2, out, ldo, s, lds, v, D, np, d0, add); break;                        \
        case 1: pv_tile(TQ, 1, out, ldo, s, lds, v, D, np, d0, add); break;                        \
        }                                                                                          \
        break;

/* out (tq, D; rows ldo apart) = s (tq, np) . v (np, D) (add: +=), for tq <= 4. */
FWD_CLONES static void att_values(float *out, int ldo, const float *s, int lds, int tq, const float *v,
                                  int D, int np, int add) {
    int d0 = 0;
    switch (tq) {
        PV_CASE(1) PV_CASE(2) PV_CASE(3) default : PV_CASE(4)
    }
    const int dt = D / 16 * 16; /* the dims left over: plain loops */
    for (int i = 0; i < tq; i++)
        for (int d = dt; d < D; d++) {
            float acc = add ? out[(size_t)i * ldo + d] : 0;
            for (int p = 0; p < np; p++) acc += s[(size_t)i * lds + p] * v[(size_t)p * D + d];
            out[(size_t)i * ldo + d] = acc;
        }
}

/* Attention of tq <= ATT_QUERIES query rows (q, ldq floats apart) that
 * share kv head kvh, against the layer's caches kc, vc (f16, converted a
 * tile at a time, or float); row i sees keys 0 .. len0 + i * step - 1:
 * their scores, the softmax of each row over its own keys (zeros after
 * them), the weighted sum of values, then 1 / the sum of the
 * exponentials, into out (rows ldo apart). Prompt processing passes
 * consecutive positions of one head (step 1); generation the query heads
 * of one kv head at one position (step 0), so that they share every key
 * and value read. att: the thread's scratch (att_stride floats). */
static void attend(const model_config *c, const model_state *s, const void *kc, const void *vc,
                   int f16, int kvh, const float *q, int ldq, float *out, int ldo, int tq, int len0,
                   int step, float *att) {
    const int D = c->head_dim, cs = s->ctx_stride;
    const float scale = 1.0f / sqrtf((float)D);
    const size_t ko = (size_t)kvh * D * cs, vo = (size_t)kvh * s->n_ctx * D; /* element offsets */
    float *tile = att + (size_t)ATT_QUERIES * cs; /* an f16 tile, converted */
    const int len_max = len0 + (tq - 1) * step; /* keys the last row sees */
    const int np = (len_max + ATT_KEYS - 1) / ATT_KEYS * ATT_KEYS;
    if (f16)
        for (int p0 = 0; p0 < np; p0 += ATT_KEYS) {
            vec_f16_to_f32(tile, (const uint16_t *)kc + ko + (size_t)p0 * D, (size_t)ATT_KEYS * D);
            att_scores(att + p0, cs, q, ldq, tq, tile, D, ATT_KEYS);
        }
    else att_scores(att, cs, q, ldq, tq, (const float *)kc + ko, D, np);
    float inv[ATT_QUERIES];
    for (int i = 0; i < tq; i++) {
        float *row = att + (size_t)i * cs;
        const int len = len0 + i * step;
        const float mx = vec_max(row, len);
        inv[i] = 1.0f / vec_exp_sum(row, len, scale, mx * scale);
        memset(row + len, 0, sizeof(float) * (len_max - len));
    }
    if (f16)
        for (int p0 = 0; p0 < len_max; p0 += ATT_KEYS) {
            const int n = MIN(ATT_KEYS, len_max - p0);
            vec_f16_to_f32(tile, (const uint16_t *)vc + vo + (size_t)p0 * D, (size_t)n * D);
            for (int i = 0; i < tq; i += 4)
                att_values(out + (size_t)i * ldo, ldo, att + (size_t)i * cs + p0, cs, MIN(4, tq - i),
                           tile, D, n, p0 > 0);
        }
    else
        for (int i = 0; i < tq; i += 4)
            att_values(out + (size_t)i * ldo, ldo, att + (size_t)i * cs, cs, MIN(4, tq - i),
                       (const float *)vc + vo, D, len_max, 0);
    for (int i = 0; i < tq; i++) vec_scale(out + (size_t)i * ldo, D, inv[i]);
}

/* Generation: query heads h0 .. h1-1 of the one new token at pos, in runs
 * of at most ATT_QUERIES heads that share a kv head. */
static void attend_heads(const model_config *c, const model_state *s, const void *kc,
                         const void *vc, int pos, int h0, int h1, float *att) {
    const int D = c->head_dim, group = c->n_heads / c->n_kv_heads;
    for (int h = h0, e; h < h1; h = e) {
        e = MIN(MIN(h1, (h / group + 1) * group), h + ATT_QUERIES);
        attend(c, s, kc, vc, s->kv_f16, h / group, s->q + (size_t)h * D, D, s->att_out + (size_t)h * D,
               D, e - h, pos + 1, 0, att);
    }
}

/* Element i of a cache of the state's KV type. */
static const void *kv_at(const model_state *s, const void *cache, size_t i) {
    return (const char *)cache + i * (s->kv_f16 ? sizeof(uint16_t) : sizeof(float));
}
/* Layer l's key and value caches. */
static const void *layer_keys(const model_config *c, const model_state *s, int l) {
    return kv_at(s, s->key_cache, (size_t)l * c->n_kv_heads * c->head_dim * s->ctx_stride);
}
static const void *layer_values(const model_config *c, const model_state *s, int l) {
    return kv_at(s, s->value_cache, (size_t)l * c->n_kv_heads * c->head_dim * s->n_ctx);
}

/* Attention of the whole batch (output (n, H*D)). Work items are a head
 * and up to ATT_QUERIES consecutive queries. With an f16 cache and more
 * than one query tile, the cache is converted first, once: the keys and
 * values of positions 0 .. pos+n-1, each kv head's a contiguous run in
 * both layouts. (One tile converts as it reads, as generation does.) */
static void attention(const model_config *c, model_state *s, int l, int n, int pos) {
    const int H = c->n_heads, D = c->head_dim, KVH = c->n_kv_heads, cs = s->ctx_stride;
    const int n_tiles = (n + ATT_QUERIES - 1) / ATT_QUERIES;
    const int np = (pos + n + ATT_KEYS - 1) / ATT_KEYS * ATT_KEYS;
    const double work = (double)n * H * D * (pos + n);
    /* at most the threads the score scratch was made for (model_set_threads
     * may have raised the count since), each with its own slice */
    const int nth = MIN(omp_get_max_threads(), s->n_att);
    const void *kc = layer_keys(c, s, l), *vc = layer_values(c, s, l);
    int f16 = s->kv_f16;
    if (f16 && n_tiles > 1) { /* n > ATT_QUERIES, so kv_f32 exists */
        float *kf = s->kv_f32, *vf = s->kv_f32 + (size_t)KVH * D * cs;
#pragma omp parallel for schedule(static) num_threads(nth) if (work > 1e5)
        for (int g = 0; g < 2 * KVH; g++) { /* kv head g's keys, then kv head g - KVH's values */
            const size_t ko = (size_t)g * D * cs, vo = (size_t)(g - KVH) * s->n_ctx * D;
            if (g < KVH) vec_f16_to_f32(kf + ko, (const uint16_t *)kc + ko, (size_t)np * D);
            else vec_f16_to_f32(vf + vo, (const uint16_t *)vc + vo, (size_t)(pos + n) * D);
        }
        kc = kf, vc = vf, f16 = 0;
    }
    if (n == 1) { /* one token: the query heads of each kv head together */
        const int group = H / KVH;
#pragma omp parallel for schedule(static) num_threads(nth) if (work > 1e5)
        for (int g = 0; g < KVH; g++)
            attend_heads(c, s, kc, vc, pos, g * group, (g + 1) * group,
                         s->att + (size_t)omp_get_thread_num() * s->att_stride);
        return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (work > 1e5)
    for (int item = 0; item < H * n_tiles; item++) {
        /* later query tiles see more keys: hand them out first */
        const int h = item % H, t0 = (n_tiles - 1 - item / H) * ATT_QUERIES;
        const size_t o = ((size_t)t0 * H + h) * D;
        attend(c, s, kc, vc, f16, h / (H / KVH), s->q + o, H * D, s->att_out + o, H * D,
               MIN(ATT_QUERIES, n - t0), pos + t0 + 1, 1,
               s->att + (size_t)omp_get_thread_num() * s->att_stride);
    }
}

/* Element i of the key cache = element j of the batch's keys (k, or k16
 * in an f16 cache). */
static inline void store_key(model_state *s, size_t i, size_t j) {
    if (s->kv_f16) ((uint16_t *)s->key_cache)[i] = s->k16[j];
    else ((float *)s->key_cache)[i] = s->k[j];
}

/* RoPE on the n new tokens' q and k, and k and v into the cache, for the
 * kv heads g0 .. g1-1 and the query heads that share them. */
static void rope_and_cache(const model_config *c, model_state *s, int l, int n, int pos, int t,
                           int g0, int g1) {
    const int D = c->head_dim, KVH = c->n_kv_heads, group = c->n_heads / KVH, cs = s->ctx_stride;
    const size_t kvd = (size_t)KVH * D;
    const float *rc = s->rope + (size_t)t * D;
    rope_row(s->q + ((size_t)t * c->n_heads + (size_t)g0 * group) * D, rc, (g1 - g0) * group, D);
    float *k = s->k + (size_t)t * kvd;
    rope_row(k + (size_t)g0 * D, rc, g1 - g0, D);
    if (s->kv_f16) /* rounded once: keys reach the cache transposed, element by element */
        vec_f32_to_f16(s->k16 + (size_t)t * kvd + (size_t)g0 * D, k + (size_t)g0 * D,
                       (size_t)(g1 - g0) * D);
    const size_t ko = (size_t)l * kvd * cs, vo = (size_t)l * kvd * s->n_ctx;
    for (int g = g0; g < g1; g++) {
        const size_t vi = vo + ((size_t)g * s->n_ctx + pos + t) * D;
        const float *vr = s->v + (size_t)t * kvd + (size_t)g * D;
        if (s->kv_f16) vec_f32_to_f16((uint16_t *)s->value_cache + vi, vr, (size_t)D);
        else memcpy((float *)s->value_cache + vi, vr, sizeof(float) * D);
        if (n == 1)
            for (int d = 0; d < D; d++)
                store_key(s, ko + (size_t)g * D * cs + KEY_AT(pos, d, D),
                          (size_t)t * kvd + (size_t)g * D + d);
    }
}

/* matmul_many (ith < 0) or matmul_many_part, falling back to one matrix at
 * a time when the matrices differ in type (a file may mix them). */
static void mm_group(float *const *outs, const float *x, const matrix *const *ws, int count, int n,
                     void *scratch, int ith, int nth) {
    int same = 1;
    for (int i = 1; i < count; i++) same &= ws[i]->type == ws[0]->type;
    for (int i = 0; i < count; i += same ? count : 1) {
        const int k = same ? count : 1;
        if (ith < 0) matmul_many(outs + i, x, ws + i, k, n);
        else matmul_many_part(outs + i, x, ws + i, k, n, scratch, ith, nth);
    }
}

/* One token (generation) in one parallel region: every thread computes its
 * rows of each matrix (matmul_many_part) and the heads of its kv heads, and
 * the threads meet at a barrier between steps. Each normalizes the
 * residual stream into its own copy of xb. Compared with a parallel region
 * per matrix, no thread is woken from sleep and no serial step runs while
 * the others wait. */
static void forward_one(const model *m, model_state *s, int pos) {
    const model_config *c = &m->cfg;
    const int C = c->dim, F = c->ffn_dim, KVH = c->n_kv_heads, group = c->n_heads / KVH;
#pragma omp parallel
    {
        const int ith = omp_get_thread_num(), nth = omp_get_num_threads();
        float *xb = s->xb_thr + (size_t)ith * s->xb_stride;
        void *scratch = s->scratch + (size_t)ith * s->scratch_stride;
        float *att = s->att + (size_t)ith * s->att_stride;
        const int g0 = (int)((int64_t)KVH * ith / nth), g1 = (int)((int64_t)KVH * (ith + 1) / nth);
        int64_t c0, c1, f0, f1;
        matmul_rows(C, ith, nth, &c0, &c1);
        matmul_rows(F, ith, nth, &f0, &f1);
        for (int l = 0; l < c->n_layers; l++) {
            const layer_weights *w = &m->layers[l];
            rmsnorm_row(xb, s->x, w->attn_norm, C, c->norm_eps);
            float *const qkv[] = {s->q, s->k, s->v};
            const matrix *const wqkv[] = {&w->wq, &w->wk, &w->wv};
            mm_group(qkv, xb, wqkv, 3, 1, scratch, ith, nth);
#pragma omp barrier
            rope_and_cache(c, s, l, 1, pos, 0, g0, g1);
            const void *kc = layer_keys(c, s, l), *vc = layer_values(c, s, l);
            if (nth > KVH) { /* fewer kv heads than threads: the query heads are split */
#pragma omp barrier
                attend_heads(c, s, kc, vc, pos, (int)((int64_t)c->n_heads * ith / nth),
                             (int)((int64_t)c->n_heads * (ith + 1) / nth), att);
            } else
                attend_heads(c, s, kc, vc, pos, g0 * group, g1 * group, att);
#pragma omp barrier
            matmul_many_part(&s->tmp, s->att_out, (const matrix *const[]){&w->wo}, 1, 1, scratch, ith, nth);
            add_row(s->x + c0, s->tmp + c0, (int)(c1 - c0));
#pragma omp barrier
            rmsnorm_row(xb, s->x, w->ffn_norm, C, c->norm_eps);
            float *const gu[] = {s->hb, s->hb2};
            const matrix *const wgu[] = {&w->w_gate, &w->w_up};
            mm_group(gu, xb, wgu, 2, 1, scratch, ith, nth);
            vec_swiglu_fwd(s->hb + f0, s->hb + f0, s->hb2 + f0, (size_t)(f1 - f0));
#pragma omp barrier
            matmul_many_part(&s->tmp, s->hb, (const matrix *const[]){&w->w_down}, 1, 1, scratch, ith, nth);
            add_row(s->x + c0, s->tmp + c0, (int)(c1 - c0));
#pragma omp barrier
        }
        rmsnorm_row(xb, s->x, m->out_norm, C, c->norm_eps);
        matmul_many_part(&s->logits, xb, (const matrix *const[]){&m->output}, 1, 1, scratch, ith, nth);
    }
}

const float *model_forward(const model *m, model_state *s, const int *tokens, int n, int pos, int all) {
    const model_config *c = &m->cfg;
    const int C = c->dim, F = c->ffn_dim, V = c->vocab_size, D = c->head_dim;
    const int KVH = c->n_kv_heads, cs = s->ctx_stride;
    const size_t kvd = (size_t)KVH * D;
    if (n < 1 || pos < 0 || pos + n > s->n_ctx) {
        err_set("context full: %d + %d tokens exceed the context of %d", pos, n, s->n_ctx);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V) {
            err_set("token id %d is out of range [0, %d)", tokens[i], V);
            return NULL;
        }
    if (n > s->n_batch) { /* run in slices; only the last slice's logits are kept */
        LLMOS_ASSERT(!all);
        const float *r = NULL;
        for (int i = 0; i < n; i += s->n_batch)
            if (!(r = model_forward(m, s, tokens + i, MIN(s->n_batch, n - i), pos + i, 0))) return NULL;
        return r;
    }
    const size_t erb = type_row_bytes(m->tok_embd.type, C);
    for (int t = 0; t < n; t++)
        row_to_float(m->tok_embd.type, (const char *)m->tok_embd.data + (size_t)tokens[t] * erb,
                     s->x + (size_t)t * C, C);
    rope_table(s->rope, n, pos, D, c->rope_base);
    if (n == 1 && omp_get_max_threads() > 1 && omp_get_max_threads() <= s->n_att) {
        forward_one(m, s, pos);
        return s->logits;
    }

    for (int l = 0; l < c->n_layers; l++) {
        const layer_weights *w = &m->layers[l];
        /* the previous layer's FFN output joins the residual stream here */
        residual_norm(s->xb, s->x, l ? s->tmp : NULL, w->attn_norm, n, C, c->norm_eps);
        float *const qkv[] = {s->q, s->k, s->v};
        const matrix *const wqkv[] = {&w->wq, &w->wk, &w->wv};
        mm_group(qkv, s->xb, wqkv, 3, n, NULL, -1, 0);
        const size_t ko = (size_t)l * KVH * D * cs;
#pragma omp parallel if (n > 1)
        {
#pragma omp for schedule(static)
            for (int t = 0; t < n; t++) rope_and_cache(c, s, l, n, pos, t, 0, KVH);
            /* keys into the transposed cache: each row written along positions */
#pragma omp for schedule(static)
            for (int gd = 0; gd < (int)kvd; gd++)
                for (int t = 0; t < n; t++)
                    store_key(s, ko + (size_t)(gd / D) * D * cs + KEY_AT(pos + t, gd % D, D),
                              (size_t)t * kvd + gd);
        }
        attention(c, s, l, n, pos);
        matmul(s->tmp, s->att_out, &w->wo, n);
        residual_norm(s->xb, s->x, s->tmp, w->ffn_norm, n, C, c->norm_eps);
        float *const gu[] = {s->hb, s->hb2};
        const matrix *const wgu[] = {&w->w_gate, &w->w_up};
        mm_group(gu, s->xb, wgu, 2, n, NULL, -1, 0);
#pragma omp parallel for schedule(static) if (n > 1)
        for (int t = 0; t < n; t++)
            vec_swiglu_fwd(s->hb + (size_t)t * F, s->hb + (size_t)t * F, s->hb2 + (size_t)t * F, F);
        matmul(s->tmp, s->hb, &w->w_down, n);
    }
    for (int t = 0; t < n; t++) add_row(s->x + (size_t)t * C, s->tmp + (size_t)t * C, C);

    const int first = all ? 0 : n - 1, count = n - first;
    for (int t = first; t < n; t++)
        rmsnorm_row(s->xb + (size_t)(t - first) * C, s->x + (size_t)t * C, m->out_norm, C, c->norm_eps);
    matmul(s->logits, s->xb, &m->output, count);
    return s->logits;
}
