/*
 * bpe.c - byte-level BPE encoding (llama.cpp's "gpt2" tokenizer, GPT-2 and
 * tiktoken's algorithm).
 *
 * The text is cut into pieces by the pre-tokenizer (pretok.c); each piece
 * starts as one token per byte and the adjacent pair of lowest merge rank
 * is merged, the leftmost first among equals, until no pair has a rank.
 * Merge ranks come from tokenizer.ggml.merges (tok_pair_get).
 *
 * Speed. Most pieces of real text repeat ("the", " of"), so a cache maps a
 * piece's bytes to its tokens. A short piece is merged by scanning its
 * pair ranks (a few bytes: cheaper than any structure); a long one (a run
 * of 10,000 dashes) by a heap of candidate pairs over a linked list of
 * symbols, O(n log n). Long texts are cut where the pre-tokenizer surely
 * starts a new piece and the parts are encoded on several threads; the ids
 * are the same as on one thread.
 */
#include "tok_internal.h"

#include <limits.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- the piece cache (tok_internal.h) ---- */

void tok_cache_init(piece_cache *c, size_t cap) {
    memset(c, 0, sizeof *c);
    c->cap = cap;
    c->e = xcalloc(cap, sizeof(cache_entry));
    c->bytes_cap = cap * 8;
    c->bytes = xmalloc(c->bytes_cap);
    c->toks_cap = cap * 4;
    c->toks = xmalloc(c->toks_cap * sizeof(int));
}

void tok_cache_free(piece_cache *c) {
    free(c->e);
    free(c->bytes);
    free(c->toks);
}

const cache_entry *tok_cache_get(const piece_cache *c, uint64_t h, const char *s, size_t n) {
    size_t mask = c->cap - 1, i = (size_t)h & mask;
    for (;;) {
        const cache_entry *e = &c->e[i];
        if (!e->h) return NULL;
        if (e->h == h && e->str_len == n && !memcmp(c->bytes + e->str_off, s, n)) return e;
        i = (i + 1) & mask;
    }
}

void tok_cache_put(piece_cache *c, uint64_t h, const char *s, size_t n, const int *toks, size_t nt) {
    if (c->used * 2 >= c->cap || c->nbytes + n > c->bytes_cap || c->ntoks + nt > c->toks_cap) {
        memset(c->e, 0, c->cap * sizeof(cache_entry)); /* full: start over */
        c->used = c->nbytes = c->ntoks = 0;
    }
    size_t mask = c->cap - 1, i = (size_t)h & mask;
    while (c->e[i].h) i = (i + 1) & mask;
    cache_entry *e = &c->e[i];
    e->h = h;
    e->str_off = (uint32_t)c->nbytes;
    e->str_len = (uint16_t)n;
    e->tok_off = (uint32_t)c->ntoks;
    e->n_tok = (uint16_t)nt;
    memcpy(c->bytes + c->nbytes, s, n);
    c->nbytes += n;
    memcpy(c->toks + c->ntoks, toks, nt * sizeof(int));
    c->ntoks += nt;
    c->used++;
}

/* ---- merging one piece ---- */

/* Scratch arrays, grown as needed, one set per thread. */
typedef struct {
    int *sym;
    int32_t *rank, *merged;
    int *prev, *next;
    int64_t *heap; /* (rank << 32 | position), up to 3 per symbol */
    size_t cap;
} scratch;

static void scratch_grow(scratch *w, size_t n) {
    if (n <= w->cap) return;
    w->cap = n < 4096 ? n * 2 : n + n / 8; /* one huge piece: no doubling */
    w->sym = xrealloc(w->sym, w->cap * sizeof(int));
    w->rank = xrealloc(w->rank, w->cap * sizeof(int32_t));
    w->merged = xrealloc(w->merged, w->cap * sizeof(int32_t));
    w->prev = xrealloc(w->prev, w->cap * sizeof(int));
    w->next = xrealloc(w->next, w->cap * sizeof(int));
    w->heap = xrealloc(w->heap, w->cap * 3 * sizeof(int64_t)); /* n - 1 pairs + 2 per merge */
}

static void scratch_free(scratch *w) {
    free(w->sym);
    free(w->rank);
    free(w->merged);
    free(w->prev);
    free(w->next);
    free(w->heap);
}

static inline int byte_token(const tokenizer *t, unsigned char b) {
    int id = t->byte_id[b];
    return id >= 0 ? id : t->unk;
}

static inline void pair_rank(const tokenizer *t, int l, int r, int32_t *rank, int32_t *merged) {
    if (l < 0 || r < 0 || !tok_pair_get(t, l, r, rank, merged)) *rank = INT32_MAX;
}

/* Short pieces: rescan the pair ranks after each merge. Returns the count
 * of symbols left in w->sym. */
