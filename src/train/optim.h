/*
 * optim.h - AdamW with PyTorch's semantics (torch.optim.AdamW), the
 * learning-rate schedule and gradient clipping used by every trainer.
 *
 * One step, for each parameter p with gradient g, at step t (1-based):
 *   p <- p * (1 - lr * wd)            decoupled weight decay, 2-D weights only
 *   m <- b1 m + (1 - b1) g            v <- b2 v + (1 - b2) g^2
 *   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Schedule: linear warmup from 0 over `warmup` steps, then cosine (or
 * linear) decay to lr * min_ratio at `total` steps. Clipping: when the
 * global L2 norm of all gradients exceeds clip, every gradient is scaled by
 * clip / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_).
 *
 * Ownership: adamw_new allocates the moment buffers (n floats each);
 * adamw_free releases them.
 */
#ifndef LLMOS_OPTIM_H
#define LLMOS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "../model/train_model.h"

typedef struct {
    float beta1, beta2, eps, weight_decay;
    size_t n;
    float *m, *v; /* (n) first and second moments */
    int64_t t;    /* steps taken */
} adamw;

adamw *adamw_new(size_t n, float beta1, float beta2, float eps, float weight_decay);
void adamw_free(adamw *o);
/* One step over the model's parameters at learning rate lr (increments t). */
void adamw_step(adamw *o, train_model *m, float lr);
/* The update of step o->t (t not incremented) for the parameters [lo, hi)
 * of m: grads, mom1 and mom2 hold those elements' gradients and moments
 * (element lo first). adamw_step is this over all of them; a rank of a
 * sharded optimizer (ddp.h) calls it on its own pieces. */
void adamw_update(const adamw *o, train_model *m, float lr, size_t lo, size_t hi, const float *grads, float *mom1,
                  float *mom2);

typedef enum { SCHED_COSINE, SCHED_LINEAR, SCHED_CONSTANT } sched_kind;

typedef struct {
    sched_kind kind;
    double lr, min_ratio;
    int64_t warmup, total;
} lr_schedule;

/* The optimization settings the fine-tuning stages share (sft, dpo): AdamW,
 * the schedule and clipping. */
typedef struct {
    double lr, min_ratio, weight_decay, beta1, beta2, eps, clip;
    int64_t warmup; /* < 0: automatic */
    sched_kind sched;
} train_hparams;

/* AdamW betas 0.9 / 0.95, eps 1e-8, clip 1.0, cosine to 10% of lr, automatic
 * warmup, no weight decay; lr as given. */
train_hparams train_hparams_default(double lr);

/* Learning rate for step (1-based). */
double lr_at(const lr_schedule *s, int64_t step);
/* "cosine" / "linear" / "constant" -> kind; -1 if unknown. */
int sched_from_name(const char *name);
const char *sched_name(sched_kind k);

/* Global L2 norm of the gradients (double accumulation, fixed order). */
double grad_global_norm(const train_model *m);
/* Scales the gradients so the norm is at most clip (no-op if clip <= 0 or
 * the norm is within it). Returns the norm before clipping. */
double grad_clip(train_model *m, double clip);

#endif
