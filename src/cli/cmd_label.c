/*
 * cmd_label.c - `llmos label`: the terminal front end for people who rank
 * a model's answers. For each prompt it samples K candidates (the same ones
 * for every labeler: the sampler is reseeded from the prompt and --seed),
 * shows the labeling instructions and the candidates, and reads one command
 * per line: a ranking ("CABD", ties with "="), the better of two ("BA"),
 * skip, flag unsafe or spam, or write the ideal answer (appended to an SFT
 * conversations file). Each judgement is appended to the store at once
 * (data/prefs.h); prompts this labeler already judged are skipped, so a
 * session can stop and continue at any time.
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/conv.h"
#include "../data/prefs.h"
#include "../infer/candidates.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: llmos label --model CHAT.gguf --prompts FILE --store STORE.jsonl [options]\n\n"
        "Shows K sampled answers per prompt and records your judgement: type the\n"
        "letters best to worst (CABD; '=' joins ties), two letters for the better of\n"
        "two, s skip, u unsafe, p spam, w write the ideal answer, ? instructions,\n"
        "q quit. Prompts: the first user turn of each conversation in FILE (JSONL,\n"
        "{\"messages\": [...]}). Judgements are appended to the store immediately.\n\n"
        "  --labeler NAME      your name in the store (default: $USER)\n"
        "  --k K               answers per prompt (4)\n"
        "  --temp T            sampling temperature (0.8)\n"
        "  --max-new N         answer budget in tokens (128)\n"
        "  --seed S            candidates depend on (prompt, seed): labelers with the\n"
        "                      same model and seed see the same answers (1)\n"
        "  --instructions FILE the labeling guideline shown first and on '?'\n"
        "                      (default: docs/labeling-instructions.md)\n"
        "  --sft-out FILE      where written ideal answers go (default: STORE.sft.jsonl)\n"
        "  --threads N\n\n"
        "example:\n"
        "  llmos label --model chat.gguf --prompts questions.jsonl --store prefs.jsonl --labeler ann\n");
}

static char *read_line(void) {
    char buf[8192];
    if (!fgets(buf, sizeof buf, stdin)) return NULL;
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    return xstrdup(buf);
}

static char *find_instructions(const char *given) {
    if (given) return xstrdup(given);
    if (access("docs/labeling-instructions.md", R_OK) == 0) return xstrdup("docs/labeling-instructions.md");
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            strcpy(slash, "/docs/labeling-instructions.md");
            if (access(exe, R_OK) == 0) return xstrdup(exe);
        }
    }
    return NULL;
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

static uint64_t prompt_seed(uint64_t seed, const chat_msg *m, int n) {
    uint64_t h = seed * 0x9E3779B97F4A7C15ull + 0x6c6162656c;
    for (int i = 0; i < n; i++)
        for (const char *s = m[i].content; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

int cmd_label(int argc, char **argv) {
    const char *model_path = NULL, *prompts = NULL, *store = NULL, *instr = NULL, *sft_out = NULL;
    const char *labeler = getenv("USER") ? getenv("USER") : "anonymous";
    long k = 4, max_new = 128, n, seed = 1, threads = cli_default_threads();
    double temp = 0.8;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() if (!(v = cli_value(argc, argv, &i))) return 2
#define LONG(lo, hi, dst) do { VAL(); if (parse_long(a, v, lo, hi, &n)) return cli_error(NULL), 2; dst = n; } while (0)
        if (cli_is_help(a)) return usage(stdout), 0;
        else if (!strcmp(a, "--model")) { VAL(); model_path = v; }
        else if (!strcmp(a, "--prompts")) { VAL(); prompts = v; }
        else if (!strcmp(a, "--store")) { VAL(); store = v; }
        else if (!strcmp(a, "--labeler")) { VAL(); labeler = v; }
        else if (!strcmp(a, "--instructions")) { VAL(); instr = v; }
        else if (!strcmp(a, "--sft-out")) { VAL(); sft_out = v; }
        else if (!strcmp(a, "--k")) LONG(2, 26, k);
        else if (!strcmp(a, "--max-new")) LONG(1, 1 << 16, max_new);
        else if (!strcmp(a, "--seed")) LONG(0, 1L << 62, seed);
        else if (!strcmp(a, "--threads")) LONG(1, 4096, threads);
        else if (!strcmp(a, "--temp")) { VAL(); if (parse_double(a, v, &temp) || temp < 0) return cli_error(NULL), 2; }
        else return cli_bad_option("label", a);
#undef VAL
#undef LONG
    }
    if (!model_path || !prompts || !store) {
        fprintf(stderr, "llmos label: --model, --prompts and --store are required (see --help)\n");
        return 2;
    }
    if (!*labeler || strchr(labeler, '"')) {
        fprintf(stderr, "llmos label: bad labeler name '%s'\n", labeler);
        return 2;
    }
    char *instr_path = find_instructions(instr);
    if (instr && access(instr, R_OK) != 0) {
        free(instr_path);
        return cli_error("cannot read instructions '%s'", instr);
    }
    char *sft_path = NULL;
    if (sft_out) sft_path = xstrdup(sft_out);
    else {
        size_t sl = strlen(store);
        sft_path = xmalloc(sl + 16);
        memcpy(sft_path, store, sl + 1);
        if (sl > 6 && !strcmp(store + sl - 6, ".jsonl")) sft_path[sl - 6] = 0;
        strcat(sft_path, ".sft.jsonl");
    }
    conv_list l = {.prompts = 1};
    pref_list done_l = {0};
    int rc = 0;
    if (conv_list_read(&l, prompts) || pref_store_read(store, &done_l, 1) < 0) {
        rc = cli_error(NULL);
        conv_list_free(&l), pref_list_free(&done_l), free(instr_path), free(sft_path);
        return rc;
    }
    model_set_threads((int)threads);
    cand_gen g;
    if (cand_gen_open(&g, model_path, (float)temp, (uint64_t)seed, (int)max_new) < 0) {
        rc = cli_error(NULL);
        conv_list_free(&l), pref_list_free(&done_l), free(instr_path), free(sft_path);
        return rc;
    }
    show_instructions(instr_path);
    printf("\nlabeler %s, %zu prompts, %ld answers each; store %s. Press Enter to start.\n", labeler, l.n,
           k, store);
    fflush(stdout);
    char *line = read_line();
    free(line);
    char **cands = xcalloc((size_t)k, sizeof *cands);
    int *ranks = xcalloc((size_t)k, sizeof *ranks);
    size_t n_judged = 0, n_already = 0;
    int quit = 0;
    for (size_t i = 0; i < l.n && !quit; i++) {
        const conv *c = &l.items[i];
        int q = -1;
        for (int m = 0; m < c->n && q < 0; m++)
            if (c->msgs[m].role == CHAT_USER) q = m;
        if (q < 0) continue;
        /* already judged by this labeler? (a rank, skip or flag; not only an ideal) */
        int seen = 0;
        for (size_t d = 0; d < done_l.n && !seen; d++) {
            const pref_rec *r = &done_l.items[d];
            if (strcmp(r->labeler, labeler) || r->n_prompt != q + 1) continue;
            int same = 1;
            for (int m = 0; m <= q && same; m++)
                same = r->prompt[m].role == c->msgs[m].role && !strcmp(r->prompt[m].content, c->msgs[m].content);
            int judged = r->flags != 0;
            for (int m = 0; m < r->n_cand; m++) judged |= r->rank[m] != 0;
            seen = same && judged;
        }
        if (seen) {
            n_already++;
            continue;
        }
        cand_gen_reseed(&g, prompt_seed((uint64_t)seed, c->msgs, q + 1));
        printf("\n==== prompt %zu/%zu (line %zu) ====\n", i + 1, l.n, c->line);
        fflush(stdout);
        for (int m = 0; m < k; m++)
            if (!(cands[m] = cand_gen_sample(&g, c->msgs, q + 1, NULL))) {
                rc = cli_error(NULL);
                quit = 1;
                break;
            }
        if (quit) break;
        for (int m = 0; m <= q; m++)
            printf("[%s] %s\n", chat_role_name(c->msgs[m].role), c->msgs[m].content);
        for (int m = 0; m < k; m++) printf("---- %c ----\n%s\n", 'A' + m, cands[m]);
        for (;;) {
            printf("---- rank best to worst (e.g. %s), two letters = better of two; "
                   "s skip, u unsafe, p spam, w write ideal, ? help, q quit\n> ",
                   k >= 4 ? "CABD or C=A BD" : k == 3 ? "CAB" : "BA");
            fflush(stdout);
            char *in = read_line();
            if (!in || !strcmp(in, "q")) {
                free(in);
                quit = 1;
                break;
            }
            char now[24];
            pref_time_now(now);
            pref_rec r = {.labeler = (char *)labeler, .time = now, .model = (char *)model_path,
                          .prompt = c->msgs, .n_prompt = q + 1, .cand = cands, .rank = ranks,
                          .n_cand = (int)k};
            for (int m = 0; m < k; m++) ranks[m] = 0;
            int record = 0, next = 0;
            if (!strcmp(in, "?")) show_instructions(instr_path);
            else if (!strcmp(in, "s")) r.flags = PREF_SKIP, record = next = 1;
            else if (!strcmp(in, "u")) r.flags = PREF_UNSAFE, record = next = 1;
            else if (!strcmp(in, "p")) r.flags = PREF_SPAM, record = next = 1;
            else if (!strcmp(in, "w")) {
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
                if (ans.n) {
                    r.ideal = ans.s;
                    record = 1;
                    /* the SFT conversation: the prompt and the written answer */
                    conv_buf sft = {0};
                    conv_buf_puts(&sft, "{\"messages\": [");
                    for (int m = 0; m <= q + 1; m++) {
                        conv_buf_puts(&sft, m ? ", {\"role\": " : "{\"role\": ");
                        pref_json_str(&sft, m <= q ? chat_role_name(c->msgs[m].role) : "assistant", 0);
                        conv_buf_puts(&sft, ", \"content\": ");
                        pref_json_str(&sft, m <= q ? c->msgs[m].content : ans.s, 0);
                        conv_buf_puts(&sft, "}");
                    }
                    conv_buf_puts(&sft, "], \"labeler\": ");
                    pref_json_str(&sft, labeler, 0);
                    conv_buf_puts(&sft, "}\n");
                    if (pref_store_append_lines(sft_path, sft.s, sft.n) < 0) cli_error(NULL);
                    else printf("ideal answer saved to %s; now rank the answers (or s to go on)\n", sft_path);
                    conv_buf_free(&sft);
                }
                if (record && pref_store_append(store, &r) < 0) cli_error(NULL);
                conv_buf_free(&ans);
                record = 0;
            } else {
                int nr = parse_ranking(in, (int)k, ranks);
                if (nr < 2) printf("not understood: '%s' (letters A-%c, each once)\n", in, 'A' + (int)k - 1);
                else record = next = 1;
            }
            free(in);
            if (record) {
                if (pref_store_append(store, &r) < 0) {
                    rc = cli_error(NULL);
                    quit = 1;
                    break;
                }
                n_judged++;
                printf("saved.\n");
            }
            if (next) break;
        }
        for (int m = 0; m < k; m++) free(cands[m]), cands[m] = NULL;
    }
    printf("\n%zu judgements saved to %s this session (%zu prompts judged before). Bye.\n", n_judged, store,
           n_already);
    free(cands), free(ranks);
    cand_gen_close(&g);
    conv_list_free(&l);
    pref_list_free(&done_l);
    free(instr_path), free(sft_path);
    return rc;
}
