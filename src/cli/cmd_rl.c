/*
 * cmd_rl.c - `llmos rl`: policy-gradient training of a chat model on
 * prompts with checkable answers (train/rl.h), with pass@k on held-out
 * prompts.
 *
 * A hidden test hook, `--grad-dump DIR`, writes step 1's batch, advantages,
 * model and gradients for tests/t_rl_grad.sh.
 */
#include "cli.h"

#include "../core/common.h"
#include "../train/rl.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    rl_opts d;
    rl_opts_default(&d);
    fprintf(f,
        "usage: llmos rl --model CHAT.gguf (--prompts FILE | --arith N) --out RL.gguf [options]\n\n"
        "Each step samples a group of answers to a few prompts, scores them with a\n"
        "checker and raises the probability of answers better than their group's mean\n"
        "(advantage = reward - group mean, loss normalized per sampled token).\n"
        "Held-out pass@1 (greedy) and pass@k are measured before and during training.\n\n"
        "  --prompts FILE      conversations: the first user turn is the prompt, the\n"
        "                      next assistant turn the reference (for the f1 judge)\n"
        "  --arith N           or N generated arithmetic questions (the held-out ones\n"
        "                      are questions N .. N+eval-1 of the same generator)\n"
        "  --heldout FILE      held-out prompts for --prompts (default: none)\n"
        "  --judge J           auto, arith, f1 or cmd:COMMAND (see llmos prefs auto)\n"
        "  --prompts-per-step N (%d)  --group G (%d)  --temp T (%g)  --max-new N (%d)\n"
        "  --eval N (%d prompts)  --eval-k K (%d)  --pass X (%g)\n",
        d.prompts_per_step, d.group, d.temp, d.max_new, d.eval_n, d.eval_k, d.pass_score);
    cli_train_help(f, &d.run, NULL);
    fprintf(f, "\n"
        "example:\n"
        "  llmos rl --model chat.gguf --arith 5000 --judge arith --out rl.gguf --steps 200\n");
}

int cmd_rl(int argc, char **argv) {
    rl_opts o;
    rl_opts_default(&o);
    o.run.threads = cli_default_threads();
    const char *prompts = NULL, *heldout = NULL, *judge_s = "auto";
    long arith = 0;
    o.out_path = "rl.gguf";
    const cli_opt opts[] = {
        {"--model", NULL, CLI_STR, &o.model_path, 0, 0},
        {"--out", NULL, CLI_STR, &o.out_path, 0, 0},
        {"--prompts", NULL, CLI_STR, &prompts, 0, 0},
        {"--heldout", NULL, CLI_STR, &heldout, 0, 0},
        {"--judge", NULL, CLI_STR, &judge_s, 0, 0},
        {"--arith", NULL, CLI_LONG, &arith, 1, 1L << 30},
        {"--prompts-per-step", NULL, CLI_INT, &o.prompts_per_step, 1, 1024},
        {"--group", NULL, CLI_INT, &o.group, 2, 1024},
        {"--max-new", NULL, CLI_INT, &o.max_new, 1, 1 << 16},
        {"--eval", NULL, CLI_INT, &o.eval_n, 0, 1L << 30},
        {"--eval-k", NULL, CLI_INT, &o.eval_k, 1, 1024},
        {"--temp", NULL, CLI_DOUBLE, &o.temp, 0, 0},
        {"--pass", NULL, CLI_DOUBLE, &o.pass_score, 0, 0},
        {0},
    };
    const int parsed = cli_parse("rl", argc, argv, opts, cli_train_option, &o.run, usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!o.model_path || (!prompts == !arith)) {
        fprintf(stderr, "llmos rl: --model and one of --prompts or --arith are required (see --help)\n");
        return 2;
    }
    if (!(o.run.hp.lr > 0) || o.temp < 0) {
        fprintf(stderr, "llmos rl: --lr must be positive and --temp not negative\n");
        return 2;
    }
    if (cli_judge("rl", judge_s, &o.j) < 0) return 2;
    conv_list tr = {.prompts = 1}, ho = {.prompts = 1};
    int rc = 0;
    if (prompts && conv_list_read(&tr, prompts)) rc = 1;
    if (!rc && heldout && conv_list_read(&ho, heldout)) rc = 1;
    if (!rc && arith) {
        cli_arith_prompts(&tr, arith + o.eval_n, o.run.seed);
        /* the last eval_n questions are held out */
        for (long i = arith; i < (long)tr.n; i++) {
            if (ho.n == ho.cap) ho.items = xrealloc(ho.items, (ho.cap = ho.cap ? 2 * ho.cap : 64) * sizeof *ho.items);
            ho.items[ho.n++] = tr.items[i];
        }
        tr.n = (size_t)arith;
    }
    if (rc) {
        cli_error(NULL);
    } else {
        o.train = &tr;
        o.heldout = ho.n ? &ho : NULL;
        if (rl_run(&o) < 0) rc = cli_error(NULL);
    }
    conv_list_free(&tr);
    conv_list_free(&ho);
    return rc;
}
