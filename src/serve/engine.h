/*
 * engine.h - the server's generation engine: N slots over one copy of the
 * weights, each with its own KV cache, fed from one queue by one thread.
 *
 * A request becomes one serve_seq per choice (n in the OpenAI API). The
 * engine thread takes queued sequences into free slots and steps every
 * busy slot in turn: a slot with prompt left evaluates the next chunk of
 * it (up to n_batch tokens), a generating slot evaluates its last token and
 * samples the next one, so a long prompt never stalls the others' streams.
 * A slot keeps the tokens its cache holds after its sequence ends; a new
 * sequence goes to the free slot whose cache shares the longest prefix with
 * its prompt and evaluates only the rest (a conversation's next request
 * reuses the previous turns).
 *
 * Text. A sequence's text grows by the pieces of its tokens (special tokens
 * add none); `ready` is how much of it can be shown: it never ends inside a
 * UTF-8 character, nor inside what could still become a stop string. At the
 * end the text is cut at the first stop string found.
 *
 * Threads. Everything in a serve_seq below `out:` is written by the engine
 * under the engine's lock; readers take serve_engine_lock, and wait for
 * progress with serve_engine_wait. A reader that loses interest (the client
 * went away) calls serve_seq_cancel: the engine frees the slot at its next
 * step.
 *
 * Ownership: serve_engine_submit takes a reference to each sequence;
 * serve_seq_release drops the caller's. The last reference frees it.
 */
#ifndef LLMOS_SERVE_ENGINE_H
#define LLMOS_SERVE_ENGINE_H

#include "../infer/json_constraint.h"
#include "../infer/sample.h"
#include "../model/model.h"

#include <stddef.h>

enum { SERVE_MAX_STOP = 4, SERVE_MAX_TOP_LOGPROBS = 20 };

typedef enum { SEQ_RUNNING, SEQ_STOP, SEQ_LENGTH, SEQ_CANCELLED, SEQ_ERROR } seq_finish;

typedef struct {
    int id;
    float logprob;
    size_t end; /* the text's length once this token's piece was added */
    int n_top;
    int top_id[SERVE_MAX_TOP_LOGPROBS];
    float top_lp[SERVE_MAX_TOP_LOGPROBS];
} seq_token;

typedef struct serve_seq {
    /* in: set before serve_engine_submit, read-only afterwards */
    int *prompt; /* owned */
    int n_prompt;
    sampler_params sp;
    int max_tokens;
    char *stop[SERVE_MAX_STOP]; /* owned */
    int n_stop;
    int top_logprobs;   /* -1: no logprobs; 0..20 */
    json_constraint *jc; /* owned; NULL: free text */
    int n_bias;          /* logit_bias: added to the logits of bias_id before sampling */
    int *bias_id;        /* (n_bias) owned */
    float *bias;         /* (n_bias) owned; -100 bans a token, +100 forces it */
    /* out: under the engine's lock */
    char *text;
    size_t len, cap, ready;
    seq_token *toks;
    int n_gen, toks_cap;
    seq_finish finish;
    int n_cached;       /* prompt tokens found in the slot's cache */
    double t_submit, t_first; /* time of submission and of the first token */
    char err[256];
    /* private */
    int refs, cancel, slot;
    struct serve_seq *next;
} serve_seq;

typedef struct serve_engine serve_engine;

typedef struct {
    int n_slots, n_ctx, n_batch, max_queue, threads;
} serve_engine_config;

typedef struct {
    long requests_seqs, prompt_tokens, cached_tokens, gen_tokens;
    int busy, queued, n_slots;
    double gen_seconds; /* engine time spent generating */
    double tok_per_s;   /* over the last few seconds */
} serve_engine_stats;

/* Makes the slots' states (each n_ctx positions) and starts the thread.
 * NULL with err_set. */
serve_engine *serve_engine_new(const model *m, const serve_engine_config *c);
/* Stops the thread: sequences still queued or running end as cancelled,
 * and later submissions are refused. The engine stays valid for
 * serve_seq_release and the readers until serve_engine_free. */
void serve_engine_stop(serve_engine *e);
/* Stops it when still running and frees it. */
void serve_engine_free(serve_engine *e);

serve_seq *serve_seq_new(void);
/* Queues the sequences (all or none): 0, or -1 when the queue is full. */
int serve_engine_submit(serve_engine *e, serve_seq **s, int n);
void serve_seq_cancel(serve_engine *e, serve_seq *s);
void serve_seq_release(serve_engine *e, serve_seq *s);

void serve_engine_lock(serve_engine *e);
void serve_engine_unlock(serve_engine *e);
/* With the lock held: waits for the engine's next step, at most ms. */
void serve_engine_wait(serve_engine *e, int ms);
void serve_engine_get_stats(serve_engine *e, serve_engine_stats *st);

#endif
