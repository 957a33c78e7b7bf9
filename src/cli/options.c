/*
 * options.c - command-line options that several commands share: sampling
 * (generate, chat), the optimizer's hyperparameters and the training run
 * (pretrain, sft, dpo, reward train, rl), and the prompts and judge of the
 * commands that answer and score (prefs auto, prefs winrate, reward
 * best-of, rl). See cli.h.
 */
#include "cli.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../data/conv.h"
#include "../data/judge.h"
#include "../infer/sample.h"
#include "../model/train_model.h"
#include "../train/loop.h"

#include <string.h>

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, cli_group_fn group, void *group_dst,
              void (*usage)(FILE *f), const char **positional) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        const int r = group ? group(argc, argv, &i, group_dst) : 0;
        if (r) {
            if (r < 0) return 2;
            continue;
        }
        if (cli_is_help(a)) {
            usage(stdout);
            return 1;
        }
        const cli_opt *o = opts;
        while (o->name && strcmp(a, o->name) && !(o->alias && !strcmp(a, o->alias))) o++;
        if (!o->name) {
            if (a[0] == '-' && a[1]) return cli_bad_option(cmd, a);
            if (!positional || *positional) {
                fprintf(stderr, "llmos %s: unexpected argument '%s'\n", cmd, a);
                return 2;
            }
            *positional = a;
            continue;
        }
        if (o->kind == CLI_FLAG) {
            *(int *)o->dst = 1;
            continue;
        }
        if (!(v = cli_value(argc, argv, &i))) return 2;
        long n;
        if (o->kind == CLI_STR) *(const char **)o->dst = v;
        else if (o->kind == CLI_DOUBLE) {
            if (parse_double(a, v, (double *)o->dst)) return cli_error(NULL), 2;
        } else if (o->kind == CLI_COUNT) {
            if (parse_count(a, v, (double *)o->dst)) return cli_error(NULL), 2;
        } else {
            if (parse_long(a, v, o->lo, o->hi, &n)) return cli_error(NULL), 2;
            if (o->kind == CLI_INT) *(int *)o->dst = (int)n;
            else *(long *)o->dst = n;
        }
    }
    return 0;
}

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
        /* the ranges in which training can work (a larger value ends in a NaN loss) */
        const char *range = dst == &hp->lr ? (d > 0 ? NULL : "(0, inf)") /* t_train_nan diverges on purpose */
                          : dst == &hp->min_ratio ? (d >= 0 && d <= 1 ? NULL : "[0, 1]")
                          : dst == &hp->weight_decay ? (d >= 0 && d <= 10 ? NULL : "[0, 10]")
                          : dst == &hp->beta1 || dst == &hp->beta2 ? (d >= 0 && d < 1 ? NULL : "[0, 1)")
                          : dst == &hp->eps ? (d > 0 && d <= 1 ? NULL : "(0, 1]")
                          : (d >= 0 ? NULL : "[0, inf)");
        if (range) return cli_error("option '%s': %g is out of range %s", a, d, range), -1;
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

int cli_train_option(int argc, char **argv, int *i, void *out) {
    train_run_opts *r = out;
    const char *a = argv[*i], *v;
    int rc = cli_hparams_option(argc, argv, i, &r->hp);
    if (rc) return rc;
    if (!strcmp(a, "--resume")) return r->resume = 1;
    if (!strcmp(a, "--quiet")) return r->quiet = 1;
    if (!strcmp(a, "--zero") && r->data_parallel) return r->zero = 1;
    if (!strcmp(a, "--grad-dump")) return (r->grad_dump = cli_value(argc, argv, i)) ? 1 : -1;
    if (!strcmp(a, "--epochs") && r->takes_epochs) {
        if (!(v = cli_value(argc, argv, i))) return -1;
        if (parse_double(a, v, &r->epochs)) return cli_error(NULL), -1;
        /* epochs x steps per epoch becomes the step count (an int64) */
        if (!(r->epochs > 0 && r->epochs <= 1e6))
            return cli_error("option '%s': %g is out of range (0, 1e6]", a, r->epochs), -1;
        return 1;
    }
    long lo = 0, hi = 1L << 30, n;
    if (!strcmp(a, "--steps") || !strcmp(a, "--stop-after")) lo = 1, hi = 1L << 40;
    else if (!strcmp(a, "--batch") && r->max_batch) lo = 1, hi = r->max_batch;
    else if (!strcmp(a, "--seed")) hi = 0x7fffffffffffffffL;
    else if (!strcmp(a, "--threads")) lo = 1, hi = 4096;
    else if (strcmp(a, "--eval-every") && strcmp(a, "--save-every")) return 0;
    if (!(v = cli_value(argc, argv, i))) return -1;
    if (parse_long(a, v, lo, hi, &n)) return cli_error(NULL), -1;
    if (!strcmp(a, "--steps")) r->steps = n;
    else if (!strcmp(a, "--stop-after")) r->stop_after = n;
    else if (!strcmp(a, "--batch")) r->batch = (int)n;
    else if (!strcmp(a, "--seed")) r->seed = (uint64_t)n;
    else if (!strcmp(a, "--threads")) r->threads = (int)n;
    else if (!strcmp(a, "--eval-every")) r->eval_every = (int)n;
    else r->save_every = (int)n;
    return 1;
}

