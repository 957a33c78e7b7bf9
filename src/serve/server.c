/*
 * server.c - `llmos serve`'s routes, the endpoints that need no
 * generation, and the server's life (see server.h). The completion
 * endpoints are in openai.c.
 */
#include "server.h"

#include "http.h"
#include "serve_internal.h"

#include "../core/common.h"
#include "../infer/candidates.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SERVE_MAX_BODY = 8 << 20 };

/* ---- errors ---- */

enum MHD_Result srv_error(http_request *rq, unsigned status, const char *type, const char *param, const char *code,
                          const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", type);
    if (param) cJSON_AddStringToObject(e, "param", param);
    else cJSON_AddNullToObject(e, "param");
    if (code) cJSON_AddStringToObject(e, "code", code);
    else cJSON_AddNullToObject(e, "code");
    return http_reply_json(rq, status, j);
}

/* ---- request fields ---- */

int srv_get_bool(const cJSON *o, const char *name, int *out, char *err) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsBool(x)) return snprintf(err, SRV_ERR, "'%s' must be a boolean", name), -1;
    *out = cJSON_IsTrue(x);
    return 1;
}

int srv_get_num(const cJSON *o, const char *name, double lo, double hi, double *out, char *err) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsNumber(x) || !(x->valuedouble >= lo && x->valuedouble <= hi))
        return snprintf(err, SRV_ERR, "'%s' must be a number from %g to %g", name, lo, hi), -1;
    *out = x->valuedouble;
    return 1;
}

int srv_get_int(const cJSON *o, const char *name, long lo, long hi, long *out, char *err) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsNumber(x) || x->valuedouble != (double)(long)x->valuedouble || x->valuedouble < (double)lo ||
        x->valuedouble > (double)hi)
        return snprintf(err, SRV_ERR, "'%s' must be an integer from %ld to %ld", name, lo, hi), -1;
    *out = (long)x->valuedouble;
    return 1;
}

/* The body as a JSON object, or NULL after replying 400. */
cJSON *srv_parse_body(http_request *rq, enum MHD_Result *res) {
    cJSON *j = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        *res = srv_error(rq, 400, "invalid_request_error", NULL, "invalid_json",
                         "the body is not a JSON object (%zu bytes)", rq->body_len);
        return NULL;
    }
    return j;
}

/* 0 when every field of o is in names (NULL-terminated); else replies 400
 * naming the first other one and returns -1. */
int srv_check_fields(http_request *rq, const cJSON *o, const char *const *names, enum MHD_Result *res) {
    const cJSON *x;
    cJSON_ArrayForEach(x, o) {
        int ok = 0;
        for (int i = 0; names[i] && !ok; i++) ok = !strcmp(x->string, names[i]);
        if (!ok) {
            *res = srv_error(rq, 400, "invalid_request_error", x->string, "unknown_parameter",
                             "Unrecognized request argument supplied: %.100s", x->string);
            return -1;
        }
    }
    return 0;
}

/* ---- messages and the chat template ---- */

void srv_msgs_free(srv_msgs *m) {
    for (int i = 0; i < m->n; i++) free((char *)m->m[i].content);
    free(m->m);
    memset(m, 0, sizeof *m);
}

