/*
 * train_model.h - the 'llama' transformer of model.h as a trainable model:
 * fp32 parameters, their gradients, the activations of one (B, T) batch,
 * and a forward and a backward pass written layer by layer in pairs
 * (embedding, rmsnorm, matmul, rope, attention, swiglu, cross-entropy).
 *
 * Memory, llm.c style: one allocation per role, carved by a size table.
 *   params  every tensor of the model, in the order of train_model_tensor()
 *   grads   the same layout
 *   acts    the activations the backward pass needs for (B, T), plus scratch
 * A parameter tensor is row-major (out, in), which is exactly a GGUF tensor
 * with ne = {in, out}: the names and shapes are model.h's.
 *
 * Initialization (train_model_init_weights, seeded): every matrix ~
 * normal(0, 0.02), except the projections that write into the residual
 * stream (attn_output, ffn_down), which get 0.02 / sqrt(2 L) so that the
 * residual's variance does not grow with depth (GPT-2's scheme); the
 * untied output head also uses 0.02; RMSNorm weights are 1.
 *
 * Threads: set the OpenMP thread count before train_model_new; the
 * attention scratch is sized for it (more threads later are not used).
 *
 * Ownership: train_model_new allocates everything; train_model_free
 * releases it. Pointers into params/grads stay valid for the model's life.
 */
#ifndef LLMOS_TRAIN_MODEL_H
#define LLMOS_TRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../io/gguf.h"
#include "model.h"

/* One parameter tensor in the size table. */
typedef struct {
    char name[64];     /* GGUF name: "blk.3.attn_q.weight" */
    int n_dims;        /* 1 or 2 */
    int64_t ne[2];     /* ne[0] = in (row length), ne[1] = out (rows) */
    size_t offset;     /* in floats, into params / grads */
    size_t size;       /* floats */
    int decay;         /* 1 for 2-D weights (AdamW weight decay applies) */
} train_tensor;

typedef struct {
    float *attn_norm; /* (C) */
    float *wq;        /* (H*D, C) */
    float *wk;        /* (KVH*D, C) */
    float *wv;        /* (KVH*D, C) */
    float *wo;        /* (C, H*D) */
    float *ffn_norm;  /* (C) */
    float *w_gate;    /* (F, C) */
    float *w_up;      /* (F, C) */
    float *w_down;    /* (C, F) */
} train_layer;

/* Activations saved by the forward pass for one layer; N = B*T tokens. */
typedef struct {
    float *x;     /* (N, C) layer input (residual stream) */
    float *xn1;   /* (N, C) attn rmsnorm output */
    float *rstd1; /* (N) */
    float *qkv;   /* (N, H*D + 2*KVH*D) per token: q, k (both after rope), v */
    float *att;   /* (B, H, T, T) softmax probabilities (causal) */
    float *y;     /* (N, H*D) attention output before wo */
    float *h;     /* (N, C) residual after attention */
    float *xn2;   /* (N, C) */
    float *rstd2; /* (N) */
    float *gu;    /* (N, 2F) per token: w_gate . xn2, w_up . xn2 */
    float *act;   /* (N, F) silu(gate) * up */
} train_layer_acts;

