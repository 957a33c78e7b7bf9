/*
 * loop.h - the scaffolding every training stage (sft, dpo, reward, rl,
 * pretrain) puts around its own step, in one place: the run options they
 * share, the step count and learning-rate schedule, resuming from
 * OUT.ckpt.gguf, the JSONL log, the update (clip, non-finite check, AdamW
 * at the scheduled rate), the rhythm and shape of the progress line,
 * periodic and final checkpoints, the --grad-dump test files, and the
 * shuffled data order of an epoch.
 *
 * A stage's run, in outline:
 *
 *   train_loop L;
 *   train_loop_init(&L, "llmos sft", &o->run, o->out_path, 1);
 *   ... load the model and data, make the optimizer ...
 *   train_loop_files(&L, base, m, opt, "llmos sft", 1, sft_keys, &data);
 *   train_loop_plan(&L, steps_per_epoch);
 *   if (train_loop_start(&L, m, opt, "sft.conversations", n, "conversations") < 0) goto done;
 *   for (step = L.step0 + 1; step <= L.total; step++) {
 *       ... forward, backward ...
 *       if (train_loop_update(&L, m, opt, step, loss, &norm, &lr) < 0) goto done;
 *       ... log, evaluate, train_loop_progress ...
 *       if ((r = train_loop_checkpoint(&L, step))) { rc = r > 0 ? 0 : -1; goto done; }
 *   }
 *   rc = train_loop_finish(&L, o->out_path);
 * done:
 *   train_loop_release(&L);
 *
 * Ownership: train_loop_init allocates the paths; train_loop_start opens
 * the log; train_loop_release closes and frees both. The model, optimizer
 * and tokenizer source given to train_loop_files stay the caller's and
 * must live until the last save.
 */
#ifndef LLMOS_LOOP_H
#define LLMOS_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../io/gguf.h"
#include "../model/train_model.h"
#include "ddp.h"
#include "optim.h"

/* The options the training stages share (parsed by cli_train_option). */
typedef struct {
    int64_t steps;          /* > 0: optimizer steps; <= 0: epochs over the data */
    double epochs;          /* passes over the data when steps <= 0 (1) */
    int64_t max_auto_steps; /* > 0: at most this many steps from epochs */
    int batch;              /* examples per step */
    train_hparams hp;       /* optimizer, schedule, clipping */
    int warmup_pct;         /* automatic warmup: this % of the steps, at most 100 */
    int eval_every;         /* evaluation every N steps (0: the stage's own rule) */
    int save_every;         /* checkpoint every N steps (0: only at the end) */
    int resume;             /* continue from OUT.ckpt.gguf */
    int64_t stop_after;     /* > 0: checkpoint and stop after this step */
    uint64_t seed;
    int threads;            /* > 0: OpenMP threads */
    const char *grad_dump;  /* test hook: model and gradients of step 1 into this folder */
    int quiet;
    /* what the stage takes on the command line */
    int max_batch;          /* largest --batch; 0: no --batch */
    int takes_epochs;       /* --epochs */
    int data_parallel;      /* the stage runs on the ranks of an mpirun job (ddp.h) */
    int zero;               /* --zero: AdamW's state sharded over the ranks (ZeRO-1) */
} train_run_opts;

/* seed 1, epochs 1, cosine from lr with automatic warmup of warmup_pct %,
 * the rest 0 (train_hparams_default for the optimizer). */
train_run_opts train_run_default(double lr, int warmup_pct);

/* The model a stage trains: B rows of T tokens, the weights of g (read
 * from path, which errors name). NULL with err_set. The caller frees it. */
train_model *train_model_open(const model_config *cfg, int B, int T, const gguf_file *g, const char *path);
/* AdamW over m's parameters with hp's betas, eps and weight decay. */
adamw *train_adamw_new(const train_model *m, const train_hparams *hp);

struct train_loop;
/* Adds the stage's own keys to a model file being written at step; with
 * checkpoint, also those a resumed run checks. ctx: train_loop_files'. */
typedef void (*train_keys_fn)(const struct train_loop *L, const void *ctx, gguf_writer *w, int64_t step,
                              int checkpoint);

typedef struct train_loop {
    const char *name;         /* "llmos sft", for messages */
    const train_run_opts *o;
    char *ckpt_path, *log_path; /* OUT.ckpt.gguf, OUT.log.jsonl */
    FILE *log;
    /* what the files hold (train_loop_files) */
    const gguf_file *base;    /* the tokenizer keys come from here */
    train_model *m;
    adamw *opt;
    const char *model_name;   /* general.name */
    int chat;                 /* store the chat template */
    train_keys_fn keys;
    const void *keys_ctx;
    int64_t total, step0;     /* the run's last step; the step it starts after */
    lr_schedule sched;
    int tty;                  /* the progress line redraws in place */
    double t_start;
    int64_t last_good;        /* the step of the newest checkpoint on disk (step0 at the start) */
    /* pretrain's rules: --stop-after exits as a kill would (no checkpoint),
     * and resuming a finished run is allowed (it writes OUT again) */
    int stop_kills, resume_finished;
    /* under mpirun (o->data_parallel): this rank's rows of each batch and
     * the gradient exchange; ddp is NULL for one process */
    ddp *ddp;
    int rank, ranks;
    int quiet;                /* o->quiet, or not rank 0: nothing printed */
} train_loop;

/* Sets up L (paths beside out_path, OpenMP threads). tty: whether the stage
 * redraws its progress line on a terminal. */
