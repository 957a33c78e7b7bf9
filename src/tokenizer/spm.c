/*
 * spm.c - SentencePiece BPE encoding (llama.cpp's "llama" tokenizer, the
 * Llama 1/2 vocabulary), done the way llama.cpp's llm_tokenizer_spm does:
 *
 *   1. Spaces become U+2581 ("▁"); the caller has already put one space in
 *      front when the leading-space rule asks for it.
 *   2. The text is cut into UTF-8 characters. (llama.cpp takes as many
 *      bytes as a lead byte announces, even when they are not continuation
 *      bytes, which can swallow the first byte of a following U+2581 and
 *      decode to different text; here a byte that does not start a valid
 *      sequence is a character of its own, so any bytes decode back to
 *      themselves. On UTF-8 text both cut the same.)
 *   3. Every adjacent pair whose concatenation is a token is a candidate,
 *      scored by that token's score. The best candidate (highest score,
 *      leftmost among equals) is merged and new candidates are formed with
 *      its neighbours, until none is left. There is no pre-tokenizer: merges
 *      may cross spaces.
 *   4. Each remaining symbol is its token, or when its text is not in the
 *      vocabulary (a character the vocabulary lacks), one <0xNN> byte token
 *      per byte (the unknown token if the vocabulary has no byte tokens).
 *
 * Speed. A merge joins two symbols whose concatenation is a token, so no
 * merge can ever join across a place where the two characters on either
 * side appear together in no token. In SentencePiece vocabularies U+2581
 * follows another character inside a token rarely or never (Llama 2:
 * never), so the text is cut before each U+2581 that follows a character
 * no token glues to it (spm_glue), and the words are merged separately,
 * with a cache for repeated words. The ids are exactly those of merging the
 * whole text at once (the merges of different words never interact); a
 * 10 MB line takes 0.2 s instead of 10 s.
 */
#include "tok_internal.h"
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t off; /* in the escaped text */
    uint32_t n;   /* 0 once merged into its left neighbour */
    int32_t prev, next;
} spm_sym;

typedef struct {
    float score;
    int32_t left, right;
    uint32_t size;
} spm_bigram;

/* a before b in the queue: higher score, then smaller left. */
static inline int bigram_before(const spm_bigram *a, const spm_bigram *b) {
    if (a->score != b->score) return a->score > b->score;
    return a->left < b->left;
}

typedef struct {
    spm_bigram *v;
    size_t n, cap;
} bigram_heap;

static void heap_push(bigram_heap *h, spm_bigram b) {
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = xrealloc(h->v, h->cap * sizeof(spm_bigram));
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
}

static spm_bigram heap_pop(bigram_heap *h) {
    spm_bigram top = h->v[0], v = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bigram_before(&h->v[c + 1], &h->v[c])) c++;
        if (!bigram_before(&h->v[c], &v)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = v;
    return top;
}

static void try_bigram(const tokenizer *t, const char *s, const spm_sym *sym, int left, int right, bigram_heap *h) {
    if (left < 0 || right < 0) return;
    uint32_t n = sym[left].n + sym[right].n;
    int id = tok_lookup(t, s + sym[left].off, n);
    if (id < 0) return;
    spm_bigram b = {t->score ? t->score[id] : 0.0f, left, right, n};
    heap_push(h, b);
}

/* Texts are encoded in parts of at most SPM_MAX_PART bytes (cut at a
 * character boundary) so that offsets and symbol counts fit in 32 bits
 * (spaces grow 3-fold when escaped); below that size the
 * result is llama.cpp's exactly. */
#define SPM_MAX_PART ((size_t)1 << 29)

static void spm_encode_part(const tokenizer *t, const char *text, size_t len, tok_ids *out);