int srv_parse_messages(const cJSON *arr, srv_msgs *out, char *err) {
    memset(out, 0, sizeof *out);
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1)
        return snprintf(err, SRV_ERR, "'messages' must be a non-empty array"), -1;
    int n = cJSON_GetArraySize(arr), i = 0;
    out->m = xcalloc((size_t)n, sizeof *out->m);
    const cJSON *msg;
    cJSON_ArrayForEach(msg, arr) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
        int r = cJSON_IsString(role) ? chat_role_parse(role->valuestring) : -1;
        if (r < 0 && cJSON_IsString(role) && !strcmp(role->valuestring, "developer")) r = CHAT_SYSTEM;
        if (!cJSON_IsObject(msg) || r < 0) {
            srv_msgs_free(out);
            return snprintf(err, SRV_ERR, "messages[%d].role must be system, developer, user, assistant or tool", i),
                   -1;
        }
        char *text = NULL;
        if (cJSON_IsString(content)) text = xstrdup(content->valuestring);
        else if (cJSON_IsArray(content)) { /* parts: only text ones */
            size_t len = 0;
            text = xstrdup("");
            const cJSON *part;
            cJSON_ArrayForEach(part, content) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
                const cJSON *ty = cJSON_GetObjectItemCaseSensitive(part, "type");
                if (!cJSON_IsString(ty) || strcmp(ty->valuestring, "text") || !cJSON_IsString(t)) {
                    free(text);
                    srv_msgs_free(out);
                    return snprintf(err, SRV_ERR, "messages[%d].content: only parts of type text are supported", i),
                           -1;
                }
                size_t tl = strlen(t->valuestring);
                text = xrealloc(text, len + tl + 1);
                memcpy(text + len, t->valuestring, tl + 1);
                len += tl;
            }
        } else if ((!content || cJSON_IsNull(content)) && r == CHAT_ASSISTANT)
            text = xstrdup("");
        else {
            srv_msgs_free(out);
            return snprintf(err, SRV_ERR, "messages[%d].content must be a string or an array of text parts", i), -1;
        }
        /* an assistant turn's tool calls are part of what it said */
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
        if (r == CHAT_ASSISTANT && cJSON_IsArray(calls) && cJSON_GetArraySize(calls) > 0) {
            char *rendered = srv_render_tool_calls(calls);
            size_t a = strlen(text), b = strlen(rendered);
            text = xrealloc(text, a + b + 1);
            memcpy(text + a, rendered, b + 1);
            free(rendered);
        }
        out->m[i].role = (chat_role)r;
        out->m[i].content = text;
        out->n = ++i;
    }
    return 0;
}

/* ---- the endpoints that need no generation ---- */

static enum MHD_Result srv_models(srv *s, http_request *rq) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "object", "list");
    cJSON *d = cJSON_AddArrayToObject(j, "data"), *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", s->model_id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)s->created);
    cJSON_AddStringToObject(m, "owned_by", "llmos");
    cJSON *meta = cJSON_AddObjectToObject(m, "meta");
    cJSON_AddNumberToObject(meta, "n_ctx", s->n_ctx);
    cJSON_AddNumberToObject(meta, "n_ctx_train", s->m->cfg.ctx_len);
    cJSON_AddNumberToObject(meta, "n_vocab", s->m->cfg.vocab_size);
    cJSON_AddBoolToObject(meta, "chat_template", s->has_chat);
    cJSON_AddItemToArray(d, m);
    return http_reply_json(rq, 200, j);
}

static enum MHD_Result srv_tokenize(srv *s, http_request *rq) {
    static const char *const fields[] = {"content", "add_special", "parse_special", "with_pieces", NULL};
    enum MHD_Result res;
    char err[SRV_ERR];
    cJSON *j = srv_parse_body(rq, &res);
    if (!j) return res;
    int add_special = 0, parse_special = 1, pieces = 0;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(j, "content");
    if (srv_check_fields(rq, j, fields, &res)) goto done;
    if (!cJSON_IsString(content)) {
        res = srv_error(rq, 400, "invalid_request_error", "content", NULL, "'content' must be a string");
        goto done;
    }
    if (srv_get_bool(j, "add_special", &add_special, err) < 0 ||
        srv_get_bool(j, "parse_special", &parse_special, err) < 0 || srv_get_bool(j, "with_pieces", &pieces, err) < 0) {
        res = srv_error(rq, 400, "invalid_request_error", NULL, NULL, "%s", err);
        goto done;
    }
    int *ids = NULL;
    size_t n = tok_encode(s->m->tok, content->valuestring, strlen(content->valuestring), add_special, parse_special,
                          &ids);
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "tokens");
    for (size_t i = 0; i < n; i++) {
        if (!pieces) {
            cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
            continue;
        }
        size_t len;
        const char *p = tok_decode(s->m->tok, ids[i], &len);
        char *raw = xstrndup(p, len), *piece = utf8_sanitize(raw);
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "id", ids[i]);
        cJSON_AddStringToObject(t, "piece", piece);
        cJSON_AddItemToArray(a, t);
        free(raw), free(piece);
    }
    free(ids);
    res = http_reply_json(rq, 200, o);
