/*
 * test_jsonl_rule.c - one rule for every reader of files that writers
 * append to (issue 14): a torn last line (no newline, not complete JSON: a
 * killed writer's) is skipped with a warning by the store reader
 * (prefs export/merge, label), the pairs reader (dpo, reward train) and the
 * conversation reader (sft, chat, eval, rl); a bad line anywhere else is an
 * error naming the file and line, in every one of them. The files are
 * written here by hand from the formats' definitions.
 */
#include "core/common.h"
#include "data/conv.h"
#include "data/prefs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_fail;
#define CHECK(c, ...)                                      \
    do {                                                   \
        if (!(c)) {                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                  \
            fputc('\n', stderr);                           \
            g_fail = 1;                                    \
        }                                                  \
    } while (0)

static const char *g_store =
    "{\"labeler\": \"a\", \"time\": \"2026-01-01T00:00:00Z\", \"model\": \"m\", \"prompt\": [{\"role\": "
    "\"user\", \"content\": \"q\"}], \"candidates\": [\"x\", \"y\"], \"ranks\": [1, 2], \"flags\": []}\n";
static const char *g_conv =
    "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}\n";

static void put(const char *path, const char *a, int copies, const char *tail) {
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < copies; i++) fputs(a, f);
    fputs(tail, f);
    fclose(f);
}

/* 0 ok, -1 error; *n the records read */
static int read_store(const char *p, size_t *n) {
    pref_list l = {0};
    int rc = pref_store_read(p, &l, 0);
    *n = l.n;
    pref_list_free(&l);
    return rc;
}
static int read_pairs(const char *p, size_t *n) {
    pref_pairs l = {0};
    int rc = pref_pairs_read(p, &l);
    *n = l.n;
    pref_pairs_free(&l);
    return rc;
}
static int read_conv(const char *p, size_t *n) {
    conv_list l = {0};
    int rc = conv_list_read(&l, p);
    *n = l.n;
    conv_list_free(&l);
    return rc;
}

int main(void) {
    char dir[] = "/tmp/llmos_jsonl_XXXXXX", path[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/f.jsonl", dir);
    struct {
        const char *name, *line;
        int (*read)(const char *, size_t *);
    } readers[] = {{"store", g_store, read_store}, {"pairs", g_store, read_pairs}, {"conv", g_conv, read_conv}};
    for (int k = 0; k < 3; k++) {
        const char *line = readers[k].line;
        size_t n = 0, half = strlen(line) / 2;
        char torn[512], mid[1024];
        snprintf(torn, sizeof torn, "%.*s", (int)half, line);
        /* a torn last line: skipped, the two whole records read */
        put(path, line, 2, torn);
        int rc = readers[k].read(path, &n);
        CHECK(rc == 0 && n == 2, "%s: torn last line: rc %d, %zu records (%s)", readers[k].name, rc, n,
              rc ? err_msg() : "");
        /* a complete last record without its newline is a record */
        snprintf(mid, sizeof mid, "%.*s", (int)strlen(line) - 1, line);
        put(path, line, 1, mid);
        rc = readers[k].read(path, &n);
        CHECK(rc == 0 && n == 2, "%s: last line without newline: rc %d, %zu records", readers[k].name, rc, n);
        /* the same torn text in the middle: an error naming line 2 */
        snprintf(mid, sizeof mid, "%s%s\n%s", line, torn, line);
        put(path, mid, 1, "");
        rc = readers[k].read(path, &n);
        CHECK(rc < 0 && strstr(err_msg(), "f.jsonl:2:"), "%s: damage at line 2: rc %d (%s)", readers[k].name, rc,
              rc ? err_msg() : "accepted");
        /* valid JSON that is not a record, last and without newline: damage, not a torn line */
        put(path, line, 1, "{\"x\": 1}");
        rc = readers[k].read(path, &n);
        CHECK(rc < 0 && strstr(err_msg(), "f.jsonl:2:"), "%s: bad complete last line: rc %d (%s)",
              readers[k].name, rc, rc ? err_msg() : "accepted");
    }
    unlink(path);
    rmdir(dir);
    if (!g_fail) printf("store, pairs and conversation readers: one rule for torn and damaged lines\n");
    return g_fail;
}