static size_t merge_scan(const tokenizer *t, scratch *w, size_t m) {
    int *sym = w->sym;
    int32_t *rank = w->rank, *merged = w->merged;
    for (size_t i = 0; i + 1 < m; i++) pair_rank(t, sym[i], sym[i + 1], &rank[i], &merged[i]);
    while (m > 1) {
        size_t best = 0;
        int32_t br = rank[0];
        for (size_t i = 1; i + 1 < m; i++)
            if (rank[i] < br) {
                br = rank[i];
                best = i;
            }
        if (br == INT32_MAX) break;
        sym[best] = merged[best];
        size_t tail = m - best - 2; /* symbols after the removed one */
        memmove(sym + best + 1, sym + best + 2, tail * sizeof(int));
        memmove(rank + best + 1, rank + best + 2, (tail ? tail - 1 : 0) * sizeof(int32_t));
        memmove(merged + best + 1, merged + best + 2, (tail ? tail - 1 : 0) * sizeof(int32_t));
        m--;
        if (best > 0) pair_rank(t, sym[best - 1], sym[best], &rank[best - 1], &merged[best - 1]);
        if (best + 1 < m) pair_rank(t, sym[best], sym[best + 1], &rank[best], &merged[best]);
    }
    return m;
}

static void heap_push(int64_t *h, size_t *n, int64_t v) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

static int64_t heap_pop(int64_t *h, size_t *n) {
    int64_t top = h[0], v = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = v;
    return top;
}

/* Long pieces: a linked list of symbols and a min-heap of (rank, position)
 * candidates, checked against the current pair when popped. */
static size_t merge_heap(const tokenizer *t, scratch *w, size_t m) {
    int *sym = w->sym, *prev = w->prev, *next = w->next;
    int32_t *rank = w->rank, *merged = w->merged;
    int64_t *heap = w->heap;
    size_t nh = 0;
    for (size_t i = 0; i < m; i++) {
        prev[i] = (int)i - 1;
        next[i] = i + 1 < m ? (int)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < m; i++) {
        pair_rank(t, sym[i], sym[i + 1], &rank[i], &merged[i]);
        if (rank[i] != INT32_MAX) heap_push(heap, &nh, ((int64_t)rank[i] << 32) | (int64_t)i);
    }
    while (nh) {
        int64_t top = heap_pop(heap, &nh);
        int i = (int)(top & 0xFFFFFFFF);
        int32_t r = (int32_t)(top >> 32);
        if (sym[i] < -1 || next[i] < 0 || rank[i] != r) continue; /* stale */
        int j = next[i];
        sym[i] = merged[i];
        sym[j] = -2; /* removed */
        next[i] = next[j];
        if (next[j] >= 0) prev[next[j]] = i;
        if (prev[i] >= 0) {
            int p = prev[i];
            pair_rank(t, sym[p], sym[i], &rank[p], &merged[p]);
            if (rank[p] != INT32_MAX) heap_push(heap, &nh, ((int64_t)rank[p] << 32) | p);
        }
        if (next[i] >= 0) {
            pair_rank(t, sym[i], sym[next[i]], &rank[i], &merged[i]);
            if (rank[i] != INT32_MAX) heap_push(heap, &nh, ((int64_t)rank[i] << 32) | i);
        } else rank[i] = INT32_MAX;
    }
    size_t k = 0;
    for (int i = 0; i >= 0; i = next[i]) sym[k++] = sym[i];
    return k;
}

#define SCAN_MAX 48
#define WHOLE_MAX 64 /* longest piece looked up whole (longer ones are never tokens in practice) */

/* Tokens of one piece into out. */
static void encode_piece(const tokenizer *t, const char *s, size_t n, scratch *w, tok_ids *out) {
    if (n == 1) {
        int id = byte_token(t, (unsigned char)s[0]);
        if (id >= 0) ids_push(out, id);
        return;
    }
    if (t->pre == PRETOK_LLAMA3 && n <= WHOLE_MAX) {
        /* llama.cpp's rule for this pre-tokenizer ("ignore merges"): a piece
         * that is itself a token becomes that token, whatever the merges say.
         * The lookup is by the vocabulary's text: the byte tokens' texts. */
        char buf[WHOLE_MAX * 4] = {0};
        size_t k = 0;
        int ok = 1;
        for (size_t i = 0; i < n && ok; i++) {
            int b = t->byte_id[(unsigned char)s[i]];
            const char *bt = b >= 0 ? tok_text(t, b) : NULL;
            size_t bl = bt ? strlen(bt) : 0;
            ok = bt && bl && k + bl <= sizeof(buf);
            if (ok) memcpy(buf + k, bt, bl), k += bl;
        }
        int id = ok ? tok_lookup(t, buf, k) : -1;
        if (id >= 0) {
            ids_push(out, id);
            return;
        }
    }
    scratch_grow(w, n);
    for (size_t i = 0; i < n; i++) w->sym[i] = byte_token(t, (unsigned char)s[i]);
    size_t m = n <= SCAN_MAX ? merge_scan(t, w, n) : merge_heap(t, w, n);
    for (size_t i = 0; i < m; i++)
        if (w->sym[i] >= 0) ids_push(out, w->sym[i]);
}

