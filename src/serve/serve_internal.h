/*
 * serve_internal.h - what the server's files (server.c, openai.c,
 * tools.c, page.c) share; not a public interface.
 */
#ifndef LLMOS_SERVE_INTERNAL_H
#define LLMOS_SERVE_INTERNAL_H

#include "engine.h"
#include "http.h"
#include "server.h"

#include "../model/model.h"
#include "../tokenizer/chat.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>

enum { SRV_ERR = 512, SRV_MAX_N = 8 };

typedef struct {
    serve_config c;
    model *m;
    serve_engine *e;
    chat_format fmt;
    int has_chat, n_ctx;
    char chat_err[600];
    char *model_id;
    long created;
    atomic_int ready;
    atomic_long n_requests, n_errors, n_completions, next_id;
} srv;

/* {"error": {"message", "type", "param", "code"}} with the status. */
enum MHD_Result srv_error(http_request *rq, unsigned status, const char *type, const char *param, const char *code,
                          const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Optional fields: 0 when absent or null, 1 when read into *out, -1 with
 * the message in err (SRV_ERR bytes) when of the wrong type or range. */
int srv_get_bool(const cJSON *o, const char *name, int *out, char *err);
int srv_get_num(const cJSON *o, const char *name, double lo, double hi, double *out, char *err);
int srv_get_int(const cJSON *o, const char *name, long lo, long hi, long *out, char *err);
cJSON *srv_parse_body(http_request *rq, enum MHD_Result *res);
int srv_check_fields(http_request *rq, const cJSON *o, const char *const *names, enum MHD_Result *res);

/* A request's messages (contents owned). */
typedef struct {
    chat_msg *m;
    int n;
} srv_msgs;
int srv_parse_messages(const cJSON *arr, srv_msgs *out, char *err);
void srv_msgs_free(srv_msgs *m);

/* Tools (tools.c): the request's tools and tool_choice. */
typedef enum { TOOLS_NONE, TOOLS_AUTO, TOOLS_REQUIRED } tools_mode;
typedef struct {
    int n;              /* 0: the request has no tools */
    char **names;       /* (n) */
    cJSON *defs;        /* the request's "tools", detached (owned) */
    tools_mode mode;    /* TOOLS_NONE when n == 0 */
    int forced;         /* tool_choice names this tool; -1 */
} srv_tools;
int srv_parse_tools(const cJSON *req, srv_tools *t, char *err);
void srv_tools_free(srv_tools *t);
/* Adds the tools' description to the conversation's system message (made
 * when absent) unless the mode is none. */
void srv_tools_apply(const srv_tools *t, srv_msgs *m);
/* The constraint a reply must follow when a call is required: NULL with
 * err_set when a tool's parameters cannot be enforced. */
json_constraint *srv_tools_constraint(const srv_tools *t);
/* The text an assistant's tool calls stand for in the conversation. */
char *srv_render_tool_calls(const cJSON *calls);
/* When text is a tool call ({"name": N, "arguments": {...}} with N one of
 * the tools): the name's index and the arguments as compact JSON
 * (malloc'd). -1 otherwise. */
int srv_tools_parse_reply(const srv_tools *t, const char *text, char **args);

enum MHD_Result srv_completions(srv *s, http_request *rq, int chat);

extern const char serve_page[];

#endif