void cli_train_help(FILE *f, const void *defaults, const char *batch_what) {
    const train_run_opts *d = defaults;
    const train_hparams *hp = &d->hp;
    if (d->steps > 0) fprintf(f, "  --steps N           optimizer steps (%lld)\n", (long long)d->steps);
    else if (d->max_auto_steps > 0)
        fprintf(f, "  --steps N           optimizer steps (default: --epochs over the data, at most %lld)\n",
                (long long)d->max_auto_steps);
    else if (d->takes_epochs) fprintf(f, "  --steps N           optimizer steps (default: --epochs over the data)\n");
    else fprintf(f, "  --steps N           optimizer steps (default: from --tokens)\n");
    if (d->takes_epochs) fprintf(f, "  --epochs X          passes over the data when --steps is not given (%g)\n", d->epochs);
    if (d->max_batch) fprintf(f, "  --batch N           %s (%d)\n", batch_what, d->batch);
    fprintf(f, "  --lr X              peak learning rate (%g)   --min-lr-ratio X  final lr / peak (%g)\n", hp->lr,
            hp->min_ratio);
    if (hp->warmup >= 0) fprintf(f, "  --warmup N          warmup steps (%lld)\n", (long long)hp->warmup);
    else fprintf(f, "  --warmup N          warmup steps (default: %d%% of the steps, at most 100)\n", d->warmup_pct);
    fprintf(f, "  --schedule NAME     cosine, linear or constant (%s)\n", sched_name(hp->sched));
    fprintf(f, "  --weight-decay X    AdamW decay on 2-D weights (%g)\n", hp->weight_decay);
    fprintf(f, "  --clip X            gradient-norm clip, 0 = off (%g)\n", hp->clip);
    fprintf(f, "  --beta1 X --beta2 X --eps X   AdamW (%g, %g, %g)\n", hp->beta1, hp->beta2, hp->eps);
    fprintf(f, "  --eval-every N      evaluation every N steps (%d)\n", d->eval_every);
    fprintf(f, "  --save-every N      checkpoint OUT.ckpt.gguf every N steps (%d; 0: only at the end)\n",
            d->save_every);
    fprintf(f, "  --resume            continue from OUT.ckpt.gguf (bit-identical to an uninterrupted run)\n");
    fprintf(f, "  --stop-after N      stop after step N (tests of --resume)\n");
    if (d->data_parallel)
        fprintf(f, "  --zero              under mpirun: each rank keeps AdamW's state for 1/N of the\n"
                   "                      parameters (ZeRO-1; see docs/distributed.md)\n");
    fprintf(f, "  --seed N            random seed (%llu)   --threads N (default: all cores)   --quiet\n",
            (unsigned long long)d->seed);
}

cli_prompt_opts cli_prompt_defaults(double temp) {
    return (cli_prompt_opts){.judge = "auto", .max_new = 64, .seed = 1, .threads = cli_default_threads(),
                             .temp = temp};
}

