/*
 * bestof.h - best-of-N sampling with a reward model, the one loop behind
 * `llmos generate --best-of N --reward RM` and `llmos reward best-of`:
 * sample N candidates from a model, score each with the reward model
 * (train/reward.h), keep the highest (the first one on ties).
 *
 * A model is read one of two ways:
 *   chat  the file stores a chat template (tokenizer.chat_template, which
 *         sft, dpo, rl and reward train write) and its vocabulary has the
 *         template's role tokens. The prompt is a conversation rendered
 *         with the generation prompt; each answer runs to the end of turn
 *         (or another role token, or the budget); the reward model scores
 *         the conversation with the answer as the next assistant turn,
 *         exactly what `reward train` learned on.
 *   text  any other model (a base model). The prompt is plain text (BOS
 *         first when the tokenizer adds one); each candidate is a
 *         continuation of up to max_new tokens (or to EOS); the reward
 *         model scores the plain text prompt + continuation (BOS, then the
 *         text tokenized as ordinary text), read at its last token. No chat
 *         markup is invented: the reward is that of the text as written.
 * Candidate text has invalid UTF-8 replaced by U+FFFD; special tokens are
 * not part of it. The reward model reads the text, not the sampled ids, so
 * it may have its own tokenizer.
 *
 * The N candidates come one after another from one seeded sampler: the same
 * seed gives the same candidates.
 *
 * Ownership: best_of owns its model, its session (infer/session.h) and its
 * reward model (best_of_close). A best_of_set owns its arrays
 * (best_of_set_free).
 */
#ifndef LLMOS_BESTOF_H
#define LLMOS_BESTOF_H

#include "../model/model.h"
#include "../tokenizer/chat.h"
#include "../train/reward.h"
#include "session.h"

typedef struct {
    model *m;
    session *s;
    int chat; /* 1: chat, 0: text (see the top) */
    int n;
    reward_model rm;
} best_of;

/* The candidates of one prompt. */
typedef struct {
    int n, best;  /* best: the index of the highest reward */
    char **text;  /* (n) the answers (chat) or continuations (text) */
    int **ids;    /* (n) the sampled token ids, a closing EOS/end of turn included */
    int *n_ids;   /* (n) */
    int **scored; /* (n) the token ids the reward model read */
    int *n_scored; /* (n) */
    double *reward; /* (n) */
} best_of_set;

/* Opens the model at model_path and the reward model at rm_path for n
 * candidates of up to max_new tokens each, sampled with sp. mode: 1 chat,
 * 0 text, -1 decide from the file (see the top). 0, or -1 with err_set. */
int best_of_open(best_of *b, const char *model_path, const char *rm_path, const sampler_params *sp, int max_new,
                 int n, int mode);
void best_of_close(best_of *b);

/* Chat: the answers to the conversation m[0..n_msgs) (which should end
 * with a user turn). Text: the continuations of prompt. The set is filled
 * (free it with best_of_set_free, also after an error). 0, or -1 with
 * err_set (the prompt or a scored sequence does not fit a context). */
int best_of_chat(best_of *b, const chat_msg *m, int n_msgs, best_of_set *out);
int best_of_text(best_of *b, const char *prompt, best_of_set *out);
void best_of_set_free(best_of_set *s);

#endif
