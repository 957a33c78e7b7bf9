/*
 * cmd_sft.c - `llmos sft`: supervised fine-tuning of a base model on
 * conversations (the loop is src/train/sft.c).
 *
 * A hidden test hook, `--grad-dump DIR`, writes the model and the gradients
 * of the first batch in the format of `llmos pretrain --grad-dump`, for the
 * loss-mask test against PyTorch.
 */
#include "cli.h"

#include "../core/common.h"
#include "../train/sft.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: llmos sft --model BASE.gguf --data CHATS.jsonl --out CHAT.gguf [options]\n\n"
        "Fine-tunes a model on conversations ({\"messages\": [{\"role\", \"content\"}...]}\n"
        "per line). The loss counts only what the assistant writes (its turns and\n"
        "their end-of-turn token); one conversation per row, padded, so\n"
        "conversations never see each other. OUT.gguf gets the chat template.\n"
        "Beside it: OUT.ckpt.gguf (checkpoint) and OUT.log.jsonl.\n\n"
        "  --model FILE        the model to start from (a base model, or an assistant to fix)\n"
        "  --data FILE         training conversations (JSONL)\n"
        "  --val FILE          validation conversations (default: a hashed 1%% of --data\n"
        "                      when it holds 100 or more)\n"
        "  --out FILE          the fine-tuned model (default chat.gguf)\n"
        "  --steps N           optimizer steps (default: one epoch, at most 2000)\n"
        "  --epochs X          passes over the data when --steps is not given (1)\n"
        "  --batch N           conversations per step (16)\n"
        "  --ctx N             longest conversation in tokens (default: the model's context)\n"
        "  --skip-long         drop conversations longer than --ctx (default: error)\n"
        "  --lr X              peak learning rate (3e-4); --min-lr-ratio X (0.1)\n"
        "  --warmup N          warmup steps (default: 5%% of the steps, at most 100)\n"
        "  --schedule NAME     cosine, linear or constant (cosine)\n"
        "  --weight-decay X    (0)   --clip X  gradient norm clip (1.0)\n"
        "  --eval-every N      validation every N steps (100)\n"
        "  --save-every N      checkpoint every N steps (200)\n"
        "  --resume            continue from OUT.ckpt.gguf (bit-identical to an uninterrupted run)\n"
        "  --stop-after N      stop after step N, leaving a checkpoint\n"
        "  --seed N            data order (1)\n"
        "  --threads N         (default: all cores)   --quiet\n\n"
        "Fixing a misbehaviour: write a few corrected conversations to fix.jsonl and\n"
        "run a short continued fine-tuning from the assistant itself:\n"
        "  llmos sft --model chat.gguf --data fix.jsonl --out chat2.gguf --steps 30 --batch 4\n\n"
        "example:\n"
        "  llmos data chats --out chats.jsonl\n"
        "  llmos sft --model base.gguf --data chats.jsonl --out chat.gguf --skip-long\n"
        "  llmos chat chat.gguf\n");
}

int cmd_sft(int argc, char **argv) {
    sft_opts o;
    sft_opts_default(&o);
    o.out_path = "chat.gguf";
    o.threads = cli_default_threads();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long n;
        double d;
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
        else if (!strcmp(a, "--val")) { VAL(); o.val_path = v; }
        else if (!strcmp(a, "--out")) { VAL(); o.out_path = v; }
        else if (!strcmp(a, "--steps")) { LONG(1, 1L << 40); o.steps = n; }
        else if (!strcmp(a, "--epochs")) { DBL(); o.epochs = d; }
        else if (!strcmp(a, "--batch")) { LONG(1, 1 << 16); o.batch = (int)n; }
        else if (!strcmp(a, "--ctx")) { LONG(2, 1 << 20); o.ctx = (int)n; }
        else if (!strcmp(a, "--skip-long")) o.skip_long = 1;
        else if (!strcmp(a, "--eval-every")) { LONG(0, 1L << 40); o.eval_every = (int)n; }
        else if (!strcmp(a, "--save-every")) { LONG(0, 1L << 40); o.save_every = (int)n; }
        else if (!strcmp(a, "--resume")) o.resume = 1;
        else if (!strcmp(a, "--stop-after")) { LONG(1, 1L << 40); o.stop_after = n; }
        else if (!strcmp(a, "--seed")) { LONG(0, 0x7fffffffffffffffL); o.seed = (uint64_t)n; }
        else if (!strcmp(a, "--threads")) { LONG(1, 4096); o.threads = (int)n; }
        else if (!strcmp(a, "--grad-dump")) { VAL(); o.grad_dump = v; }
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else return cli_bad_option("sft", a);
#undef VAL
#undef LONG
#undef DBL
    }
    if (!o.model_path || !o.data_path) {
        fprintf(stderr, "llmos sft: --model and --data are required (see llmos sft --help)\n");
        return 2;
    }
    if (o.hp.lr <= 0 || !(o.epochs > 0)) {
        fprintf(stderr, "llmos sft: --lr and --epochs must be positive\n");
        return 2;
    }
    if (sft_run(&o) < 0) return cli_error(NULL);
    return 0;
}
