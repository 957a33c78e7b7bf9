/*
 * cmd_prefs_auto.c - `llmos prefs auto`: the labeling loop without people.
 * For each prompt, K answers are sampled from the chat model and ranked by
 * an automatic judge (data/judge.h); each judgement is appended to the
 * store like a person's, with the labeler "auto:<judge>".
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/conv.h"
#include "../data/judge.h"
#include "../data/prefs.h"
#include "../infer/candidates.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: llmos prefs auto --model CHAT.gguf (--prompts FILE | --arith N) --store STORE.jsonl\n\n"
        "Samples K answers per prompt and ranks them with a checker; every judgement\n"
        "is appended to the store (labeler auto:<judge>). Prompts: the first user turn\n"
        "of each conversation in FILE (its following assistant turn is the reference),\n"
        "or N generated arithmetic questions (\"What is 37 + 45?\").\n"
        "  --judge J       auto (arith when the question is arithmetic, else f1),\n"
        "                  arith, f1, or cmd:COMMAND (an external judge: JSON on\n"
        "                  stdin {prompt, answer, reference}, one number on stdout;\n"
        "                  see docs/preferences.md)\n"
        "  --k K           answers per prompt (4)\n"
        "  --temp T        sampling temperature (1.0)\n"
        "  --max-new N     answer budget in tokens (64)\n"
        "  --limit N       at most N prompts (0 = all)\n"
        "  --skip N        skip the first N prompts\n"
        "  --seed S        sampling and question seed (1)\n"
        "  --threads N     --quiet\n\n"
        "example:\n"
        "  llmos prefs auto --model chat.gguf --prompts chats.jsonl --store prefs.jsonl --k 4\n");
}

static void winrate_usage(FILE *f) {
    fprintf(f,
        "usage: llmos prefs winrate --a A.gguf --b B.gguf (--prompts FILE | --arith N) [options]\n\n"
        "Each model answers every prompt (greedy by default); the judge scores both\n"
        "answers; B wins a prompt when its score is higher (a tie counts one half).\n"
        "Prints B's win rate over A and each model's mean score (for arith: the share\n"
        "of correct answers, pass@1).\n"
        "  --judge J  --temp T (0)  --max-new N (64)  --skip N  --limit N  --seed S (1)\n"
        "  --threads N\n\n"
        "example (questions 2000.. held out from DPO data made with --arith 2000):\n"
        "  llmos prefs winrate --a chat.gguf --b dpo.gguf --arith 2400 --skip 2000 --judge arith\n");
}

int cmd_prefs_winrate(int argc, char **argv) {
    const char *pa = NULL, *pb = NULL;
    cli_prompt_opts po = cli_prompt_defaults(0);
    const cli_opt opts[] = {
        {"--a", NULL, CLI_STR, &pa, 0, 0},
        {"--b", NULL, CLI_STR, &pb, 0, 0},
        {0},
    };
    const int parsed = cli_parse("prefs winrate", argc, argv, opts, cli_prompt_option, &po, winrate_usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!pa || !pb || (!po.prompts == !po.arith)) {
        fprintf(stderr, "llmos prefs winrate: --a, --b and one of --prompts or --arith are required\n");
        return 2;
    }
    judge j;
    conv_list l;
    const int loaded = cli_prompt_load("prefs winrate", &po, &l, &j);
    if (loaded) return loaded;
    cand_gen ga, gb;
    if (cand_gen_open(&ga, pa, (float)po.temp, (uint64_t)po.seed, (int)po.max_new) < 0) {
        conv_list_free(&l);
        return cli_error(NULL);
    }
    if (cand_gen_open(&gb, pb, (float)po.temp, (uint64_t)po.seed, (int)po.max_new) < 0) {
        cand_gen_close(&ga);
        conv_list_free(&l);
        return cli_error(NULL);
    }
    double wins = 0, sa = 0, sb = 0;
    size_t done = 0, nw = 0, nt = 0, nl = 0;
    int rc = 0;
    for (size_t i = (size_t)po.skip; i < l.n && (!po.limit || done < (size_t)po.limit) && rc == 0; i++) {
        const conv *c = &l.items[i];
        const char *ref;
        const int q = conv_question(c, &ref);
        if (q < 0) continue;
        char *xa = cand_gen_sample(&ga, c->msgs, q + 1, NULL), *xb = xa ? cand_gen_sample(&gb, c->msgs, q + 1, NULL) : NULL;
        double va, vb;
        if (!xa || !xb || judge_score(&j, c->msgs, q + 1, xa, ref, &va, NULL) < 0 ||
            judge_score(&j, c->msgs, q + 1, xb, ref, &vb, NULL) < 0)
            rc = -1;
        else {
            done++;
            sa += va, sb += vb;
            if (vb > va) nw++, wins += 1;
            else if (vb == va) nt++, wins += 0.5;
            else nl++;
        }
        free(xa), free(xb);
    }
    if (rc) cli_error(NULL);
    else if (done)
        printf("prompts %zu: B (%s) over A (%s): win rate %.3f (wins %zu, ties %zu, losses %zu; "
               "decided %.3f); mean score A %.4f, B %.4f\n",
               done, pb, pa, wins / (double)done, nw, nt, nl,
               nw + nl ? (double)nw / (double)(nw + nl) : 0.5, sa / (double)done, sb / (double)done);
    cand_gen_close(&ga), cand_gen_close(&gb);
    conv_list_free(&l);
    return rc ? 1 : 0;
}

int cmd_prefs_auto(int argc, char **argv) {
    const char *model_path = NULL, *store = NULL;
    cli_prompt_opts po = cli_prompt_defaults(1.0);
    long k = 4;
    int quiet = 0;
    const cli_opt opts[] = {
        {"--model", NULL, CLI_STR, &model_path, 0, 0},
        {"--store", NULL, CLI_STR, &store, 0, 0},
        {"--k", NULL, CLI_LONG, &k, 2, 64},
        {"--quiet", NULL, CLI_FLAG, &quiet, 0, 0},
        {0},
    };
    const int parsed = cli_parse("prefs auto", argc, argv, opts, cli_prompt_option, &po, usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!model_path || !store || (!po.prompts == !po.arith)) {
        fprintf(stderr, "llmos prefs auto: --model, --store and one of --prompts or --arith are "
                        "required (see --help)\n");
        return 2;
    }
    judge j;
    conv_list l;
    const int loaded = cli_prompt_load("prefs auto", &po, &l, &j);
    if (loaded) return loaded;
    cand_gen g;
    if (cand_gen_open(&g, model_path, (float)po.temp, (uint64_t)po.seed, (int)po.max_new) < 0) {
        conv_list_free(&l);
        return cli_error(NULL);
    }
    size_t done = 0, with_pairs = 0, n_cands = 0, n_best = 0;
    double score_sum = 0, t0 = time_now();
    int rc = 0;
    char now[24];
    char **cands = xcalloc((size_t)k, sizeof *cands);
    double *sc = xcalloc((size_t)k, sizeof *sc);
    int *ranks = xcalloc((size_t)k, sizeof *ranks);
    for (size_t i = (size_t)po.skip; i < l.n && (!po.limit || done < (size_t)po.limit) && rc == 0; i++) {
        const conv *c = &l.items[i];
        const char *ref;
        const int q = conv_question(c, &ref);
        if (q < 0) continue;
        judge_kind used = JUDGE_AUTO;
        for (int m = 0; m < k && rc == 0; m++) {
            if (!(cands[m] = cand_gen_sample(&g, c->msgs, q + 1, NULL))) rc = -1;
            else if (judge_score(&j, c->msgs, q + 1, cands[m], ref, &sc[m], &used) < 0) rc = -1;
        }
        if (rc == 0) {
            double best = sc[0];
            for (int m = 0; m < k; m++) {
                int better = 0;
                for (int o = 0; o < k; o++) better += sc[o] > sc[m];
                ranks[m] = better + 1;
                score_sum += sc[m];
                best = sc[m] > best ? sc[m] : best;
            }
            n_best += best >= 1;
            n_cands += (size_t)k;
            char lab[32];
            snprintf(lab, sizeof lab, "auto:%s", judge_kind_name(used));
            pref_time_now(now);
            pref_rec r = {.labeler = lab, .time = now, .model = (char *)model_path,
                          .prompt = c->msgs, .n_prompt = q + 1, .cand = cands, .rank = ranks,
                          .n_cand = (int)k};
            if (pref_store_append(store, &r) < 0) rc = -1;
            int distinct = 0;
            for (int m = 0; m < k; m++) distinct |= ranks[m] != 1;
            with_pairs += (size_t)distinct;
            done++;
        }
        for (int m = 0; m < k; m++) free(cands[m]), cands[m] = NULL;
        if (!quiet && rc == 0)
            fprintf(stderr, "%sprefs auto: %zu prompts, %.2f/s%s", cli_progress_tty() ? "\r\033[K" : "",
                    done, (double)done / (time_now() - t0 + 1e-9), cli_progress_tty() ? "" : "\n");
    }
    if (!quiet && cli_progress_tty()) fputc('\n', stderr);
    if (rc) cli_error(NULL);
    printf("judgements %zu -> %s; with at least one pair %zu; mean candidate score %.3f; "
           "prompts with a top score (>= 1) %zu\n",
           done, store, with_pairs, n_cands ? score_sum / (double)n_cands : 0.0, n_best);
    free(cands), free(sc), free(ranks);
    cand_gen_close(&g);
    conv_list_free(&l);
    return rc ? 1 : 0;
}
