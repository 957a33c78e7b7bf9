/*
 * cmd_dpo.c - `llmos dpo --model CHAT.gguf --data PREFS.jsonl --out DPO.gguf`:
 * preference tuning by DPO (train/dpo.h).
 *
 * A hidden test hook, `--grad-dump DIR`, writes the model, the first batch
 * with its reference log-probs, and the gradients of the DPO loss on it,
 * for tests/t_dpo_grad.sh to check against PyTorch.
 */
#include "cli.h"

#include "../core/common.h"
#include "../train/dpo.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    dpo_opts d;
    dpo_opts_default(&d);
    fprintf(f,
        "usage: llmos dpo --model CHAT.gguf --data PREFS.jsonl --out DPO.gguf [options]\n\n"
        "Direct Preference Optimization: trains the model to prefer the chosen answer\n"
        "of each pair over the rejected one, relative to the frozen starting model\n"
        "(the reference, whose log-probs are computed once and cached in OUT.ref.bin).\n"
        "Only answer tokens are scored. Reports reward accuracy and margin on held-out\n"
        "pairs. Data: a judgement store, pairs, HH-RLHF or ranked JSONL (llmos prefs).\n\n"
        "  --model FILE        the chat model to start from (also the reference)\n"
        "  --data FILE         preference data\n"
        "  --ref FILE          a separate reference model (same shapes; default: --model)\n"
        "  --val FILE          held-out pairs (default: the pairs of a hashed 10%% of\n"
        "                      prompts when there are 20 pairs or more)\n"
        "  --out FILE          the tuned model (default dpo.gguf)\n"
        "  --beta X            DPO temperature (%g)\n"
        "  --ctx N             longest sequence (default: the model's context; longer\n"
        "                      pairs are left out and counted)\n", d.beta);
    cli_train_help(f, &d.run, "pairs per step");
    fprintf(f, "\n"
        "example:\n"
        "  llmos prefs auto --model chat.gguf --prompts chats.jsonl --store prefs.jsonl\n"
        "  llmos dpo --model chat.gguf --data prefs.jsonl --out dpo.gguf --epochs 2\n");
}

int cmd_dpo(int argc, char **argv) {
    dpo_opts o;
    dpo_opts_default(&o);
    o.out_path = "dpo.gguf";
    const cli_opt opts[] = {
        {"--model", NULL, CLI_STR, &o.model_path, 0, 0},
        {"--data", NULL, CLI_STR, &o.data_path, 0, 0},
        {"--ref", NULL, CLI_STR, &o.ref_path, 0, 0},
        {"--val", NULL, CLI_STR, &o.val_path, 0, 0},
        {"--out", NULL, CLI_STR, &o.out_path, 0, 0},
        {"--beta", NULL, CLI_DOUBLE, &o.beta, 0, 0},
        {"--ctx", NULL, CLI_INT, &o.ctx, 2, 1 << 20},
        {0},
    };
    const int parsed = cli_parse("dpo", argc, argv, opts, cli_train_option, &o.run, usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!o.model_path || !o.data_path) {
        fprintf(stderr, "llmos dpo: --model and --data are required (see llmos dpo --help)\n");
        return 2;
    }
    if (!(o.beta > 0) || !(o.run.hp.lr > 0) || !(o.run.epochs > 0)) {
        fprintf(stderr, "llmos dpo: --beta, --lr and --epochs must be positive\n");
        return 2;
    }
    return dpo_run(&o) ? cli_error(NULL) : 0;
}
