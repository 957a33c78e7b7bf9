/*
 * label_web.c - `llmos label --web`: the labeling page, served by
 * libmicrohttpd on 127.0.0.1 by default. The page (label_web_page.c: HTML,
 * CSS and JavaScript in one string, nothing fetched from elsewhere) shows
 * the guideline beside the task and talks to a small JSON API:
 *
 *   GET  /                the page
 *   GET  /api/info        {"labeler", "model", "store", "sft", "k",
 *                          "instructions_path", "instructions"} (text or null)
 *   GET  /api/task        the current prompt: {"done": false, "index", "line",
 *                          "position", "total", "judged", "judged_session",
 *                          "k", "prompt": [{"role", "content"}], "candidates"}
 *                         or {"done": true, "total", "judged", ...} at the end
 *   POST /api/judgement   {"index": I, "ranks": [K integers 0..K],
 *                          "flags": ["skip"|"unsafe"|"spam"], "ideal": "..."}
 *                         (Content-Type: application/json) -> {"ok": true}
 *
 * A judgement must rank two answers or more, write an ideal answer, or carry
 * a flag. Anything else, and any malformed body, gets 400 with a one-line
 * {"error": "..."}; a judgement for a prompt that is not the current one
 * gets 409. Judgements go through label_task_save, the terminal's writer,
 * so the store and the SFT file get the same records. The candidates of the
 * current prompt are sampled once (label_task_sample, the terminal's
 * sampling) and kept until it is judged; the browser never sends them back.
 * A sampler thread prepares the current prompt's and the next one's
 * candidates while the labeler reads, so after Save the next prompt
 * usually appears at once.
 *
 * Requiring application/json on POST means that another web site cannot
 * post judgements from the labeler's browser without a CORS preflight,
 * which this server never grants. On a loopback address, requests whose
 * Host header names anything but localhost or a loopback address get 403,
 * so a site that rebinds its own name to 127.0.0.1 cannot read or post
 * either.
 *
 * The HTTP plumbing (src/serve/http.c) is shared with `llmos serve`.
 * Requests are handled one at a time by libmicrohttpd's internal thread,
 * the model is used only by the sampler thread, and one mutex guards the
 * state they share; the main thread waits for SIGINT or SIGTERM (blocked
 * before any thread is started, so that only sigwait sees them), then
 * stops the server and the sampler and frees everything.
 */
#include "cli.h"
#include "label.h"

#include "../core/common.h"
#include "../serve/http.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { WEB_MAX_BODY = 1 << 20 };


typedef struct {
    label_session *s;
    char *instructions;    /* the guideline's text, or NULL */
    pthread_mutex_t mu;    /* guards everything below */
    pthread_cond_t cv;     /* broadcast on every change below */
    char *todo;            /* (prompts) 1: still to label (not judged, sampling worked) */
    size_t cursor;         /* the prompt after the last one judged */
    label_task task;       /* the current prompt's candidates when have_task */
    label_task next;       /* the following one's when have_next */
    int have_task, have_next, stop;
    size_t n_before;       /* prompts judged before this session */
    size_t n_session;      /* judgements saved by this session */
    size_t n_failed;       /* prompts skipped because sampling failed */
} web_state;

/* ---- the API ---- */

static void web_add_progress(const web_state *w, cJSON *j) {
    cJSON_AddNumberToObject(j, "total", (double)w->s->prompts.n);
    cJSON_AddNumberToObject(j, "judged", (double)(w->n_before + w->n_session));
    cJSON_AddNumberToObject(j, "judged_session", (double)w->n_session);
    cJSON_AddNumberToObject(j, "failed", (double)w->n_failed);
}

static enum MHD_Result web_info(web_state *w, http_request *c) {
    const label_options *o = w->s->o;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "labeler", o->labeler);
    cJSON_AddStringToObject(j, "model", o->model_path);
    cJSON_AddStringToObject(j, "store", o->store);
    cJSON_AddStringToObject(j, "sft", w->s->sft_path);
    cJSON_AddNumberToObject(j, "k", o->k);
    if (w->s->instr_path) cJSON_AddStringToObject(j, "instructions_path", w->s->instr_path);
    else cJSON_AddNullToObject(j, "instructions_path");
    if (w->instructions) cJSON_AddStringToObject(j, "instructions", w->instructions);
    else cJSON_AddNullToObject(j, "instructions");
    return http_reply_json(c, MHD_HTTP_OK, j);
}

