/*
 * chat_eval.h - what fine-tuning changes, measured (`llmos eval`): each
 * model answers the first user question of every conversation in a file
 * (held-out subjects: never seen in fine-tuning), greedily, prompted with
 * the chat template. Two kinds of figures:
 *
 *   form     the share of replies in the assistant's form: a non-empty
 *            answer closed by the end-of-turn token within the token budget
 *            (a base model that only continues documents rarely stops);
 *   content  agreement with the reference answer (the conversation's first
 *            assistant message): token F1 and exact match after SQuAD-style
 *            normalization (lowercase, punctuation and the articles a/an/the
 *            removed, whitespace collapsed).
 *
 * Knowledge about a held-out subject can only come from pretraining (the
 * documents held its dictionary entry); the form comes from fine-tuning.
 *
 * Ownership: chat_eval_model fills a result the caller releases with
 * chat_eval_result_free; replies are owned by the result.
 */
#ifndef LLMOS_CHAT_EVAL_H
#define LLMOS_CHAT_EVAL_H

#include <stddef.h>

#include "../data/conv.h"

typedef struct {
    int max_new;   /* reply budget in tokens (96) */
    int n_ctx;     /* 0: the model's context */
    int limit;     /* at most this many conversations (0: all) */
    int quiet;
} chat_eval_opts;

typedef struct {
    size_t n;            /* questions asked */
    size_t n_form;       /* replies in assistant form */
    double f1_sum;       /* sum of token F1 */
    size_t n_exact;
    double seconds;
    char **replies;      /* (n) the reply text of each question */
    int *in_form;        /* (n) */
    double *f1;          /* (n) */
    size_t *conv_index;  /* (n) which conversation of the list */
} chat_eval_result;

/* Runs one model over the conversations. -1 with err_set (model not
 * loadable, tokenizer without the chat tokens). */
int chat_eval_model(const char *model_path, const conv_list *l, const chat_eval_opts *o,
                    chat_eval_result *r);
void chat_eval_result_free(chat_eval_result *r);

/* Token F1 between a reply and a reference, after normalization. */
double chat_eval_f1(const char *reply, const char *reference);
/* 1 when the normalized texts are equal. */
int chat_eval_exact(const char *reply, const char *reference);

#endif
