/*
 * cmd_prefs.c - `llmos prefs <import|export|merge|auto>`: the preference
 * store (data/prefs.h) from the command line: bring judgements in from the
 * common formats, write them out again, merge several labelers' rankings
 * into training pairs with agreement figures, and label automatically.
 */
#include "cli.h"
#include "subcmd.h"

#include "../core/common.h"
#include "../data/prefs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cmd_prefs_auto(int argc, char **argv);    /* cmd_prefs_auto.c */
int cmd_prefs_winrate(int argc, char **argv); /* cmd_prefs_auto.c */


/* ------------------------------------------------------------------------ */

static void import_usage(FILE *f) {
    fprintf(f,
        "usage: llmos prefs import --format FMT --store STORE.jsonl IN.jsonl...\n\n"
        "Appends every line of the input files to the judgement store as one\n"
        "judgement, keeping the original line so that `prefs export` in the same\n"
        "format gives back the same bytes. Formats:\n"
        "  pairs    {\"prompt\", \"chosen\", \"rejected\"} (strings or message lists)\n"
        "  hh       HH-RLHF {\"chosen\", \"rejected\"} transcripts (\\n\\nHuman: ... \\n\\nAssistant: ...)\n"
        "  ranked   {\"prompt\", \"candidates\": [...], \"ranks\": [...]} (1 = best)\n"
        "  store    judgements of another store\n"
        "  --labeler NAME   recorded as the labeler (default: import)\n"
        "  --model NAME     recorded as the model (default: empty)\n\n"
        "example:\n"
        "  llmos prefs import --format hh --store prefs.jsonl hh-train.jsonl\n");
}

static int prefs_import(int argc, char **argv) {
    const char *store = NULL, *labeler = "import", *model = "";
    int fmt = -1;
    const char *ins[64];
    int n_in = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) return import_usage(stdout), 0;
        else if (!strcmp(a, "--format")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if ((fmt = pref_format_parse(v)) < 0) {
                fprintf(stderr, "llmos prefs import: unknown format '%s' (pairs, hh, ranked, store)\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--store")) { if (!(store = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--labeler")) { if (!(labeler = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--model")) { if (!(model = cli_value(argc, argv, &i))) return 2; }
        else if (a[0] == '-' && a[1]) return cli_bad_option("prefs import", a);
        else if (n_in < 64) ins[n_in++] = a;
    }
    if (fmt < 0 || !store || !n_in) {
        fprintf(stderr, "llmos prefs import: --format, --store and an input file are required "
                        "(see llmos prefs import --help)\n");
        return 2;
    }
    char now[24];
    pref_time_now(now);
    /* every input is converted first, then appended at once: all or nothing */
    conv_buf out = {0};
    size_t n_rec[64] = {0};
    int rc = 0;
    for (int k = 0; k < n_in && rc == 0; k++) {
        size_t len;
        char *data = file_read_all(ins[k], &len);
        if (!data) rc = cli_error(NULL);
        else if (pref_import_file((pref_format)fmt, ins[k], data, len, labeler, now, model, &out, &n_rec[k]) < 0)
            rc = cli_error(NULL);
        free(data);
    }
    if (rc == 0 && out.n && pref_store_append_lines(store, out.s, out.n) < 0) rc = cli_error(NULL);
    conv_buf_free(&out);
    for (int k = 0; k < n_in && rc == 0; k++)
        fprintf(stderr, "llmos prefs import: %s: %zu judgements appended to %s\n", ins[k], n_rec[k], store);
    return rc;
}

/* ------------------------------------------------------------------------ */

static void export_usage(FILE *f) {
    fprintf(f,
        "usage: llmos prefs export --format FMT STORE.jsonl [--out FILE]\n\n"
        "Writes every judgement of the store in FMT (pairs, hh, ranked, store):\n"
        "pairs and hh give one line per ordered pair of ranked candidates; skipped\n"
        "or flagged judgements give none. An imported judgement is written as its\n"
        "original line when FMT is its own format (byte-exact round trip).\n"
        "  --out FILE        write atomically to FILE (default: stdout)\n"
        "  --canonical       always write with llmos's writer (json.dumps style)\n"
        "  --conversational  prompts and answers as message lists (pairs, ranked)\n"
        "  --unicode         non-ASCII characters unescaped (json.dumps ensure_ascii=False)\n\n"
        "example:\n"
        "  llmos prefs export --format pairs prefs.jsonl --out pairs.jsonl\n");
}

