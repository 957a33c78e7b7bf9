/*
 * candidates.c - sampling answers to label (see candidates.h).
 */
#include "candidates.h"

#include "../core/common.h"
#include "generate.h"

#include <stdlib.h>
#include <string.h>

int cand_gen_open(cand_gen *g, const char *model_path, float temperature, uint64_t seed, int max_new) {
    memset(g, 0, sizeof *g);
    if (!(g->m = model_load(model_path))) return -1;
    if (!g->m->tok) {
        cand_gen_close(g);
        return err_set("%s: the file has no tokenizer", model_path);
    }
    if (chat_format_init(&g->f, g->m->tok)) {
        cand_gen_close(g);
        return err_prefix(model_path);
    }
    g->n_ctx = g->m->cfg.ctx_len;
    g->max_new = max_new;
    g->st = model_state_new(g->m, g->n_ctx, MIN(g->n_ctx, 512));
    g->sp = sampler_defaults();
    g->sp.temperature = temperature;
    g->sp.seed = seed;
    g->smp = sampler_new(&g->sp, g->m->cfg.vocab_size);
    return 0;
}

void cand_gen_reseed(cand_gen *g, uint64_t seed) {
    g->sp.seed = seed;
    sampler_free(g->smp);
    g->smp = sampler_new(&g->sp, g->m->cfg.vocab_size);
}

void cand_gen_close(cand_gen *g) {
    if (g->smp) sampler_free(g->smp);
    if (g->st) model_state_free(g->st);
    if (g->m) model_free(g->m);
    memset(g, 0, sizeof *g);
}

typedef struct {
    const cand_gen *g;
    char *text;
    size_t len, cap;
    int ended;
    int *ids; /* every sampled token, the end of turn included */
    int n_ids, cap_ids;
} reply;

static int on_token(int tok, void *p) {
    reply *r = p;
    if (r->n_ids == r->cap_ids) r->ids = xrealloc(r->ids, (size_t)(r->cap_ids = r->cap_ids ? 2 * r->cap_ids : 64) * sizeof(int));
    r->ids[r->n_ids++] = tok;
    if (tok == r->g->f.eot) {
        r->ended = 1;
        return 1;
    }
    if (tok_is_special(r->g->m->tok, tok)) return 1; /* another role: the turn is over */
    size_t n;
    const char *piece = tok_decode(r->g->m->tok, tok, &n);
    if (r->len + n + 1 > r->cap) r->text = xrealloc(r->text, r->cap = (r->len + n + 1) * 2);
    memcpy(r->text + r->len, piece, n);
    r->len += n;
    r->text[r->len] = 0;
    return 0;
}

char *cand_gen_sample(cand_gen *g, const chat_msg *m, int n, int *ended) {
    return cand_gen_sample_ids(g, m, n, ended, NULL, NULL);
}

char *cand_gen_sample_ids(cand_gen *g, const chat_msg *m, int n, int *ended, int **ids, int *n_ids) {
    chat_tokens ct = {0};
    chat_encode(&g->f, m, n, 1, &ct);
    if ((int)ct.n + 1 > g->n_ctx) {
        err_set("prompt of %zu tokens does not fit the context of %d", ct.n, g->n_ctx);
        chat_tokens_free(&ct);
        return NULL;
    }
    reply r = {.g = g};
    int pos = 0;
    gen_stats gs;
    int max_new = MIN(g->max_new, g->n_ctx - (int)ct.n);
    int rc = generate(g->m, g->st, g->smp, ct.ids, (int)ct.n, &pos, max_new, g->n_ctx, on_token, &r, &gs);
    chat_tokens_free(&ct);
    if (rc) {
        free(r.text), free(r.ids);
        return NULL;
    }
    if (ended) *ended = r.ended;
    if (ids) *ids = r.ids, *n_ids = r.n_ids;
    else free(r.ids);
    char *s = utf8_sanitize(r.text ? r.text : "");
    free(r.text);
    return s;
}

char *utf8_sanitize(const char *s) {
    size_t n = strlen(s);
    char *o = xmalloc(3 * n + 1), *w = o;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : (c >> 4) == 14 ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && len == 3) /* no overlong forms, no surrogates */
            ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);
        if (ok && len == 4) ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
        if (ok) {
            memcpy(w, p + i, len);
            w += len, i += len;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3, i++;
        }
    }
    *w = 0;
    return o;
}