typedef struct {
    model_config cfg;
    int n_tensors;
    train_tensor *tensors; /* size table */
    size_t n_params;       /* floats in params (tied: the head is not counted twice) */
    float *params;
    float *grads;
    /* views into params and grads */
    float *tok_embd, *out_norm, *output; /* (V, C), (C), (V, C) (= tok_embd when tied) */
    float *g_tok_embd, *g_out_norm, *g_output;
    train_layer *layers, *g_layers; /* (L) */
    /* activations for batches of up to B x T */
    int B, T;
    float *acts;
    size_t n_acts;
    train_layer_acts *la; /* (L) */
    float *x_final;    /* (N, C) residual after the last layer */
    float *xnf;        /* (N, C) final norm output */
    float *rstdf;      /* (N) */
    float *logits;     /* (N, V) logits; probabilities after forward; dlogits in backward */
    float *losses;     /* (N) per-token loss (0 where masked) */
    float *rope_cos, *rope_sin; /* (T, D/2) */
    /* backward scratch */
    float *d_res, *d_xn, *d_qkv, *d_y, *d_gu, *d_act, *d_h; /* d_qkv, d_gu laid out as qkv, gu */
    float *attn_scratch; /* (n_scratch, D*T + T*T): per-thread attention scratch */
    int n_scratch;       /* threads the scratch is sized for (OpenMP max at creation) */
    /* the batch of the last forward */
    int cur_B, cur_T;
    const int *targets;
    const float *mask;
    float loss_weight_sum; /* number (or total weight) of unmasked targets */
    /* called by train_model_backward when layer l's gradients are final
     * (l = L-1 down to 0), then with l = -1 when all are (the embedding,
     * the output norm and head): a data-parallel run starts sending them */
    void (*grad_hook)(void *ctx, int l);
    void *grad_hook_ctx;
} train_model;

/* Allocates a model with the given config and activations for batches of
 * up to B sequences of up to T tokens. Parameters are zero until
 * train_model_init_weights or train_model_load. NULL with err_set ("training
 * at batch B x context T needs X of memory; Y is available") when the
 * parameters, gradients, AdamW's moments and activations would not fit. */
train_model *train_model_new(const model_config *cfg, int B, int T);
void train_model_free(train_model *m);

/* Seeded initialization (see the top of this file). */
void train_model_init_weights(train_model *m, uint64_t seed);

/* Copies weights from a GGUF holding the model's tensors (f32, f16 or bf16)
 * with the shapes of this config. 0, or -1 with err_set. */
int train_model_load_weights(train_model *m, const gguf_file *g);
/* Reads a config from a llama GGUF (model_config_from_gguf, plus the
 * vocabulary size and tied head from the tensors). */
int train_model_config_from_gguf(const gguf_file *g, model_config *c);
/* Adds the config keys and every parameter tensor (f32, by reference: m
 * must outlive the save) to w. */
void train_model_to_gguf(const train_model *m, gguf_writer *w);

/* A model (model.h) for generation whose weights are m's fp32 parameters,
 * read in place: sampling sees every later optimizer step without a file in
 * between, and gives the same tokens as the GGUF train_model_to_gguf writes
 * (loaded with model_load). tok (may be NULL) is borrowed. m and tok must
 * outlive the view; release it with model_free. */
model *train_model_view(const train_model *m, const tokenizer *tok);

/* Forward pass over tokens (B, T) (row b at positions 0..T-1). With
 * targets (B, T) it computes the fused softmax cross-entropy and returns
 * the mean loss over unmasked targets: a target < 0 or mask[i] == 0 (mask
 * may be NULL) does not count; with mask, each target's loss is weighted by
 * mask[i]. Without targets it returns 0 and leaves logits (B*T, V). The
 * targets and mask arrays must stay valid until train_model_backward. */
float train_model_forward(train_model *m, const int *tokens, const int *targets,
                          const float *mask, int B, int T);
/* Adds the gradient of (loss_scale * mean loss of the last forward) to
 * grads (call train_model_zero_grad first; accumulates over micro-batches). */
void train_model_backward(train_model *m, const int *tokens, float loss_scale);
void train_model_zero_grad(train_model *m);

/* Matmul FLOPs of one training step per token (6 x matmul parameters plus
 * the causal attention products at sequence length T), for GFLOP/s figures. */
double train_model_flops_per_token(const model_config *c, int T);

/* Total parameter count (floats in params). */
size_t train_model_param_count(const train_model *m);

/* splitmix64, and a standard normal from it (Box-Muller): the project's
 * reproducible random numbers for init and sampling. */
uint64_t train_rng_next(uint64_t *state);
double train_rng_normal(uint64_t *state);

#endif
