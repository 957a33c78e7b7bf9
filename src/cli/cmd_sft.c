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
    sft_opts d;
    sft_opts_default(&d);
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
        "  --ctx N             longest conversation in tokens (default: the model's context)\n"
        "  --skip-long         drop conversations longer than --ctx (default: error)\n");
    cli_train_help(f, &d.run, "conversations per step");
    fprintf(f, "\n"
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
    o.run.threads = cli_default_threads();
    const cli_opt opts[] = {
        {"--model", NULL, CLI_STR, &o.model_path, 0, 0},
        {"--data", NULL, CLI_STR, &o.data_path, 0, 0},
        {"--val", NULL, CLI_STR, &o.val_path, 0, 0},
        {"--out", NULL, CLI_STR, &o.out_path, 0, 0},
        {"--ctx", NULL, CLI_INT, &o.ctx, 2, 1 << 20},
        {"--skip-long", NULL, CLI_FLAG, &o.skip_long, 0, 0},
        {0},
    };
    const int parsed = cli_parse("sft", argc, argv, opts, cli_train_option, &o.run, usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!o.model_path || !o.data_path) {
        fprintf(stderr, "llmos sft: --model and --data are required (see llmos sft --help)\n");
        return 2;
    }
    if (o.run.hp.lr <= 0 || !(o.run.epochs > 0)) {
        fprintf(stderr, "llmos sft: --lr and --epochs must be positive\n");
        return 2;
    }
    if (sft_run(&o) < 0) return cli_error(NULL);
    return 0;
}
