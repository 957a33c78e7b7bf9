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
    "  --temp T              temperature, 0 = greedy (default 0.8)\n"
    "  --top-k K             keep the K most likely tokens, 0 = off (default 40)\n"
    "  --top-p P             nucleus sampling, 1 = off (default 0.95)\n"
    "  --min-p P             drop tokens below P x the top probability (default 0.05)\n"
    "  --repeat-penalty R    penalize recent tokens, 1 = off (default 1.0)\n"
    "  --repeat-last-n N     how many recent tokens to penalize (default 64)\n"
    "  --seed S              random seed (default: from the clock)\n"
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
    long n_new = 256, threads = cli_default_threads(), ctx = 0, top_k = 40, last_n = 64, seed = -1;
    double temp = 0.8, top_p = 0.95, min_p = 0.05, rep = 1.0;
    int print_ids = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define VAL() if (!(v = cli_value(argc, argv, &i))) return 2
#define LONG(lo, hi, dst) do { VAL(); if (parse_long(a, v, lo, hi, &dst)) return cli_error(NULL), 2; } while (0)
#define DBL(dst) do { VAL(); if (parse_double(a, v, &dst)) return cli_error(NULL), 2; } while (0)
        if (cli_is_help(a)) { fputs(g_usage, stdout); return 0; }
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) { VAL(); prompt = v; }
        else if (!strcmp(a, "--ids")) { VAL(); ids_arg = v; }
        else if (!strcmp(a, "-n")) LONG(0, 1 << 24, n_new);
        else if (!strcmp(a, "--temp")) DBL(temp);
        else if (!strcmp(a, "--top-k")) LONG(0, 1 << 24, top_k);
        else if (!strcmp(a, "--top-p")) DBL(top_p);
        else if (!strcmp(a, "--min-p")) DBL(min_p);
        else if (!strcmp(a, "--repeat-penalty")) DBL(rep);
        else if (!strcmp(a, "--repeat-last-n")) LONG(0, 1 << 24, last_n);
        else if (!strcmp(a, "--seed")) LONG(0, 0x7fffffffffffffffL, seed);
        else if (!strcmp(a, "--ctx")) LONG(1, 1 << 24, ctx);
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) LONG(1, 1024, threads);
        else if (!strcmp(a, "--print-ids")) print_ids = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-' && a[1]) return cli_bad_option("generate", a);
        else if (!path) path = a;
        else return cli_bad_option("generate", a);
    }
    if (!path) return cli_error("generate: missing MODEL (see llmos generate --help)"), 2;
    if (temp < 0 || top_p <= 0 || top_p > 1 || min_p < 0 || min_p > 1 || rep <= 0)
        return cli_error("generate: sampling values out of range (temp >= 0, 0 < top-p <= 1, 0 <= min-p <= 1, repeat-penalty > 0)"), 2;
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

    sampler_params sp = sampler_defaults();
    sp.temperature = (float)temp, sp.top_k = (int)top_k, sp.top_p = (float)top_p;
    sp.min_p = (float)min_p, sp.repeat_penalty = (float)rep, sp.repeat_last_n = (int)last_n;
    if (seed >= 0) sp.seed = (uint64_t)seed;
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
