/*
 * openai.c - POST /v1/chat/completions and /v1/completions: the request
 * read and checked field by field, its choices queued on the engine, and
 * the reply written whole or streamed as server-sent events, in the
 * shapes of OpenAI's API reference.
 *
 * Streaming: one `data: {chunk}` event per step that added text to a
 * choice (its delta never ends inside a UTF-8 character or inside a
 * possible stop string: engine.h's `ready`), the first chunk of a chat
 * choice carrying the role, a last chunk per choice with its
 * finish_reason, with stream_options.include_usage a chunk with no
 * choices and the usage, then `data: [DONE]`.
 */
#include "serve_internal.h"

#include "../core/common.h"
#include "../infer/candidates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    srv *s;
    http_request *rq;
    int chat, stream, include_usage, n, legacy_logprobs;
    int n_prompt;
    char id[48];
    srv_tools tools;
    serve_seq *seq[SRV_MAX_N];
    /* streaming */
    size_t sent[SRV_MAX_N];
    int tok_sent[SRV_MAX_N], role_sent[SRV_MAX_N], fin_sent[SRV_MAX_N];
    int phase; /* 0 chunks, 1 usage and [DONE] written, 2 over */
    char *out;
    size_t out_len, out_pos;
} oai_job;

static const char *const g_chat_fields[] = {
    "model", "messages", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "n",
    "logprobs", "top_logprobs", "stream", "stream_options", "response_format", "tools", "tool_choice",
    "parallel_tool_calls", "user", "presence_penalty", "frequency_penalty", "top_k", "min_p", "repeat_penalty",
    "repeat_last_n", "store", "metadata", "logit_bias", NULL};
static const char *const g_text_fields[] = {
    "model", "prompt", "temperature", "top_p", "max_tokens", "stop", "seed", "n", "logprobs", "stream",
    "stream_options", "user", "presence_penalty", "frequency_penalty", "top_k", "min_p", "repeat_penalty",
    "repeat_last_n", "echo", "suffix", "best_of", "logit_bias", NULL};

static void job_free(oai_job *j) {
    for (int i = 0; i < j->n; i++) serve_seq_release(j->s->e, j->seq[i]);
    srv_tools_free(&j->tools);
    free(j->out);
    free(j);
}

static const char *finish_name(const serve_seq *q, const oai_job *j) {
    if (q->finish == SEQ_LENGTH) return "length";
    return "stop";
}

/* ---- reading the request ---- */

/* The stop strings: a string or an array of up to 4. */
static int parse_stop(const cJSON *x, serve_seq *q, char *err) {
    if (!x || cJSON_IsNull(x)) return 0;
    if (cJSON_IsString(x)) {
        if (x->valuestring[0]) q->stop[q->n_stop++] = xstrdup(x->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) > SERVE_MAX_STOP)
        return snprintf(err, SRV_ERR, "'stop' must be a string or an array of up to %d strings", SERVE_MAX_STOP), -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, x) {
        if (!cJSON_IsString(e)) return snprintf(err, SRV_ERR, "'stop' must hold strings"), -1;
        if (e->valuestring[0]) q->stop[q->n_stop++] = xstrdup(e->valuestring);
    }
    return 0;
}

/* logit_bias: {"TOKEN_ID": BIAS from -100 to 100, ...}. */
static int parse_bias(const cJSON *x, int n_vocab, serve_seq *q, char *err) {
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsObject(x) || cJSON_GetArraySize(x) > 1024)
        return snprintf(err, SRV_ERR, "'logit_bias' must be an object of up to 1024 {\"token id\": bias}"), -1;
    int n = cJSON_GetArraySize(x);
    q->bias_id = xmalloc(sizeof(int) * (size_t)(n + 1));
    q->bias = xmalloc(sizeof(float) * (size_t)(n + 1));
    const cJSON *e;
    cJSON_ArrayForEach(e, x) {
        char *end;
        long id = strtol(e->string, &end, 10);
        if (!e->string[0] || *end || id < 0 || id >= n_vocab)
            return snprintf(err, SRV_ERR, "logit_bias: '%.40s' is not a token id from 0 to %d", e->string, n_vocab - 1),
                   -1;
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= -100 && e->valuedouble <= 100))
            return snprintf(err, SRV_ERR, "logit_bias: the bias of token %ld must be a number from -100 to 100", id), -1;
        q->bias_id[q->n_bias] = (int)id;
        q->bias[q->n_bias++] = (float)e->valuedouble;
    }
    return 0;
}