done:
    cJSON_Delete(j);
    return res;
}

static enum MHD_Result srv_detokenize(srv *s, http_request *rq) {
    static const char *const fields[] = {"tokens", NULL};
    enum MHD_Result res;
    cJSON *j = srv_parse_body(rq, &res);
    if (!j) return res;
    if (srv_check_fields(rq, j, fields, &res)) goto done;
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(j, "tokens"), *t;
    if (!cJSON_IsArray(toks)) {
        res = srv_error(rq, 400, "invalid_request_error", "tokens", NULL, "'tokens' must be an array of token ids");
        goto done;
    }
    size_t len = 0, cap = 64;
    char *text = xmalloc(cap);
    const int V = s->m->cfg.vocab_size;
    int i = 0;
    cJSON_ArrayForEach(t, toks) {
        if (!cJSON_IsNumber(t) || t->valuedouble != (int)t->valuedouble || t->valuedouble < 0 || t->valuedouble >= V) {
            free(text);
            res = srv_error(rq, 400, "invalid_request_error", "tokens", NULL,
                            "tokens[%d] must be a token id from 0 to %d", i, V - 1);
            goto done;
        }
        size_t n;
        const char *p = tok_decode(s->m->tok, (int)t->valuedouble, &n);
        if (len + n + 1 > cap) text = xrealloc(text, cap = (len + n + 1) * 2);
        memcpy(text + len, p, n);
        len += n;
        i++;
    }
    text[len] = 0;
    char *clean = utf8_sanitize(text);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "content", clean);
    free(text), free(clean);
    res = http_reply_json(rq, 200, o);
done:
    cJSON_Delete(j);
    return res;
}

static enum MHD_Result srv_apply_template(srv *s, http_request *rq) {
    static const char *const fields[] = {"messages", "tools", "tool_choice", NULL};
    enum MHD_Result res;
    char err[SRV_ERR];
    cJSON *j = srv_parse_body(rq, &res);
    if (!j) return res;
    srv_msgs msgs;
    if (srv_check_fields(rq, j, fields, &res)) goto done;
    if (!s->has_chat) {
        res = srv_error(rq, 400, "invalid_request_error", "messages", "no_chat_template", "%s", s->chat_err);
        goto done;
    }
    if (srv_parse_messages(cJSON_GetObjectItemCaseSensitive(j, "messages"), &msgs, err)) {
        res = srv_error(rq, 400, "invalid_request_error", "messages", NULL, "%s", err);
        goto done;
    }
    srv_tools tools;
    if (srv_parse_tools(j, &tools, err)) {
        res = srv_error(rq, 400, "invalid_request_error", "tools", NULL, "%s", err);
        srv_msgs_free(&msgs);
        goto done;
    }
    srv_tools_apply(&tools, &msgs);
    char *text = chat_render(msgs.m, msgs.n, 1, NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "prompt", text);
    free(text);
    srv_tools_free(&tools);
    srv_msgs_free(&msgs);
    res = http_reply_json(rq, 200, o);
done:
    cJSON_Delete(j);
    return res;
}

