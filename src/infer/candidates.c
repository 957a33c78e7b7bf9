/*
 * candidates.c - sampling answers to label (see candidates.h).
 */
#include "candidates.h"

#include "../core/common.h"

#include <stdlib.h>
#include <string.h>

int cand_gen_open_model(cand_gen *g, const model *m, float temperature, uint64_t seed, int max_new) {
    memset(g, 0, sizeof *g);
    session_opts o = {.max_new = max_new, .chat = 1, .stop_at_special = 1, .sp = sampler_defaults()};
    o.sp.temperature = temperature;
    o.sp.seed = seed;
    return (g->s = session_new(m, &o)) ? 0 : -1;
}

int cand_gen_open(cand_gen *g, const char *model_path, float temperature, uint64_t seed, int max_new) {
    model *m = model_load(model_path);
    if (!m) return -1;
    if (cand_gen_open_model(g, m, temperature, seed, max_new) < 0) {
        model_free(m);
        return err_prefix(model_path);
    }
    g->owned = m;
    return 0;
}

void cand_gen_reseed(cand_gen *g, uint64_t seed) {
    session_reseed(g->s, seed);
}

void cand_gen_close(cand_gen *g) {
    session_free(g->s);
    model_free(g->owned);
    memset(g, 0, sizeof *g);
}

char *cand_gen_sample(cand_gen *g, const chat_msg *m, int n, int *ended) {
    return cand_gen_sample_ids(g, m, n, ended, NULL, NULL);
}

char *cand_gen_sample_ids(cand_gen *g, const chat_msg *m, int n, int *ended, int **ids, int *n_ids) {
    if (session_answer(g->s, m, n, NULL, NULL)) return NULL;
    const session_reply *r = session_reply_get(g->s);
    if (ended) *ended = r->ended;
    if (ids) {
        *ids = xmalloc(sizeof(int) * (size_t)(r->n_ids ? r->n_ids : 1));
        memcpy(*ids, r->ids, sizeof(int) * (size_t)r->n_ids);
        *n_ids = r->n_ids;
    }
    return utf8_sanitize(r->text);
}
