/*
 * fuzz_jsonl.c - libFuzzer harness for the JSONL readers: conversation
 * files (conv_list_read, also as prompts), the judgement store
 * (pref_store_read), the pairs reader of any format (pref_pairs_read) and
 * the importers of every exchange format (pref_import_file). A file a
 * reader refuses gives -1 with a one-line message naming the file; what a
 * reader accepts must be whole: every store record written back with
 * pref_rec_to_json parses again to the same line, and every conversation
 * has valid roles and non-empty contents.
 *
 *   make fuzz && build/fuzz_jsonl -runs=100000 CORPUS_DIR
 */
#include "core/common.h"
#include "data/conv.h"
#include "data/prefs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_NAME "fuzz_jsonl"
#include "fuzz_check.h"

static int g_fd = -1;
static char g_path[64];

static void check_error(int rc) {
    if (rc == 0) return;
    const char *msg = err_msg();
    if (!msg || !*msg || strchr(msg, '\n')) fprintf(stderr, "fuzz_jsonl: the message: [%s]\n", msg ? msg : "(null)");
    CHECK(msg && *msg && !strchr(msg, '\n'));
    CHECK(strstr(msg, g_path) != NULL);
}

static void check_rec(const pref_rec *r) {
    conv_buf a = {0}, b = {0};
    pref_rec_to_json(r, &a);
    CHECK(a.n > 0 && a.s[a.n - 1] == '\n' && !memchr(a.s, '\n', a.n - 1));
    pref_rec again;
    CHECK(pref_rec_parse(a.s, a.n - 1, &again) == 0);
    pref_rec_to_json(&again, &b);
    CHECK(a.n == b.n && !memcmp(a.s, b.s, a.n));
    pref_rec_free(&again);
    conv_buf_free(&a);
    conv_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_fd < 0) {
        g_fd = memfd_create("fuzz.jsonl", 0);
        CHECK(g_fd >= 0);
        snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
    }
    CHECK(ftruncate(g_fd, 0) == 0);
    CHECK(pwrite(g_fd, data, size, 0) == (ssize_t)size);

    for (int prompts = 0; prompts < 2; prompts++) {
        conv_list cl = {0};
        cl.prompts = prompts;
        int rc = conv_list_read(&cl, g_path);
        check_error(rc);
        for (size_t i = 0; i < cl.n; i++) {
            CHECK(cl.items[i].n > 0);
            for (int m = 0; m < cl.items[i].n; m++) {
                CHECK(cl.items[i].msgs[m].content != NULL);
                CHECK(chat_role_name(cl.items[i].msgs[m].role) != NULL);
            }
        }
        conv_list_free(&cl);
    }

    pref_list pl = {0};
    int rc = pref_store_read(g_path, &pl, 0);
    check_error(rc);
    for (size_t i = 0; i < pl.n; i++) check_rec(&pl.items[i]);
    pref_list_free(&pl);

    pref_pairs pp = {0};
    check_error(pref_pairs_read(g_path, &pp));
    for (size_t i = 0; i < pp.n; i++) CHECK(pp.items[i].chosen && pp.items[i].rejected);
    pref_pairs_free(&pp);

    for (int f = PREF_FMT_STORE; f <= PREF_FMT_RANKED; f++) {
        conv_buf out = {0};
        size_t n_rec = 0;
        rc = pref_import_file((pref_format)f, g_path, (const char *)data, size, "fuzz", "2026-01-01T00:00:00Z",
                              "m", &out, &n_rec);
        check_error(rc);
        /* what an import produces is a store a reader takes back whole */
        for (char *s = out.s; rc == 0 && s && s < out.s + out.n;) {
            char *nl = memchr(s, '\n', (size_t)(out.s + out.n - s));
            CHECK(nl != NULL);
            pref_rec r;
            CHECK(pref_rec_parse(s, (size_t)(nl - s), &r) == 0);
            pref_rec_free(&r);
            s = nl + 1;
        }
        conv_buf_free(&out);
    }
    return 0;
}