static enum MHD_Result srv_metrics(srv *s, http_request *rq) {
    serve_engine_stats st;
    serve_engine_get_stats(s->e, &st);
    char buf[4096];
    int n = snprintf(buf, sizeof buf,
        "# HELP llmos_requests_total HTTP requests answered.\n# TYPE llmos_requests_total counter\n"
        "llmos_requests_total %ld\n"
        "# HELP llmos_requests_errors_total Requests answered with an error status.\n"
        "# TYPE llmos_requests_errors_total counter\nllmos_requests_errors_total %ld\n"
        "# HELP llmos_completions_total Completion requests (chat and text).\n"
        "# TYPE llmos_completions_total counter\nllmos_completions_total %ld\n"
        "# HELP llmos_prompt_tokens_total Prompt tokens of the sequences started.\n"
        "# TYPE llmos_prompt_tokens_total counter\nllmos_prompt_tokens_total %ld\n"
        "# HELP llmos_prompt_tokens_cached_total Prompt tokens found in a slot's cache (not evaluated again).\n"
        "# TYPE llmos_prompt_tokens_cached_total counter\nllmos_prompt_tokens_cached_total %ld\n"
        "# HELP llmos_tokens_generated_total Tokens generated.\n"
        "# TYPE llmos_tokens_generated_total counter\nllmos_tokens_generated_total %ld\n"
        "# HELP llmos_tokens_per_second Tokens generated per second, over the last ten seconds or so.\n"
        "# TYPE llmos_tokens_per_second gauge\nllmos_tokens_per_second %.3f\n"
        "# HELP llmos_requests_processing Sequences in a slot.\n"
        "# TYPE llmos_requests_processing gauge\nllmos_requests_processing %d\n"
        "# HELP llmos_requests_deferred Sequences waiting for a slot.\n"
        "# TYPE llmos_requests_deferred gauge\nllmos_requests_deferred %d\n"
        "# HELP llmos_slots Slots (--parallel).\n# TYPE llmos_slots gauge\nllmos_slots %d\n",
        atomic_load(&s->n_requests), atomic_load(&s->n_errors), atomic_load(&s->n_completions), st.prompt_tokens,
        st.cached_tokens, st.gen_tokens, st.tok_per_s, st.busy, st.queued, st.n_slots);
    return http_reply(rq, 200, "text/plain; version=0.0.4; charset=utf-8", buf, (size_t)n);
}

/* ---- the router ---- */

static int srv_key_ok(const srv *s, http_request *rq) {
    if (!s->c.api_key) return 1;
    const char *h = http_header(rq, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return 0;
    const char *k = h + 7, *want = s->c.api_key;
    size_t a = strlen(k), b = strlen(want);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < b; i++) diff |= (unsigned char)want[i] ^ (unsigned char)(i < a ? k[i] : 0);
    return diff == 0;
}

static enum MHD_Result srv_route(void *cls, http_request *rq) {
    srv *s = cls;
    const char *url = rq->url;
    atomic_fetch_add(&s->n_requests, 1);
    if (s->c.cors) {
        const char *origin = http_header(rq, "Origin");
        http_add_header(rq, "Access-Control-Allow-Origin", origin ? origin : "*");
        http_add_header(rq, "Vary", "Origin");
        if (!strcmp(rq->method, "OPTIONS")) {
            http_add_header(rq, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            http_add_header(rq, "Access-Control-Allow-Headers", "Authorization, Content-Type");
            http_add_header(rq, "Access-Control-Max-Age", "600");
            return http_reply(rq, 204, "text/plain", "", 0);
        }
    } else if (rq->loopback && !http_host_is_loopback(http_header(rq, "Host")))
        return srv_error(rq, 403, "invalid_request_error", NULL, NULL, "this server answers only to localhost");
    int is_page = !strcmp(url, "/") || !strcmp(url, "/index.html");
    if (is_page) return rq->get ? http_reply(rq, 200, "text/html; charset=utf-8", serve_page, strlen(serve_page))
                                : srv_error(rq, 405, "invalid_request_error", NULL, NULL, "use GET for %s", url);
    if (!strcmp(url, "/health") || !strcmp(url, "/v1/health")) {
        if (!atomic_load(&s->ready))
            return srv_error(rq, 503, "unavailable_error", NULL, "loading", "Loading model");
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "status", "ok");
        return http_reply_json(rq, 200, j);
    }
    if (!srv_key_ok(s, rq)) {
        atomic_fetch_add(&s->n_errors, 1);
        return srv_error(rq, 401, "invalid_request_error", NULL, "invalid_api_key",
                         "Incorrect API key provided (give it as 'Authorization: Bearer KEY')");
    }
    if (rq->too_big) {
        atomic_fetch_add(&s->n_errors, 1);
        return srv_error(rq, 413, "invalid_request_error", NULL, "request_too_large",
                         "the body is over the limit of %d bytes", SERVE_MAX_BODY);
    }
    static const struct {
        const char *path;
        int post;
        int chat;
    } routes[] = {{"/v1/models", 0, -1}, {"/models", 0, -1}, {"/v1/chat/completions", 1, 1},
                  {"/chat/completions", 1, 1}, {"/v1/completions", 1, 0}, {"/completions", 1, 0},
                  {"/tokenize", 1, -1}, {"/detokenize", 1, -1}, {"/apply-template", 1, -1}, {"/metrics", 0, -1}};
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        if (strcmp(url, routes[i].path)) continue;
        if (routes[i].post ? !rq->post : !rq->get)
            return srv_error(rq, 405, "invalid_request_error", NULL, "method_not_allowed", "use %s for %s",
                             routes[i].post ? "POST" : "GET", url);
        if (!atomic_load(&s->ready))
            return srv_error(rq, 503, "unavailable_error", NULL, "loading", "Loading model");
        if (routes[i].chat >= 0) {
            atomic_fetch_add(&s->n_completions, 1);
            return srv_completions(s, rq, routes[i].chat);
        }
        switch (url[1] == 'v' ? url[4] : url[1]) {
        case 'm': return url[2] == 'e' ? srv_metrics(s, rq) : srv_models(s, rq);
        case 't': return srv_tokenize(s, rq);
        case 'd': return srv_detokenize(s, rq);
        default: return srv_apply_template(s, rq);
        }
    }
    return srv_error(rq, 404, "invalid_request_error", NULL, "not_found", "no such endpoint '%.200s'", url);
}

