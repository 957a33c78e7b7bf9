/*
 * cmd_data_chats.c - `llmos data chats`: build question/answer
 * conversations for supervised fine-tuning from Debian's reference data
 * (see data/qa.h).
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/qa.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: llmos data chats [--out chats.jsonl] [--heldout FILE] [--sources a,b,...]\n"
            "                        [--heldout-frac 0.05] [--max-per-source N] [--seed N] [--quiet]\n\n"
            "Turns structured reference data into conversations (JSONL, one\n"
            "{\"messages\": [...], \"source\", \"subject\"} per line). Subjects (words,\n"
            "countries, elements...) are split by a hash of their name: a held-out\n"
            "subject never appears in the training file. The held-out file defaults to\n"
            "OUT with .heldout.jsonl in place of .jsonl.\n\n"
            "  --out FILE            training conversations (chats.jsonl)\n"
            "  --heldout FILE        held-out subjects (OUT.heldout.jsonl); 'none' for no split\n"
            "  --heldout-frac X      share of subjects held out (0.05)\n"
            "  --sources LIST        comma-separated sources (all)\n"
            "  --max-per-source N    at most N conversations per source\n"
            "  --max-answer N        FAQ answers are cut to N bytes at a paragraph (1500)\n"
            "  --seed N              phrasing choices (1)\n\n"
            "sources:\n");
    qa_list_sources(f);
    fprintf(f, "\nexample:\n  llmos data chats --out chats.jsonl --sources wordnet,elements,countries\n");
}

int cmd_data_chats(int argc, char **argv) {
    qa_opts o;
    qa_opts_default(&o);
    const char *held = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long n;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--out")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            o.out_path = v;
        } else if (!strcmp(a, "--heldout")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            held = v;
        } else if (!strcmp(a, "--sources")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            o.sources = v;
        } else if (!strcmp(a, "--heldout-frac")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_double(a, v, &o.heldout_frac) || o.heldout_frac < 0 || o.heldout_frac > 1) {
                fprintf(stderr, "llmos data chats: --heldout-frac must be in [0, 1]\n");
                return 2;
            }
        } else if (!strcmp(a, "--max-per-source")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 1, 1L << 40, &o.max_per_source)) return cli_error(NULL) + 1;
        } else if (!strcmp(a, "--max-answer")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 64, 1L << 20, &n)) return cli_error(NULL) + 1;
            o.max_answer_chars = (size_t)n;
        } else if (!strcmp(a, "--seed")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 0, 1L << 62, &n)) return cli_error(NULL) + 1;
            o.seed = (uint64_t)n;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
        } else {
            return cli_bad_option("data chats", a);
        }
    }
    char *held_default = NULL;
    if (!held) {
        size_t n = strlen(o.out_path);
        const char *base_end = n > 6 && !strcmp(o.out_path + n - 6, ".jsonl") ? o.out_path + n - 6
                                                                                 : o.out_path + n;
        held_default = xmalloc(n + 16);
        sprintf(held_default, "%.*s.heldout.jsonl", (int)(base_end - o.out_path), o.out_path);
        o.heldout_path = held_default;
    } else if (strcmp(held, "none")) {
        o.heldout_path = held;
    }
    qa_stats st;
    double t0 = time_now();
    int rc = qa_build(&o, &st);
    if (rc) {
        free(held_default);
        return cli_error(NULL);
    }
    printf("%-11s %12s %10s %10s\n", "source", "conversations", "held out", "subjects");
    for (int i = 0; i < st.n_src; i++)
        printf("%-11s %12zu %10zu %10zu\n", st.src[i].name, st.src[i].n_train + st.src[i].n_heldout,
               st.src[i].n_heldout, st.src[i].n_subjects);
    printf("%-11s %12zu %10zu\n", "total", st.n_train + st.n_heldout, st.n_heldout);
    printf("wrote %s (%zu conversations)", o.out_path, st.n_train);
    if (o.heldout_path) printf(" and %s (%zu held out)", o.heldout_path, st.n_heldout);
    printf(" in %.1f s\n", time_now() - t0);
    free(held_default);
    return 0;
}
