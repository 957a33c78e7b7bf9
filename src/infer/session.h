/*
 * session.h - one conversation with a model: the one object behind
 * `llmos chat`, `llmos generate`, best-of-N, the candidates of labeling
 * and RL, and `llmos eval`. A session holds a state (the KV cache), the
 * chat format, a seeded sampler, the conversation so far and the reply
 * being generated, and it keeps the count of the tokens in its window.
 *
 * Weights and conversations are split. The model a session reads (loaded
 * with model_load, or a view of the weights of a model being trained,
 * train_model_view) is only read while generating: any number of sessions
 * may share one model, each with its own cache, sampler and history (a
 * server makes one session per conversation over one loaded model).
 *
 * Three ways to use a session:
 *   session_ask       a turn of a conversation the session keeps (chat): the
 *                     user message is added to the history, the reply is
 *                     generated after what the cache already holds and kept
 *                     in the history. When the new turn and room for a reply
 *                     (max_new tokens, at most a quarter of the window) do not
 *                     fit, the oldest exchanges (after the system message)
 *                     are dropped and the rest is evaluated again from
 *                     position 0 (reply->dropped says so).
 *   session_answer    a reply to a conversation given whole (labeling, RL,
 *                     best-of, eval), from an empty cache; the session's own
 *                     history is not touched.
 *   session_complete  a plain continuation of token ids (a base model), from
 *                     an empty cache.
 * A reply stops at the tokenizer's EOS or end-of-turn token (which is part
 * of reply->ids, not of its text), after max_new tokens, when the window is
 * full, when the caller's callback asks, and with stop_at_special at any
 * other special token (a chat model starting another role's turn).
 *
 * The window: a reply to a prompt of P tokens has at most
 * min(max_new, n_ctx - P) tokens (session_answer, and session_complete
 * unless fill); with fill, session_complete may sample one token more, the
 * last one read off the final position and never evaluated. A prompt that
 * leaves no room is refused.
 *
 * Ownership: session_new borrows the model (it must outlive the session)
 * and owns everything else; session_free releases it. The reply returned by
 * session_reply belongs to the session and is valid until the next call
 * that generates or resets. Messages passed in are copied when kept.
 * Threads: sessions over one model may run on different threads (the
 * forward pass only reads the model); one session is not thread-safe.
 */
#ifndef LLMOS_SESSION_H
#define LLMOS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "../tokenizer/chat.h"
#include "generate.h"
#include "sample.h"

typedef struct {
    int n_ctx;           /* context window in tokens; 0: the model's ctx_len */
    int max_new;         /* longest reply in tokens */
    int chat;            /* 1: the chat format (the tokenizer must have its role tokens) */
    int stop_at_special; /* 1: any special token ends a reply (see the top) */
    int fill;            /* session_complete may sample one token past a full window */
    sampler_params sp;
} session_opts;

/* The reply of the last session_ask / _answer / _complete. */
typedef struct {
    char *text;      /* the decoded pieces of its non-special tokens, NUL-terminated, as the
                      * model wrote them (may hold invalid UTF-8: see utf8_sanitize) */
    size_t len;
    int *ids;        /* (n_ids) every sampled token, a closing EOS or end of turn included */
    int n_ids;
    int ended;       /* chat: closed by the end-of-turn token */
    int dropped;     /* session_ask: older turns were dropped to make room */
    gen_stats stats; /* prompt and generation counts and times */
} session_reply;

/* Called with each sampled token as it comes: piece is its text (len
 * bytes, not NUL-terminated), or NULL for a special token or a model
 * without a tokenizer. Return nonzero to end the reply after this token. */
typedef int (*session_token_fn)(void *ctx, int token, const char *piece, size_t len);

typedef struct session session;

/* A session over m with options o (copied). NULL with err_set when o->chat
 * and the model has no tokenizer or its vocabulary lacks the chat tokens. */
session *session_new(const model *m, const session_opts *o);
void session_free(session *s);

/* Restarts the sampler's random numbers from seed. */
void session_reseed(session *s, uint64_t seed);

/* The system message that opens the conversation (copied; before the
 * first session_ask). */
void session_set_system(session *s, const char *text);
/* Forgets the conversation except its system message. */
void session_reset(session *s);

/* One turn of the kept conversation (see the top); fn (may be NULL) sees
 * each token. 0, or -1 with err_set (the message alone does not fit the
 * window, or the forward pass failed); after an error the conversation is
 * as it was before the call. */
int session_ask(session *s, const char *user, session_token_fn fn, void *ctx);

/* The reply to m[0..n) (rendered with the generation prompt). 0; 1 with
 * err_set when the prompt leaves no room for a reply; -1 with err_set on
 * another error. */
int session_answer(session *s, const chat_msg *m, int n, session_token_fn fn, void *ctx);

/* The continuation of ids[0..n) (n >= 1). Return values as session_answer. */
int session_complete(session *s, const int *ids, int n, session_token_fn fn, void *ctx);

const session_reply *session_reply_get(const session *s);
const chat_format *session_format(const session *s); /* NULL unless chat */
int session_n_ctx(const session *s);
/* Tokens of the window in use: the cache, and what the next turn evaluates
 * first (the end of the last reply). */
int session_used(const session *s);

#endif