/* Encodes text[0..len) on this thread, with an optional cache. */
static void encode_span(const tokenizer *t, const char *text, size_t len, tok_ids *out, piece_cache *c) {
    scratch w = {0};
    size_t pos = 0;
    while (pos < len) {
        size_t end = pretok_next(t->pre, text, len, pos), n = end - pos;
        const char *s = text + pos;
        pos = end;
        if (!c || n < 2 || n > CACHE_MAX_PIECE) {
            encode_piece(t, s, n, &w, out);
            continue;
        }
        uint64_t h = tok_hash_bytes(s, n) | 1;
        const cache_entry *e = tok_cache_get(c, h, s, n);
        if (e) {
            for (size_t k = 0; k < e->n_tok; k++) ids_push(out, c->toks[e->tok_off + k]);
            continue;
        }
        size_t before = out->n;
        encode_piece(t, s, n, &w, out);
        tok_cache_put(c, h, s, n, out->v + before, out->n - before);
    }
    scratch_free(&w);
}

/* A place where every pre-tokenizer starts a new piece, and where the
 * pieces before it come out the same whether the text goes on or ends
 * there: just before an ASCII letter that follows a newline that follows a
 * visible ASCII character ("x\nWord"). The newline is then a piece of its
 * own (GPT-2) or ends one (Llama 3), and no pattern lets a piece run from a
 * newline into a letter. (A run of several white-space characters would
 * not do: \s+(?!\S) gives up its last character only when more text
 * follows.) Returns the first such place in [from, to), or to. */
static size_t safe_cut(const char *s, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        const char *nl = memchr(s + i, '\n', to - i);
        if (!nl) return to;
        i = (size_t)(nl - s);
        if (i > 0 && i + 1 < to && s[i - 1] > ' ' && s[i - 1] < 0x7F) {
            unsigned char c = (unsigned char)s[i + 1];
            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return i + 1;
        }
    }
    return to;
}

#define PARALLEL_MIN (1u << 20)
#define CACHE_MIN (4u << 10)

size_t tok_cache_size_for(size_t len) {
    size_t cap = 1u << 10;
    while (cap < len / 8 && cap < (1u << 18)) cap <<= 1;
    return cap;
}

void bpe_encode(const tokenizer *t, const char *text, size_t len, tok_ids *out, int n_threads) {
    if (n_threads <= 1 || len < PARALLEL_MIN) {
        piece_cache c;
        int use = len >= CACHE_MIN;
        if (use) tok_cache_init(&c, tok_cache_size_for(len));
        encode_span(t, text, len, out, use ? &c : NULL);
        if (use) tok_cache_free(&c);
        return;
    }
    /* Parts of about 256 KB, handed out in order to the threads. */
    size_t n_parts = len / (256u << 10) + 1;
    size_t *cut = xmalloc((n_parts + 1) * sizeof(size_t));
    size_t k = 0;
    cut[k++] = 0;
    for (size_t p = 1; p < n_parts; p++) {
        size_t from = MAX(cut[k - 1] + 1, len / n_parts * p);
        if (from >= len) break;
        size_t c = safe_cut(text, from, len);
        if (c >= len) break;
        if (c > cut[k - 1]) cut[k++] = c;
    }
    cut[k] = len;
    size_t np = k;
    tok_ids *parts = xcalloc(np, sizeof(tok_ids));
    piece_cache *caches = xcalloc((size_t)n_threads, sizeof(piece_cache));
#pragma omp parallel num_threads(n_threads)
    {
        int me = omp_get_thread_num();
        tok_cache_init(&caches[me], 1u << 18);
#pragma omp for schedule(dynamic, 1)
        for (size_t p = 0; p < np; p++) encode_span(t, text + cut[p], cut[p + 1] - cut[p], &parts[p], &caches[me]);
        tok_cache_free(&caches[me]);
    }
    size_t total = 0;
    for (size_t p = 0; p < np; p++) total += parts[p].n;
    if (out->n + total > out->cap) {
        out->cap = out->n + total;
        out->v = xrealloc(out->v, out->cap * sizeof(int));
    }
    for (size_t p = 0; p < np; p++) {
        if (parts[p].n) memcpy(out->v + out->n, parts[p].v, parts[p].n * sizeof(int));
        out->n += parts[p].n;
        free(parts[p].v);
    }
    free(parts);
    free(caches);
    free(cut);
}
