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
 * Requests are handled one at a time by libmicrohttpd's internal thread,
 * the model is used only by the sampler thread, and one mutex guards the
 * state they share; the main thread waits for SIGINT or SIGTERM (blocked
 * before any thread is started, so that only sigwait sees them), then
 * stops the server and the sampler and frees everything.
 */
#include "cli.h"
#include "label.h"

#include "../core/common.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
    int loopback;          /* listening on a loopback address only */
} web_state;

/* One request's body, gathered over the calls libmicrohttpd makes. */
typedef struct {
    char *body;
    size_t n, cap;
    int too_big;
} web_request;

/* ---- responses ---- */

static enum MHD_Result web_reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                                 size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Sends j (freed here) as the JSON body. */
static enum MHD_Result web_reply_json(struct MHD_Connection *c, unsigned status, cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s) return MHD_NO;
    enum MHD_Result ok = web_reply(c, status, "application/json; charset=utf-8", s, strlen(s));
    free(s);
    return ok;
}

static enum MHD_Result web_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result web_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    return web_reply_json(c, status, j);
}

/* ---- the API ---- */

static void web_add_progress(const web_state *w, cJSON *j) {
    cJSON_AddNumberToObject(j, "total", (double)w->s->prompts.n);
    cJSON_AddNumberToObject(j, "judged", (double)(w->n_before + w->n_session));
    cJSON_AddNumberToObject(j, "judged_session", (double)w->n_session);
    cJSON_AddNumberToObject(j, "failed", (double)w->n_failed);
}

static enum MHD_Result web_info(web_state *w, struct MHD_Connection *c) {
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
    return web_reply_json(c, MHD_HTTP_OK, j);
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

static enum MHD_Result web_task(web_state *w, struct MHD_Connection *c) {
    int done = web_wait_task(w);
    if (done < 0) return web_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
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
    return web_reply_json(c, MHD_HTTP_OK, j);
}

/* 1 when x is a JSON number holding an integer in [lo, hi]. */
static int json_int_in(const cJSON *x, double lo, double hi, long *out) {
    if (!cJSON_IsNumber(x)) return 0;
    double d = x->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < lo || d > hi) return 0;
    *out = (long)d;
    return 1;
}

static enum MHD_Result web_judgement(web_state *w, struct MHD_Connection *c, const web_request *rq) {
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (!type || strncasecmp(type, "application/json", 16))
        return web_reply_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    if (rq->too_big) return web_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body over %d bytes", WEB_MAX_BODY);
    cJSON *root = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->n);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return web_reply_error(c, MHD_HTTP_BAD_REQUEST, "the body is not a JSON object");
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
            res = web_reply_error(c, MHD_HTTP_BAD_REQUEST, "unknown field '%.64s' (expected index, ranks, flags, ideal)",
                                  x->string ? x->string : "");
            goto done;
        }
    }
    if (!json_int_in(cJSON_GetObjectItemCaseSensitive(root, "index"), 0, 1e15, &index)) {
        res = web_reply_error(c, MHD_HTTP_BAD_REQUEST, "'index' must be the task's index (an integer)");
        goto done;
    }
    x = cJSON_GetObjectItemCaseSensitive(root, "ranks");
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != k) {
        res = web_reply_error(c, MHD_HTTP_BAD_REQUEST, "'ranks' must be an array of %d integers", k);
        goto done;
    }
    for (int m = 0; m < k; m++) {
        if (!json_int_in(cJSON_GetArrayItem(x, m), 0, k, &v)) {
            res = web_reply_error(c, MHD_HTTP_BAD_REQUEST, "ranks[%d] must be an integer from 0 (unranked) to %d", m, k);
            goto done;
        }
        ranks[m] = (int)v;
        n_ranked += v != 0;
    }
    x = cJSON_GetObjectItemCaseSensitive(root, "flags");
    if (x && !cJSON_IsNull(x)) {
        if (!cJSON_IsArray(x)) {
            res = web_reply_error(c, MHD_HTTP_BAD_REQUEST, "'flags' must be an array of \"skip\", \"unsafe\", \"spam\"");
            goto done;
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, x) {
            const char *fs = cJSON_GetStringValue(f);
            if (fs && !strcmp(fs, "skip")) flags |= PREF_SKIP;
            else if (fs && !strcmp(fs, "unsafe")) flags |= PREF_UNSAFE;
            else if (fs && !strcmp(fs, "spam")) flags |= PREF_SPAM;
            else {
                res = web_reply_error(c, MHD_HTTP_BAD_REQUEST, "unknown flag (expected \"skip\", \"unsafe\" or \"spam\")");
                goto done;
            }
        }
    }
    x = cJSON_GetObjectItemCaseSensitive(root, "ideal");
    if (x && !cJSON_IsNull(x)) {
        if (!cJSON_IsString(x)) {
            res = web_reply_error(c, MHD_HTTP_BAD_REQUEST, "'ideal' must be a string");
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
        res = web_reply_error(c, MHD_HTTP_BAD_REQUEST,
                              "nothing to save: rank two answers or more, write the ideal answer, or skip or flag");
        goto done;
    }
    int state = web_wait_task(w);
    if (state < 0) {
        res = web_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
        goto done;
    }
    if (state || (size_t)index != w->task.index) {
        res = web_reply_error(c, MHD_HTTP_CONFLICT, "prompt %ld is not the current one; reload the task", index + 1);
        goto done;
    }
    if (label_task_save(w->s, &w->task, ranks, flags, ideal) < 0) {
        fprintf(stderr, "llmos label: %s\n", err_msg());
        res = web_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err_msg());
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
    res = web_reply_json(c, MHD_HTTP_OK, ok);
done:
    cJSON_Delete(root);
    free(ranks), free(ideal);
    return res;
}