/* response_format: NULL schema with *json = 1 for json_object, the schema
 * for json_schema. -1 with err. */
static int parse_format(const cJSON *rf, int *json, const cJSON **schema, char *err, const char **param) {
    *json = 0, *schema = NULL;
    if (!rf || cJSON_IsNull(rf)) return 0;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rf, "type");
    *param = "response_format";
    if (!cJSON_IsObject(rf) || !cJSON_IsString(type))
        return snprintf(err, SRV_ERR, "'response_format' must be an object with a 'type'"), -1;
    if (!strcmp(type->valuestring, "text")) return 0;
    *json = 1;
    if (!strcmp(type->valuestring, "json_object")) return 0;
    if (strcmp(type->valuestring, "json_schema"))
        return snprintf(err, SRV_ERR, "response_format.type must be text, json_object or json_schema"), -1;
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
    if (!cJSON_IsObject(js) || !cJSON_IsObject(*schema))
        return snprintf(err, SRV_ERR, "response_format.json_schema.schema must be a JSON schema object"), -1;
    return 0;
}

/* The prompt of /v1/completions: a string or an array of token ids (or
 * an array of one string). */
static int parse_prompt(const srv *s, const cJSON *p, int **ids, int *n, char *err) {
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && cJSON_IsString(cJSON_GetArrayItem(p, 0)))
        p = cJSON_GetArrayItem(p, 0);
    if (cJSON_IsString(p)) {
        *n = (int)tok_encode(s->m->tok, p->valuestring, strlen(p->valuestring), tok_add_bos(s->m->tok), 1, ids);
        return 0;
    }
    if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) < 1)
        return snprintf(err, SRV_ERR, "'prompt' must be a string or a non-empty array of token ids"), -1;
    *n = cJSON_GetArraySize(p);
    *ids = xmalloc(sizeof(int) * (size_t)*n);
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, p) {
        if (!cJSON_IsNumber(t) || t->valuedouble != (int)t->valuedouble || t->valuedouble < 0 ||
            t->valuedouble >= s->m->cfg.vocab_size) {
            free(*ids);
            *ids = NULL;
            return snprintf(err, SRV_ERR, "prompt[%d] must be a token id from 0 to %d", i, s->m->cfg.vocab_size - 1),
                   -1;
        }
        (*ids)[i++] = (int)t->valuedouble;
    }
    return 0;
}

typedef struct {
    sampler_params sp;
    long max_tokens, n, seed, top_logprobs;
    int has_seed, logprobs;
} oai_opts;

/* The sampling fields shared by both endpoints. -1 with err and *param. */
static int parse_opts(const cJSON *j, int chat, oai_opts *o, char *err, const char **param) {
    double v;
    long l;
    int r;
    memset(o, 0, sizeof *o);
    o->sp = sampler_defaults();
    o->sp.temperature = 1, o->sp.top_p = 1, o->sp.top_k = 0, o->sp.min_p = 0, o->sp.repeat_penalty = 1;
    o->max_tokens = -1, o->n = 1, o->top_logprobs = -1;
#define FIELD(name, call) \
    if ((*param = name, r = (call)) < 0) return -1;
    FIELD("temperature", srv_get_num(j, "temperature", 0, 2, &v, err)) if (r) o->sp.temperature = (float)v;
    FIELD("top_p", srv_get_num(j, "top_p", 0, 1, &v, err)) if (r) o->sp.top_p = v > 0 ? (float)v : 1e-6f;
    FIELD("min_p", srv_get_num(j, "min_p", 0, 1, &v, err)) if (r) o->sp.min_p = (float)v;
    FIELD("repeat_penalty", srv_get_num(j, "repeat_penalty", 0, 10, &v, err)) if (r) o->sp.repeat_penalty = (float)v;
    FIELD("presence_penalty", srv_get_num(j, "presence_penalty", -2, 2, &v, err))
    FIELD("frequency_penalty", srv_get_num(j, "frequency_penalty", -2, 2, &v, err))
    FIELD("top_k", srv_get_int(j, "top_k", 0, 1 << 30, &l, err)) if (r) o->sp.top_k = (int)l;
    FIELD("repeat_last_n", srv_get_int(j, "repeat_last_n", 0, 1 << 20, &l, err)) if (r) o->sp.repeat_last_n = (int)l;
    FIELD("max_tokens", srv_get_int(j, "max_tokens", 1, 1 << 30, &o->max_tokens, err))
    if (chat) FIELD("max_completion_tokens", srv_get_int(j, "max_completion_tokens", 1, 1 << 30, &o->max_tokens, err))
    FIELD("n", srv_get_int(j, "n", 1, SRV_MAX_N, &o->n, err))
    FIELD("seed", srv_get_int(j, "seed", -(1L << 53), 1L << 53, &o->seed, err)) o->has_seed = r;
    if (chat) {
        FIELD("logprobs", srv_get_bool(j, "logprobs", &o->logprobs, err))
        FIELD("top_logprobs", srv_get_int(j, "top_logprobs", 0, SERVE_MAX_TOP_LOGPROBS, &l, err))
        if (r && !o->logprobs) return snprintf(err, SRV_ERR, "'top_logprobs' needs 'logprobs': true"), -1;
        if (o->logprobs) o->top_logprobs = r ? l : 0;
    } else {
        FIELD("logprobs", srv_get_int(j, "logprobs", 0, 5, &l, err)) if (r) o->logprobs = 1, o->top_logprobs = l;
    }
#undef FIELD
    return 0;
}

