/*
 * engine.c - slots, the queue and the engine thread (see engine.h).
 */
#include "engine.h"

#include "../core/common.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    model_state *st;
    int *cache; /* (n_ctx) the tokens the KV cache holds */
    int n_cache;
    serve_seq *seq; /* NULL when free */
    sampler *smp;
    int n_done;     /* prompt tokens evaluated */
    int last;       /* the last sampled token, to evaluate next */
    const float *logits;
    int *hist;      /* prompt + generated, for the repetition penalty */
    int n_hist;
} slot;

struct serve_engine {
    const model *m;
    serve_engine_config c;
    slot *slots;
    float *logits; /* (V) scratch */
    pthread_mutex_t mu;
    pthread_cond_t work, progress;
    serve_seq *head, *tail; /* the queue */
    int n_queued, stop;
    pthread_t thread;
    int eos, eot;
    serve_engine_stats st;
    double rate_t0;
    long rate_n0;
};

serve_seq *serve_seq_new(void) {
    serve_seq *s = xcalloc(1, sizeof *s);
    s->sp = sampler_defaults();
    s->top_logprobs = -1;
    s->slot = -1;
    return s;
}

static void seq_free(serve_seq *s) {
    free(s->prompt);
    for (int i = 0; i < s->n_stop; i++) free(s->stop[i]);
    json_constraint_free(s->jc);
    free(s->bias_id);
    free(s->bias);
    free(s->text);
    free(s->toks);
    free(s);
}

/* with the lock */
static void seq_unref(serve_seq *s) {
    if (--s->refs == 0) seq_free(s);
}

void serve_seq_release(serve_engine *e, serve_seq *s) {
    if (!s) return;
    pthread_mutex_lock(&e->mu);
    s->cancel = 1;
    seq_unref(s);
    pthread_mutex_unlock(&e->mu);
}

void serve_seq_cancel(serve_engine *e, serve_seq *s) {
    pthread_mutex_lock(&e->mu);
    s->cancel = 1;
    pthread_cond_signal(&e->work);
    pthread_mutex_unlock(&e->mu);
}

void serve_engine_lock(serve_engine *e) { pthread_mutex_lock(&e->mu); }
void serve_engine_unlock(serve_engine *e) { pthread_mutex_unlock(&e->mu); }

void serve_engine_wait(serve_engine *e, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&e->progress, &e->mu, &ts);
}

int serve_engine_submit(serve_engine *e, serve_seq **s, int n) {
    pthread_mutex_lock(&e->mu);
    if (e->stop || e->n_queued + n > e->c.max_queue) {
        pthread_mutex_unlock(&e->mu);
        return -1;
    }
    double now = time_now();
    for (int i = 0; i < n; i++) {
        s[i]->refs++;
        s[i]->t_submit = now;
        s[i]->next = NULL;
        if (e->tail) e->tail->next = s[i];
        else e->head = s[i];
        e->tail = s[i];
        e->n_queued++;
    }
    e->st.requests_seqs += n;
    pthread_cond_signal(&e->work);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

void serve_engine_get_stats(serve_engine *e, serve_engine_stats *st) {
    pthread_mutex_lock(&e->mu);
    *st = e->st;
    st->queued = e->n_queued;
    st->n_slots = e->c.n_slots;
    st->busy = 0;
    for (int i = 0; i < e->c.n_slots; i++) st->busy += e->slots[i].seq != NULL;
    double now = time_now();
    if (now - e->rate_t0 > 0) st->tok_per_s = (e->st.gen_tokens - e->rate_n0) / (now - e->rate_t0);
    if (now - e->rate_t0 > 10) e->rate_t0 = now, e->rate_n0 = e->st.gen_tokens;
    pthread_mutex_unlock(&e->mu);
}

/* ---- text ---- */

/* How many bytes at the end of text[0..n) could still be the start of a
 * stop string, or an unfinished UTF-8 character: the part not shown yet. */
static size_t seq_holdback(const serve_seq *s) {
    size_t hold = 0;
    for (int k = 0; k < s->n_stop; k++) {
        size_t sl = strlen(s->stop[k]);
        for (size_t l = MIN(sl - 1, s->len); l > hold; l--)
            if (!memcmp(s->text + s->len - l, s->stop[k], l)) {
                hold = l;
                break;
            }
    }
    /* an unfinished character: a lead byte in the last 3 whose sequence is longer */
    for (size_t back = 1; back <= 3 && back <= s->len; back++) {
        unsigned char b = (unsigned char)s->text[s->len - back];
        if ((b & 0xC0) == 0x80) continue;
        int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        if (need > (int)back) hold = MAX(hold, back);
        break;
    }
    return hold;
}

/* Appends a piece; 1 when a stop string now appears (the text is cut
 * before it). */
static int seq_append(serve_seq *s, const char *piece, size_t n) {
    size_t old = s->len;
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->text = xrealloc(s->text, s->cap);
    }
    memcpy(s->text + s->len, piece, n);
    s->len += n;
    s->text[s->len] = 0;
    for (int k = 0; k < s->n_stop; k++) {
        size_t sl = strlen(s->stop[k]);
        size_t from = old >= sl ? old - sl + 1 : 0;
        char *hit = memmem(s->text + from, s->len - from, s->stop[k], sl);
        if (hit) {
            s->len = (size_t)(hit - s->text);
            s->text[s->len] = 0;
            return 1;
        }
    }
    return 0;
}