/* ---- the sampler thread ---- */

/* The first prompt still to label at i or after; the count of prompts when
 * there is none. */
static size_t web_find(const web_state *w, size_t i) {
    while (i < w->s->prompts.n && !w->todo[i]) i++;
    return i;
}

/* Samples the current prompt's candidates when they are missing, else the
 * next prompt's, else waits. A result that is no longer wanted when it is
 * ready (the labeler moved on meanwhile) is dropped. */
static void *web_sampler(void *arg) {
    web_state *w = arg;
    const size_t n = w->s->prompts.n;
    /* OpenMP's thread count is per thread: a new thread starts from the
     * default (all cores), not from what the main thread set */
    model_set_threads(w->s->o->threads);
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        size_t j = !w->have_task ? web_find(w, w->cursor) : !w->have_next ? web_find(w, w->task.index + 1) : n;
        if (j >= n) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        label_task t;
        int rc = label_task_sample(w->s, j, &t);
        pthread_mutex_lock(&w->mu);
        if (rc < 0) {
            fprintf(stderr, "llmos label: skipping prompt %zu: %s\n", j + 1, err_msg());
            w->todo[j] = 0;
            w->n_failed++;
        } else if (!w->have_task && web_find(w, w->cursor) == j) {
            w->task = t;
            w->have_task = 1;
        } else if (w->have_task && !w->have_next && web_find(w, w->task.index + 1) == j) {
            w->next = t;
            w->have_next = 1;
        } else
            label_task_release(&t);
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Waits (w->mu held) until the current prompt's candidates are ready: 0,
 * or 1 when every prompt is done, -1 when the server is stopping. */
static int web_wait_task(web_state *w) {
    for (;;) {
        if (w->stop) return -1;
        if (w->have_task) return 0;
        if (web_find(w, w->cursor) >= w->s->prompts.n) return 1;
        pthread_cond_wait(&w->cv, &w->mu);
    }
}

static enum MHD_Result web_task(web_state *w, http_request *c) {
    int done = web_wait_task(w);
    if (done < 0) return http_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "done", done);
    web_add_progress(w, j);
    if (!done) {
        const label_task *t = &w->task;
        cJSON_AddNumberToObject(j, "index", (double)t->index);
        cJSON_AddNumberToObject(j, "position", (double)t->index + 1);
        cJSON_AddNumberToObject(j, "line", (double)t->conv->line);
        cJSON_AddNumberToObject(j, "k", t->k);
        cJSON *p = cJSON_AddArrayToObject(j, "prompt");
        for (int m = 0; m < t->n_prompt; m++) {
            cJSON *msg = cJSON_CreateObject();
            cJSON_AddStringToObject(msg, "role", chat_role_name(t->conv->msgs[m].role));
            cJSON_AddStringToObject(msg, "content", t->conv->msgs[m].content);
            cJSON_AddItemToArray(p, msg);
        }
        cJSON *cands = cJSON_AddArrayToObject(j, "candidates");
        for (int m = 0; m < t->k; m++) cJSON_AddItemToArray(cands, cJSON_CreateString(t->cand[m]));
    }
    return http_reply_json(c, MHD_HTTP_OK, j);
}

/* 1 when x is a JSON number holding an integer in [lo, hi]. */
static int json_int_in(const cJSON *x, double lo, double hi, long *out) {
    if (!cJSON_IsNumber(x)) return 0;
    double d = x->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < lo || d > hi) return 0;
    *out = (long)d;
    return 1;
}

