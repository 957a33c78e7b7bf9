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
    long n;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r = cli_train_option(argc, argv, &i, &o.run);
        if (r) {
            if (r < 0) return 2;
            continue;
        }
#define VAL() if (!(v = cli_value(argc, argv, &i))) return 2
        if (cli_is_help(a)) { usage(stdout); return 0; }
        else if (!strcmp(a, "--model")) { VAL(); o.model_path = v; }
        else if (!strcmp(a, "--data")) { VAL(); o.data_path = v; }
        else if (!strcmp(a, "--ref")) { VAL(); o.ref_path = v; }
        else if (!strcmp(a, "--val")) { VAL(); o.val_path = v; }
        else if (!strcmp(a, "--out")) { VAL(); o.out_path = v; }
        else if (!strcmp(a, "--beta")) {
            VAL();
            if (parse_double(a, v, &o.beta)) return cli_error(NULL), 2;
        }
        else if (!strcmp(a, "--ctx")) {
            VAL();
            if (parse_long(a, v, 2, 1 << 20, &n)) return cli_error(NULL), 2;
            o.ctx = (int)n;
        }
        else return cli_bad_option("dpo", a);
#undef VAL
    }
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