/* ---- one step of a slot ---- */

static void slot_finish(serve_engine *e, slot *sl, seq_finish why) {
    serve_seq *s = sl->seq;
    s->finish = why;
    s->ready = s->len;
    for (int i = 0; i < s->n_gen; i++) s->toks[i].end = MIN(s->toks[i].end, s->len);
    sampler_free(sl->smp);
    sl->smp = NULL;
    free(sl->hist);
    sl->hist = NULL;
    sl->seq = NULL;
    seq_unref(s);
}

/* The free slot whose cache shares the longest prefix with the prompt
 * (the least recently... the first on ties); -1 when none is free. */
static int engine_pick_slot(serve_engine *e, const serve_seq *s, int *common) {
    int best = -1, best_n = -1;
    for (int i = 0; i < e->c.n_slots; i++) {
        slot *sl = &e->slots[i];
        if (sl->seq) continue;
        int n = 0;
        while (n < sl->n_cache && n < s->n_prompt && sl->cache[n] == s->prompt[n]) n++;
        if (n > best_n) best = i, best_n = n;
    }
    *common = best_n;
    return best;
}

/* Log-softmax of logits (V) at id, and the top k. */
static void token_logprobs(const float *lg, int V, int id, int k, seq_token *t) {
    float mx = lg[0];
    for (int i = 1; i < V; i++) mx = MAX(mx, lg[i]);
    double sum = 0;
    for (int i = 0; i < V; i++) sum += exp((double)lg[i] - mx);
    double lse = mx + log(sum);
    t->logprob = (float)(lg[id] - lse);
    t->n_top = 0;
    for (int i = 0; i < V; i++) { /* insertion into the top k */
        float v = (float)(lg[i] - lse);
        int j = t->n_top < k ? t->n_top++ : k;
        if (j == k && (k == 0 || v <= t->top_lp[k - 1])) continue;
        if (j == k) j = k - 1;
        while (j > 0 && t->top_lp[j - 1] < v) {
            t->top_lp[j] = t->top_lp[j - 1], t->top_id[j] = t->top_id[j - 1];
            j--;
        }
        t->top_lp[j] = v, t->top_id[j] = i;
    }
}

/* Masks the tokens the JSON constraint does not allow next. 0, or -1 when
 * nothing is allowed. */
static int mask_constraint(serve_engine *e, const json_constraint *jc, float *lg) {
    const int V = e->m->cfg.vocab_size;
    const tokenizer *t = e->m->tok;
    int any = 0;
    for (int i = 0; i < V; i++) {
        int ok;
        if (i == e->eos || i == e->eot) ok = json_constraint_done(jc);
        else if (tok_is_special(t, i)) ok = 0;
        else {
            size_t n;
            const char *p = tok_decode(t, i, &n);
            ok = n > 0 && json_constraint_try(jc, p, n);
        }
        if (!ok) lg[i] = -INFINITY;
        any |= ok;
    }
    return any ? 0 : -1;
}

