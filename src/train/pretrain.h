/*
 * pretrain.h - the pretraining loop behind `llmos pretrain`: next-token
 * prediction on token shards, AdamW, evaluation, logs, checkpoints.
 *
 * Files beside the output OUT.gguf:
 *   OUT.ckpt.gguf   checkpoint: the model's tensors, AdamW moments as
 *                   optim.m.<name> / optim.v.<name>, and train.* keys (step,
 *                   seed, schedule, data position); written atomically
 *   OUT.log.jsonl   one JSON object per step and per evaluation
 *   OUT.loss.png    the loss curve (gnuplot), at the end
 * A resumed run rewinds the log to the checkpoint's step, so the log of an
 * interrupted and resumed run reads exactly like an uninterrupted one.
 */
#ifndef LLMOS_PRETRAIN_H
#define LLMOS_PRETRAIN_H

#include <stdint.h>

#include "../model/model.h"
#include "optim.h"

typedef struct {
    const char *data_dir;
    const char *tokenizer_path; /* NULL: DATA/tokenizer.gguf */
    const char *out_path;
    const char *init_path;      /* start from these weights (config from the file) */
    int resume;                 /* continue from OUT.ckpt.gguf */
    model_config cfg;           /* vocab_size is filled from the tokenizer */
    int64_t tokens;             /* training tokens in all; <= 0: 20 x parameters */
    int64_t steps;              /* > 0 overrides tokens */
    int batch, accum;           /* sequences per micro-batch, micro-batches per step */
    double lr, min_ratio, weight_decay, beta1, beta2, eps, clip;
    int64_t warmup;             /* < 0: automatic */
    sched_kind sched;
    int threads;
    uint64_t seed;
    int eval_every, eval_batches, save_every;
    double peak_gflops;         /* <= 0: measured */
    const char *dump_batches;   /* test hook: write every micro-batch's tokens here */
    int64_t stop_after;         /* test hook: exit after this step as if killed (no final save) */
    int bf16;                   /* matmuls in bf16 (fp32 accumulation and master weights) */
    int quiet;
} pretrain_opts;

/* Fills defaults (everything but paths and cfg). */
void pretrain_opts_default(pretrain_opts *o);
/* Runs the whole training. 0 on success, -1 with err_set. */
int pretrain_run(const pretrain_opts *o);

#endif
