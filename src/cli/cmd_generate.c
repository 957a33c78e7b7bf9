/*
 * cmd_generate.c - `llmos generate MODEL -p TEXT`: the prompt is printed,
 * then the generated text streams after it. Timing (prompt and generation
 * tokens/s) goes to stderr.
 */
#include "cli.h"

#include "../core/common.h"
#include "../infer/generate.h"

#include <stdlib.h>
#include <string.h>

static const char *g_usage =
    "usage: llmos generate MODEL.gguf [-p TEXT | --ids 1,2,3] [options]\n"
    "  -p, --prompt TEXT     prompt text (default: just the BOS token)\n"
    "  --ids LIST            prompt as comma-separated token ids instead of text\n"
    "  -n N                  tokens to generate (default 256)\n"
    "%s"
    "  --ctx N               context size (default: the model's, at most 4096)\n"
    "  -t, --threads N       threads (default: all cores)\n"
    "  --print-ids           print the generated token ids, comma-separated, not text\n"
    "  -q, --quiet           no timing line on stderr\n"
    "example: llmos generate out/base.gguf -p \"The meaning of life is\" -n 64 --temp 0\n";

typedef struct {
    const model *m;
    int print_ids, count;
} out_ctx;

static int on_token(int tok, void *p) {
    out_ctx *o = p;
    if (o->print_ids) printf(o->count++ ? ",%d" : "%d", tok);
    else if (o->m->tok && !tok_is_special(o->m->tok, tok)) {
        size_t len;
        const char *s = tok_decode(o->m->tok, tok, &len);
        fwrite(s, 1, len, stdout);
    }
    fflush(stdout);
    return 0;
}

int cmd_generate(int argc, char **argv) {
    const char *path = NULL, *prompt = NULL, *ids_arg = NULL, *v;
    long n_new = 256, threads = cli_default_threads(), ctx = 0;
    sampler_params sp = sampler_defaults();
    int print_ids = 0, quiet = 0, r;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((r = cli_sampling_option(argc, argv, &i, &sp))) {
            if (r < 0) return 2;
            continue;
        }
#define VAL() if (!(v = cli_value(argc, argv, &i))) return 2
#define LONG(lo, hi, dst) do { VAL(); if (parse_long(a, v, lo, hi, &dst)) return cli_error(NULL), 2; } while (0)
        if (cli_is_help(a)) { printf(g_usage, cli_sampling_help); return 0; }
        if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) { VAL(); prompt = v; }
        else if (!strcmp(a, "--ids")) { VAL(); ids_arg = v; }
        else if (!strcmp(a, "-n")) LONG(0, 1 << 24, n_new);
        else if (!strcmp(a, "--ctx")) LONG(1, 1 << 24, ctx);
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) LONG(1, 1024, threads);
        else if (!strcmp(a, "--print-ids")) print_ids = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-' && a[1]) return cli_bad_option("generate", a);
        else if (!path) path = a;
        else return cli_bad_option("generate", a);
    }
    if (!path) return cli_error("generate: missing MODEL (see llmos generate --help)"), 2;
    model_set_threads((int)threads);
    model *m = model_load(path);
    if (!m) return cli_error(NULL);

    int *ids = NULL, n_ids = 0, rc = 1;
    if (ids_arg) {
        if (parse_token_list(ids_arg, &ids, &n_ids)) { cli_error(NULL); goto done; }
    } else {
        if (!m->tok) { cli_error("%s: no tokenizer in the file; use --ids", path); goto done; }
        const char *text = prompt ? prompt : "";
        size_t n = tok_encode(m->tok, text, strlen(text), tok_add_bos(m->tok), 0, &ids);
        n_ids = (int)n;
        if (n_ids == 0) { cli_error("generate: empty prompt and the tokenizer has no BOS token"); goto done; }
    }
    if (!ctx) ctx = MIN(m->cfg.ctx_len, 4096);
    if (n_ids > ctx) { cli_error("generate: prompt has %d tokens, more than the context of %ld", n_ids, ctx); goto done; }

    sampler *smp = sampler_new(&sp, m->cfg.vocab_size);
    model_state *st = model_state_new(m, (int)ctx, MIN((int)ctx, 512));
    if (!print_ids && prompt) fputs(prompt, stdout);
    out_ctx oc = {m, print_ids, 0};
    gen_stats gs;
    int pos = 0;
    rc = generate(m, st, smp, ids, n_ids, &pos, (int)n_new, (int)ctx, on_token, &oc, &gs) ? 1 : 0;
    fputc('\n', stdout);
    fflush(stdout);
    if (rc) cli_error(NULL);
    else if (!quiet)
        fprintf(stderr, "llmos: prompt %d tokens %.1f tok/s, generated %d tokens %.1f tok/s (%d threads, %s)\n",
                gs.n_prompt, gs.n_prompt / (gs.prompt_seconds > 0 ? gs.prompt_seconds : 1e-9),
                gs.n_generated, gs.n_generated / (gs.gen_seconds > 0 ? gs.gen_seconds : 1e-9),
                (int)threads, kernels_path());
    model_state_free(st);
    sampler_free(smp);
done:
    free(ids);
    model_free(m);
    return rc;
}