/* Samples from the slot's logits and adds the token to its sequence
 * (the lock is taken for the output). */
static void slot_sample(serve_engine *e, slot *sl) {
    serve_seq *s = sl->seq;
    const int V = e->m->cfg.vocab_size;
    memcpy(e->logits, sl->logits, sizeof(float) * V);
    for (int i = 0; i < s->n_bias; i++) /* OpenAI: -100 bans, +100 all but forces */
        e->logits[s->bias_id[i]] = s->bias[i] <= -100 ? -INFINITY : e->logits[s->bias_id[i]] + s->bias[i];
    if (s->jc && mask_constraint(e, s->jc, e->logits) < 0) {
        pthread_mutex_lock(&e->mu);
        snprintf(s->err, sizeof s->err, "the vocabulary has no token that continues valid JSON here");
        slot_finish(e, sl, SEQ_ERROR);
        pthread_mutex_unlock(&e->mu);
        return;
    }
    int id = sampler_sample(sl->smp, e->logits, sl->hist, sl->n_hist);
    seq_token tk = {.id = id};
    if (s->top_logprobs >= 0) token_logprobs(sl->logits, V, id, s->top_logprobs, &tk);
    int end = id == e->eos || id == e->eot, stopped = 0;
    size_t n = 0;
    const char *piece = "";
    if (!end && !tok_is_special(e->m->tok, id)) piece = tok_decode(e->m->tok, id, &n);
    if (s->jc && !end) json_constraint_feed(s->jc, piece, n);
    sl->hist[sl->n_hist++] = id;
    sl->last = id;

    pthread_mutex_lock(&e->mu);
    if (!s->n_gen) s->t_first = time_now();
    if (s->n_gen == s->toks_cap) {
        s->toks_cap = s->toks_cap ? s->toks_cap * 2 : 64;
        s->toks = xrealloc(s->toks, sizeof *s->toks * (size_t)s->toks_cap);
    }
    if (!end) stopped = seq_append(s, piece, n);
    tk.end = s->len;
    s->toks[s->n_gen++] = tk;
    e->st.gen_tokens++;
    if (end || stopped) slot_finish(e, sl, SEQ_STOP);
    else if (s->n_gen >= s->max_tokens || sl->n_cache >= e->c.n_ctx) slot_finish(e, sl, SEQ_LENGTH);
    else s->ready = s->len - seq_holdback(s);
    pthread_mutex_unlock(&e->mu);
}

/* Evaluates the slot's next chunk of prompt or its last token. */
static void slot_step(serve_engine *e, slot *sl) {
    serve_seq *s = sl->seq;
    const int *toks;
    int n;
    if (sl->n_done < s->n_prompt) {
        toks = s->prompt + sl->n_done;
        n = MIN(s->n_prompt - sl->n_done, e->c.n_batch);
    } else {
        toks = &sl->last;
        n = 1;
    }
    int pos = sl->n_cache;
    double t0 = time_now();
    const float *lg = model_forward(e->m, sl->st, toks, n, pos, 0);
    if (!lg) {
        pthread_mutex_lock(&e->mu);
        snprintf(s->err, sizeof s->err, "%s", err_msg());
        slot_finish(e, sl, SEQ_ERROR);
        pthread_mutex_unlock(&e->mu);
        return;
    }
    memcpy(sl->cache + pos, toks, sizeof(int) * (size_t)n);
    sl->n_cache = pos + n;
    sl->logits = lg;
    if (sl->n_done < s->n_prompt) {
        sl->n_done += n;
        if (sl->n_done < s->n_prompt) return;
    } else {
        pthread_mutex_lock(&e->mu);
        e->st.gen_seconds += time_now() - t0;
        pthread_mutex_unlock(&e->mu);
    }
    slot_sample(e, sl);
}

