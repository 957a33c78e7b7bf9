/*
 * session.c - a conversation with a model: state, chat format, sampler,
 * history and reply (see session.h).
 */
#include "session.h"

#include "../core/common.h"

#include <stdlib.h>
#include <string.h>

struct session {
    const model *m; /* borrowed */
    session_opts o;
    int n_ctx;
    model_state *st;
    sampler *smp;
    chat_format fmt;
    int chat;
    chat_msg *h; /* the kept conversation; contents owned */
    int n_h, cap_h;
    int pos;        /* tokens in the KV cache that belong to the kept conversation */
    int pending[2]; /* evaluated before the next turn: the last reply's end */
    int n_pending;
    int last;       /* the last sampled token */
    chat_tokens ct;
    session_reply r;
    size_t text_cap;
    int ids_cap;
    session_token_fn fn;
    void *fn_ctx;
};

/* ---- the kept conversation ---------------------------------------------- */

static void hist_add(session *s, chat_role role, const char *text) {
    if (s->n_h == s->cap_h) s->h = xrealloc(s->h, (size_t)(s->cap_h = s->cap_h ? s->cap_h * 2 : 16) * sizeof *s->h);
    s->h[s->n_h].role = role;
    s->h[s->n_h].content = xstrdup(text);
    s->n_h++;
}

static void hist_drop(session *s, int from, int count) {
    if (count <= 0) return; /* s->h may be NULL: no memmove from it */
    for (int i = from; i < from + count; i++) free((char *)s->h[i].content);
    memmove(s->h + from, s->h + from + count, (size_t)(s->n_h - from - count) * sizeof *s->h);
    s->n_h -= count;
}

/* ---- life ----------------------------------------------------------------- */

session *session_new(const model *m, const session_opts *o) {
    session *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->o = *o;
    if (o->chat) {
        if (!m->tok) {
            free(s);
            return err_set("the file has no tokenizer"), NULL;
        }
        if (chat_format_init(&s->fmt, m->tok)) {
            free(s);
            return NULL;
        }
        s->chat = 1;
    }
    s->n_ctx = o->n_ctx > 0 ? o->n_ctx : m->cfg.ctx_len;
    s->st = model_state_new(m, s->n_ctx, MIN(s->n_ctx, 512));
    s->smp = sampler_new(&o->sp, m->cfg.vocab_size);
    s->text_cap = 64;
    s->r.text = xcalloc(s->text_cap, 1);
    s->last = -1;
    return s;
}

void session_free(session *s) {
    if (!s) return;
    hist_drop(s, 0, s->n_h);
    free(s->h);
    chat_tokens_free(&s->ct);
    free(s->r.text);
    free(s->r.ids);
    sampler_free(s->smp);
    model_state_free(s->st);
    free(s);
}

void session_reseed(session *s, uint64_t seed) {
    s->o.sp.seed = seed;
    sampler_free(s->smp);
    s->smp = sampler_new(&s->o.sp, s->m->cfg.vocab_size);
}

void session_set_system(session *s, const char *text) {
    LLMOS_ASSERT(s->n_h == 0);
    hist_add(s, CHAT_SYSTEM, text);
}

void session_reset(session *s) {
    const int keep = s->n_h && s->h[0].role == CHAT_SYSTEM;
    hist_drop(s, keep, s->n_h - keep);
    s->pos = 0;
    s->n_pending = 0;
}

const session_reply *session_reply_get(const session *s) { return &s->r; }
const chat_format *session_format(const session *s) { return s->chat ? &s->fmt : NULL; }
int session_n_ctx(const session *s) { return s->n_ctx; }
int session_used(const session *s) { return s->pos + s->n_pending; }

/* ---- generating a reply ---------------------------------------------------- */

static int on_token(int tok, void *p) {
    session *s = p;
    session_reply *r = &s->r;
    if (r->n_ids == s->ids_cap) r->ids = xrealloc(r->ids, (size_t)(s->ids_cap = s->ids_cap ? 2 * s->ids_cap : 64) * sizeof(int));
    r->ids[r->n_ids++] = tok;
    s->last = tok;
    if (s->chat && tok == s->fmt.eot) r->ended = 1;
    const tokenizer *t = s->m->tok;
    if (!t || tok_is_special(t, tok)) {
        const int stop = s->fn && s->fn(s->fn_ctx, tok, NULL, 0);
        return stop || s->o.stop_at_special;
    }
    size_t len;
    const char *piece = tok_decode(t, tok, &len);
    if (r->len + len + 1 > s->text_cap) r->text = xrealloc(r->text, s->text_cap = (r->len + len + 1) * 2);
    memcpy(r->text + r->len, piece, len);
    r->len += len;
    r->text[r->len] = 0;
    return s->fn && s->fn(s->fn_ctx, tok, piece, len);
}