/* ---- the reply, whole ---- */

static cJSON *token_json(const srv *s, int id, float lp) {
    size_t n;
    const char *p = tok_is_special(s->m->tok, id) ? "" : tok_decode(s->m->tok, id, &n);
    if (!*p) n = 0;
    char *raw = xstrndup(p, n), *txt = utf8_sanitize(raw);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "token", txt);
    cJSON_AddNumberToObject(t, "logprob", lp);
    cJSON *b = cJSON_AddArrayToObject(t, "bytes");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(b, cJSON_CreateNumber((unsigned char)p[i]));
    free(raw), free(txt);
    return t;
}

/* The logprobs of tokens [from, to) of a choice, in the endpoint's shape. */
static cJSON *logprobs_json(const oai_job *j, const serve_seq *q, int from, int to) {
    cJSON *o = cJSON_CreateObject();
    if (j->chat) {
        cJSON *c = cJSON_AddArrayToObject(o, "content");
        for (int i = from; i < to; i++) {
            const seq_token *t = &q->toks[i];
            cJSON *e = token_json(j->s, t->id, t->logprob), *top = cJSON_AddArrayToObject(e, "top_logprobs");
            for (int k = 0; k < t->n_top; k++) cJSON_AddItemToArray(top, token_json(j->s, t->top_id[k], t->top_lp[k]));
            cJSON_AddItemToArray(c, e);
        }
        return o;
    }
    cJSON *toks = cJSON_AddArrayToObject(o, "tokens"), *lps = cJSON_AddArrayToObject(o, "token_logprobs");
    cJSON *tops = cJSON_AddArrayToObject(o, "top_logprobs"), *offs = cJSON_AddArrayToObject(o, "text_offset");
    for (int i = from; i < to; i++) {
        const seq_token *t = &q->toks[i];
        cJSON *e = token_json(j->s, t->id, t->logprob), *m = cJSON_CreateObject();
        cJSON_AddItemToArray(toks, cJSON_CreateString(cJSON_GetObjectItem(e, "token")->valuestring));
        cJSON_AddItemToArray(lps, cJSON_CreateNumber(t->logprob));
        for (int k = 0; k < t->n_top; k++) {
            cJSON *te = token_json(j->s, t->top_id[k], t->top_lp[k]);
            cJSON_AddNumberToObject(m, cJSON_GetObjectItem(te, "token")->valuestring, t->top_lp[k]);
            cJSON_Delete(te);
        }
        cJSON_AddItemToArray(tops, m);
        cJSON_AddItemToArray(offs, cJSON_CreateNumber(i ? (double)q->toks[i - 1].end : 0));
        cJSON_Delete(e);
    }
    return o;
}

