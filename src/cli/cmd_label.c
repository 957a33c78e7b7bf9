/*
 * cmd_label.c - `llmos label`: the front ends for people who rank a model's
 * answers. For each prompt K candidates are sampled (the same ones for every
 * labeler: the sampler is reseeded from the prompt and --seed) and shown
 * with the labeling instructions; the labeler ranks them ("CABD", ties with
 * "="), picks the better of two ("BA"), skips, flags unsafe or spam, or
 * writes the ideal answer (appended to an SFT conversations file). Each
 * judgement is appended to the store at once (data/prefs.h); prompts this
 * labeler already judged are skipped, so a session can stop and continue at
 * any time. This file parses the options and runs the terminal front end;
 * --web serves the same session as a page (label_web.c); what both share is
 * in label_task.c.
 */
#include "cli.h"
#include "label.h"

#include "../core/common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: llmos label --model CHAT.gguf --prompts FILE --store STORE.jsonl [options]\n"
        "       llmos label --web [--port N] [--host ADDR] --model ... (same options)\n\n"
        "Shows K sampled answers per prompt and records your judgement: type the\n"
        "letters best to worst (CABD; '=' joins ties), two letters for the better of\n"
        "two, s skip, u unsafe, p spam, w write the ideal answer, ? instructions,\n"
        "q quit. Prompts: the first user turn of each conversation in FILE (JSONL,\n"
        "{\"messages\": [...]}). Judgements are appended to the store immediately.\n"
        "With --web the same work is done in a browser: open the printed URL, rank\n"
        "the answers by clicking their rank numbers or typing the letters (two\n"
        "ranked = better of two), write an ideal answer, tick unsafe/spam, Save;\n"
        "or Skip. Ctrl-C stops.\n\n"
        "  --labeler NAME      your name in the store (default: $USER)\n"
        "  --k K               answers per prompt (4)\n"
        "  --temp T            sampling temperature (0.8)\n"
        "  --max-new N         answer budget in tokens (128)\n"
        "  --seed S            candidates depend on (prompt, seed): labelers with the\n"
        "                      same model and seed see the same answers, in both\n"
        "                      front ends (1)\n"
        "  --instructions FILE the labeling guideline shown first and on '?', and\n"
        "                      beside the task on the page\n"
        "                      (default: docs/labeling-instructions.md)\n"
        "  --sft-out FILE      where written ideal answers go (default: STORE.sft.jsonl)\n"
        "  --threads N\n"
        "  --web               serve the labeling page instead of the terminal\n"
        "  --port N            the page's port (8080; 0 = any free port)\n"
        "  --host ADDR         the address to listen on (127.0.0.1; 0.0.0.0 opens\n"
        "                      the page to the network, without any login)\n\n"
        "examples:\n"
        "  llmos label --model chat.gguf --prompts questions.jsonl --store prefs.jsonl --labeler ann\n"
        "  llmos label --web --port 8080 --model chat.gguf --prompts questions.jsonl \\\n"
        "      --store prefs.jsonl --labeler ann      # then open http://127.0.0.1:8080/\n");
}

static char *read_line(void) {
    char buf[8192];
    if (!fgets(buf, sizeof buf, stdin)) return NULL;
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    return xstrdup(buf);
}

static void show_instructions(const char *path) {
    size_t len;
    char *s = path ? file_read_all(path, &len) : NULL;
    if (!s) {
        printf("(no labeling instructions found; pass --instructions FILE)\n");
        return;
    }
    printf("---- %s ----\n%s\n---- end of instructions ----\n", path, s);
    free(s);
}

/* Parses a ranking of k letters: "CABD", "C=A BD", "BA", "b>a". Fills ranks
 * (0 = not ranked). Returns the number of ranked letters, or -1. */
static int parse_ranking(const char *s, int k, int *ranks) {
    for (int i = 0; i < k; i++) ranks[i] = 0;
    int rank = 0, n = 0, tie = 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '>' || *p == ',') continue;
        if (*p == '=') {
            if (!n) return -1;
            tie = 1;
            continue;
        }
        int c = toupper((unsigned char)*p) - 'A';
        if (c < 0 || c >= k || ranks[c]) return -1;
        if (!tie) rank = n + 1;
        ranks[c] = rank;
        n++;
        tie = 0;
    }
    return tie ? -1 : n;
}

/* The ideal answer typed on the following lines, up to a line holding only
 * '.'; NULL when it is empty. */
static char *read_ideal(void) {
    printf("write the ideal answer; end with a line holding only '.'\n");
    fflush(stdout);
    conv_buf ans = {0};
    char *al;
    while ((al = read_line()) && strcmp(al, ".")) {
        if (ans.n) conv_buf_puts(&ans, "\n");
        conv_buf_puts(&ans, al);
        free(al);
    }
    free(al);
    if (!ans.n) conv_buf_free(&ans);
    return ans.s;
}