static enum MHD_Result web_judgement(web_state *w, http_request *c) {
    const http_request *rq = c;
    const char *type = http_header(c, "Content-Type");
    if (!type || strncasecmp(type, "application/json", 16))
        return http_reply_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    if (rq->too_big) return http_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body over %d bytes", WEB_MAX_BODY);
    cJSON *root = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return http_reply_error(c, MHD_HTTP_BAD_REQUEST, "the body is not a JSON object");
    }
    enum MHD_Result res;
    const int k = w->s->o->k;
    int *ranks = xcalloc((size_t)k, sizeof *ranks);
    char *ideal = NULL;
    unsigned flags = 0;
    long index = -1, v;
    int n_ranked = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, root) {
        if (!x->string || (strcmp(x->string, "index") && strcmp(x->string, "ranks") && strcmp(x->string, "flags") &&
                           strcmp(x->string, "ideal"))) {
            res = http_reply_error(c, MHD_HTTP_BAD_REQUEST, "unknown field '%.64s' (expected index, ranks, flags, ideal)",
                                  x->string ? x->string : "");
            goto done;
        }
    }
    if (!json_int_in(cJSON_GetObjectItemCaseSensitive(root, "index"), 0, 1e15, &index)) {
        res = http_reply_error(c, MHD_HTTP_BAD_REQUEST, "'index' must be the task's index (an integer)");
        goto done;
    }
    x = cJSON_GetObjectItemCaseSensitive(root, "ranks");
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != k) {
        res = http_reply_error(c, MHD_HTTP_BAD_REQUEST, "'ranks' must be an array of %d integers", k);
        goto done;
    }
    for (int m = 0; m < k; m++) {
        if (!json_int_in(cJSON_GetArrayItem(x, m), 0, k, &v)) {
            res = http_reply_error(c, MHD_HTTP_BAD_REQUEST, "ranks[%d] must be an integer from 0 (unranked) to %d", m, k);
            goto done;
        }
        ranks[m] = (int)v;
        n_ranked += v != 0;
    }
    x = cJSON_GetObjectItemCaseSensitive(root, "flags");
    if (x && !cJSON_IsNull(x)) {
        if (!cJSON_IsArray(x)) {
            res = http_reply_error(c, MHD_HTTP_BAD_REQUEST, "'flags' must be an array of \"skip\", \"unsafe\", \"spam\"");
            goto done;
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, x) {
            const char *fs = cJSON_GetStringValue(f);
            if (fs && !strcmp(fs, "skip")) flags |= PREF_SKIP;
            else if (fs && !strcmp(fs, "unsafe")) flags |= PREF_UNSAFE;
            else if (fs && !strcmp(fs, "spam")) flags |= PREF_SPAM;
            else {
                res = http_reply_error(c, MHD_HTTP_BAD_REQUEST, "unknown flag (expected \"skip\", \"unsafe\" or \"spam\")");
                goto done;
            }
        }
    }
    x = cJSON_GetObjectItemCaseSensitive(root, "ideal");
    if (x && !cJSON_IsNull(x)) {
        if (!cJSON_IsString(x)) {
            res = http_reply_error(c, MHD_HTTP_BAD_REQUEST, "'ideal' must be a string");
            goto done;
        }
        const char *s = x->valuestring;
        size_t a = strspn(s, " \t\r\n"), b = strlen(s);
        while (b > a && strchr(" \t\r\n", s[b - 1])) b--;
        if (b > a) {
            char *trimmed = xstrndup(s + a, b - a);
            ideal = utf8_sanitize(trimmed);
            free(trimmed);
        }
    }
    if (!flags && !ideal && n_ranked < 2) {
        res = http_reply_error(c, MHD_HTTP_BAD_REQUEST,
                              "nothing to save: rank two answers or more, write the ideal answer, or skip or flag");
        goto done;
    }
    int state = web_wait_task(w);
    if (state < 0) {
        res = http_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
        goto done;
    }
    if (state || (size_t)index != w->task.index) {
        res = http_reply_error(c, MHD_HTTP_CONFLICT, "prompt %ld is not the current one; reload the task", index + 1);
        goto done;
    }
    if (label_task_save(w->s, &w->task, ranks, flags, ideal) < 0) {
        fprintf(stderr, "llmos label: %s\n", err_msg());
        res = http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err_msg());
        goto done;
    }
    w->n_session++;
    w->cursor = w->task.index + 1;
    label_task_release(&w->task);
    w->task = w->next;
    w->have_task = w->have_next;
    w->have_next = 0;
    pthread_cond_broadcast(&w->cv);
    cJSON *ok = cJSON_CreateObject();
    cJSON_AddBoolToObject(ok, "ok", 1);
    web_add_progress(w, ok);
    res = http_reply_json(c, MHD_HTTP_OK, ok);
