/*
 * generate.c - prompt prefill and the token-by-token loop (see generate.h).
 */
#include "generate.h"

#include "../core/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int generate(const model *m, model_state *st, sampler *smp, const int *prompt, int n_prompt,
             int *pos, int max_new, int n_ctx, gen_token_fn on_token, void *ctx, gen_stats *stats) {
    const int V = m->cfg.vocab_size;
    memset(stats, 0, sizeof(*stats));
    if (n_prompt < 1) return err_set("empty prompt (at least one token is needed)");
    if (*pos + n_prompt > n_ctx)
        return err_set("prompt of %d tokens does not fit the context of %d", n_prompt, n_ctx - *pos);
    int cap = *pos + n_prompt + max_new, n_hist = 0;
    int *hist = xmalloc(sizeof(int) * (cap > 0 ? cap : 1));
    memcpy(hist, prompt, sizeof(int) * n_prompt);
    n_hist = n_prompt;

    double t0 = time_now();
    const float *lg = model_forward(m, st, prompt, n_prompt, *pos, 0);
    if (!lg) { free(hist); return -1; }
    *pos += n_prompt;
    stats->n_prompt = n_prompt;
    stats->prompt_seconds = time_now() - t0;

    float *logits = xmalloc(sizeof(float) * V);
    int eos = m->tok ? tok_eos(m->tok) : -1, eot = m->tok ? tok_eot(m->tok) : -1;
    int rc = 0;
    t0 = time_now();
    for (int i = 0; i < max_new; i++) {
        memcpy(logits, lg, sizeof(float) * V);
        int next = sampler_sample(smp, logits, hist, n_hist);
        hist[n_hist++] = next;
        stats->n_generated++;
        int stop = on_token && on_token(next, ctx);
        if (next == eos || next == eot) {
            stats->stopped_at_eos = 1;
            break;
        }
        if (stop || i + 1 == max_new) break;
        if (*pos >= n_ctx) break; /* context full */
        if (!(lg = model_forward(m, st, &next, 1, *pos, 0))) { rc = -1; break; }
        (*pos)++;
    }
    stats->gen_seconds = time_now() - t0;
    free(logits);
    free(hist);
    return rc;
}

int parse_token_list(const char *s, int **ids, int *n) {
    int cap = 16, cnt = 0;
    const char *p = s;
    while (*p == ' ') p++;
    if (!*p) return err_set("empty token list");
    int *v = xmalloc(sizeof(int) * cap);
    for (;;) { /* id, then a comma and another id, or the end ("1,,2" and "1," are not lists) */
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > 0x7fffffff || *p == '-' || *p == '+') {
            free(v);
            return err_set("bad token list '%s': expected comma-separated ids (at character %d)", s,
                           (int)(p - s) + 1);
        }
        if (cnt == cap) v = xrealloc(v, sizeof(int) * (cap *= 2));
        v[cnt++] = (int)x;
        p = end;
        while (*p == ' ') p++;
        if (!*p) break;
        if (*p != ',') {
            free(v);
            return err_set("bad token list '%s': expected comma-separated ids (at character %d)", s,
                           (int)(p - s) + 1);
        }
        p++;
        while (*p == ' ') p++;
    }
    if (!cnt) {
        free(v);
        return err_set("empty token list");
    }
    *ids = v;
    *n = cnt;
    return 0;
}
