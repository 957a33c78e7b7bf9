/*
 * rl.h - reinforcement learning on verifiable tasks behind `llmos rl`, in
 * the spirit of nanochat's RL stage (a simplified GRPO): each step takes P
 * prompts, samples a group of G answers to each from the current policy,
 * scores them with a checker (data/judge.h), and takes one policy-gradient
 * step on
 *
 *   loss = -(1 / N) * sum over answers i of A_i * sum over its tokens t of log pi(y_it)
 *
 * with A_i = r_i - mean(r over i's group) (no division by the standard
 * deviation) and N the number of sampled tokens in the step (per-token
 * normalization). A group whose answers all score the same gives no
 * gradient. The gradient goes through train_model's per-token loss with
 * mask weights A_i / N, as DPO does (dpo.h).
 *
 * Evaluation on held-out prompts: pass@1 (greedy) and pass@k (k samples at
 * the training temperature; a prompt passes when any answer scores at least
 * pass_score), before training and every eval_every steps.
 *
 * Answers are sampled from the policy's weights in place
 * (train_model_view), no file in between. Files beside OUT.gguf:
 * OUT.log.jsonl (steps and evaluations) and OUT.ckpt.gguf (the policy, the AdamW moments, the step and where the
 * prompt cycle stands; train/ckpt.h), which --resume continues from: every
 * step's random numbers come from (seed, step), so a run stopped and
 * resumed with the same data and options ends with the same bytes as one
 * that was not.
 */
#ifndef LLMOS_RL_H
#define LLMOS_RL_H

#include <stdint.h>

#include "../data/conv.h"
#include "../data/judge.h"
#include "loop.h"

typedef struct {
    const char *model_path, *out_path;
    const conv_list *train, *heldout; /* prompts: the first user turn; reference after it */
    judge j;
    int prompts_per_step; /* 4 */
    int group;          /* 8 */
    double temp;        /* 1.0 */
    int max_new;        /* 32 */
    int eval_n;         /* held-out prompts evaluated (100) */
    int eval_k;         /* 8 */
    double pass_score;  /* 1 */
    train_run_opts run; /* steps (50), lr (1e-5, constant), eval_every (25; the last step is
                         * always evaluated), save_every (50), resume, stop_after, seed (1) */
} rl_opts;

void rl_opts_default(rl_opts *o);
int rl_run(const rl_opts *o);

#endif
