/*
 * chat_eval.c - held-out question answering for base versus assistant
 * models (see chat_eval.h).
 */
#include "chat_eval.h"

#include "../core/common.h"
#include "../model/model.h"
#include "session.h"

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

/* ---- one model ---------------------------------------------------------- */

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
    session_opts so = {.max_new = o->max_new, .chat = 1, .stop_at_special = 1, .sp = sampler_defaults()};
    so.n_ctx = o->n_ctx > 0 ? MIN(o->n_ctx, m->cfg.ctx_len) : m->cfg.ctx_len;
    so.sp.temperature = 0;
    so.sp.repeat_penalty = 1.0f;
    so.sp.seed = 1;
    session *ses = session_new(m, &so);
    if (!ses) {
        model_free(m);
        return err_prefix(model_path);
    }
    size_t cap = l->n;
    r->replies = xcalloc(cap, sizeof *r->replies);
    r->in_form = xcalloc(cap, sizeof *r->in_form);
    r->f1 = xcalloc(cap, sizeof *r->f1);
    r->conv_index = xcalloc(cap, sizeof *r->conv_index);
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
        /* the reply budget is what the window leaves, at most max_new; a
         * question that leaves none is skipped */
        const int ans = session_answer(ses, c->msgs, q + 1, NULL, NULL);
        if (ans > 0) continue;
        if (ans < 0) {
            rc = -1;
            break;
        }
        const session_reply *rep = session_reply_get(ses);
        size_t k = r->n++;
        r->replies[k] = utf8_sanitize(rep->text);
        r->conv_index[k] = i;
        /* assistant form: something said, then the end of turn */
        const char *p = r->replies[k];
        while (*p && isspace((unsigned char)*p)) p++;
        r->in_form[k] = rep->ended && *p;
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
    session_free(ses);
    model_free(m);
    return rc;
}
