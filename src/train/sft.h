/*
 * sft.h - supervised fine-tuning behind `llmos sft`: the pretrained network
 * is trained further, with the same next-token loss, on conversations
 * rendered by the chat template (tokenizer/chat.h). Only the tokens the
 * assistant writes count: the content of assistant turns and the
 * end-of-turn that closes each; system, user and tool tokens are context,
 * never targets (their targets are -1 in train_model's loss).
 *
 * Batches: one conversation per row, never two, so no conversation can
 * attend to another's tokens. Rows are padded to the longest conversation
 * of the batch (padding has target -1, and the causal mask keeps real
 * tokens from seeing it). To keep padding small, each epoch's shuffled
 * order is cut into windows of 32 batches, each window sorted by length
 * and cut into batches, and the batches of the epoch shuffled. The order
 * depends only on (seed, epoch), so a run resumes at any step exactly.
 *
 * Validation: conversations of --val FILE, or else a hashed 1% (at most
 * 512) of the data when it holds 100 conversations or more, held out from
 * training; the loss is the mean over all
 * assistant target tokens, logged at step 0 (the model before fine-tuning)
 * and every eval_every steps.
 *
 * Files beside OUT.gguf, as pretraining writes them:
 *   OUT.ckpt.gguf   model + AdamW moments + train.* keys (resume)
 *   OUT.log.jsonl   one JSON object per step and per evaluation
 * OUT.gguf itself holds the tokenizer, the weights and the chat template
 * (tokenizer.chat_template), ready for `llmos chat` and llama.cpp.
 */
#ifndef LLMOS_SFT_H
#define LLMOS_SFT_H

#include <stdint.h>

#include "loop.h"

typedef struct {
    const char *model_path; /* base model (or an assistant to fix) */
    const char *data_path;  /* conversations JSONL */
    const char *val_path;   /* NULL: hold out a hashed share of data */
    const char *out_path;
    train_run_opts run;     /* steps (default: one epoch, at most 2000), batch (16), lr (3e-4), ... */
    int ctx;                /* longest conversation in tokens; 0: the model's context */
    double val_frac;        /* 0.01 */
    int val_max;            /* 512 */
    int skip_long;          /* drop conversations longer than ctx (default: error) */
} sft_opts;

void sft_opts_default(sft_opts *o);
/* Runs the fine-tuning. 0, or -1 with err_set. */
int sft_run(const sft_opts *o);

#endif