void spm_encode(const tokenizer *t, const char *text, size_t len, tok_ids *out) {
    while (len > SPM_MAX_PART) {
        size_t cut = SPM_MAX_PART;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--;
        spm_encode_part(t, text, cut, out);
        text += cut;
        len -= cut;
    }
    spm_encode_part(t, text, len, out);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void spm_build_glue(tokenizer *t) {
    size_t cap = 16;
    t->spm_glue = xmalloc(cap * sizeof(uint64_t));
    t->n_spm_glue = 0;
    for (int id = 0; id < t->n_vocab; id++) {
        const char *s = t->text[id];
        size_t n = t->text_len[id], prev = 0, prev_len = 0;
        for (size_t i = 0; i < n;) {
            size_t l;
            uni_decode((const unsigned char *)s + i, n - i, &l);
            int is_space = l == 3 && !memcmp(s + i, "\xE2\x96\x81", 3);
            int prev_space = prev_len == 3 && !memcmp(s + prev, "\xE2\x96\x81", 3);
            if (is_space && prev_len && !prev_space) {
                if ((size_t)t->n_spm_glue == cap) t->spm_glue = xrealloc(t->spm_glue, (cap *= 2) * sizeof(uint64_t));
                t->spm_glue[t->n_spm_glue++] = spm_char_key(s + prev, prev_len);
            }
            prev = i;
            prev_len = l;
            i += l;
        }
    }
    qsort(t->spm_glue, (size_t)t->n_spm_glue, sizeof(uint64_t), cmp_u64);
}

/* 1 when some token holds the character c[0..n) right before a U+2581. */
static int glued(const tokenizer *t, const char *c, size_t n) {
    if (!t->n_spm_glue) return 0;
    uint64_t k = spm_char_key(c, n);
    return bsearch(&k, t->spm_glue, (size_t)t->n_spm_glue, sizeof(uint64_t), cmp_u64) != NULL;
}

/* Scratch for spm_merge, reused across words. */
typedef struct {
    spm_sym *sym;
    size_t cap;
    bigram_heap h;
} spm_scratch;

/* The merges of one word s[0..n) (escaped text), appended to out. */
static void spm_merge(const tokenizer *t, const char *s, size_t n, spm_scratch *w, tok_ids *out) {
    if (n > w->cap) {
        w->cap = n < 4096 ? 2 * n : n;
        w->sym = xrealloc(w->sym, w->cap * sizeof(spm_sym));
    }
    spm_sym *sym = w->sym;
    bigram_heap *h = &w->h;
    h->n = 0;
    int m = 0;
    for (size_t off = 0; off < n;) {
        size_t l;
        uni_decode((const unsigned char *)s + off, n - off, &l);
        sym[m] = (spm_sym){(uint32_t)off, (uint32_t)l, m - 1, off + l == n ? -1 : m + 1};
        off += l;
        m++;
    }
    for (int i = 1; i < m; i++) try_bigram(t, s, sym, i - 1, i, h);
    while (h->n) {
        spm_bigram b = heap_pop(h);
        spm_sym *l = &sym[b.left], *r = &sym[b.right];
        if (!l->n || !r->n || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = b.left;
        try_bigram(t, s, sym, l->prev, b.left, h);
        try_bigram(t, s, sym, b.left, l->next, h);
    }
    for (int i = 0; i != -1; i = sym[i].next) {
        int id = tok_lookup(t, s + sym[i].off, sym[i].n);
        if (id >= 0) {
            ids_push(out, id);
            continue;
        }
        for (size_t k = 0; k < sym[i].n; k++) {
            int b = t->byte_id[(unsigned char)s[sym[i].off + k]];
            if (b < 0) b = t->unk;
            if (b >= 0) ids_push(out, b);
        }
    }
}

static void spm_encode_part(const tokenizer *t, const char *text, size_t len, tok_ids *out) {
    if (!len) return;
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++) spaces += text[i] == ' ';
    size_t n = len + 2 * spaces;
    char *s = xmalloc(n);
    for (size_t i = 0, o = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(s + o, "\xE2\x96\x81", 3);
            o += 3;
        } else s[o++] = text[i];
    }
    spm_scratch w = {0};
    piece_cache c;
    int use_cache = n >= (4u << 10);
    if (use_cache) tok_cache_init(&c, tok_cache_size_for(n));
    /* words: cut before each U+2581 that follows a character no token
     * glues to a following U+2581 */
    size_t start = 0, prev = 0, prev_len = 0;
    for (size_t i = 0; i <= n;) {
        size_t l = 0;
        int cut = i == n;
        if (!cut) {
            uni_decode((const unsigned char *)s + i, n - i, &l);
            int is_space = l == 3 && !memcmp(s + i, "\xE2\x96\x81", 3);
            int prev_space = prev_len == 3 && !memcmp(s + prev, "\xE2\x96\x81", 3);
            cut = is_space && prev_len && !prev_space && !glued(t, s + prev, prev_len);
        }
        if (cut && i > start) {
            const char *word = s + start;
            size_t wn = i - start;
            if (use_cache && wn <= CACHE_MAX_PIECE) {
                uint64_t hsh = tok_hash_bytes(word, wn) | 1;
                const cache_entry *e = tok_cache_get(&c, hsh, word, wn);
                if (e) {
                    for (size_t k = 0; k < e->n_tok; k++) ids_push(out, c.toks[e->tok_off + k]);
                } else {
                    size_t before = out->n;
                    spm_merge(t, word, wn, &w, out);
                    tok_cache_put(&c, hsh, word, wn, out->v + before, out->n - before);
                }
            } else spm_merge(t, word, wn, &w, out);
            start = i;
        }
        if (i == n) break;
        prev = i;
        prev_len = l;
        i += l;
    }
    if (use_cache) tok_cache_free(&c);
    free(w.sym);
    free(w.h.v);
    free(s);
}
