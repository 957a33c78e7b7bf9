/*
 * candidates.h - K sampled answers to one prompt from a chat model, for
 * labeling (`llmos label`, `llmos prefs auto`): the prompt is rendered by
 * the chat template with the generation prompt, each answer is sampled with
 * temperature until the end-of-turn token (or another role token, or the
 * budget), and invalid UTF-8 is replaced by U+FFFD so stores stay valid
 * JSON.
 *
 * Ownership: cand_gen_open loads a model the cand_gen owns;
 * cand_gen_open_model borrows one (the weights of a model being trained,
 * or a model other sessions share), which must outlive it. Either way the
 * cand_gen owns its session (cand_gen_close). cand_gen_sample returns a
 * malloc'd string the caller frees.
 */
#ifndef LLMOS_CANDIDATES_H
#define LLMOS_CANDIDATES_H

#include <stdint.h>

#include "../model/model.h"
#include "../tokenizer/chat.h"
#include "session.h"

typedef struct {
    model *owned; /* the model cand_gen_open loaded, or NULL */
    session *s;
} cand_gen;

/* Loads the model; temperature 0 is greedy. 0, or -1 with err_set. */
int cand_gen_open(cand_gen *g, const char *model_path, float temperature, uint64_t seed, int max_new);
/* The same over a model already in memory (borrowed). */
int cand_gen_open_model(cand_gen *g, const model *m, float temperature, uint64_t seed, int max_new);
void cand_gen_close(cand_gen *g);
/* Restarts the sampler's random numbers from seed (the same prompt and
 * seed give the same answers: several labelers see the same candidates). */
void cand_gen_reseed(cand_gen *g, uint64_t seed);
/* One sampled answer to the conversation m[0..n) (NULL with err_set when
 * the prompt does not fit the context). *ended (may be NULL) is 1 when the
 * answer was closed by the end-of-turn token. */
char *cand_gen_sample(cand_gen *g, const chat_msg *m, int n, int *ended);

/* The same, also giving the sampled token ids (malloc'd, the closing
 * end-of-turn included when there is one) in *ids and their count. */
char *cand_gen_sample_ids(cand_gen *g, const chat_msg *m, int n, int *ended, int **ids, int *n_ids);

#endif
