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
        "  --beta X            DPO temperature (0.1)\n"
        "  --steps N           optimizer steps (default: --epochs over the data)\n"
        "  --epochs X          (1)    --batch N  pairs per step (8)\n"
        "  --ctx N             longest sequence (default: the model's context; longer\n"
        "                      pairs are left out and counted)\n"
        "  --lr X              peak learning rate (1e-5); --min-lr-ratio X (0.1)\n"
        "  --warmup N          (default: 10%% of the steps, at most 100)\n"
        "  --schedule NAME     cosine, linear or constant (cosine)\n"
        "  --weight-decay X    (0)   --clip X (1.0)\n"
        "  --eval-every N      held-out evaluation every N steps (50)\n"
        "  --save-every N      checkpoint every N steps (200)\n"
        "  --resume            continue from OUT.ckpt.gguf   --stop-after N\n"
        "  --seed N            data order (1)   --threads N   --quiet\n\n"
        "example:\n"
        "  llmos prefs auto --model chat.gguf --prompts chats.jsonl --store prefs.jsonl\n"
        "  llmos dpo --model chat.gguf --data prefs.jsonl --out dpo.gguf --epochs 2\n");
}

int cmd_dpo(int argc, char **argv) {
    dpo_opts o;
    dpo_opts_default(&o);
    o.out_path = "dpo.gguf";
    long n;
    double d;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() if (!(v = cli_value(argc, argv, &i))) return 2
#define LONG(lo, hi) do { VAL(); if (parse_long(a, v, lo, hi, &n)) return cli_error(NULL), 2; } while (0)
#define DBL() do { VAL(); if (parse_double(a, v, &d)) return cli_error(NULL), 2; } while (0)
        int r = cli_hparams_option(argc, argv, &i, &o.hp);
        if (r) {
            if (r < 0) return 2;
            continue;
        }
        if (cli_is_help(a)) { usage(stdout); return 0; }
        else if (!strcmp(a, "--model")) { VAL(); o.model_path = v; }
        else if (!strcmp(a, "--data")) { VAL(); o.data_path = v; }
        else if (!strcmp(a, "--ref")) { VAL(); o.ref_path = v; }
        else if (!strcmp(a, "--val")) { VAL(); o.val_path = v; }
        else if (!strcmp(a, "--out")) { VAL(); o.out_path = v; }
        else if (!strcmp(a, "--beta")) { DBL(); o.beta = d; }
        else if (!strcmp(a, "--steps")) { LONG(1, 1L << 40); o.steps = n; }
        else if (!strcmp(a, "--epochs")) { DBL(); o.epochs = d; }
        else if (!strcmp(a, "--batch")) { LONG(1, 4096); o.batch = (int)n; }
        else if (!strcmp(a, "--ctx")) { LONG(2, 1 << 20); o.ctx = (int)n; }
        else if (!strcmp(a, "--eval-every")) { LONG(0, 1L << 40); o.eval_every = (int)n; }
        else if (!strcmp(a, "--save-every")) { LONG(0, 1L << 40); o.save_every = (int)n; }
        else if (!strcmp(a, "--resume")) o.resume = 1;
        else if (!strcmp(a, "--stop-after")) { LONG(1, 1L << 40); o.stop_after = n; }
        else if (!strcmp(a, "--seed")) { LONG(0, 0x7fffffffffffffffL); o.seed = (uint64_t)n; }
        else if (!strcmp(a, "--threads")) { LONG(1, 4096); o.threads = (int)n; }
        else if (!strcmp(a, "--grad-dump")) { VAL(); o.grad_dump = v; }
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else return cli_bad_option("dpo", a);
#undef VAL
#undef LONG
#undef DBL
    }
    if (!o.model_path || !o.data_path) {
        fprintf(stderr, "llmos dpo: --model and --data are required (see llmos dpo --help)\n");
        return 2;
    }
    if (!(o.beta > 0) || !(o.hp.lr > 0) || !(o.epochs > 0)) {
        fprintf(stderr, "llmos dpo: --beta, --lr and --epochs must be positive\n");
        return 2;
    }
    return dpo_run(&o) ? cli_error(NULL) : 0;
}
