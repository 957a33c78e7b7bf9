/*
 * chat_eval.c - held-out question answering for base versus assistant
 * models (see chat_eval.h).
 */
#include "chat_eval.h"

#include "../core/common.h"
#include "../model/model.h"
#include "../tokenizer/chat.h"
#include "generate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- normalization and F1 ------------------------------------------------ */

/* Words of s: lowercased ASCII letters/digits (other bytes, UTF-8
 * included, kept as they are), punctuation as separators, articles dropped.
 * Returns the count; words point into *buf (caller frees). */
static int words_of(const char *s, char **buf, char ***words) {
    size_t n = strlen(s);
    char *b = xmalloc(n + 1);
    int cap = 16, cnt = 0;
    char **w = xmalloc(sizeof(char *) * (size_t)cap);
    size_t j = 0;
    int in = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        int keep = c && (isalnum(c) || c >= 0x80);
        if (keep) {
            if (!in) {
                if (cnt == cap) w = xrealloc(w, sizeof(char *) * (size_t)(cap *= 2));
                w[cnt++] = b + j;
                in = 1;
            }
            b[j++] = (char)tolower(c);
        } else if (in) {
            b[j++] = 0;
            in = 0;
            const char *last = w[cnt - 1];
            if (!strcmp(last, "a") || !strcmp(last, "an") || !strcmp(last, "the")) cnt--;
        }
    }
    *buf = b;
    *words = w;
    return cnt;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

double chat_eval_f1(const char *reply, const char *reference) {
    char *b1, *b2, **w1, **w2;
    int n1 = words_of(reply, &b1, &w1), n2 = words_of(reference, &b2, &w2);
    double f1 = 0;
    if (n1 == 0 || n2 == 0) {
        f1 = n1 == n2;
    } else {
        /* multiset intersection by merging the sorted word lists */
        qsort(w1, (size_t)n1, sizeof *w1, cmp_str);
        qsort(w2, (size_t)n2, sizeof *w2, cmp_str);
        int i = 0, j = 0, common = 0;
        while (i < n1 && j < n2) {
            int c = strcmp(w1[i], w2[j]);
            if (c == 0) common++, i++, j++;
            else if (c < 0) i++;
            else j++;
        }
        if (common) {
            double p = (double)common / n1, r = (double)common / n2;
            f1 = 2 * p * r / (p + r);
        }
    }
    free(b1), free(b2), free(w1), free(w2);
    return f1;
}

int chat_eval_exact(const char *reply, const char *reference) {
    char *b1, *b2, **w1, **w2;
    int n1 = words_of(reply, &b1, &w1), n2 = words_of(reference, &b2, &w2);
    int eq = n1 == n2;
    for (int i = 0; eq && i < n1; i++) eq = !strcmp(w1[i], w2[i]);
    free(b1), free(b2), free(w1), free(w2);
    return eq;
}

/* A copy of s with every invalid UTF-8 sequence replaced by U+FFFD (a
 * model may stop in the middle of a character, or emit stray bytes). */
static char *utf8_valid_copy(const char *s) {
    size_t n = strlen(s);
    char *o = xmalloc(3 * n + 1), *w = o;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && len == 2) ok = c >= 0xc2;
        if (ok && len == 3) ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);
        if (ok && len == 4) ok = c <= 0xf4 && !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
        if (ok) {
            memcpy(w, p + i, len);
            w += len;
            i += len;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
            i++;
        }
    }
    *w = 0;
    return o;
}

/* ---- one model ---------------------------------------------------------- */

typedef struct {
    const model *m;
    int eot;
    char *text;
    size_t len, cap;
    int ended; /* the reply was closed by the end-of-turn token */
} reply_buf;

static int on_token(int tok, void *p) {
    reply_buf *r = p;
    if (tok == r->eot) {
        r->ended = 1;
        return 1;
    }
    if (tok_is_special(r->m->tok, tok)) return 1; /* another role: the turn is over, not in form */
    size_t n;
    const char *piece = tok_decode(r->m->tok, tok, &n);
    if (r->len + n + 1 > r->cap) r->text = xrealloc(r->text, r->cap = (r->len + n + 1) * 2);
    memcpy(r->text + r->len, piece, n);
    r->len += n;
    r->text[r->len] = 0;
    return 0;
}

