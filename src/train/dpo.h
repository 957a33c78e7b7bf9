/*
 * dpo.h - Direct Preference Optimization behind `llmos dpo` (Rafailov et
 * al. 2023, sigmoid loss): the chat model is trained so that, relative to
 * the frozen starting model (the reference), it raises the likelihood of
 * the chosen answer over the rejected one:
 *
 *   z    = beta * ((log pi(c|x) - log ref(c|x)) - (log pi(r|x) - log ref(r|x)))
 *   loss = mean over pairs of -log sigmoid(z)
 *
 * where log pi(y|x) is the sum of the log-probabilities of the answer's
 * tokens and its end-of-turn (the prompt's tokens are context, never
 * scored). The implicit reward of an answer is beta * (log pi - log ref);
 * reward accuracy is the share of pairs whose chosen reward is higher (a
 * tie counts one half), the margin the mean reward difference. At the start
 * (pi = ref) the loss is ln 2 and the accuracy 0.5.
 *
 * The gradient goes through train_model's per-token cross-entropy: after
 * the forward pass, the weights of the loss mask are replaced by
 * dloss/d(token loss), which is +beta*sigmoid(-z)/P on the chosen answer's
 * tokens and -beta*sigmoid(-z)/P on the rejected one's (P pairs per step),
 * and the backward pass is scaled so that it propagates exactly those.
 *
 * Data: any preference file prefs.h reads (judgement store, pairs, HH-RLHF,
 * ranked). Held out: the pairs of a hashed 10% of prompts when there are 20
 * pairs or more (or --val FILE); accuracy and margin are reported on them.
 *
 * Files beside OUT.gguf:
 *   OUT.ref.bin     the reference log-probabilities, computed once by the
 *                   starting model and reused while the model and the
 *                   encoded data are the same (a key hashes both)
 *   OUT.ckpt.gguf   model + AdamW moments + train.* keys (--resume)
 *   OUT.log.jsonl   one JSON object per step and per evaluation
 */
#ifndef LLMOS_DPO_H
#define LLMOS_DPO_H

#include <stdint.h>

#include "loop.h"

typedef struct {
    const char *model_path, *data_path, *val_path, *out_path;
    const char *ref_path;   /* the reference model (NULL: the starting model) */
    double beta;            /* 0.1 */
    int ctx;                /* 0: the model's context */
    train_run_opts run;     /* steps (default: epochs), batch (8 pairs), lr (1e-5), ... */
} dpo_opts;

void dpo_opts_default(dpo_opts *o);
/* Runs the training. 0, or -1 with err_set. */
int dpo_run(const dpo_opts *o);

#endif
