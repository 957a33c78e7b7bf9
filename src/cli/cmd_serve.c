/*
 * cmd_serve.c - `llmos serve MODEL.gguf`: the OpenAI-compatible server and
 * the chat page (src/serve/server.h). This file only reads the options.
 */
#include "cli.h"

#include "../core/common.h"
#include "../serve/server.h"

#include "../core/types.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: llmos serve MODEL.gguf [--host ADDR] [--port N] [--parallel N] [--ctx N] [options]\n"
            "Serves the model over the OpenAI HTTP API (/v1/chat/completions, /v1/completions,\n"
            "/v1/models, streaming over SSE, tools, JSON-schema replies) and a chat page at /.\n"
            "  --host ADDR       address to listen on (127.0.0.1; 0.0.0.0 opens it to the network)\n"
            "  --port N          port (8080; 0 = any free port, printed)\n"
            "  --parallel N      conversations generated at once, over one copy of the weights (1)\n"
            "  --ctx N           context of each slot in tokens (default: the model's)\n"
            "  --queue N         requests waiting for a slot before 429 (64)\n"
            "  --api-key KEY     require 'Authorization: Bearer KEY' (or LLMOS_API_KEY)\n"
            "  --cors            answer CORS preflights and allow any origin\n"
            "  -t, --threads N   threads (default: all cores)\n"
            "  --cache-type T    " CLI_CACHE_TYPE_HELP "\n"
            "example:\n"
            "  llmos serve out/chat.gguf --port 8080\n"
            "  curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\\n"
            "       -d '{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}'\n");
}

int cmd_serve(int argc, char **argv) {
    const char *path = NULL, *host = "127.0.0.1", *key = getenv("LLMOS_API_KEY"), *cache = NULL;
    long port = 8080, parallel = 1, ctx = 0, queue = 64, threads = cli_default_threads();
    int cors = 0;
    const cli_opt opts[] = {
        {"--host", NULL, CLI_STR, &host, 0, 0},
        {"--port", NULL, CLI_LONG, &port, 0, 65535},
        {"--parallel", "-np", CLI_LONG, &parallel, 1, 64},
        {"--ctx", NULL, CLI_LONG, &ctx, 8, 1 << 24},
        {"--queue", NULL, CLI_LONG, &queue, 0, 1 << 20},
        {"--api-key", NULL, CLI_STR, &key, 0, 0},
        {"--cors", NULL, CLI_FLAG, &cors, 0, 0},
        {"-t", "--threads", CLI_LONG, &threads, 1, 1024},
        {"--cache-type", NULL, CLI_STR, &cache, 0, 0},
        {0},
    };
    const int parsed = cli_parse("serve", argc, argv, opts, NULL, NULL, usage, &path);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!path) return cli_error("serve: missing MODEL (see llmos serve --help)"), 2;
    const int kv_type = cli_cache_type("serve", cache);
    if (kv_type < 0) return 2;
    serve_config c = {.model_path = path, .host = host, .port = (int)port, .parallel = (int)parallel,
                      .n_ctx = (int)ctx, .threads = (int)threads, .max_queue = (int)queue,
                      .api_key = key && *key ? key : NULL, .cors = cors, .kv_f32 = kv_type == TYPE_F32};
    return serve_run(&c) ? cli_error(NULL) : 0;
}