int cli_prompt_option(int argc, char **argv, int *i, void *out) {
    cli_prompt_opts *p = out;
    const char *a = argv[*i], *v;
    if (!strcmp(a, "--prompts") || !strcmp(a, "--judge")) {
        if (!(v = cli_value(argc, argv, i))) return -1;
        *(!strcmp(a, "--prompts") ? &p->prompts : &p->judge) = v;
        return 1;
    }
    if (!strcmp(a, "--temp")) {
        if (!(v = cli_value(argc, argv, i))) return -1;
        if (parse_double(a, v, &p->temp)) return cli_error(NULL), -1;
        if (p->temp < 0) return cli_error("option '--temp': %g is out of range", p->temp), -1;
        return 1;
    }
    long *dst, lo = 0, hi = 1L << 40;
    if (!strcmp(a, "--max-new")) dst = &p->max_new, lo = 1, hi = 1 << 16;
    else if (!strcmp(a, "--skip")) dst = &p->skip;
    else if (!strcmp(a, "--limit")) dst = &p->limit;
    else if (!strcmp(a, "--arith")) dst = &p->arith, lo = 1, hi = 1L << 30;
    else if (!strcmp(a, "--seed")) dst = &p->seed, hi = 1L << 62;
    else if (!strcmp(a, "--threads")) dst = &p->threads, lo = 1, hi = 4096;
    else return 0;
    if (!(v = cli_value(argc, argv, i))) return -1;
    return parse_long(a, v, lo, hi, dst) ? cli_error(NULL), -1 : 1;
}

int cli_prompt_load(const char *cmd, const cli_prompt_opts *p, void *out, void *judge_out) {
    conv_list *l = out;
    *l = (conv_list){.prompts = 1};
    if (cli_judge(cmd, p->judge, judge_out) < 0) return 2;
    if (p->prompts && conv_list_read(l, p->prompts)) {
        conv_list_free(l);
        return cli_error(NULL);
    }
    if (p->arith) cli_arith_prompts(l, p->arith, (uint64_t)p->seed);
    if (p->text) {
        if (l->n == l->cap) l->items = xrealloc(l->items, (l->cap = l->n + 1) * sizeof *l->items);
        conv *c = &l->items[l->n++];
        c->msgs = xcalloc(1, sizeof *c->msgs);
        c->msgs[0].role = CHAT_USER, c->msgs[0].content = xstrdup(p->text);
        c->n = 1, c->line = 0;
    }
    if ((size_t)p->skip >= l->n) {
        if (l->n) fprintf(stderr, "llmos %s: --skip %ld leaves none of the %zu prompts\n", cmd, p->skip, l->n);
        else fprintf(stderr, "llmos %s: no prompts to answer\n", cmd);
        conv_list_free(l);
        return 1;
    }
    model_set_threads((int)p->threads);
    return 0;
}

void cli_arith_prompts(void *out, long n, uint64_t seed) {
    conv_list *l = out;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    static const char ops[] = "+-*";
    for (long i = 0; i < n; i++) {
        int a = (int)(train_rng_next(&s) % 100), b = (int)(train_rng_next(&s) % 100);
        char q[64];
        snprintf(q, sizeof q, "What is %d %c %d?", a, ops[train_rng_next(&s) % 3], b);
        if (l->n == l->cap) l->items = xrealloc(l->items, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof *l->items);
        conv *c = &l->items[l->n++];
        c->msgs = xcalloc(1, sizeof *c->msgs);
        c->msgs[0].role = CHAT_USER, c->msgs[0].content = xstrdup(q);
        c->n = 1, c->line = (size_t)i + 1;
    }
}

int cli_judge(const char *cmd, const char *name, void *out) {
    judge *j = out;
    j->kind = JUDGE_AUTO, j->cmd = NULL;
    if (!strcmp(name, "arith")) j->kind = JUDGE_ARITH;
    else if (!strcmp(name, "f1")) j->kind = JUDGE_F1;
    else if (!strncmp(name, "cmd:", 4) && name[4]) j->kind = JUDGE_CMD, j->cmd = name + 4;
    else if (strcmp(name, "auto")) {
        fprintf(stderr, "llmos %s: unknown judge '%s' (auto, arith, f1, cmd:COMMAND)\n", cmd, name);
        return -1;
    }
    return 0;
}

int cli_cache_type(const char *cmd, const char *v) {
    if (!v || !strcmp(v, "f16")) return TYPE_F16;
    if (!strcmp(v, "f32")) return TYPE_F32;
    cli_error("%s: --cache-type wants f16 or f32 (got '%s')", cmd, v);
    return -1;
}