void chat_eval_result_free(chat_eval_result *r) {
    for (size_t i = 0; i < r->n; i++) free(r->replies[i]);
    free(r->replies), free(r->in_form), free(r->f1), free(r->conv_index);
    memset(r, 0, sizeof *r);
}

int chat_eval_model(const char *model_path, const conv_list *l, const chat_eval_opts *o,
                    chat_eval_result *r) {
    memset(r, 0, sizeof *r);
    model *m = model_load(model_path);
    if (!m) return -1;
    if (!m->tok) {
        model_free(m);
        return err_set("%s: the file has no tokenizer", model_path);
    }
    chat_format f;
    if (chat_format_init(&f, m->tok)) {
        model_free(m);
        return err_prefix(model_path);
    }
    const int n_ctx = o->n_ctx > 0 ? MIN(o->n_ctx, m->cfg.ctx_len) : m->cfg.ctx_len;
    model_state *st = model_state_new(m, n_ctx, MIN(n_ctx, 512));
    sampler_params sp = sampler_defaults();
    sp.temperature = 0;
    sp.repeat_penalty = 1.0f;
    sp.seed = 1;
    sampler *smp = sampler_new(&sp, m->cfg.vocab_size);
    size_t cap = l->n;
    r->replies = xcalloc(cap, sizeof *r->replies);
    r->in_form = xcalloc(cap, sizeof *r->in_form);
    r->f1 = xcalloc(cap, sizeof *r->f1);
    r->conv_index = xcalloc(cap, sizeof *r->conv_index);
    chat_tokens ct = {0};
    reply_buf rb = {0};
    rb.m = m;
    rb.eot = f.eot;
    double t0 = time_now(), last = t0;
    int rc = 0;
    for (size_t i = 0; i < l->n && (!o->limit || r->n < (size_t)o->limit); i++) {
        const conv *c = &l->items[i];
        /* the messages up to the first user turn, and the reference reply after it */
        int q = -1, a = -1;
        for (int k = 0; k < c->n; k++) {
            if (q < 0 && c->msgs[k].role == CHAT_USER) q = k;
            else if (q >= 0 && c->msgs[k].role == CHAT_ASSISTANT) {
                a = k;
                break;
            }
        }
        if (q < 0 || a != q + 1) continue;
        chat_encode(&f, c->msgs, q + 1, 1, &ct);
        /* the reply budget is what the window leaves, at most --max-new */
        const int budget = MIN(o->max_new, n_ctx - (int)ct.n);
        if (budget < 1) continue;
        rb.len = 0;
        rb.ended = 0;
        if (rb.text) rb.text[0] = 0;
        int pos = 0;
        gen_stats gs;
        if (generate(m, st, smp, ct.ids, (int)ct.n, &pos, budget, n_ctx, on_token, &rb, &gs)) {
            rc = -1;
            break;
        }
        const char *reply = rb.text ? rb.text : "";
        size_t k = r->n++;
        r->replies[k] = utf8_valid_copy(reply);
        r->conv_index[k] = i;
        /* assistant form: something said, then the end of turn */
        const char *p = r->replies[k];
        while (*p && isspace((unsigned char)*p)) p++;
        r->in_form[k] = rb.ended && *p;
        r->n_form += (size_t)r->in_form[k];
        r->f1[k] = chat_eval_f1(r->replies[k], c->msgs[a].content);
        r->f1_sum += r->f1[k];
        r->n_exact += (size_t)chat_eval_exact(r->replies[k], c->msgs[a].content);
        double now = time_now();
        if (!o->quiet && now - last > 1.0) {
            fprintf(stderr, "%seval %s: %zu questions, %.1f/s%s", isatty(2) ? "\r\033[K" : "",
                    model_path, r->n, (double)r->n / (now - t0), isatty(2) ? "" : "\n");
            last = now;
        }
    }
    if (!o->quiet && isatty(2)) fprintf(stderr, "\r\033[K");
    r->seconds = time_now() - t0;
    free(rb.text);
    chat_tokens_free(&ct);
    sampler_free(smp);
    model_state_free(st);
    model_free(m);
    return rc;
}
