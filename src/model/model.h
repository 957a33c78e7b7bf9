/*
 * model.h - the 'llama' transformer as llama.cpp defines it, for inference.
 *
 * Shapes (letters used throughout llmos): B batch, T time (positions),
 * C model dim (embedding_length), H query heads, KVH key/value heads
 * (H % KVH == 0; KVH = 1 is multi-query), D head dim (C / H), F feed-forward
 * dim, V vocabulary, L layers.
 *
 *   x = tok_embd[token]
 *   per layer: h = x + wo . attn(rope(wq . rmsnorm(x)), rope(wk . ...), wv . ...)
 *              x = h + w_down . (silu(w_gate . rmsnorm(h)) * (w_up . rmsnorm(h)))
 *   logits = output . rmsnorm(x)     (output = tok_embd when tied)
 *
 * RoPE rotates adjacent pairs (x[2i], x[2i+1]) of each head by
 * pos * base^(-2i/D) (llama.cpp's "normal" rope mode, rope base from
 * `llama.rope.freq_base`). RMSNorm: x / sqrt(mean(x^2) + eps) * w.
 *
 * GGUF tensor names (ne[0] first):
 *   token_embd.weight (C, V)  output_norm.weight (C)  output.weight (C, V), optional
 *   blk.N.attn_norm.weight (C)   blk.N.attn_q.weight (C, H*D)
 *   blk.N.attn_k.weight (C, KVH*D)  blk.N.attn_v.weight (C, KVH*D)
 *   blk.N.attn_output.weight (H*D, C)  blk.N.ffn_norm.weight (C)
 *   blk.N.ffn_gate.weight (C, F)  blk.N.ffn_up.weight (C, F)  blk.N.ffn_down.weight (F, C)
 *
 * Ownership: model_load maps the file; weights point into the mapping and
 * stay valid until model_free. train_model_view (train_model.h) makes a
 * model whose weights are a training model's fp32 parameters, read in
 * place (no file, no copy); model_free releases only the view. A model_state (KV cache and scratch) belongs
 * to one sequence; make one per concurrent sequence.
 */
#ifndef LLMOS_MODEL_H
#define LLMOS_MODEL_H

#include <stdint.h>

#include "../core/kernels.h"
#include "../core/types.h"
#include "../io/gguf.h"
#include "../tokenizer/tokenizer.h"

typedef struct {
    int dim;        /* C */
    int n_layers;   /* L */
    int n_heads;    /* H */
    int n_kv_heads; /* KVH */
    int head_dim;   /* D = C / H */
    int ffn_dim;    /* F */
    int vocab_size; /* V */
    int ctx_len;    /* longest sequence the model was trained for */
    float norm_eps;
    float rope_base;
    int tied;       /* output head shares token_embd */
} model_config;

typedef struct {
    const float *attn_norm; /* (C) */
    matrix wq;              /* (H*D, C) */
    matrix wk;              /* (KVH*D, C) */
    matrix wv;              /* (KVH*D, C) */
    matrix wo;              /* (C, H*D) */
    const float *ffn_norm;  /* (C) */
    matrix w_gate;          /* (F, C) */
    matrix w_up;            /* (F, C) */
    matrix w_down;          /* (C, F) */
} layer_weights;

typedef struct {
    model_config cfg;
    matrix tok_embd;        /* (V, C) */
    layer_weights *layers;  /* (L) */
    const float *out_norm;  /* (C) */
    matrix output;          /* (V, C); the same as tok_embd when tied */
    tokenizer *tok;         /* NULL if the file has no tokenizer */
    gguf_file *file;        /* owns the mapping */
    float *norm_f32;        /* norms converted to f32 when stored otherwise */
    tensor_type kv_type;    /* KV cache of states made from now on: TYPE_F16 (the
                               default, as llama.cpp's) or TYPE_F32 */
    int view;               /* 1: the weights and the tokenizer are borrowed
                               (train_model_view); model_free leaves them */
} model;

/* Reads hyperparameters for architecture 'llama' from g. */
int model_config_from_gguf(const gguf_file *g, model_config *c);
/* Writes them as llama.cpp's `llama.*` keys (plus general.architecture). */
void model_config_to_gguf(const model_config *c, gguf_writer *w);

/* Loads and validates a model (every tensor present, shapes as above).
 * NULL with err_set ("m.gguf: tensor 'blk.3.attn_q.weight' has shape ...")
 * on any problem. */
model *model_load(const char *path);
void model_free(model *m);
/* Parameter count of a config: the total, and in *non_embedding (may be
 * NULL) the count without the vocabulary matrices (the token embedding and
 * an untied output head). scaling.h has the same counters with FLOPs. */
int64_t model_param_count(const model_config *c, int64_t *non_embedding);

/* Per-sequence state: KV cache for n_ctx positions (of m->kv_type) and
 * scratch for batches of up to n_batch tokens. An f16 cache holds K and V
 * rounded to f16 (to nearest even) and computes attention in f32 from
 * them: half the memory and half the bytes read per generated token. */
typedef struct model_state model_state;
model_state *model_state_new(const model *m, int n_ctx, int n_batch);
void model_state_free(model_state *s);
/* The bytes model_state_new(m, n_ctx, n_batch) allocates (the KV cache
 * first of all), to check against mem_available before asking for them. */
double model_state_bytes(const model *m, int n_ctx, int n_batch);

/* Runs n tokens at positions pos .. pos+n-1 (the cache must already hold
 * 0 .. pos-1), appends them to the cache, and writes logits: the last
 * position's V floats, or with all != 0 all n positions' (n x V). Returns a
 * pointer into the state valid until the next call, or NULL with err_set
 * when pos + n exceeds n_ctx. */
const float *model_forward(const model *m, model_state *s, const int *tokens, int n, int pos,
                           int all);

/* Thread count used by kernels (OpenMP). */
void model_set_threads(int n);

#endif
