/*
 * cmd_data_stats.c - `llmos data stats DIR [--tokenizer FILE.gguf]`:
 * documents, bytes (and tokens, with a tokenizer) per source and split of
 * a corpus written by `llmos data build`.
 */
#include "cli.h"

#include "../core/common.h"
#include "../io/gguf.h"
#include "../tokenizer/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name, *license;
    uint64_t docs[2], bytes[2], tokens[2];
} stat_src;

typedef struct {
    stat_src *s;
    int n, cap;
} stat_tab;

static int stat_find(stat_tab *t, const char *name, const char *license) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->s[i].name, name)) return i;
    if (t->n == t->cap) t->s = xrealloc(t->s, (size_t)(t->cap = t->cap ? t->cap * 2 : 16) * sizeof *t->s);
    memset(&t->s[t->n], 0, sizeof t->s[t->n]);
    t->s[t->n].name = xstrdup(name);
    t->s[t->n].license = xstrdup(license);
    return t->n++;
}

static int cmp_stat_name(const void *a, const void *b) {
    return strcmp(((const stat_src *)a)->name, ((const stat_src *)b)->name);
}

#define BATCH 2048

/* Reads one JSONL file, adding to split column `col`. Returns 0 or -1. */
static int stats_file(const char *path, int col, stat_tab *t, const tokenizer *tok, int threads, uint64_t *bad) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open '%s': %m", path);
    char *line = NULL;
    size_t cap = 0;
    char *texts[BATCH];
    size_t lens[BATCH];
    int srcs[BATCH];
    uint64_t ntok[BATCH];
    int n = 0, eof = 0;
    while (!eof) {
        ssize_t got = getline(&line, &cap, f);
        if (got < 0) eof = 1;
        else if (got > 1) {
            cJSON *j = cJSON_ParseWithLength(line, (size_t)got);
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "source");
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "license");
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "text");
            if (cJSON_IsString(s) && cJSON_IsString(x)) {
                int si = stat_find(t, s->valuestring, cJSON_IsString(l) ? l->valuestring : "unknown");
                size_t len = strlen(x->valuestring);
                t->s[si].docs[col]++;
                t->s[si].bytes[col] += len;
                if (tok) {
                    texts[n] = xstrndup(x->valuestring, len);
                    lens[n] = len;
                    srcs[n++] = si;
                }
            } else {
                (*bad)++;
            }
            cJSON_Delete(j);
        }
        if (tok && (n == BATCH || (eof && n))) {
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads)
            for (int k = 0; k < n; k++) {
                int *ids = NULL;
                ntok[k] = tok_encode(tok, texts[k], lens[k], 0, 0, &ids);
                free(ids);
            }
            for (int k = 0; k < n; k++) {
                t->s[srcs[k]].tokens[col] += ntok[k];
                free(texts[k]);
            }
            n = 0;
        }
    }
    free(line);
    int err = ferror(f);
    fclose(f);
    if (err) return err_set("cannot read '%s'", path);
    return 0;
}

int cmd_data_stats(int argc, char **argv) {
    const char *dir = NULL, *tokp = NULL;
    int threads = cli_default_threads();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: llmos data stats DIR [--tokenizer FILE.gguf] [--threads N]\n"
                   "  DIR holds train.jsonl and val.jsonl from `llmos data build`.\n"
                   "  --tokenizer FILE  also count tokens (any GGUF with tokenizer.ggml.* metadata)\n"
                   "example: llmos data stats data/corpus --tokenizer out/tok.gguf\n");
            return 0;
        } else if (!strcmp(argv[i], "--tokenizer")) {
            if (!(tokp = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(argv[i], "--threads")) {
            const char *v = cli_value(argc, argv, &i);
            long l;
            if (!v) return 2;
            if (parse_long("--threads", v, 1, 1024, &l)) return cli_error(NULL) * 2;
            threads = (int)l;
        } else if (argv[i][0] == '-') return cli_bad_option("data stats", argv[i]);
        else if (!dir) dir = argv[i];
        else return cli_bad_option("data stats", argv[i]);
    }
    if (!dir) {
        cli_error("data stats: missing DIR (see llmos data stats --help)");
        return 2;
    }
    tokenizer *tok = NULL;
    if (tokp) {
        gguf_file *g = gguf_open(tokp);
        if (!g) return cli_error(NULL);
        tok = tok_from_gguf(g);
        gguf_close(g);
        if (!tok) return cli_error(NULL);
    }
    stat_tab t = {0};
    uint64_t bad = 0;
    int rc = 0;
    static const char *files[2] = {"train.jsonl", "val.jsonl"};
    for (int col = 0; col < 2 && rc == 0; col++) {
        size_t pl = strlen(dir) + 16;
        char *p = xmalloc(pl);
        snprintf(p, pl, "%s/%s", dir, files[col]);
        if (stats_file(p, col, &t, tok, threads, &bad) != 0) rc = cli_error(NULL);
        free(p);
    }
    if (rc == 0) {
        if (t.n) qsort(t.s, (size_t)t.n, sizeof *t.s, cmp_stat_name);
        printf("%-18s %-26s %10s %10s %10s %8s %8s%s\n", "source", "license", "train docs", "train MB", tok ? "train tok" : "",
               "val docs", "val MB", tok ? "    val tok" : "");
        uint64_t tot[6] = {0};
        for (int i = 0; i < t.n; i++) {
            stat_src *s = &t.s[i];
            char tk[32] = "", vk[32] = "";
            if (tok) {
                snprintf(tk, sizeof tk, "%llu", (unsigned long long)s->tokens[0]);
                snprintf(vk, sizeof vk, " %10llu", (unsigned long long)s->tokens[1]);
            }
            printf("%-18.18s %-26.26s %10llu %10.3f %10s %8llu %8.3f%s\n", s->name, s->license,
                   (unsigned long long)s->docs[0], s->bytes[0] / 1e6, tk, (unsigned long long)s->docs[1],
                   s->bytes[1] / 1e6, vk);
            uint64_t v[6] = {s->docs[0], s->bytes[0], s->tokens[0], s->docs[1], s->bytes[1], s->tokens[1]};
            for (int k = 0; k < 6; k++) tot[k] += v[k];
        }
        char tk[32] = "", vk[32] = "";
        if (tok) {
            snprintf(tk, sizeof tk, "%llu", (unsigned long long)tot[2]);
            snprintf(vk, sizeof vk, " %10llu", (unsigned long long)tot[5]);
        }
        printf("%-18s %-26s %10llu %10.3f %10s %8llu %8.3f%s\n", "total", "", (unsigned long long)tot[0],
               tot[1] / 1e6, tk, (unsigned long long)tot[3], tot[4] / 1e6, vk);
        if (tok && tot[2])
            printf("bytes per token: train %.3f, val %.3f\n", (double)tot[1] / (double)tot[2],
                   tot[5] ? (double)tot[4] / (double)tot[5] : 0.0);
        if (bad) printf("lines without \"source\" and \"text\": %llu\n", (unsigned long long)bad);
    }
    for (int i = 0; i < t.n; i++) {
        free(t.s[i].name);
        free(t.s[i].license);
    }
    free(t.s);
    tok_free(tok);
    return rc;
}