/* 1 when the Host header names this machine's loopback interface (or is
 * absent, as HTTP/1.0 allows). */
static int web_host_is_loopback(const char *host) {
    if (!host) return 1;
    char name[256];
    size_t n;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end || (size_t)(end - host - 1) >= sizeof name) return 0;
        n = (size_t)(end - host - 1);
        memcpy(name, host + 1, n);
    } else {
        n = strcspn(host, ":");
        if (n >= sizeof name) return 0;
        memcpy(name, host, n);
    }
    name[n] = 0;
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcasecmp(name, "localhost")) return 1;
    if (inet_pton(AF_INET, name, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* ---- libmicrohttpd callbacks ---- */

static enum MHD_Result web_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                      const char *version, const char *upload, size_t *upload_size, void **req_cls) {
    web_state *w = cls;
    web_request *rq = *req_cls;
    if (!rq) { /* the headers: the body (if any) comes in the next calls */
        *req_cls = xcalloc(1, sizeof *rq);
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->too_big || rq->n + n > WEB_MAX_BODY) {
            rq->too_big = 1;
            return MHD_YES;
        }
        if (rq->n + n > rq->cap) {
            rq->cap = (rq->n + n) * 2;
            rq->body = xrealloc(rq->body, rq->cap);
        }
        memcpy(rq->body + rq->n, upload, n);
        rq->n += n;
        return MHD_YES;
    }
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    enum MHD_Result res;
    if (w->loopback && !web_host_is_loopback(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))
        return web_reply_error(c, MHD_HTTP_FORBIDDEN, "this server answers only to localhost");
    pthread_mutex_lock(&w->mu);
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        res = get ? web_reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", label_web_page, strlen(label_web_page))
                  : web_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for %s", url);
    else if (!strcmp(url, "/api/info"))
        res = get ? web_info(w, c) : web_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for %s", url);
    else if (!strcmp(url, "/api/task"))
        res = get ? web_task(w, c) : web_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for %s", url);
    else if (!strcmp(url, "/api/judgement"))
        res = post ? web_judgement(w, c, rq) : web_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST for %s", url);
    else
        res = web_reply_error(c, MHD_HTTP_NOT_FOUND, "no such page '%.200s'", url);
    pthread_mutex_unlock(&w->mu);
    return res;
}

static void web_on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                             enum MHD_RequestTerminationCode why) {
    web_request *rq = *req_cls;
    if (rq) free(rq->body), free(rq);
    *req_cls = NULL;
}

/* ---- the server ---- */

/* A listening TCP socket on host:port (*port gets the real one when 0 was
 * asked, *loopback whether the address is a loopback one) and the URL to
 * print. -1 with err_set. */
static int web_listen(const char *host, int *port, int *loopback, char *url, size_t url_len) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", *port);
    int e = getaddrinfo(host, ps, &hints, &ai);
    if (e) return err_set("cannot listen on '%s': %s", host, gai_strerror(e));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
        err_set("cannot listen on %s port %d: %s", host, *port, strerror(errno));
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    *loopback = 0;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 && sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sa;
        *port = ntohs(a->sin6_port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    } else if (sa.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&sa;
        *port = ntohs(a->sin_port);
        *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    snprintf(url, url_len, ai->ai_family == AF_INET6 ? "http://[%s]:%d/" : "http://%s:%d/", host, *port);
    freeaddrinfo(ai);
    return fd;
}

int label_web_main(const label_options *o, const char *host, int port) {
    /* SIGINT and SIGTERM go to sigwait below only: block them before the
     * model's worker threads or the server's thread exist */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    char url[400];
    int loopback = 0, fd = web_listen(host, &port, &loopback, url, sizeof url), rc = 0;
    label_session s;
    if (fd < 0 || label_session_open(&s, o) < 0) {
        if (fd >= 0) close(fd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return cli_error(NULL);
    }
    web_state w = {.s = &s, .loopback = loopback};
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
    struct MHD_Daemon *d = e ? NULL
                             : MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, web_on_request, &w,
                                                MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
                                                web_on_completed, NULL, MHD_OPTION_END);
    int sig = 0;
    if (!d) {
        close(fd);
        rc = cli_error("cannot start the web server on %s", url);
    } else {
        printf("llmos label: serving %s (labeler %s, %zu prompts, %d answers each, %zu judged before; "
               "store %s). Ctrl-C stops.\n", url, o->labeler, s.prompts.n, o->k, w.n_before, o->store);
        fflush(stdout);
        sigwait(&stop, &sig);
    }
    /* requests waiting for candidates give up; the sampler ends after its
     * current prompt */
    pthread_mutex_lock(&w.mu);
    w.stop = 1;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    if (d) MHD_stop_daemon(d); /* closes fd */
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
