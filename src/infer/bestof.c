/*
 * bestof.c - best-of-N sampling with a reward model (see bestof.h).
 */
#include "bestof.h"

#include "../core/common.h"

#include <stdlib.h>
#include <string.h>

/* Candidates the reward model scores at once. Its activations are those of
 * a training batch (every position's logits among them), so they grow with
 * the rows: N rows of a 100M reward model would need gigabytes. */
enum { BEST_OF_SCORE_ROWS = 4 };

int best_of_open(best_of *b, const char *model_path, const char *rm_path, const sampler_params *sp, int max_new,
                 int n, int mode) {
    memset(b, 0, sizeof *b);
    if (!(b->m = model_load(model_path))) return -1;
    if (!b->m->tok) {
        best_of_close(b);
        return err_set("%s: the file has no tokenizer", model_path);
    }
    chat_format f;
    const int has_roles = chat_format_init(&f, b->m->tok) == 0;
    if (mode == 1 && !has_roles) {
        best_of_close(b);
        return err_prefix(model_path);
    }
    b->chat = mode == 1 || (mode < 0 && has_roles && chat_template_check(b->m->file) >= 0);
    b->n = n;
    const session_opts o = {.max_new = max_new, .chat = b->chat, .stop_at_special = b->chat, .sp = *sp};
    if (!(b->s = session_new(b->m, &o)) || reward_model_open(&b->rm, rm_path, MIN(n, BEST_OF_SCORE_ROWS)) < 0) {
        best_of_close(b);
        return -1;
    }
    return 0;
}

void best_of_close(best_of *b) {
    if (b->rm.m) reward_model_close(&b->rm);
    session_free(b->s);
    model_free(b->m);
    memset(b, 0, sizeof *b);
}

void best_of_set_free(best_of_set *s) {
    for (int k = 0; k < s->n; k++) {
        if (s->text) free(s->text[k]);
        if (s->ids) free(s->ids[k]);
        if (s->scored) free(s->scored[k]);
    }
    free(s->text), free(s->ids), free(s->n_ids), free(s->scored), free(s->n_scored), free(s->reward);
    memset(s, 0, sizeof *s);
}

/* The loop shared by both modes: n samples (chat: answers to m; text: the
 * continuations of the prompt ids), what the
 * reward model reads for each, the rewards, the best. */
static int run(best_of *b, const int *prompt, int n_prompt, const chat_msg *m, int n_msgs, const char *prefix,
               best_of_set *s) {
    const int n = b->n;
    memset(s, 0, sizeof *s);
    s->n = n;
    s->text = xcalloc((size_t)n, sizeof *s->text);
    s->ids = xcalloc((size_t)n, sizeof *s->ids);
    s->n_ids = xcalloc((size_t)n, sizeof *s->n_ids);
    s->scored = xcalloc((size_t)n, sizeof *s->scored);
    s->n_scored = xcalloc((size_t)n, sizeof *s->n_scored);
    s->reward = xcalloc((size_t)n, sizeof *s->reward);
    for (int k = 0; k < n; k++) {
        const int rc = b->chat ? session_answer(b->s, m, n_msgs, NULL, NULL)
                               : session_complete(b->s, prompt, n_prompt, NULL, NULL);
        if (rc) return -1;
        const session_reply *r = session_reply_get(b->s);
        s->text[k] = utf8_sanitize(r->text);
        s->ids[k] = xmalloc(sizeof(int) * (size_t)(r->n_ids ? r->n_ids : 1));
        memcpy(s->ids[k], r->ids, sizeof(int) * (size_t)r->n_ids);
        s->n_ids[k] = r->n_ids;
        if (b->chat) {
            s->n_scored[k] = reward_model_encode_chat(&b->rm, m, n_msgs, s->text[k], &s->scored[k]);
        } else {
            const size_t lp = strlen(prefix), lc = strlen(s->text[k]);
            char *all = xmalloc(lp + lc + 1);
            memcpy(all, prefix, lp);
            memcpy(all + lp, s->text[k], lc + 1);
            s->n_scored[k] = reward_model_encode_text(&b->rm, all, &s->scored[k]);
            free(all);
        }
    }
    for (int k0 = 0; k0 < n; k0 += BEST_OF_SCORE_ROWS)
        if (reward_model_score_ids(&b->rm, s->scored + k0, s->n_scored + k0, MIN(BEST_OF_SCORE_ROWS, n - k0),
                                   s->reward + k0) < 0)
            return -1;
    s->best = 0;
    for (int k = 1; k < n; k++)
        if (s->reward[k] > s->reward[s->best]) s->best = k;
    return 0;
}

int best_of_chat(best_of *b, const chat_msg *m, int n_msgs, best_of_set *out) {
    LLMOS_ASSERT(b->chat);
    return run(b, NULL, 0, m, n_msgs, NULL, out);
}

int best_of_text(best_of *b, const char *prompt, best_of_set *out) {
    LLMOS_ASSERT(!b->chat);
    int *ids = NULL;
    const int n = (int)tok_encode(b->m->tok, prompt, strlen(prompt), tok_add_bos(b->m->tok), 0, &ids);
    int rc;
    if (n == 0) {
        memset(out, 0, sizeof *out);
        rc = err_set("empty prompt and the tokenizer has no BOS token");
    } else {
        rc = run(b, ids, n, NULL, 0, prompt, out);
    }
    free(ids);
    return rc;
}
