/*
 * cmd_reward.c - `llmos reward <train|best-of>`: a Bradley-Terry reward
 * model (train/reward.h) and best-of-N sampling with it.
 */
#include "cli.h"
#include "subcmd.h"

#include "../core/common.h"
#include "../data/conv.h"
#include "../data/judge.h"
#include "../infer/bestof.h"
#include "../train/reward.h"

#include <stdlib.h>
#include <string.h>

static void train_usage(FILE *f) {
    reward_opts d;
    reward_opts_default(&d);
    fprintf(f,
        "usage: llmos reward train --model CHAT.gguf --data PREFS.jsonl --out RM.gguf [options]\n\n"
        "Trains a reward model (the chat model's transformer with a scalar head on the\n"
        "last token) with the Bradley-Terry loss on chosen/rejected pairs (any format\n"
        "llmos prefs reads). Held out: a hashed 10%% of prompts (20 pairs or more) or\n"
        "--val FILE; accuracy and margin are reported.\n"
        "  --model FILE  --data FILE  --val FILE  --out FILE (rm.gguf)\n");
    cli_train_help(f, &d.run, "pairs per step");
    fprintf(f, "\n"
        "example:\n"
        "  llmos reward train --model chat.gguf --data prefs.jsonl --out rm.gguf --epochs 2\n");
}

static int reward_train_cmd(int argc, char **argv) {
    reward_opts o;
    reward_opts_default(&o);
    o.out_path = "rm.gguf";
    const cli_opt opts[] = {
        {"--model", NULL, CLI_STR, &o.model_path, 0, 0},
        {"--data", NULL, CLI_STR, &o.data_path, 0, 0},
        {"--val", NULL, CLI_STR, &o.val_path, 0, 0},
        {"--out", NULL, CLI_STR, &o.out_path, 0, 0},
        {0},
    };
    const int parsed = cli_parse("reward train", argc, argv, opts, cli_train_option, &o.run, train_usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!o.model_path || !o.data_path) {
        fprintf(stderr, "llmos reward train: --model and --data are required (see --help)\n");
        return 2;
    }
    if (!(o.run.hp.lr > 0) || !(o.run.epochs > 0)) {
        fprintf(stderr, "llmos reward train: --lr and --epochs must be positive\n");
        return 2;
    }
    return reward_train(&o) ? cli_error(NULL) : 0;
}

static void bestof_usage(FILE *f) {
    fprintf(f,
        "usage: llmos reward best-of --model CHAT.gguf --reward RM.gguf (-p TEXT | --prompts FILE | --arith N)\n\n"
        "Samples N answers per prompt and keeps the one the reward model scores\n"
        "highest. With -p, prints that answer. With --prompts/--arith and a --judge,\n"
        "reports the checker's mean score of the best-of-N answer against the first\n"
        "sample (best-of-1).\n"
        "  -n N (16)  --temp T (1.0)  --max-new N (64)  --judge J (auto)  --skip N  --limit N\n"
        "  --seed S  --threads N\n\n"
        "example:\n"
        "  llmos reward best-of --model chat.gguf --reward rm.gguf -p \"What is 12 + 30?\" -n 16\n");
}

static int reward_bestof_cmd(int argc, char **argv) {
    const char *model_path = NULL, *rmp = NULL;
    cli_prompt_opts po = cli_prompt_defaults(1.0);
    long N = 16;
    const cli_opt opts[] = {
        {"--model", NULL, CLI_STR, &model_path, 0, 0},
        {"--reward", NULL, CLI_STR, &rmp, 0, 0},
        {"-p", NULL, CLI_STR, &po.text, 0, 0},
        {"-n", NULL, CLI_LONG, &N, 1, 256},
        {0},
    };
    const int parsed = cli_parse("reward best-of", argc, argv, opts, cli_prompt_option, &po, bestof_usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    const char *text = po.text;
    if (!model_path || !rmp || (!!text + !!po.prompts + !!po.arith) != 1) {
        fprintf(stderr, "llmos reward best-of: --model, --reward and one of -p, --prompts, --arith are required\n");
        return 2;
    }
    judge j;
    conv_list l;
    const int loaded = cli_prompt_load("reward best-of", &po, &l, &j);
    if (loaded) return loaded;
    sampler_params sp = sampler_defaults();
    sp.temperature = (float)po.temp, sp.seed = (uint64_t)po.seed;
    best_of b;
    if (best_of_open(&b, model_path, rmp, &sp, (int)po.max_new, (int)N, 1) < 0) {
        conv_list_free(&l);
        return cli_error(NULL);
    }
    double s_best = 0, s_first = 0, r_best = 0, r_first = 0;
    size_t done = 0;
    int rc = 0;
    for (size_t i = (size_t)po.skip; i < l.n && (!po.limit || done < (size_t)po.limit) && rc == 0; i++) {
        const conv *c = &l.items[i];
        const char *ref;
        const int q = conv_question(c, &ref);
        if (q < 0) continue;
        best_of_set s;
        rc = best_of_chat(&b, c->msgs, q + 1, &s);
        if (rc == 0) {
            if (text) {
                printf("%s\n", s.text[s.best]);
            } else {
                double sb = 0, sf = 0;
                if (judge_score(&j, c->msgs, q + 1, s.text[s.best], ref, &sb, NULL) < 0 ||
                    judge_score(&j, c->msgs, q + 1, s.text[0], ref, &sf, NULL) < 0)
                    rc = -1;
                s_best += sb, s_first += sf, r_best += s.reward[s.best], r_first += s.reward[0];
            }
            done++;
        }
        best_of_set_free(&s);
    }
    if (rc) cli_error(NULL);
    else if (!text && done)
        printf("prompts %zu: checker score best-of-%ld %.4f, best-of-1 %.4f; reward best-of-%ld %.4f, best-of-1 %.4f\n",
               done, N, s_best / (double)done, s_first / (double)done, N, r_best / (double)done,
               r_first / (double)done);
    best_of_close(&b);
    conv_list_free(&l);
    return rc ? 1 : 0;
}

static const cli_command g_sub[] = {
    {"train", reward_train_cmd, "train a Bradley-Terry reward model on preference pairs"},
    {"best-of", reward_bestof_cmd, "sample N answers and keep the one the reward model prefers"},
};

int cmd_reward(int argc, char **argv) {
    return subcmd_dispatch("reward", g_sub, sizeof(g_sub) / sizeof(g_sub[0]), argc, argv);
}
