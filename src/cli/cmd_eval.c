/*
 * cmd_eval.c - `llmos eval MODEL... --data HELDOUT.jsonl`: base versus
 * assistant on held-out questions (see infer/chat_eval.h): the share of
 * replies in the assistant's form, token F1 and exact match against the
 * reference answers, and a few answers side by side.
 */
#include "cli.h"

#include "../core/common.h"
#include "../infer/chat_eval.h"
#include "../model/model.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: llmos eval MODEL.gguf... --data CHATS.jsonl [options]\n\n"
        "Each model answers the first user question of every conversation (greedy,\n"
        "with the chat template). Reported per model: the share of replies in the\n"
        "assistant's form (an answer closed by the end-of-turn token), the mean\n"
        "token F1 and the exact-match rate against the reference answer.\n\n"
        "  --data FILE     conversations with reference answers (e.g. the held-out\n"
        "                  file of llmos data chats: subjects never fine-tuned on)\n"
        "  --limit N       at most N questions (200; 0 = all)\n"
        "  --max-new N     reply budget in tokens (96)\n"
        "  --show N        print N questions with every model's answer (3)\n"
        "  --out FILE      every question, reference and reply as JSONL\n"
        "  --threads N     (default: all cores)   --quiet\n\n"
        "example:\n"
        "  llmos eval base.gguf chat.gguf --data chats.heldout.jsonl --limit 200\n");
}

static void print_cut(const char *label, const char *s, int max) {
    int n = (int)strlen(s);
    printf("  %-10s ", label);
    for (int i = 0; i < n && i < max; i++) putchar(s[i] == '\n' ? ' ' : s[i]);
    printf("%s\n", n > max ? " ..." : "");
}

int cmd_eval(int argc, char **argv) {
    const char *data = NULL, *out = NULL;
    const char *models[16];
    int n_models = 0;
    chat_eval_opts o = {.max_new = 96, .limit = 200};
    long n, show = 3, threads = cli_default_threads();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() if (!(v = cli_value(argc, argv, &i))) return 2
#define LONG(lo, hi) do { VAL(); if (parse_long(a, v, lo, hi, &n)) return cli_error(NULL), 2; } while (0)
        if (cli_is_help(a)) { usage(stdout); return 0; }
        else if (!strcmp(a, "--data")) { VAL(); data = v; }
        else if (!strcmp(a, "--out")) { VAL(); out = v; }
        else if (!strcmp(a, "--limit")) { LONG(0, 1L << 30); o.limit = (int)n; }
        else if (!strcmp(a, "--max-new")) { LONG(1, 1 << 16); o.max_new = (int)n; }
        else if (!strcmp(a, "--show")) { LONG(0, 1 << 20); show = n; }
        else if (!strcmp(a, "--threads")) { LONG(1, 4096); threads = n; }
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else if (a[0] == '-' && a[1]) return cli_bad_option("eval", a);
        else if (n_models < (int)ARRAY_LEN(models)) models[n_models++] = a;
        else { fprintf(stderr, "llmos eval: at most %zu models\n", ARRAY_LEN(models)); return 2; }
#undef VAL
#undef LONG
    }
    if (!data || !n_models) {
        fprintf(stderr, "llmos eval: a model and --data are required (see llmos eval --help)\n");
        return 2;
    }
    model_set_threads((int)threads);
    conv_list l = {0};
    if (conv_list_read(&l, data)) {
        conv_list_free(&l);
        return cli_error(NULL);
    }
    chat_eval_result res[16];
    int rc = 0, done = 0;
    for (int k = 0; k < n_models; k++, done++)
        if (chat_eval_model(models[k], &l, &o, &res[k])) {
            rc = cli_error(NULL);
            break;
        }
    if (!rc) {
        printf("%-28s %9s %8s %7s %7s %8s\n", "model", "questions", "form", "F1", "exact", "time");
        for (int k = 0; k < n_models; k++) {
            const chat_eval_result *r = &res[k];
            double d = r->n ? (double)r->n : 1;
            printf("%-28s %9zu %7.1f%% %7.3f %6.1f%% %7.1fs\n", models[k], r->n,
                   100.0 * r->n_form / d, r->f1_sum / d, 100.0 * r->n_exact / d, r->seconds);
        }
        /* examples: the questions every model answered are the same ones */
        size_t n_q = res[0].n;
        for (int k = 1; k < n_models; k++) n_q = MIN(n_q, res[k].n);
        for (size_t q = 0; q < n_q && q < (size_t)show; q++) {
            const conv *c = &l.items[res[0].conv_index[q]];
            int u = 0;
            while (c->msgs[u].role != CHAT_USER) u++;
            printf("\n");
            print_cut("question", c->msgs[u].content, 160);
            print_cut("reference", c->msgs[u + 1].content, 160);
            for (int k = 0; k < n_models; k++) {
                char label[64];
                const char *base = strrchr(models[k], '/');
                snprintf(label, sizeof label, "%s", base ? base + 1 : models[k]);
                print_cut(label, res[k].replies[q], 160);
            }
        }
        if (out) {
            atomic_file af;
            if (atomic_open(&af, out)) rc = cli_error(NULL);
            else {
                conv_buf b = {0};
                for (size_t q = 0; q < n_q; q++) {
                    const conv *c = &l.items[res[0].conv_index[q]];
                    int u = 0;
                    while (c->msgs[u].role != CHAT_USER) u++;
                    b.n = 0;
                    conv_buf_puts(&b, "{\"question\": ");
                    conv_buf_json_str(&b, c->msgs[u].content);
                    conv_buf_puts(&b, ", \"reference\": ");
                    conv_buf_json_str(&b, c->msgs[u + 1].content);
                    conv_buf_puts(&b, ", \"answers\": [");
                    for (int k = 0; k < n_models; k++) {
                        char num[96];
                        conv_buf_puts(&b, k ? ", {\"model\": " : "{\"model\": ");
                        conv_buf_json_str(&b, models[k]);
                        conv_buf_puts(&b, ", \"reply\": ");
                        conv_buf_json_str(&b, res[k].replies[q]);
                        snprintf(num, sizeof num, ", \"form\": %s, \"f1\": %.4f}",
                                 res[k].in_form[q] ? "true" : "false", res[k].f1[q]);
                        conv_buf_puts(&b, num);
                    }
                    conv_buf_puts(&b, "]}\n");
                    fwrite(b.s, 1, b.n, af.f);
                }
                conv_buf_free(&b);
                if (atomic_commit(&af)) rc = cli_error(NULL);
            }
        }
    }
    for (int k = 0; k < done; k++) chat_eval_result_free(&res[k]);
    conv_list_free(&l);
    return rc;
}