static void add_usage(const oai_job *j, cJSON *o) {
    int gen = 0;
    for (int i = 0; i < j->n; i++) gen += j->seq[i]->n_gen;
    cJSON *u = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", j->n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", gen);
    cJSON_AddNumberToObject(u, "total_tokens", j->n_prompt + gen);
    cJSON *d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    int cached = 0;
    for (int i = 0; i < j->n; i++) cached = MAX(cached, j->seq[i]->n_cached);
    cJSON_AddNumberToObject(d, "cached_tokens", cached);
}

static cJSON *reply_head(const oai_job *j, const char *object) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", j->id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)time(NULL));
    cJSON_AddStringToObject(o, "model", j->s->model_id);
    cJSON_AddStringToObject(o, "system_fingerprint", "llmos-" LLMOS_VERSION);
    return o;
}

/* A tool call object {"id", "type", "function": {"name", "arguments"}}. */
static cJSON *tool_call_json(const oai_job *j, int choice, int tool, const char *args) {
    cJSON *c = cJSON_CreateObject(), *f;
    char id[64];
    snprintf(id, sizeof id, "call_%s_%d", j->id + 9, choice);
    cJSON_AddStringToObject(c, "id", id);
    cJSON_AddStringToObject(c, "type", "function");
    f = cJSON_AddObjectToObject(c, "function");
    cJSON_AddStringToObject(f, "name", j->tools.names[tool]);
    if (args) cJSON_AddStringToObject(f, "arguments", args);
    return c;
}

static enum MHD_Result reply_whole(oai_job *j) {
    cJSON *o = reply_head(j, j->chat ? "chat.completion" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    for (int i = 0; i < j->n; i++) {
        serve_seq *q = j->seq[i];
        char *text = utf8_sanitize(q->text ? q->text : "");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "index", i);
        const char *fin = finish_name(q, j);
        if (j->chat) {
            cJSON *m = cJSON_AddObjectToObject(c, "message");
            cJSON_AddStringToObject(m, "role", "assistant");
            char *args = NULL;
            int tool = j->tools.mode != TOOLS_NONE ? srv_tools_parse_reply(&j->tools, text, &args) : -1;
            if (tool >= 0) {
                cJSON_AddNullToObject(m, "content");
                cJSON *calls = cJSON_AddArrayToObject(m, "tool_calls");
                cJSON_AddItemToArray(calls, tool_call_json(j, i, tool, args));
                fin = "tool_calls";
                free(args);
            } else
                cJSON_AddStringToObject(m, "content", text);
            cJSON_AddNullToObject(m, "refusal");
        } else
            cJSON_AddStringToObject(c, "text", text);
        if (q->top_logprobs >= 0) cJSON_AddItemToObject(c, "logprobs", logprobs_json(j, q, 0, q->n_gen));
        else cJSON_AddNullToObject(c, "logprobs");
        cJSON_AddStringToObject(c, "finish_reason", fin);
        cJSON_AddItemToArray(choices, c);
        free(text);
    }
    add_usage(j, o);
    return http_reply_json(j->rq, 200, o);
}

/* ---- the reply, streamed ---- */

static void out_event(oai_job *j, cJSON *o) {
    char *s = o ? cJSON_PrintUnformatted(o) : xstrdup("[DONE]");
    cJSON_Delete(o);
    size_t n = strlen(s);
    j->out = xrealloc(j->out, j->out_len + n + 9);
    memcpy(j->out + j->out_len, "data: ", 6);
    memcpy(j->out + j->out_len + 6, s, n);
    memcpy(j->out + j->out_len + 6 + n, "\n\n", 2);
    j->out_len += n + 8;
    free(s);
}

static cJSON *chunk(oai_job *j, int i, cJSON **delta_or_choice) {
    cJSON *o = reply_head(j, j->chat ? "chat.completion.chunk" : "text_completion");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "choices"), c);
    cJSON_AddNumberToObject(c, "index", i);
    *delta_or_choice = j->chat ? cJSON_AddObjectToObject(c, "delta") : c;
    if (j->include_usage) cJSON_AddNullToObject(o, "usage");
    return o;
}