static int label_terminal(label_session *s) {
    const label_options *o = s->o;
    const conv_list *l = &s->prompts;
    show_instructions(s->instr_path);
    printf("\nlabeler %s, %zu prompts, %d answers each; store %s. Press Enter to start.\n", o->labeler, l->n,
           o->k, o->store);
    fflush(stdout);
    free(read_line());
    int *ranks = xcalloc((size_t)o->k, sizeof *ranks);
    size_t n_judged = 0, n_already = 0;
    int quit = 0, rc = 0;
    for (size_t i = 0; i < l->n && !quit; i++) {
        if (!label_prompt_len(s, i)) continue;
        if (label_already_judged(s, i)) {
            n_already++;
            continue;
        }
        printf("\n==== prompt %zu/%zu (line %zu) ====\n", i + 1, l->n, l->items[i].line);
        fflush(stdout);
        label_task t;
        if (label_task_sample(s, i, &t) < 0) {
            rc = cli_error(NULL);
            break;
        }
        for (int m = 0; m < t.n_prompt; m++)
            printf("[%s] %s\n", chat_role_name(t.conv->msgs[m].role), t.conv->msgs[m].content);
        for (int m = 0; m < o->k; m++) printf("---- %c ----\n%s\n", 'A' + m, t.cand[m]);
        for (;;) {
            printf("---- rank best to worst (e.g. %s), two letters = better of two; "
                   "s skip, u unsafe, p spam, w write ideal, ? help, q quit\n> ",
                   o->k >= 4 ? "CABD or C=A BD" : o->k == 3 ? "CAB" : "BA");
            fflush(stdout);
            char *in = read_line();
            if (!in || !strcmp(in, "q")) {
                free(in);
                quit = 1;
                break;
            }
            for (int m = 0; m < o->k; m++) ranks[m] = 0;
            unsigned flags = 0;
            int record = 0;
            if (!strcmp(in, "?")) show_instructions(s->instr_path);
            else if (!strcmp(in, "s")) flags = PREF_SKIP, record = 1;
            else if (!strcmp(in, "u")) flags = PREF_UNSAFE, record = 1;
            else if (!strcmp(in, "p")) flags = PREF_SPAM, record = 1;
            else if (!strcmp(in, "w")) {
                /* the ideal answer is saved at once; ranking follows */
                char *ideal = read_ideal();
                if (ideal && label_task_save(s, &t, ranks, 0, ideal) < 0) cli_error(NULL);
                else if (ideal) printf("ideal answer saved to %s; now rank the answers (or s to go on)\n", s->sft_path);
                free(ideal);
            } else if (parse_ranking(in, o->k, ranks) < 2)
                printf("not understood: '%s' (letters A-%c, each once)\n", in, 'A' + o->k - 1);
            else record = 1;
            free(in);
            if (record) {
                if (label_task_save(s, &t, ranks, flags, NULL) < 0) {
                    rc = cli_error(NULL);
                    quit = 1;
                    break;
                }
                n_judged++;
                printf("saved.\n");
                break;
            }
        }
        label_task_release(&t);
    }
    printf("\n%zu judgements saved to %s this session (%zu prompts judged before). Bye.\n", n_judged, o->store,
           n_already);
    free(ranks);
    return rc;
}

int cmd_label(int argc, char **argv) {
    label_options o = {.labeler = getenv("USER") ? getenv("USER") : "anonymous", .k = 4, .max_new = 128,
                       .seed = 1, .threads = cli_default_threads(), .temp = 0.8};
    const char *host = NULL;
    long n, port = -1;
    int web = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() if (!(v = cli_value(argc, argv, &i))) return 2
#define LONG(lo, hi, dst) do { VAL(); if (parse_long(a, v, lo, hi, &n)) return cli_error(NULL), 2; dst = n; } while (0)
        if (cli_is_help(a)) return usage(stdout), 0;
        else if (!strcmp(a, "--model")) { VAL(); o.model_path = v; }
        else if (!strcmp(a, "--prompts")) { VAL(); o.prompts_path = v; }
        else if (!strcmp(a, "--store")) { VAL(); o.store = v; }
        else if (!strcmp(a, "--labeler")) { VAL(); o.labeler = v; }
        else if (!strcmp(a, "--instructions")) { VAL(); o.instructions = v; }
        else if (!strcmp(a, "--sft-out")) { VAL(); o.sft_out = v; }
        else if (!strcmp(a, "--k")) LONG(2, 26, o.k);
        else if (!strcmp(a, "--max-new")) LONG(1, 1 << 16, o.max_new);
        else if (!strcmp(a, "--seed")) LONG(0, 1L << 62, o.seed);
        else if (!strcmp(a, "--threads")) LONG(1, 4096, o.threads);
        else if (!strcmp(a, "--temp")) { VAL(); if (parse_double(a, v, &o.temp) || o.temp < 0) return cli_error(NULL), 2; }
        else if (!strcmp(a, "--web")) web = 1;
        else if (!strcmp(a, "--port")) LONG(0, 65535, port);
        else if (!strcmp(a, "--host")) { VAL(); host = v; }
        else return cli_bad_option("label", a);
#undef VAL
#undef LONG
    }
    if (!o.model_path || !o.prompts_path || !o.store) {
        fprintf(stderr, "llmos label: --model, --prompts and --store are required (see --help)\n");
        return 2;
    }
    if (!*o.labeler || strchr(o.labeler, '"')) {
        fprintf(stderr, "llmos label: bad labeler name '%s'\n", o.labeler);
        return 2;
    }
    if (!web && (host || port >= 0)) {
        fprintf(stderr, "llmos label: --port and --host go with --web\n");
        return 2;
    }
    if (web) return label_web_main(&o, host ? host : "127.0.0.1", port >= 0 ? (int)port : 8080);
    label_session s;
    if (label_session_open(&s, &o) < 0) return cli_error(NULL);
    int rc = label_terminal(&s);
    label_session_close(&s);
    return rc;
}
