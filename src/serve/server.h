/*
 * server.h - `llmos serve`: a model behind the OpenAI HTTP API, as
 * llama.cpp's llama-server offers it, and a chat page.
 *
 *   GET  /                      the chat page (page.c)
 *   GET  /health                503 while the model loads, then 200 {"status": "ok"}
 *   GET  /v1/models             the model being served
 *   POST /v1/chat/completions   messages -> a reply (streamed over SSE with "stream")
 *   POST /v1/completions        a prompt -> its continuation
 *   POST /tokenize              {"content", "add_special", "parse_special", "with_pieces"} -> {"tokens"}
 *   POST /detokenize            {"tokens"} -> {"content"}
 *   POST /apply-template        {"messages"} -> {"prompt"}: the text the chat template makes
 *   GET  /metrics               Prometheus text: requests, tokens, queue, slots, tok/s
 *
 * Errors have OpenAI's shape, {"error": {"message", "type", "param",
 * "code"}}: 400 for a malformed request (bad JSON, an unknown field, a
 * field of the wrong type or out of range, a prompt longer than the
 * context), 401 for a wrong or missing key (with --api-key), 404 for an
 * unknown model or path, 405, 413 for a body over the limit, 429 when the
 * queue is full, 503 while loading.
 *
 * The work is done by serve_engine (engine.h): --parallel slots over one
 * copy of the weights. Each HTTP connection has its own thread, which
 * waits for its sequences' tokens and stops them as soon as the client
 * goes away.
 */
#ifndef LLMOS_SERVE_SERVER_H
#define LLMOS_SERVE_SERVER_H

typedef struct {
    const char *model_path;
    const char *host;    /* "127.0.0.1" */
    int port;            /* 8080; 0: a free one (printed) */
    int parallel;        /* slots: 1 */
    int n_ctx;           /* 0: the model's */
    int threads;
    int max_queue;       /* sequences waiting for a slot before 429: 64 */
    const char *api_key; /* NULL: none */
    int cors;            /* answer CORS preflights, allow any origin */
    int kv_f32;          /* the KV cache in f32 instead of f16 */
} serve_config;

/* Listens, loads the model, serves until SIGINT or SIGTERM, and frees
 * everything. Prints "llmos serve: listening on URL" once it listens and
 * "llmos serve: ready" once the model is loaded. 0, or -1 with err_set. */
int serve_run(const serve_config *c);

#endif
