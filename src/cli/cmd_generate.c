/*
 * cmd_generate.c - `llmos generate MODEL -p TEXT`: the prompt is printed,
 * then the generated text streams after it. Timing (prompt and generation
 * tokens/s) goes to stderr. With --best-of N --reward RM: N samples, and
 * the one the reward model scores highest is printed (infer/bestof.h).
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/conv.h"
#include "../infer/bestof.h"
#include "../infer/generate.h"
#include "../infer/session.h"

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
    "  --cache-type T        " CLI_CACHE_TYPE_HELP "\n"
    "  --print-ids           print the generated token ids, comma-separated, not text\n"
    "  -q, --quiet           no timing line on stderr\n"
    "  --best-of N           sample N answers (at most 256) and print the one the reward\n"
    "                        model scores highest (needs --reward; -n is per answer)\n"
    "  --reward RM.gguf      the reward model (made by llmos reward train)\n"
    "  --print-rewards       with --best-of: one JSON line per candidate on stderr\n"
    "                        (reward, sampled ids, ids the reward model read, text)\n"
    "  With --best-of, a chat model (one that stores a chat template, as sft/dpo/rl\n"
    "  write) gets -p as a user turn and prints only the chosen answer; another\n"
    "  (base) model continues -p as text, and the reward is that of prompt +\n"
    "  continuation as plain text.\n"
    "examples: llmos generate out/base.gguf -p \"The meaning of life is\" -n 64 --temp 0\n"
    "          llmos generate chat.gguf --best-of 8 --reward rm.gguf -p \"What is 12 + 30?\" -n 64\n";

typedef struct {
    int print_ids, count;
} out_ctx;

static int on_token(void *p, int tok, const char *piece, size_t len) {
    out_ctx *o = p;
    if (o->print_ids) printf(o->count++ ? ",%d" : "%d", tok);
    else if (piece) fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static void print_ids(FILE *f, const int *ids, int n) {
    for (int i = 0; i < n; i++) fprintf(f, i ? ",%d" : "%d", ids[i]);
}

static int generate_best_of(const char *path, const char *rm_path, const char *prompt, const sampler_params *sp,
                            int n_new, int n, int threads, int ids_out, int print_rewards, int quiet) {
    best_of b;
    if (best_of_open(&b, path, rm_path, sp, n_new, n, -1) < 0) return cli_error(NULL);
    const double t0 = time_now();
    best_of_set s;
    int rc = 0;
    const char *text = prompt ? prompt : "";
    if (b.chat) {
        chat_msg m = {CHAT_USER, text};
        rc = best_of_chat(&b, &m, 1, &s);
    } else {
        rc = best_of_text(&b, text, &s);
    }
    if (rc) {
        cli_error(NULL);
    } else {
        if (print_rewards)
            for (int k = 0; k < s.n; k++) {
                conv_buf jb = {0};
                conv_buf_json_str(&jb, s.text[k]);
                fprintf(stderr, "{\"candidate\":%d,\"reward\":%.9g,\"ids\":[", k, s.reward[k]);
                print_ids(stderr, s.ids[k], s.n_ids[k]);
                fputs("],\"scored\":[", stderr);
                print_ids(stderr, s.scored[k], s.n_scored[k]);
                fprintf(stderr, "],\"text\":%s}\n", jb.s);
                conv_buf_free(&jb);
            }
        if (ids_out) print_ids(stdout, s.ids[s.best], s.n_ids[s.best]);
        else printf("%s%s", b.chat ? "" : text, s.text[s.best]);
        fputc('\n', stdout);
        fflush(stdout);
        if (!quiet) {
            long toks = 0;
            for (int k = 0; k < s.n; k++) toks += s.n_ids[k];
            fprintf(stderr, "llmos: best of %d (%s model): candidate %d, reward %.4f; %ld tokens sampled and "
                            "scored in %.2f s (%d threads)\n", s.n, b.chat ? "chat" : "base", s.best,
                    s.reward[s.best], toks, time_now() - t0, threads);
        }
    }
    best_of_set_free(&s);
    best_of_close(&b);
    return rc ? 1 : 0;
}

static void usage(FILE *f) {
    fprintf(f, g_usage, cli_sampling_help);
}

int cmd_generate(int argc, char **argv) {
    const char *path = NULL, *prompt = NULL, *ids_arg = NULL, *rm_path = NULL, *cache = NULL;
    long n_new = 256, threads = cli_default_threads(), ctx = 0, best = 0;
    sampler_params sp = sampler_defaults();
    int print_ids = 0, quiet = 0, print_rewards = 0;
    const cli_opt opts[] = {
        {"-p", "--prompt", CLI_STR, &prompt, 0, 0},
        {"--ids", NULL, CLI_STR, &ids_arg, 0, 0},
        {"-n", NULL, CLI_LONG, &n_new, 0, 1 << 24},
        {"--ctx", NULL, CLI_LONG, &ctx, 1, 1 << 24},
        {"-t", "--threads", CLI_LONG, &threads, 1, 1024},
        {"--cache-type", NULL, CLI_STR, &cache, 0, 0},
        {"--print-ids", NULL, CLI_FLAG, &print_ids, 0, 0},
        {"--best-of", NULL, CLI_LONG, &best, 1, 256},
        {"--reward", NULL, CLI_STR, &rm_path, 0, 0},
        {"--print-rewards", NULL, CLI_FLAG, &print_rewards, 0, 0},
        {"-q", "--quiet", CLI_FLAG, &quiet, 0, 0},
        {0},
    };
    const int parsed = cli_parse("generate", argc, argv, opts, cli_sampling_option, &sp, usage, &path);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!path) return cli_error("generate: missing MODEL (see llmos generate --help)"), 2;
    if (best && !rm_path) return cli_error("generate: --best-of needs --reward RM.gguf"), 2;
    if ((rm_path || print_rewards) && !best) return cli_error("generate: --reward and --print-rewards go with --best-of N"), 2;
    if (best && ids_arg) return cli_error("generate: --best-of takes the prompt as text (-p), not --ids"), 2;
    if (best && ctx) return cli_error("generate: --best-of uses the models' own contexts, not --ctx"), 2;
    if (best && cache) return cli_error("generate: --best-of keeps its own KV caches, not --cache-type"), 2;
    const int kv_type = cli_cache_type("generate", cache);
    if (kv_type < 0) return 2;
    if (best) {
        model_set_threads((int)threads);
        return generate_best_of(path, rm_path, prompt, &sp, (int)n_new, (int)best, (int)threads, print_ids,
                                print_rewards, quiet);
    }
    model_set_threads((int)threads);
    model *m = model_load(path);
    if (!m) return cli_error(NULL);
    m->kv_type = kv_type;

    int *ids = NULL, n_ids = 0, rc = 1;
    if (ids_arg) {
        if (parse_token_list(ids_arg, &ids, &n_ids)) { cli_error(NULL); goto done; }
        if (!m->tok && !print_ids) { cli_error("%s: no tokenizer in the file to show the output as text; use --print-ids", path); goto done; }
    } else {
        if (!m->tok) { cli_error("%s: no tokenizer in the file; use --ids", path); goto done; }
        const char *text = prompt ? prompt : "";
        size_t n = tok_encode(m->tok, text, strlen(text), tok_add_bos(m->tok), 0, &ids);
        n_ids = (int)n;
        if (n_ids == 0) { cli_error("generate: empty prompt and the tokenizer has no BOS token"); goto done; }
    }
    if (!ctx) ctx = MIN(m->cfg.ctx_len, 4096);
    if (n_ids > ctx) { cli_error("generate: prompt has %d tokens, more than the context of %ld", n_ids, ctx); goto done; }

    char what[64];
    snprintf(what, sizeof what, "a context of %ld tokens", ctx);
    if (mem_check(what, model_state_bytes(m, (int)ctx, MIN((int)ctx, 512))) < 0) { cli_error(NULL); goto done; }
    const session_opts so = {.n_ctx = (int)ctx, .max_new = (int)n_new, .fill = 1, .sp = sp};
    session *ses = session_new(m, &so);
    if (!print_ids && prompt) fputs(prompt, stdout);
    out_ctx oc = {print_ids, 0};
    rc = session_complete(ses, ids, n_ids, on_token, &oc) ? 1 : 0;
    const gen_stats gs = session_reply_get(ses)->stats;
    fputc('\n', stdout);
    fflush(stdout);
    if (rc) cli_error(NULL);
    else if (!quiet)
        fprintf(stderr, "llmos: prompt %d tokens %.1f tok/s, generated %d tokens %.1f tok/s (%d threads, %s)\n",
                gs.n_prompt, gs.n_prompt / (gs.prompt_seconds > 0 ? gs.prompt_seconds : 1e-9),
                gs.n_generated, gs.n_generated / (gs.gen_seconds > 0 ? gs.gen_seconds : 1e-9),
                (int)threads, kernels_path());
    session_free(ses);
done:
    free(ids);
    model_free(m);
    return rc;
}