/* ---- the server's life ---- */

int serve_run(const serve_config *c) {
    sigset_t old;
    http_block_signals(&old);
    srv *s = xcalloc(1, sizeof *s);
    s->c = *c;
    s->created = (long)time(NULL);
    const char *base = strrchr(c->model_path, '/');
    s->model_id = xstrdup(base ? base + 1 : c->model_path);
    http_config hc = {.host = c->host, .port = c->port, .max_body = SERVE_MAX_BODY, .thread_per_connection = 1,
                      .timeout_s = 120, .max_connections = 256, .max_per_ip = 0};
    http_server *h = http_server_start(&hc, srv_route, s);
    int rc = -1;
    if (!h) goto out;
    printf("llmos serve: listening on %s (loading %s)\n", http_server_url(h), c->model_path);
    fflush(stdout);
    if (!(s->m = model_load(c->model_path))) goto out;
    if (!s->m->tok) {
        err_set("'%s': the model has no tokenizer", c->model_path);
        goto out;
    }
    if (c->kv_f32) s->m->kv_type = TYPE_F32;
    s->n_ctx = c->n_ctx > 0 ? c->n_ctx : s->m->cfg.ctx_len;
    if (chat_format_init(&s->fmt, s->m->tok) == 0) s->has_chat = 1;
    else snprintf(s->chat_err, sizeof s->chat_err, "the model has no chat template llmos can apply (%s)", err_msg());
    model_set_threads(c->threads);
    serve_engine_config ec = {.n_slots = c->parallel, .n_ctx = s->n_ctx, .n_batch = MIN(512, s->n_ctx),
                              .max_queue = c->max_queue, .threads = c->threads};
    if (!(s->e = serve_engine_new(s->m, &ec))) goto out;
    atomic_store(&s->ready, 1);
    printf("llmos serve: ready: %s, context %d, %d slot%s, %d thread%s; the chat page is at %s\n", s->model_id,
           s->n_ctx, c->parallel, c->parallel == 1 ? "" : "s", c->threads, c->threads == 1 ? "" : "s",
           http_server_url(h));
    fflush(stdout);
    int sig = http_wait_signal();
    printf("llmos serve: stopped by %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    rc = 0;
out:
    if (rc) {
        /* keep the message through the frees below */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", err_msg());
        atomic_store(&s->ready, 0);
        http_server_stop(h);
        serve_engine_free(s->e);
        model_free(s->m);
        err_set("%s", msg);
    } else {
        /* ends the engine first: the connections waiting for it see their
         * sequences cancelled and finish */
        serve_engine_stop(s->e);
        http_server_stop(h);
        serve_engine_free(s->e);
        model_free(s->m);
    }
    free(s->model_id);
    free(s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
