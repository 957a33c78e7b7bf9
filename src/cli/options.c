/*
 * options.c - command-line options that several commands share: sampling
 * (generate, chat) and the optimizer's hyperparameters (sft, dpo). See cli.h.
 */
#include "cli.h"

#include "../core/common.h"
#include "../infer/sample.h"
#include "../train/optim.h"

#include <string.h>

const char *const cli_sampling_help =
    "  --temp T              temperature, 0 = greedy (default 0.8)\n"
    "  --top-k K             keep the K most likely tokens, 0 = off (default 40)\n"
    "  --top-p P             nucleus sampling, 1 = off (default 0.95)\n"
    "  --min-p P             drop tokens below P x the top probability (default 0.05)\n"
    "  --repeat-penalty R    penalize recent tokens, 1 = off (default 1.0)\n"
    "  --repeat-last-n N     how many recent tokens to penalize (default 64)\n"
    "  --seed S              random seed (default: from the clock)\n";

int cli_sampling_option(int argc, char **argv, int *i, void *out) {
    sampler_params *p = out;
    const char *a = argv[*i], *v;
    double d;
    long l;
    int is_double = !strcmp(a, "--temp") || !strcmp(a, "--top-p") || !strcmp(a, "--min-p") ||
                    !strcmp(a, "--repeat-penalty");
    int is_long = !strcmp(a, "--top-k") || !strcmp(a, "--repeat-last-n") || !strcmp(a, "--seed");
    if (!is_double && !is_long) return 0;
    if (!(v = cli_value(argc, argv, i))) return -1;
    if (is_double) {
        if (parse_double(a, v, &d)) return cli_error(NULL), -1;
        int ok = !strcmp(a, "--temp") ? d >= 0 : !strcmp(a, "--top-p") ? d > 0 && d <= 1
                 : !strcmp(a, "--min-p") ? d >= 0 && d <= 1 : d > 0;
        if (!ok) return cli_error("option '%s': %g is out of range", a, d), -1;
        if (!strcmp(a, "--temp")) p->temperature = (float)d;
        else if (!strcmp(a, "--top-p")) p->top_p = (float)d;
        else if (!strcmp(a, "--min-p")) p->min_p = (float)d;
        else p->repeat_penalty = (float)d;
        return 1;
    }
    if (parse_long(a, v, 0, !strcmp(a, "--seed") ? 0x7fffffffffffffffL : 1 << 24, &l))
        return cli_error(NULL), -1;
    if (!strcmp(a, "--top-k")) p->top_k = (int)l;
    else if (!strcmp(a, "--repeat-last-n")) p->repeat_last_n = (int)l;
    else p->seed = (uint64_t)l;
    return 1;
}

const char *const cli_hparams_help =
    "  --lr X              peak learning rate\n"
    "  --min-lr-ratio X    final lr as a fraction of the peak (0.1)\n"
    "  --warmup N          warmup steps (default: automatic)\n"
    "  --schedule NAME     cosine, linear or constant (cosine)\n"
    "  --weight-decay X    AdamW decay on 2-D weights    --clip X  gradient-norm clip (1.0)\n"
    "  --beta1 X --beta2 X --eps X   AdamW (0.9, 0.95, 1e-8)\n";

int cli_hparams_option(int argc, char **argv, int *i, void *out) {
    train_hparams *hp = out;
    const char *a = argv[*i], *v;
    double *dst = !strcmp(a, "--lr") ? &hp->lr : !strcmp(a, "--min-lr-ratio") ? &hp->min_ratio
                : !strcmp(a, "--weight-decay") ? &hp->weight_decay : !strcmp(a, "--clip") ? &hp->clip
                : !strcmp(a, "--beta1") ? &hp->beta1 : !strcmp(a, "--beta2") ? &hp->beta2
                : !strcmp(a, "--eps") ? &hp->eps : NULL;
    if (!dst && strcmp(a, "--warmup") && strcmp(a, "--schedule")) return 0;
    if (!(v = cli_value(argc, argv, i))) return -1;
    if (dst) {
        double d;
        if (parse_double(a, v, &d)) return cli_error(NULL), -1;
        if (d < 0 || (dst == &hp->lr && d == 0) || ((dst == &hp->beta1 || dst == &hp->beta2) && d >= 1))
            return cli_error("option '%s': %g is out of range", a, d), -1;
        *dst = d;
    } else if (!strcmp(a, "--warmup")) {
        long n;
        if (parse_long(a, v, 0, 1L << 40, &n)) return cli_error(NULL), -1;
        hp->warmup = n;
    } else {
        int k = sched_from_name(v);
        if (k < 0) return cli_error("option '--schedule': unknown schedule '%s' (cosine, linear, constant)", v), -1;
        hp->sched = (sched_kind)k;
    }
    return 1;
}