/* The choice's finish chunk; for a tool call, the call's chunks first. */
static void stream_finish(oai_job *j, int i) {
    serve_seq *q = j->seq[i];
    cJSON *d, *o;
    const char *fin = finish_name(q, j);
    if (j->chat && j->tools.mode != TOOLS_NONE) {
        char *text = utf8_sanitize(q->text ? q->text : ""), *args = NULL;
        int tool = srv_tools_parse_reply(&j->tools, text, &args);
        size_t from = j->sent[i];
        if (tool >= 0) { /* the name first, then the arguments in pieces as OpenAI sends them */
            o = chunk(j, i, &d);
            cJSON *call = tool_call_json(j, i, tool, ""), *calls = cJSON_AddArrayToObject(d, "tool_calls");
            cJSON_AddNumberToObject(call, "index", 0);
            cJSON_AddItemToArray(calls, call);
            out_event(j, o);
            size_t n = strlen(args);
            for (size_t k = 0; k < n;) {
                size_t step = MIN(n - k, (size_t)8);
                while (k + step < n && ((unsigned char)args[k + step] & 0xC0) == 0x80) step++;
                o = chunk(j, i, &d);
                cJSON *frag = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(frag, "function");
                cJSON_AddNumberToObject(frag, "index", 0);
                char *piece = xstrndup(args + k, step);
                cJSON_AddStringToObject(f, "arguments", piece);
                free(piece);
                cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "tool_calls"), frag);
                out_event(j, o);
                k += step;
            }
            fin = "tool_calls";
        } else if (strlen(text) > from) { /* held back as a possible call: it was text */
            o = chunk(j, i, &d);
            cJSON_AddStringToObject(d, "content", text + from);
            out_event(j, o);
        }
        free(text), free(args);
    }
    o = chunk(j, i, &d);
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
    if (!j->chat) cJSON_AddStringToObject(d, "text", "");
    cJSON_AddNullToObject(c, "logprobs");
    cJSON_AddStringToObject(c, "finish_reason", fin);
    out_event(j, o);
}

/* With the engine's lock: the events the choices' progress allows. 1 when
 * the stream is over (everything written). */
static int stream_collect(oai_job *j) {
    int all = 1;
    for (int i = 0; i < j->n; i++) {
        serve_seq *q = j->seq[i];
        if (q->finish == SEQ_ERROR) {
            cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
            cJSON_AddStringToObject(e, "message", q->err);
            cJSON_AddStringToObject(e, "type", "server_error");
            out_event(j, o);
            j->phase = 1;
            return 1;
        }
        if (j->chat && !j->role_sent[i]) {
            cJSON *d, *o = chunk(j, i, &d);
            cJSON_AddStringToObject(d, "role", "assistant");
            cJSON_AddStringToObject(d, "content", "");
            cJSON_AddNullToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0), "logprobs");
            cJSON_AddNullToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0), "finish_reason");
            out_event(j, o);
            j->role_sent[i] = 1;
        }
        /* a reply that may be a tool call is held back until it ends */
        size_t ready = q->ready;
        if (j->chat && j->tools.mode != TOOLS_NONE) {
            size_t k = 0;
            while (k < q->len && strchr(" \t\r\n", q->text[k])) k++;
            if (j->tools.mode == TOOLS_REQUIRED || k == q->len || q->text[k] == '{') ready = j->sent[i];
        }
        if (ready > j->sent[i]) {
            char *raw = xstrndup(q->text + j->sent[i], ready - j->sent[i]), *txt = utf8_sanitize(raw);
            cJSON *d, *o = chunk(j, i, &d);
            cJSON_AddStringToObject(d, j->chat ? "content" : "text", txt);
            cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
            int to = j->tok_sent[i];
            while (to < q->n_gen && q->toks[to].end <= ready) to++;
            if (q->top_logprobs >= 0) cJSON_AddItemToObject(c, "logprobs", logprobs_json(j, q, j->tok_sent[i], to));
            else cJSON_AddNullToObject(c, "logprobs");
            cJSON_AddNullToObject(c, "finish_reason");
            out_event(j, o);
            free(raw), free(txt);
            j->sent[i] = ready;
            j->tok_sent[i] = to;
        }
        if (q->finish != SEQ_RUNNING && !j->fin_sent[i]) {
            stream_finish(j, i);
            j->fin_sent[i] = 1;
        }
        all &= j->fin_sent[i];
    }
    if (!all) return 0;
    if (j->include_usage) {
        cJSON *o = reply_head(j, j->chat ? "chat.completion.chunk" : "text_completion");
        cJSON_AddArrayToObject(o, "choices");
        add_usage(j, o);
        out_event(j, o);
    }
    out_event(j, NULL);
    j->phase = 1;
    return 1;
}

