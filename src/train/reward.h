/*
 * reward.h - a reward model behind `llmos reward`: the transformer of a
 * chat model with a scalar head on the last token,
 *
 *   r(x, y) = (W_out[pos] - W_out[neg]) . h_last
 *
 * where h_last is the final-norm hidden state after the whole conversation
 * (prompt, answer, end of turn) and W_out[pos], W_out[neg] are two rows of
 * the output matrix (by default the tokens of "<|user|>" and
 * "<|assistant|>"; their ids are stored as reward.token_pos / reward.token_neg).
 * The head is thus linear in h_last and starts from the chat model's own
 * weights; training changes the head rows and the whole transformer.
 *
 * Loss (Bradley-Terry): mean over pairs of -log sigmoid(r(chosen) -
 * r(rejected)); accuracy = share of pairs with r(chosen) > r(rejected).
 * The gradient goes through train_model's cross-entropy backward: at the
 * last position the stored probabilities are replaced by a one-hot on pos
 * with target neg, so the backward propagates exactly dloss/dr times
 * d(logit_pos - logit_neg) (and r itself is log p_pos - log p_neg, since
 * the softmax keeps logit differences).
 *
 * The output is a GGUF like the chat model's plus the two keys, so the
 * same file also still loads as a language model.
 *
 * Files beside OUT.gguf: OUT.log.jsonl (steps and held-out figures) and
 * OUT.ckpt.gguf (the model, the AdamW moments, the step, the seed and the
 * number of training pairs; train/ckpt.h), which --resume continues from: a
 * run stopped and resumed ends with the same bytes as one that was not.
 */
#ifndef LLMOS_REWARD_H
#define LLMOS_REWARD_H

#include <stdint.h>

#include "../model/train_model.h"
#include "loop.h"
#include "../tokenizer/chat.h"

typedef struct {
    const char *model_path, *data_path, *val_path, *out_path;
    train_run_opts run; /* steps (default: epochs), batch (8 pairs), lr (1e-5), eval_every (50),
                         * save_every (200), resume from OUT.ckpt.gguf (same data and options) */
} reward_opts;

void reward_opts_default(reward_opts *o);
int reward_train(const reward_opts *o);

/* A loaded reward model for scoring conversations. */
typedef struct {
    gguf_file *g;
    tokenizer *tok;
    chat_format f;
    train_model *m;
    int pos, neg;
} reward_model;

/* Opens a reward model for batches of up to B conversations of up to the
 * model's context. 0, or -1 with err_set. */
int reward_model_open(reward_model *rm, const char *path, int B);
void reward_model_close(reward_model *rm);
/* The rewards of n answers to one prompt (n <= B). -1 with err_set when a
 * conversation does not fit the context. */
int reward_model_score(reward_model *rm, const chat_msg *prompt, int n_prompt, char **answers, int n,
                       double *out);

/* What the reward model reads. For a chat answer: the conversation
 * prompt[0..n_prompt) followed by the assistant turn `answer` closed by
 * the end of turn (chat_encode, BOS first when the tokenizer adds one).
 * For plain text (a base model's prompt + continuation): BOS (when the
 * tokenizer adds one) and the text tokenized as ordinary text. Both return
 * the count and a malloc'd array in *ids (caller frees). */
int reward_model_encode_chat(const reward_model *rm, const chat_msg *prompt, int n_prompt, const char *answer,
                             int **ids);
int reward_model_encode_text(const reward_model *rm, const char *text, int **ids);
/* The rewards of n token sequences seq[k][0..len[k]) (n <= B), read at
 * each one's last token. -1 with err_set when one is empty or longer than
 * the context. */
int reward_model_score_ids(reward_model *rm, int *const *seq, const int *len, int n, double *out);

#endif