static int prefs_export(int argc, char **argv) {
    const char *store = NULL, *out = NULL;
    int fmt = -1, canonical = 0, conversational = 0, ascii = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) return export_usage(stdout), 0;
        else if (!strcmp(a, "--format")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if ((fmt = pref_format_parse(v)) < 0) {
                fprintf(stderr, "llmos prefs export: unknown format '%s' (pairs, hh, ranked, store)\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--out")) { if (!(out = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--canonical")) canonical = 1;
        else if (!strcmp(a, "--conversational")) conversational = 1;
        else if (!strcmp(a, "--unicode")) ascii = 0;
        else if (a[0] == '-' && a[1]) return cli_bad_option("prefs export", a);
        else store = a;
    }
    if (fmt < 0 || !store) {
        fprintf(stderr, "llmos prefs export: --format and a store are required (see --help)\n");
        return 2;
    }
    pref_list l = {0};
    if (pref_store_read(store, &l, 0) < 0) return cli_error(NULL);
    conv_buf b = {0};
    size_t lines = 0;
    for (size_t i = 0; i < l.n; i++)
        lines += (size_t)pref_export_rec((pref_format)fmt, &l.items[i], !canonical, conversational,
                                         ascii, &b);
    pref_list_free(&l);
    int rc = 0;
    if (out) {
        if (file_write_atomic(out, b.s ? b.s : "", b.n) < 0) rc = cli_error(NULL);
        else fprintf(stderr, "llmos prefs export: %zu lines to %s\n", lines, out);
    } else if (b.n && fwrite(b.s, 1, b.n, stdout) != b.n) {
        rc = cli_error("cannot write to stdout");
    }
    conv_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */

static void merge_usage(FILE *f) {
    fprintf(f,
        "usage: llmos prefs merge STORE.jsonl... --out PAIRS.jsonl [--ranked FILE]\n\n"
        "Merges the judgements of every labeler by prompt: each pair of candidates\n"
        "gets the votes of all labelers who ordered it; the majority order becomes a\n"
        "training pair (ties give none). Prints the inter-labeler agreement: the\n"
        "share of candidate pairs two labelers both ordered in which they agree,\n"
        "and Cohen's kappa over those comparisons.\n"
        "  --out FILE      merged pairs {\"prompt\", \"chosen\", \"rejected\"}\n"
        "  --ranked FILE   per prompt: candidates, Bradley-Terry scores and ranks\n\n"
        "example:\n"
        "  llmos prefs merge prefs.jsonl --out pairs.jsonl --ranked bt.jsonl\n");
}

static int prefs_merge(int argc, char **argv) {
    const char *out = NULL, *ranked = NULL;
    const char *stores[64];
    int n_st = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) return merge_usage(stdout), 0;
        else if (!strcmp(a, "--out")) { if (!(out = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--ranked")) { if (!(ranked = cli_value(argc, argv, &i))) return 2; }
        else if (a[0] == '-' && a[1]) return cli_bad_option("prefs merge", a);
        else if (n_st < 64) stores[n_st++] = a;
    }
    if (!n_st || !out) {
        fprintf(stderr, "llmos prefs merge: a store and --out are required (see --help)\n");
        return 2;
    }
    pref_list l = {0};
    for (int k = 0; k < n_st; k++)
        if (pref_store_read(stores[k], &l, 0) < 0) {
            pref_list_free(&l);
            return cli_error(NULL);
        }
    atomic_file ar = {0};
    if (ranked && atomic_open(&ar, ranked) < 0) {
        pref_list_free(&l);
        return cli_error(NULL);
    }
    pref_pairs p = {0};
    pref_agreement ag;
    pref_merge(&l, &p, ranked ? ar.f : NULL, &ag);
    int rc = 0;
    if (ranked && atomic_commit(&ar) < 0) rc = cli_error(NULL);
    conv_buf b = {0};
    for (size_t i = 0; i < p.n; i++) {
        pref_rec r = {0};
        char *cands[2] = {p.items[i].chosen, p.items[i].rejected};
        int ranks[2] = {1, 2};
        r.prompt = p.items[i].prompt, r.n_prompt = p.items[i].n_prompt;
        r.cand = cands, r.rank = ranks, r.n_cand = 2;
        pref_export_rec(PREF_FMT_PAIRS, &r, 0, 0, 1, &b);
    }
    if (rc == 0 && file_write_atomic(out, b.s ? b.s : "", b.n) < 0) rc = cli_error(NULL);
    conv_buf_free(&b);
    printf("judgements %zu (%zu unreadable lines skipped), prompts %zu, judged by 2+ labelers %zu\n",
           l.n, l.n_bad, ag.n_prompts, ag.n_multi);
    printf("pairs %zu -> %s\n", p.n, out);
    if (ag.n_comparisons)
        printf("agreement %.3f over %zu comparisons, Cohen's kappa %.3f\n", ag.rate,
               ag.n_comparisons, ag.kappa);
    else
        printf("agreement: no candidate pair was ordered by two labelers\n");
    pref_pairs_free(&p);
    pref_list_free(&l);
    return rc;
}

static const cli_command g_sub[] = {
    {"import", prefs_import, "append judgements from pairs, HH-RLHF or ranked files to a store"},
    {"export", prefs_export, "write a store as pairs, HH-RLHF, ranked or store lines"},
    {"merge", prefs_merge, "merge labelers by prompt into pairs; agreement and Bradley-Terry"},
    {"auto", cmd_prefs_auto, "label automatically: sample K answers, rank them with a checker"},
    {"winrate", cmd_prefs_winrate, "model B versus model A on prompts, judged by a checker"},
};

int cmd_prefs(int argc, char **argv) {
    return subcmd_dispatch("prefs", g_sub, sizeof(g_sub) / sizeof(g_sub[0]), argc, argv);
}