static long stream_read(void *ctx, char *buf, size_t max) {
    oai_job *j = ctx;
    while (j->out_pos == j->out_len) {
        if (j->phase) return -1;
        j->out_len = j->out_pos = 0;
        serve_engine_lock(j->s->e);
        int over = stream_collect(j);
        if (!over && j->out_len == 0) serve_engine_wait(j->s->e, 100);
        serve_engine_unlock(j->s->e);
        if (!over && j->out_len == 0 && http_client_gone(j->rq)) {
            for (int i = 0; i < j->n; i++) serve_seq_cancel(j->s->e, j->seq[i]);
            return -1;
        }
    }
    size_t n = MIN(max, j->out_len - j->out_pos);
    memcpy(buf, j->out + j->out_pos, n);
    j->out_pos += n;
    return (long)n;
}

static void stream_done(void *ctx) { job_free(ctx); }

/* ---- the endpoint ---- */

enum MHD_Result srv_completions(srv *s, http_request *rq, int chat) {
    enum MHD_Result res;
    char err[SRV_ERR] = "";
    const char *param = NULL;
    cJSON *body = srv_parse_body(rq, &res);
    if (!body) return res;
    oai_job *j = xcalloc(1, sizeof *j);
    j->s = s, j->rq = rq, j->chat = chat;
    snprintf(j->id, sizeof j->id, "%s-%ld%04ld", chat ? "chatcmpl" : "cmpl", (long)s->created % 1000000,
             atomic_fetch_add(&s->next_id, 1));
    int *prompt = NULL, n_prompt = 0, json = 0;
    const cJSON *schema = NULL;
    json_constraint *jc_proto = NULL;
    oai_opts o;
    srv_msgs msgs = {0};
    if (srv_check_fields(rq, body, chat ? g_chat_fields : g_text_fields, &res)) goto done;
    const cJSON *mdl = cJSON_GetObjectItemCaseSensitive(body, "model");
    if (mdl && !cJSON_IsNull(mdl)) {
        if (!cJSON_IsString(mdl)) {
            res = srv_error(rq, 400, "invalid_request_error", "model", NULL, "'model' must be a string");
            goto done;
        }
        const char *mn = mdl->valuestring;
        size_t il = strlen(s->model_id);
        if (strcmp(mn, s->model_id) && strcmp(mn, s->c.model_path) &&
            !(il > 5 && !strcmp(s->model_id + il - 5, ".gguf") && strlen(mn) == il - 5 && !strncmp(mn, s->model_id, il - 5))) {
            res = srv_error(rq, 404, "invalid_request_error", "model", "model_not_found",
                            "The model '%.200s' does not exist (this server serves '%s')", mn, s->model_id);
            goto done;
        }
    }
    if (parse_opts(body, chat, &o, err, &param) ||
        (param = "stream", srv_get_bool(body, "stream", &j->stream, err) < 0))
        goto bad;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(body, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        param = "stream_options";
        if (!cJSON_IsObject(so) || srv_get_bool(so, "include_usage", &j->include_usage, err) < 0) {
            snprintf(err, SRV_ERR, "'stream_options' must be an object {\"include_usage\": boolean}");
            goto bad;
        }
    }
    j->n = (int)o.n;
    if (chat) {
        if (!s->has_chat) {
            res = srv_error(rq, 400, "invalid_request_error", "messages", "no_chat_template", "%s", s->chat_err);
            goto done;
        }
        param = "messages";
        if (srv_parse_messages(cJSON_GetObjectItemCaseSensitive(body, "messages"), &msgs, err)) goto bad;
        param = "tools";
        if (srv_parse_tools(body, &j->tools, err)) goto bad;
        param = "response_format";
        if (parse_format(cJSON_GetObjectItemCaseSensitive(body, "response_format"), &json, &schema, err, &param))
            goto bad;
        if (json && j->tools.mode == TOOLS_REQUIRED) {
            snprintf(err, SRV_ERR, "'response_format' json and a required tool call cannot both hold");
            goto bad;
        }
        srv_tools_apply(&j->tools, &msgs);
        chat_tokens ct = {0};
        chat_encode(&s->fmt, msgs.m, msgs.n, 1, &ct);
        prompt = ct.ids, n_prompt = (int)ct.n;
        free(ct.train);
    } else {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "prompt");
        param = "prompt";
        if (parse_prompt(s, p, &prompt, &n_prompt, err)) goto bad;
        if (o.logprobs) j->legacy_logprobs = 1;
    }
    if (n_prompt >= s->n_ctx) {
        res = srv_error(rq, 400, "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded",
                        "This model's maximum context length is %d tokens. However, your %s resulted in %d tokens "
                        "(and at least 1 is needed for the reply). Please reduce the length of the %s.",
                        s->n_ctx, chat ? "messages" : "prompt", n_prompt, chat ? "messages" : "prompt");
        goto done;
    }
    if (json || j->tools.mode == TOOLS_REQUIRED) {
        param = json ? "response_format" : "tools";
        jc_proto = json ? json_constraint_new(schema) : srv_tools_constraint(&j->tools);
        if (!jc_proto) {
            snprintf(err, SRV_ERR, "%s", err_msg());
            goto bad;
        }
    }
    j->n_prompt = n_prompt;
    for (int i = 0; i < j->n; i++) {
        serve_seq *q = j->seq[i] = serve_seq_new();
        q->refs = 1;
        q->prompt = xmalloc(sizeof(int) * (size_t)n_prompt);
        memcpy(q->prompt, prompt, sizeof(int) * (size_t)n_prompt);
        q->n_prompt = n_prompt;
        q->sp = o.sp;
        if (o.has_seed) q->sp.seed = (uint64_t)o.seed + (uint64_t)i;
        else q->sp.seed ^= (uint64_t)atomic_fetch_add(&s->next_id, 1) * 0x9E3779B97F4A7C15ull;
        q->max_tokens = (int)(o.max_tokens > 0 ? MIN(o.max_tokens, s->n_ctx) : s->n_ctx);
        q->top_logprobs = (int)o.top_logprobs;
        param = "stop";
        if (parse_stop(cJSON_GetObjectItemCaseSensitive(body, "stop"), q, err)) goto bad;
        param = "logit_bias";
        if (parse_bias(cJSON_GetObjectItemCaseSensitive(body, "logit_bias"), s->m->cfg.vocab_size, q, err)) goto bad;
        if (jc_proto) q->jc = json ? json_constraint_new(schema) : srv_tools_constraint(&j->tools);
    }
    if (serve_engine_submit(s->e, j->seq, j->n)) {
        atomic_fetch_add(&s->n_errors, 1);
        res = srv_error(rq, 429, "rate_limit_error", NULL, "queue_full",
                        "too many requests are waiting (the queue holds %d sequences); retry later", s->c.max_queue);
        goto done;
    }
    if (j->stream) {
        http_add_header(rq, "X-Accel-Buffering", "no");
        res = http_reply_stream(rq, 200, "text/event-stream; charset=utf-8", stream_read, j, stream_done);
        j = NULL; /* the stream owns it */
        goto done;
    }
    /* wait for every choice, giving up as soon as the client is gone */
    serve_engine_lock(s->e);
    for (;;) {
        int running = 0;
        for (int i = 0; i < j->n; i++) running += j->seq[i]->finish == SEQ_RUNNING;
        if (!running) break;
        serve_engine_wait(s->e, 100);
        if (http_client_gone(rq)) {
            serve_engine_unlock(s->e);
            for (int i = 0; i < j->n; i++) serve_seq_cancel(s->e, j->seq[i]);
            res = MHD_NO;
            goto done;
        }
    }
    serve_engine_unlock(s->e);
    for (int i = 0; i < j->n; i++)
        if (j->seq[i]->finish == SEQ_ERROR || j->seq[i]->finish == SEQ_CANCELLED) {
            res = srv_error(rq, j->seq[i]->finish == SEQ_ERROR ? 500 : 503, "server_error", NULL, NULL, "%s",
                            j->seq[i]->finish == SEQ_ERROR ? j->seq[i]->err : "the server is stopping");
            goto done;
        }
    res = reply_whole(j);
    goto done;
bad:
    atomic_fetch_add(&s->n_errors, 1);
    res = srv_error(rq, 400, "invalid_request_error", param, NULL, "%s", err);
done:
    if (j) job_free(j);
    json_constraint_free(jc_proto);
    srv_msgs_free(&msgs);
    free(prompt);
    cJSON_Delete(body);
    return res;
}