void train_loop_init(train_loop *L, const char *name, const train_run_opts *o, const char *out_path, int tty);
/* What the stage's model files hold: base's tokenizer keys, m's config and
 * weights, general.name, the chat template (with chat), the keys fn adds
 * (may be NULL), and in a checkpoint opt's state and the step. */
void train_loop_files(train_loop *L, const gguf_file *base, train_model *m, adamw *opt,
                      const char *model_name, int chat, train_keys_fn keys, const void *keys_ctx);
/* Writes the model (checkpoint 0) or the checkpoint at step to path,
 * atomically. 0, or -1 with err_set. */
int train_loop_save(const train_loop *L, const char *path, int64_t step, int checkpoint);
/* The number of steps (o->steps, or o->epochs over steps_per_epoch batches,
 * capped by max_auto_steps; at least 1) and the schedule. */
void train_loop_plan(train_loop *L, int64_t steps_per_epoch);
/* The schedule for a stage that counts its own steps (total >= 1). */
void train_loop_schedule(train_loop *L, int64_t total);
/* With o->resume: loads OUT.ckpt.gguf into m and opt (checking that its
 * integer key equals n, the size of this data, named `what`), rewinds the
 * log to its step and refuses a finished run. Then opens the log (appending
 * after a resume). 0, or -1 with err_set. */
int train_loop_start(train_loop *L, train_model *m, adamw *opt, const char *key, size_t n, const char *what);
/* The same for a stage that loaded its checkpoint itself (step0 > 0) or
 * starts afresh (step0 = 0). Under mpirun it also sets up the gradient
 * exchange between the ranks (a stage without o->data_parallel is refused
 * there); only rank 0 keeps the log. */
int train_loop_start_at(train_loop *L, int64_t step0);
/* Only opens the log (appending or afresh) and starts the clock. 0, or -1
 * with err_set. */
int train_loop_open_log(train_loop *L, int append);
/* After the backward pass: clips the gradients, refuses a non-finite loss
 * or norm (an "error" line in the log, and a message naming the last good
 * checkpoint), and takes the AdamW step at the scheduled rate. *norm
 * (before clipping) and *lr for the log. 0, or -1 with err_set. */
int train_loop_update(train_loop *L, train_model *m, adamw *opt, int64_t step, double loss, double *norm,
                      double *lr);
/* This rank's share of a global batch of B rows: rows [*row0, *row0 +
 * return) (all of them for one process). */
int train_loop_rows(const train_loop *L, int B, int *row0);
/* The next backward is the step's last: its gradients are sent to the
 * other ranks while it runs (nothing for one process). */
void train_loop_last_backward(train_loop *L);
/* x summed over the ranks (x itself for one process). */
double train_loop_sum(const train_loop *L, double x);
/* 1 when step is an evaluation step (every eval_every, and the last). */
int train_loop_eval_due(const train_loop *L, int64_t step);
/* 1 when the progress line is shown after step: always on a terminal,
 * else on evaluations, the first step, every 10th and the last. */
int train_loop_progress_due(const train_loop *L, int64_t step, int do_eval);
/* Prints the progress line "step S/T | <fmt> | lr X | ETA D" (redrawn in
 * place on a terminal, ending the line after an evaluation). */
void train_loop_progress(const train_loop *L, int64_t step, int do_eval, double lr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* After step: the periodic checkpoint (every save_every) and --stop-after
 * (a checkpoint and a stop; with stop_kills, a stop only). 1 when the run
 * stops here, 0 to go on, -1 with err_set. */
int train_loop_checkpoint(train_loop *L, int64_t step);
/* Ends the progress line; writes OUT, then the final checkpoint (unless the
 * last step's is on disk already): the model first, since on a nearly full
 * disk it is the file worth having. 0, or -1. */
int train_loop_finish(train_loop *L, const char *out_path);
void train_loop_release(train_loop *L);

/* The --grad-dump files, for the tests against PyTorch: train_dump_batch
 * starts DIR/grads.gguf's keys with the batch (test.loss, test.batch = rows,
 * test.ctx = T, test.tokens, test.targets, and test.mask when mask is not
 * NULL; rows x T each); the stage adds its own test.* keys; train_grad_dump
 * writes DIR/model.gguf (m's weights) and DIR/grads.gguf (those keys and
 * m's gradients), prints "loss L" and frees w. 0, or -1 with err_set. */
gguf_writer *train_dump_batch(double loss, int rows, int T, const int *tok, const int *tgt, const float *mask);
int train_grad_dump(const char *dir, const train_model *m, gguf_writer *w, double loss);

/* splitmix64's finalizer: the stages' hash for data order and held-out
 * selection. */
uint64_t train_mix64(uint64_t z);
/* order[0..n) <- a permutation of 0..n-1 that depends only on (seed, epoch),
 * so a resumed run sees the same batches. Returns the generator's state
 * for further draws. */
uint64_t train_epoch_order(size_t *order, size_t n, uint64_t seed, int64_t epoch);

/* Batches of B examples out of n, each epoch in train_epoch_order's order
 * (the last batch of an epoch may be short). */
typedef struct {
    size_t n;
    int B;
    uint64_t seed;
    size_t *order; /* (n) the current epoch's order */
    int64_t epoch; /* of order (-1: none yet) */
} train_batches;

void train_batches_init(train_batches *b, size_t n, int B, uint64_t seed);
/* Step (1-based) -> its batch: *idx points at its example indexes; returns
 * their count. */
int train_batches_step(train_batches *b, int64_t step, const size_t **idx);
void train_batches_free(train_batches *b);

#endif