done:
    cJSON_Delete(root);
    free(ranks), free(ideal);
    return res;
}

/* ---- the router ---- */

static enum MHD_Result web_on_request(void *cls, http_request *c) {
    web_state *w = cls;
    const char *url = c->url;
    enum MHD_Result res;
    if (c->loopback && !http_host_is_loopback(http_header(c, "Host")))
        return http_reply_error(c, MHD_HTTP_FORBIDDEN, "this server answers only to localhost");
    pthread_mutex_lock(&w->mu);
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        res = c->get ? http_reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", label_web_page, strlen(label_web_page))
                     : http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for %s", url);
    else if (!strcmp(url, "/api/info"))
        res = c->get ? web_info(w, c) : http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for %s", url);
    else if (!strcmp(url, "/api/task"))
        res = c->get ? web_task(w, c) : http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for %s", url);
    else if (!strcmp(url, "/api/judgement"))
        res = c->post ? web_judgement(w, c) : http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST for %s", url);
    else
        res = http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such page '%.200s'", url);
    pthread_mutex_unlock(&w->mu);
    return res;
}

/* ---- the server ---- */

int label_web_main(const label_options *o, const char *host, int port) {
    /* SIGINT and SIGTERM go to sigwait below only: block them before the
     * model's worker threads or the server's thread exist */
    sigset_t old;
    http_block_signals(&old);
    int rc = 0;
    label_session s;
    if (label_session_open(&s, o) < 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return cli_error(NULL);
    }
    web_state w = {.s = &s};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    if (s.instr_path) {
        size_t len;
        char *text = file_read_all(s.instr_path, &len);
        if (text) w.instructions = utf8_sanitize(text);
        free(text);
    }
    w.todo = xcalloc(s.prompts.n + 1, 1);
    for (size_t i = 0; i < s.prompts.n; i++) {
        int judged = label_prompt_len(&s, i) && label_already_judged(&s, i);
        w.n_before += judged;
        w.todo[i] = label_prompt_len(&s, i) && !judged;
    }
    pthread_t sampler_thread;
    int e = pthread_create(&sampler_thread, NULL, web_sampler, &w);
    /* the sampler's candidates come slowly: a connection may wait for them */
    http_config hc = {.host = host, .port = port, .max_body = WEB_MAX_BODY, .timeout_s = 600,
                      .max_connections = 64, .max_per_ip = 32};
    http_server *d = e ? NULL : http_server_start(&hc, web_on_request, &w);
    int sig = 0;
    if (!d) {
        rc = cli_error(e ? "cannot start the sampler thread" : NULL);
    } else {
        printf("llmos label: serving %s (labeler %s, %zu prompts, %d answers each, %zu judged before; "
               "store %s). Ctrl-C stops.\n", http_server_url(d), o->labeler, s.prompts.n, o->k, w.n_before, o->store);
        fflush(stdout);
        sig = http_wait_signal();
    }
    /* requests waiting for candidates give up; the sampler ends after its
     * current prompt */
    pthread_mutex_lock(&w.mu);
    w.stop = 1;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    http_server_stop(d);
    if (!e) pthread_join(sampler_thread, NULL);
    if (d) {
        printf("llmos label: stopped by %s; %zu judgements saved to %s this session.\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM", w.n_session, o->store);
        fflush(stdout);
    }
    if (w.have_task) label_task_release(&w.task);
    if (w.have_next) label_task_release(&w.next);
    free(w.instructions), free(w.todo);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    label_session_close(&s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
