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
#include "loop.h"

typedef struct {
    const char *data_dir;
    const char *tokenizer_path; /* NULL: DATA/tokenizer.gguf */
    const char *out_path;
    const char *init_path;      /* start from these weights (config from the file) */
    model_config cfg;           /* vocab_size is filled from the tokenizer */
    int64_t tokens;             /* training tokens in all; <= 0: 20 x parameters */
    train_run_opts run;         /* steps (> 0 overrides tokens), batch (sequences per micro-batch, 8),
                                 * lr (1e-3, weight decay 0.1), eval_every (100), save_every (500),
                                 * resume, seed, threads, quiet; stop_after is a test hook here:
                                 * exit after this step as if killed (no final save) */
    int accum;                  /* micro-batches per step */
    int eval_batches;
    double peak_gflops;         /* <= 0: measured */
    const char *dump_batches;   /* test hook: write every micro-batch's tokens here */
    int bf16;                   /* matmuls in bf16 (fp32 accumulation and master weights) */
} pretrain_opts;

/* Fills defaults (everything but paths and cfg). */
void pretrain_opts_default(pretrain_opts *o);
/* Runs the whole training. 0 on success, -1 with err_set. */
int pretrain_run(const pretrain_opts *o);

#endif
