/*
 * test_toktrain.c - properties of BPE training that the script tests cannot
 * reach through the CLI:
 *   - every cut toktrain_safe_cut finds splits random text (mixed scripts,
 *     emoji, whitespace runs, invalid UTF-8) into exactly the pre-tokens of
 *     the whole text;
 *   - a tokenizer trained in-process and read back through tok_from_gguf
 *     gives decode(encode(x)) == x on random byte strings with NUL, invalid
 *     UTF-8 and the text of special tokens, never yields a special token from
 *     ordinary text, and has its specials, bos, eos and eot where train.h
 *     says;
 *   - training is the same with 1 and 3 threads (the GGUF bytes).
 */
#include "core/common.h"
#include "io/gguf.h"
#include "tokenizer/pretok.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t rnd(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

static const char *const g_pieces[] = {
    "the", " of", "naïve", "café", "e\xcc\x81", "日本語", "中文", "😀", "👍🏽", " ", "  ", "\t",
    "\n", "\r\n", "\n\n", "123", "45678", "don't", "IT'S", "<|user|>", "<|end_of_text|>", "x+=1;",
    "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\x80", "\0", "Hello", " world", ".", "...",
    "  \n", " \n ", "\n\t", "\t\n", "\r", "\v", "\f", "\xc2\xa0", "\xe3\x80\x80", " \n\n ", "a",
    "x\n", ".\n", "?!\r\n", " 'll", "'S",
};

/* Random text of n bytes (at least) from g_pieces and random bytes. */
static char *gen_text(uint64_t *s, size_t n, size_t *len) {
    char *t = xmalloc(n + 64);
    size_t k = 0;
    while (k < n) {
        uint32_t r = rnd(s) % 100;
        if (r < 5) {
            t[k++] = (char)(rnd(s) & 0xFF);
        } else {
            const char *p = g_pieces[rnd(s) % ARRAY_LEN(g_pieces)];
            size_t pl = strlen(p);
            if (!pl) pl = 1; /* the NUL piece */
            memcpy(t + k, p, pl);
            k += pl;
        }
    }
    *len = k;
    return t;
}

/* Piece ends of s[0, n) appended to ends[*ne]. */
static void pieces(const char *s, size_t n, size_t base, size_t *ends, size_t *ne) {
    size_t pos = 0;
    while (pos < n) {
        pos = pretok_next(PRETOK_LLAMA3, s, n, pos);
        ends[(*ne)++] = base + pos;
    }
}

static int test_safe_cuts(void) {
    uint64_t seed = 1;
    int fails = 0, n_cuts = 0;
    for (int round = 0; round < 200; round++) {
        size_t n;
        char *t = gen_text(&seed, 50 + rnd(&seed) % 2000, &n);
        size_t *whole = xmalloc((n + 1) * sizeof *whole), *split = xmalloc((n + 1) * sizeof *split);
        size_t nw = 0;
        pieces(t, n, 0, whole, &nw);
        /* every safe cut in the text, found walking back from the end */
        for (size_t end = n; end > 1 && fails < 5;) {
            size_t cut = toktrain_safe_cut(t, end);
            if (!cut) break;
            n_cuts++;
            size_t ns = 0;
            pieces(t, cut, 0, split, &ns);
            pieces(t + cut, n - cut, cut, split, &ns);
            if (ns != nw || memcmp(whole, split, nw * sizeof *whole)) {
                fprintf(stderr, "safe cut at %zu of %zu changes the pieces\n", cut, n);
                fails++;
            }
            end = cut - 1;
        }
        free(whole);
        free(split);
        free(t);
    }
    if (n_cuts < 1000) {
        fprintf(stderr, "only %d safe cuts found in 200 texts\n", n_cuts);
        fails++;
    }
    return fails;
}

static toktrain *train(int threads, const char *text, size_t n, const toktrain_opts *o) {
    toktrain *t = toktrain_new(threads);
    /* one large document (counted in segments) and many small ones */
    toktrain_add(t, text, n);
    for (size_t a = 0; a + 1000 <= n && a < 400000; a += 1000) toktrain_add(t, text + a, 1000);
    if (toktrain_learn(t, o)) {
        fprintf(stderr, "learn: %s\n", err_msg());
        exit(1);
    }
    return t;
}

