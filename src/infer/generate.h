/*
 * generate.h - the generation loop shared by `llmos generate`, chat and
 * the server: prefill a prompt as one batch, then sample token by token,
 * handing each token to a callback (streaming).
 */
#ifndef LLMOS_GENERATE_H
#define LLMOS_GENERATE_H

#include "../model/model.h"
#include "sample.h"

typedef struct {
    int n_prompt, n_generated;
    double prompt_seconds, gen_seconds;
    int stopped_at_eos;
} gen_stats;

/* Called with each new token; return nonzero to stop. */
typedef int (*gen_token_fn)(int token, void *ctx);

/* Feeds prompt[0..n_prompt) at position *pos and generates up to max_new
 * tokens, stopping after EOS/EOT (which is passed to on_token). *pos is
 * advanced past everything evaluated. Returns 0 or -1 with err_set. */
int generate(const model *m, model_state *st, sampler *smp, const int *prompt, int n_prompt,
             int *pos, int max_new, int n_ctx, gen_token_fn on_token, void *ctx, gen_stats *stats);

/* Parses "1,2,3" into a malloc'd array. -1 with err_set on bad input. */
int parse_token_list(const char *s, int **ids, int *n);

#endif
