/*
 * ckpt.h - the files every training stage writes, in one place: the model
 * GGUF (tokenizer keys + llama config + f32 weights), the checkpoint (the
 * same plus the AdamW moments as tensors optim.m.NAME / optim.v.NAME and the
 * train.step / train.optim_t keys), and the JSONL log beside them.
 * Pretraining, SFT and DPO differ only in the keys they add.
 *
 * Ownership: ckpt_writer_new returns a gguf_writer the caller adds its own
 * keys to, then saves (gguf_writer_save, atomic) and frees. Tensor data is
 * referenced, not copied: m and opt must live until the save.
 * ckpt_load returns the opened checkpoint so that the caller can check its
 * own keys; the caller closes it.
 */
#ifndef LLMOS_CKPT_H
#define LLMOS_CKPT_H

#include <stdint.h>

#include "../io/gguf.h"
#include "../model/train_model.h"
#include "../tokenizer/chat.h"
#include "../tokenizer/tokenizer.h"
#include "optim.h"

/* "dir/base.gguf" + ".ckpt.gguf" -> "dir/base.ckpt.gguf" (malloc'd). */
char *ckpt_path_beside(const char *out, const char *suffix);

/* A writer holding the tokenizer.* keys of tok_src, m's config and weights,
 * general.name and file_type; with opt, also the optimizer state and
 * train.step = step, train.optim_t. */
gguf_writer *ckpt_writer_new(const gguf_file *tok_src, const train_model *m, const adamw *opt,
                             int64_t step, const char *name);

/* Opens a checkpoint written by ckpt_writer_new with an optimizer, checks
 * that its model has m's shape, and loads the weights, the AdamW moments
 * and step into m, opt and *step. NULL with err_set on any problem. */
gguf_file *ckpt_load(const char *path, train_model *m, adamw *opt, int64_t *step);

/* Opens the chat model a fine-tuning stage starts from: the file (*g), its
 * tokenizer (*tok), the chat format over the tokenizer's role tokens (*f)
 * and its config (*cfg), with the vocabulary checked against the tokenizer.
 * 0, or -1 with err_set naming the file; either way the caller releases
 * what was opened (gguf_close, tok_free accept the NULLs left on failure). */
int ckpt_open_chat_model(const char *path, gguf_file **g, tokenizer **tok, chat_format *f,
                         model_config *cfg);

/* ckpt_load for a stage whose resume is only valid on the same data: also
 * checks that the checkpoint's integer key (e.g. "sft.conversations") equals
 * n, naming the data `what` in the error. 0, or -1 with err_set. */
int ckpt_load_for_data(const char *path, train_model *m, adamw *opt, int64_t *step,
                       const char *key, size_t n, const char *what);

/* Keeps the lines of a JSONL log whose "step" is at most step (what a
 * resumed run will write again comes after them). 0 when the log is absent. */
int ckpt_log_rewind(const char *path, int64_t step);

#endif