static char *save(toktrain *t, const char *dir, const char *name) {
    char *path = xmalloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    gguf_writer *w = gguf_writer_new();
    toktrain_to_gguf(t, w);
    LLMOS_ASSERT(gguf_writer_save(w, path) == 0);
    gguf_writer_free(w);
    return path;
}

static int file_eq(const char *a, const char *b) {
    size_t na, nb;
    char *x = file_read_all(a, &na), *y = file_read_all(b, &nb);
    int eq = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return eq;
}

static int test_trained(const char *dir) {
    uint64_t seed = 7;
    size_t n;
    char *text = gen_text(&seed, 3u << 20, &n); /* > 1 MB: several segments */
    const char *specials[] = {"<|begin_of_text|>", "<|end_of_text|>", "<|end_of_turn|>",
                              "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|image|>"};
    toktrain_opts o = {.vocab_size = 1200, .min_count = 2, .specials = specials, .n_specials = 8};
    toktrain *t1 = train(1, text, n, &o), *t3 = train(3, text, n, &o);
    char *p1 = save(t1, dir, "t1.gguf"), *p3 = save(t3, dir, "t3.gguf");
    int fails = 0;
    if (!file_eq(p1, p3)) {
        fprintf(stderr, "1 and 3 threads give different files\n");
        fails++;
    }
    if (toktrain_vocab_size(t1) != 1200) {
        fprintf(stderr, "vocabulary %d, expected 1200\n", toktrain_vocab_size(t1));
        fails++;
    }

    gguf_file *g = gguf_open(p1);
    LLMOS_ASSERT(g);
    tokenizer *tk = tok_from_gguf(g);
    if (!tk) {
        fprintf(stderr, "tok_from_gguf: %s\n", err_msg());
        exit(1);
    }
    gguf_close(g);
    int V = tok_vocab_size(tk), first_special = V - 8;
    if (V != 1200 || tok_bos(tk) != first_special || tok_eos(tk) != first_special + 1 ||
        tok_eot(tk) != first_special + 2 || tok_find(tk, "<|image|>") != V - 1 ||
        !tok_is_special(tk, V - 1) || tok_is_special(tk, first_special - 1)) {
        fprintf(stderr, "specials misplaced: V %d bos %d eos %d eot %d image %d\n", V, tok_bos(tk),
                tok_eos(tk), tok_eot(tk), tok_find(tk, "<|image|>"));
        fails++;
    }
    for (int round = 0; round < 300 && fails < 5; round++) {
        size_t m;
        char *x = gen_text(&seed, rnd(&seed) % 400, &m);
        if (round == 0) m = 0;
        int *ids;
        size_t k = tok_encode(tk, x, m, 0, 0, &ids);
        char *back = xmalloc(m * 8 + 1);
        size_t bl = 0;
        int special = 0;
        for (size_t i = 0; i < k; i++) {
            size_t pl;
            const char *piece = tok_decode(tk, ids[i], &pl);
            special |= ids[i] >= first_special;
            if (bl + pl <= m * 8) memcpy(back + bl, piece, pl);
            bl += pl;
        }
        if (bl != m || memcmp(back, x, m)) {
            fprintf(stderr, "round %d: decode(encode(x)) != x (%zu bytes, %zu back)\n", round, m, bl);
            fails++;
        }
        if (special) {
            fprintf(stderr, "round %d: ordinary text gave a special token\n", round);
            fails++;
        }
        free(back);
        free(ids);
        free(x);
    }
    tok_free(tk);
    unlink(p1);
    unlink(p3);
    free(p1);
    free(p3);
    toktrain_free(t1);
    toktrain_free(t3);
    free(text);
    return fails;
}

int main(void) {
    char dir[] = "/tmp/test_toktrain.XXXXXX";
    LLMOS_ASSERT(mkdtemp(dir));
    int fails = test_safe_cuts();
    fails += test_trained(dir);
    rmdir(dir);
    if (fails) fprintf(stderr, "%d failures\n", fails);
    return fails != 0;
}