/* With the lock: starts a queued sequence in a free slot. */
static void slot_start(serve_engine *e, int i, serve_seq *s, int common) {
    slot *sl = &e->slots[i];
    if (common >= s->n_prompt) common = s->n_prompt - 1; /* the last token gives the logits */
    sl->seq = s;
    s->slot = i;
    s->n_cached = common;
    sl->n_cache = common;
    sl->n_done = common;
    sl->smp = sampler_new(&s->sp, e->m->cfg.vocab_size);
    sl->hist = xmalloc(sizeof(int) * (size_t)(s->n_prompt + s->max_tokens + 1));
    memcpy(sl->hist, s->prompt, sizeof(int) * (size_t)s->n_prompt);
    sl->n_hist = s->n_prompt;
    e->st.prompt_tokens += s->n_prompt;
    e->st.cached_tokens += common;
}

static void *engine_main(void *arg) {
    serve_engine *e = arg;
    model_set_threads(e->c.threads);
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        /* the cancelled leave their slots; the queued take free ones */
        for (int i = 0; i < e->c.n_slots; i++)
            if (e->slots[i].seq && e->slots[i].seq->cancel) slot_finish(e, &e->slots[i], SEQ_CANCELLED);
        for (serve_seq **pp = &e->head; *pp;) {
            serve_seq *s = *pp;
            int common = 0, i = s->cancel ? -1 : engine_pick_slot(e, s, &common);
            if (!s->cancel && i < 0) break;
            *pp = s->next;
            if (e->tail == s) e->tail = NULL;
            e->n_queued--;
            if (s->cancel) {
                s->finish = SEQ_CANCELLED;
                seq_unref(s);
            } else
                slot_start(e, i, s, common);
        }
        if (!e->head) e->tail = NULL;
        else {
            serve_seq *t = e->head;
            while (t->next) t = t->next;
            e->tail = t;
        }
        int busy = 0;
        for (int i = 0; i < e->c.n_slots; i++) busy += e->slots[i].seq != NULL;
        if (!busy) {
            pthread_cond_wait(&e->work, &e->mu);
            continue;
        }
        pthread_mutex_unlock(&e->mu);
        for (int i = 0; i < e->c.n_slots; i++)
            if (e->slots[i].seq) slot_step(e, &e->slots[i]);
        pthread_mutex_lock(&e->mu);
        pthread_cond_broadcast(&e->progress);
    }
    for (int i = 0; i < e->c.n_slots; i++)
        if (e->slots[i].seq) slot_finish(e, &e->slots[i], SEQ_CANCELLED);
    while (e->head) {
        serve_seq *s = e->head;
        e->head = s->next;
        s->finish = SEQ_CANCELLED;
        seq_unref(s);
    }
    e->tail = NULL;
    e->n_queued = 0;
    pthread_cond_broadcast(&e->progress);
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

serve_engine *serve_engine_new(const model *m, const serve_engine_config *c) {
    if (!m->tok) return err_set("the model has no tokenizer"), NULL;
    serve_engine *e = xcalloc(1, sizeof *e);
    e->m = m;
    e->c = *c;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->work, NULL);
    pthread_cond_init(&e->progress, NULL);
    e->slots = xcalloc((size_t)c->n_slots, sizeof *e->slots);
    for (int i = 0; i < c->n_slots; i++) {
        e->slots[i].st = model_state_new(m, c->n_ctx, c->n_batch);
        e->slots[i].cache = xmalloc(sizeof(int) * (size_t)c->n_ctx);
        if (!e->slots[i].st) {
            e->c.n_slots = i;
            serve_engine_free(e);
            return NULL;
        }
    }
    e->logits = xmalloc(sizeof(float) * (size_t)m->cfg.vocab_size);
    e->eos = tok_eos(m->tok);
    e->eot = tok_eot(m->tok);
    e->rate_t0 = time_now();
    if (pthread_create(&e->thread, NULL, engine_main, e)) {
        err_set("cannot start the engine thread: %s", strerror(errno));
        e->thread = 0;
        serve_engine_free(e);
        return NULL;
    }
    return e;
}

void serve_engine_stop(serve_engine *e) {
    if (!e || !e->thread) return;
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_signal(&e->work);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    e->thread = 0;
}

void serve_engine_free(serve_engine *e) {
    if (!e) return;
    serve_engine_stop(e);
    for (int i = 0; i < e->c.n_slots; i++) {
        model_state_free(e->slots[i].st);
        free(e->slots[i].cache);
    }
    free(e->slots);
    free(e->logits);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->work);
    pthread_cond_destroy(&e->progress);
    free(e);
}