/* Samples a reply of up to max_new tokens after ids[0..n), evaluated from
 * position *pos. */
static int reply_run(session *s, const int *ids, int n, int *pos, int max_new, session_token_fn fn, void *ctx) {
    s->r.len = 0;
    s->r.text[0] = 0;
    s->r.n_ids = 0;
    s->r.ended = 0;
    s->last = -1;
    s->fn = fn;
    s->fn_ctx = ctx;
    const int rc = generate(s->m, s->st, s->smp, ids, n, pos, max_new, s->n_ctx, on_token, s, &s->r.stats);
    s->fn = NULL;
    s->fn_ctx = NULL;
    return rc;
}

/* A one-shot reply: the cache no longer holds the kept conversation. */
static int reply_once(session *s, const int *ids, int n, int fill, session_token_fn fn, void *ctx) {
    s->r.dropped = 0;
    s->pos = 0;
    s->n_pending = 0;
    if (fill ? n > s->n_ctx : n + 1 > s->n_ctx) {
        s->r.len = 0, s->r.text[0] = 0, s->r.n_ids = 0, s->r.ended = 0;
        memset(&s->r.stats, 0, sizeof s->r.stats);
        err_set("prompt of %d tokens does not fit the context of %d", n, s->n_ctx);
        return 1;
    }
    int pos = 0;
    const int max_new = fill ? s->o.max_new : MIN(s->o.max_new, s->n_ctx - n);
    return reply_run(s, ids, n, &pos, max_new, fn, ctx) ? -1 : 0;
}

int session_answer(session *s, const chat_msg *m, int n, session_token_fn fn, void *ctx) {
    LLMOS_ASSERT(s->chat);
    chat_encode(&s->fmt, m, n, 1, &s->ct);
    return reply_once(s, s->ct.ids, (int)s->ct.n, 0, fn, ctx);
}

int session_complete(session *s, const int *ids, int n, session_token_fn fn, void *ctx) {
    return reply_once(s, ids, n, s->o.fill, fn, ctx);
}

/* Re-encodes the whole conversation (minus the oldest exchanges while it
 * does not fit with room for a reply) to be evaluated from position 0. */
static int rebuild(session *s, int room) {
    for (;;) {
        chat_encode(&s->fmt, s->h, s->n_h, 1, &s->ct);
        if ((int)s->ct.n + room <= s->n_ctx) break;
        const int first = s->n_h && s->h[0].role == CHAT_SYSTEM ? 1 : 0;
        if (s->n_h - first <= 1)
            return err_set("the message is %zu tokens, too long for the context of %d", s->ct.n, s->n_ctx);
        /* drop the oldest message and whatever follows it up to the next user turn */
        int k = 1;
        while (first + k < s->n_h - 1 && s->h[first + k].role != CHAT_USER) k++;
        hist_drop(s, first, k);
    }
    s->pos = 0;
    s->n_pending = 0;
    return 0;
}

int session_ask(session *s, const char *user, session_token_fn fn, void *ctx) {
    LLMOS_ASSERT(s->chat);
    hist_add(s, CHAT_USER, user);
    /* the new tokens: the end of the last reply, the user turn, the generation prompt */
    chat_tokens_clear(&s->ct);
    if (s->pos == 0 && s->n_pending == 0) {
        chat_encode(&s->fmt, s->h, s->n_h, 1, &s->ct);
    } else {
        for (int i = 0; i < s->n_pending; i++) chat_tokens_push(&s->ct, s->pending[i], 0);
        chat_encode_msg(&s->fmt, &s->ct, &s->h[s->n_h - 1]);
        chat_encode_gen_prompt(&s->fmt, &s->ct);
    }
    const int room = MIN(s->o.max_new, s->n_ctx / 4);
    s->r.dropped = 0;
    if (s->pos + (int)s->ct.n + room > s->n_ctx) {
        if (rebuild(s, room)) {
            hist_drop(s, s->n_h - 1, 1);
            return -1;
        }
        s->r.dropped = 1;
    }
    const int n_prompt = (int)s->ct.n;
    const int max_new = MIN(s->o.max_new, s->n_ctx - s->pos - n_prompt);
    s->n_pending = 0;
    if (reply_run(s, s->ct.ids, n_prompt, &s->pos, max_new, fn, ctx)) {
        hist_drop(s, s->n_h - 1, 1);
        s->pos = 0; /* the cache holds part of a turn: evaluate the conversation again next time */
        return -1;
    }
    hist_add(s, CHAT_ASSISTANT, s->r.text);
    /* The last sampled token is not in the cache yet (generation stops
     * before evaluating it); a reply cut short gets its end of turn added. */
    if (!s->r.stats.stopped_at_eos && s->last >= 0) s->pending[s->n_pending++] = s->last;
    s->pending[s->n_pending++] = s->fmt.eot;
    return 0;
}
