/*
 * train.c - byte-level BPE training (see train.h for the algorithm, the
 * tie-breaking rule and the vocabulary layout).
 *
 * Three stages, three sections below: counting pre-tokens into word maps
 * (one map per thread, summed at the end), the incremental merge loop over
 * the unique words, and writing the GGUF keys.
 */
#include "train.h"

#include "pretok.h"

#include "../core/common.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

const char *const toktrain_default_specials[TOKTRAIN_N_DEFAULT_SPECIALS] = {
    "<|begin_of_text|>", "<|end_of_text|>", "<|end_of_turn|>", "<|system|>",
    "<|user|>",          "<|assistant|>",   "<|tool|>",
};

/* A segment of text counted by one thread at a time. */
#define SEG_BYTES (1u << 20)
/* Small documents are batched until this many bytes, then counted. */
#define BATCH_BYTES (16u << 20)

/* ======================================================================
 * GPT-2's byte <-> printable unicode table
 * ====================================================================== */

static int is_printable_byte(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* Code point GPT-2 shows byte b as. */
static int byte_codepoint(int b) {
    if (is_printable_byte(b)) return b;
    int n = 0;
    for (int i = 0; i < b; i++) n += !is_printable_byte(i);
    return 256 + n;
}

int toktrain_byte_to_unicode(unsigned char b, char *out) {
    int cp = byte_codepoint(b);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

/* id_byte[i]: the byte of token id i < 256; byte_id[b]: its inverse. */
static void byte_order(unsigned char id_byte[256], int byte_id[256]) {
    int n = 0;
    for (int b = 0; b < 256; b++)
        if (is_printable_byte(b)) id_byte[n++] = (unsigned char)b;
    for (int b = 0; b < 256; b++)
        if (!is_printable_byte(b)) id_byte[n++] = (unsigned char)b;
    for (int i = 0; i < 256; i++) byte_id[id_byte[i]] = i;
}

/* ======================================================================
 * Word maps: pre-token bytes -> count
 * ====================================================================== */

typedef struct {
    uint64_t hash;
    uint64_t count; /* 0: empty slot */
    uint64_t off;   /* into the arena */
    uint64_t len;
} wslot;

typedef struct {
    wslot *slots;
    size_t cap, n; /* cap: a power of two */
    char *arena;
    size_t alen, acap;
} wmap;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0x100000001B3ULL);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = mix64(h ^ v) + 0x9E3779B97F4A7C15ULL;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, s, n);
    return mix64(h ^ v ^ ((uint64_t)n << 59));
}

static void wmap_init(wmap *m) {
    memset(m, 0, sizeof *m);
    m->cap = 1 << 12;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
}

static void wmap_release(wmap *m) {
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static void wmap_grow(wmap *m) {
    size_t ncap = m->cap * 2;
    wslot *ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].count) continue;
        size_t j = m->slots[i].hash & (ncap - 1);
        while (ns[j].count) j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

static void wmap_add(wmap *m, const char *s, size_t n, uint64_t h, uint64_t c) {
    size_t j = h & (m->cap - 1);
    for (;;) {
        wslot *e = &m->slots[j];
        if (!e->count) break;
        if (e->hash == h && e->len == n && !memcmp(m->arena + e->off, s, n)) {
            e->count += c;
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    if (m->alen + n > m->acap) {
        m->acap = MAX(m->acap * 2, m->alen + n + (1 << 16));
        m->arena = xrealloc(m->arena, m->acap);
    }
    memcpy(m->arena + m->alen, s, n);
    m->slots[j] = (wslot){h, c, m->alen, n};
    m->alen += n;
    if (++m->n * 10 >= m->cap * 7) wmap_grow(m);
}

/* ======================================================================
 * Counting
 * ====================================================================== */

struct toktrain {
    int n_threads;
    wmap *maps; /* one per thread */
    uint64_t bytes;
    /* batch of small documents */
    char *pend;
    size_t plen, pcap;
    size_t *pends; /* end offset of each pending document */
    size_t npend, cpend;

    /* the result of toktrain_learn */
    int learned;
    int n_merges;
    int vocab_size;
    unsigned char id_byte[256];
    int byte_id[256];
    int32_t *merge_a, *merge_b; /* (n_merges) */
    uint8_t *tbytes;            /* token bytes, carved by toff/tlen */
    uint64_t *toff;
    uint32_t *tlen;
    size_t tb_len, tb_cap;
    char **specials;
    int n_specials;
};

toktrain *toktrain_new(int n_threads) {
    toktrain *t = xcalloc(1, sizeof *t);
    t->n_threads = MAX(n_threads, 1);
    t->maps = xcalloc((size_t)t->n_threads, sizeof *t->maps);
    for (int i = 0; i < t->n_threads; i++) wmap_init(&t->maps[i]);
    byte_order(t->id_byte, t->byte_id);
    return t;
}

void toktrain_free(toktrain *t) {
    if (!t) return;
    for (int i = 0; i < t->n_threads; i++) wmap_release(&t->maps[i]);
    free(t->maps);
    free(t->pend);
    free(t->pends);
    free(t->merge_a);
    free(t->merge_b);
    free(t->tbytes);
    free(t->toff);
    free(t->tlen);
    for (int i = 0; i < t->n_specials; i++) free(t->specials[i]);
    free(t->specials);
    free(t);
}

static void count_piece(wmap *m, const char *s, size_t n) {
    while (n > TOKTRAIN_MAX_PIECE) {
        wmap_add(m, s, TOKTRAIN_MAX_PIECE, hash_bytes(s, TOKTRAIN_MAX_PIECE), 1);
        s += TOKTRAIN_MAX_PIECE;
        n -= TOKTRAIN_MAX_PIECE;
    }
    wmap_add(m, s, n, hash_bytes(s, n), 1);
}

static void count_text(wmap *m, const char *s, size_t n) {
    size_t pos = 0;
    while (pos < n) {
        size_t end = pretok_next(PRETOK_LLAMA3, s, n, pos);
        LLMOS_ASSERT(end > pos && end <= n);
        count_piece(m, s + pos, end - pos);
        pos = end;
    }
}

static int is_ascii_letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* 1 if position i (0 < i < n) is a piece boundary of the pattern whatever
 * the text around it: an ASCII letter then a space, or a newline then an
 * ASCII letter. Letter pieces end at the first non-letter, the pieces that
 * may hold a newline end at the last newline of a run, and no piece starts
 * with a newline and goes on with a letter. */
static int is_cut(const char *s, size_t i) {
    unsigned char p = (unsigned char)s[i - 1], c = (unsigned char)s[i];
    return (c == ' ' && is_ascii_letter(p)) || (p == '\n' && is_ascii_letter(c));
}

size_t toktrain_safe_cut(const char *s, size_t n) {
    for (size_t i = n; i-- > 1;)
        if (is_cut(s, i)) return i;
    return 0;
}

/* Cuts s into segments of about SEG_BYTES at safe cuts; ends[k] is the end
 * of segment k. Returns the number of segments. */
static size_t segment(const char *s, size_t n, size_t **ends, size_t *cap) {
    size_t k = 0, pos = 0;
    for (;;) {
        if (k == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *ends = xrealloc(*ends, *cap * sizeof **ends);
        }
        size_t cut = 0;
        for (size_t i = pos + SEG_BYTES; i < n; i++)
            if (is_cut(s, i)) {
                cut = i;
                break;
            }
        if (!cut) break;
        (*ends)[k++] = cut;
        pos = cut;
    }
    (*ends)[k++] = n;
    return k;
}

static void count_large(toktrain *t, const char *s, size_t n) {
    size_t *ends = NULL, cap = 0;
    size_t k = segment(s, n, &ends, &cap);
#pragma omp parallel for num_threads(t->n_threads) schedule(dynamic, 1)
    for (size_t i = 0; i < k; i++) {
        size_t a = i ? ends[i - 1] : 0;
        count_text(&t->maps[omp_get_thread_num()], s + a, ends[i] - a);
    }
    free(ends);
}

/* Counts the pending small documents, in groups of about SEG_BYTES. */
static void flush_pending(toktrain *t) {
    if (!t->npend) return;
    size_t *groups = xmalloc((t->npend + 1) * sizeof *groups); /* first doc of each group */
    size_t ng = 0, start = 0;
    for (size_t d = 0; d < t->npend; d++) {
        size_t a = d ? t->pends[d - 1] : 0;
        if (d == 0 || a - start >= SEG_BYTES) {
            groups[ng++] = d;
            start = a;
        }
    }
    groups[ng] = t->npend;
#pragma omp parallel for num_threads(t->n_threads) schedule(dynamic, 1)
    for (size_t g = 0; g < ng; g++) {
        wmap *m = &t->maps[omp_get_thread_num()];
        for (size_t d = groups[g]; d < groups[g + 1]; d++) {
            size_t a = d ? t->pends[d - 1] : 0;
            count_text(m, t->pend + a, t->pends[d] - a);
        }
    }
    free(groups);
    t->plen = 0;
    t->npend = 0;
}

void toktrain_add(toktrain *t, const char *text, size_t len) {
    LLMOS_ASSERT(!t->learned);
    if (!len) return;
    t->bytes += len;
    if (len >= SEG_BYTES) {
        count_large(t, text, len);
        return;
    }
    if (t->plen + len > t->pcap) {
        t->pcap = MAX(t->plen + len, MAX(t->pcap * 2, (size_t)1 << 20));
        t->pend = xrealloc(t->pend, t->pcap);
    }
    if (t->npend == t->cpend) {
        t->cpend = t->cpend ? t->cpend * 2 : 1024;
        t->pends = xrealloc(t->pends, t->cpend * sizeof *t->pends);
    }
    memcpy(t->pend + t->plen, text, len);
    t->plen += len;
    t->pends[t->npend++] = t->plen;
    if (t->plen >= BATCH_BYTES) flush_pending(t);
}

void toktrain_add_word(toktrain *t, const char *word, size_t len, uint64_t count) {
    LLMOS_ASSERT(!t->learned);
    if (!len || !count) return;
    t->bytes += len * count;
    wmap_add(&t->maps[0], word, len, hash_bytes(word, len), count);
}

void toktrain_sync(toktrain *t) { flush_pending(t); }

uint64_t toktrain_bytes(const toktrain *t) { return t->bytes; }

uint64_t toktrain_n_words(const toktrain *t) {
    uint64_t n = 0;
    for (int i = 0; i < t->n_threads; i++) n += t->maps[i].n;
    return n;
}

/* ======================================================================
 * Learning merges
 * ====================================================================== */

typedef struct {
    int32_t a, b;
    int64_t count;
    int32_t *occ; /* words that held the pair when it was counted (may be stale, repeats) */
    uint32_t nocc, cap;
    int32_t stamp; /* last merge that created or raised this pair */
} bpe_pair;

typedef struct {
    uint64_t key; /* a << 32 | b */
    int32_t idx;  /* -1: empty */
} pslot;

typedef struct {
    int64_t count;
    int32_t pair;
} heap_ent;

typedef struct {
    toktrain *t;
    /* words */
    int32_t *syms;  /* all words' symbols, carved by wofs */
    uint64_t *wofs;
    uint32_t *wlen;
    int64_t *wcnt;
    int32_t *wstamp;
    size_t n_words;
    /* pairs */
    bpe_pair *pairs;
    size_t n_pairs, c_pairs;
    pslot *pmap;
    size_t pmap_cap;
    /* heap */
    heap_ent *heap;
    size_t n_heap, c_heap;
    /* pairs raised by the current merge */
    int32_t *touched;
    size_t n_touched, c_touched;
} bpe;

static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

static void pmap_grow(bpe *s) {
    size_t ncap = s->pmap_cap ? s->pmap_cap * 2 : 1 << 16;
    pslot *nm = xmalloc(ncap * sizeof *nm);
    for (size_t i = 0; i < ncap; i++) nm[i].idx = -1;
    for (size_t i = 0; i < s->pmap_cap; i++) {
        if (s->pmap[i].idx < 0) continue;
        size_t j = mix64(s->pmap[i].key) & (ncap - 1);
        while (nm[j].idx >= 0) j = (j + 1) & (ncap - 1);
        nm[j] = s->pmap[i];
    }
    free(s->pmap);
    s->pmap = nm;
    s->pmap_cap = ncap;
}

/* Index of pair (a, b), created with count 0 when absent (create) or -1. */
static int32_t pair_find(bpe *s, int32_t a, int32_t b, int create) {
    uint64_t key = pair_key(a, b);
    size_t j = mix64(key) & (s->pmap_cap - 1);
    for (;;) {
        pslot *e = &s->pmap[j];
        if (e->idx < 0) break;
        if (e->key == key) return e->idx;
        j = (j + 1) & (s->pmap_cap - 1);
    }
    if (!create) return -1;
    if (s->n_pairs == s->c_pairs) {
        s->c_pairs = s->c_pairs ? s->c_pairs * 2 : 1 << 16;
        s->pairs = xrealloc(s->pairs, s->c_pairs * sizeof *s->pairs);
    }
    int32_t idx = (int32_t)s->n_pairs++;
    s->pairs[idx] = (bpe_pair){.a = a, .b = b, .stamp = -1};
    s->pmap[j] = (pslot){key, idx};
    if (s->n_pairs * 2 >= s->pmap_cap) pmap_grow(s);
    return idx;
}

static void occ_push(bpe_pair *p, int32_t w) {
    if (p->nocc && p->occ[p->nocc - 1] == w) return;
    if (p->nocc == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->occ = xrealloc(p->occ, p->cap * sizeof *p->occ);
    }
    p->occ[p->nocc++] = w;
}

/* Tie order: 1 if pair p ranks before pair q at equal counts (smaller
 * merged bytes, then shorter left part). */
static int pair_before(const bpe *s, int32_t p, int32_t q) {
    const toktrain *t = s->t;
    const bpe_pair *P = &s->pairs[p], *Q = &s->pairs[q];
    const uint8_t *pa = t->tbytes + t->toff[P->a], *pb = t->tbytes + t->toff[P->b];
    const uint8_t *qa = t->tbytes + t->toff[Q->a], *qb = t->tbytes + t->toff[Q->b];
    uint32_t pla = t->tlen[P->a], plb = t->tlen[P->b], qla = t->tlen[Q->a], qlb = t->tlen[Q->b];
    uint32_t pn = pla + plb, qn = qla + qlb;
    for (uint32_t i = 0; i < pn && i < qn; i++) {
        uint8_t x = i < pla ? pa[i] : pb[i - pla];
        uint8_t y = i < qla ? qa[i] : qb[i - qla];
        if (x != y) return x < y;
    }
    if (pn != qn) return pn < qn;
    return pla < qla;
}

static int ent_before(const bpe *s, heap_ent x, heap_ent y) {
    if (x.count != y.count) return x.count > y.count;
    return pair_before(s, x.pair, y.pair);
}

static void heap_down(bpe *s, size_t i) {
    heap_ent *h = s->heap;
    size_t n = s->n_heap;
    heap_ent e = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && ent_before(s, h[c + 1], h[c])) c++;
        if (!ent_before(s, h[c], e)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = e;
}

static void heap_push(bpe *s, int64_t count, int32_t pair) {
    if (s->n_heap == s->c_heap) {
        s->c_heap = s->c_heap ? s->c_heap * 2 : 1 << 16;
        s->heap = xrealloc(s->heap, s->c_heap * sizeof *s->heap);
    }
    heap_ent e = {count, pair};
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ent_before(s, e, s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = e;
}

static heap_ent heap_pop(bpe *s) {
    heap_ent top = s->heap[0];
    s->heap[0] = s->heap[--s->n_heap];
    if (s->n_heap) heap_down(s, 0);
    return top;
}

/* Adds delta to pair (a, b)'s count; a raised pair records word w in its
 * occurrence list and is remembered as touched by merge `stamp`. */
static void pair_add(bpe *s, int32_t a, int32_t b, int64_t delta, int32_t w, int32_t stamp) {
    int32_t idx = pair_find(s, a, b, delta > 0);
    LLMOS_ASSERT(idx >= 0);
    bpe_pair *p = &s->pairs[idx];
    p->count += delta;
    if (delta > 0) {
        occ_push(p, w);
        if (p->stamp != stamp) {
            p->stamp = stamp;
            if (s->n_touched == s->c_touched) {
                s->c_touched = s->c_touched ? s->c_touched * 2 : 1024;
                s->touched = xrealloc(s->touched, s->c_touched * sizeof *s->touched);
            }
            s->touched[s->n_touched++] = idx;
        }
    }
}

/* Rewrites word w with every non-overlapping (a, b), left to right, as c,
 * and adjusts the counts of the pairs around each occurrence. */
static void merge_word(bpe *s, int32_t w, int32_t a, int32_t b, int32_t c, int32_t stamp) {
    int32_t *x = s->syms + s->wofs[w];
    uint32_t n = s->wlen[w], out = 0, i = 0, hits = 0;
    int64_t cnt = s->wcnt[w];
    while (i < n) {
        if (i + 1 < n && x[i] == a && x[i + 1] == b) {
            if (out > 0) {
                pair_add(s, x[out - 1], a, -cnt, w, stamp);
                pair_add(s, x[out - 1], c, cnt, w, stamp);
            }
            if (i + 2 < n) {
                pair_add(s, b, x[i + 2], -cnt, w, stamp);
                pair_add(s, c, x[i + 2], cnt, w, stamp);
            }
            x[out++] = c;
            i += 2;
            hits++;
        } else {
            x[out++] = x[i++];
        }
    }
    s->wlen[w] = out;
    if (hits) s->pairs[pair_find(s, a, b, 0)].count -= cnt * hits;
}

/* Reserves n bytes of the byte pool for token id (filled by the caller). */
static void tok_reserve(toktrain *t, int id, uint32_t n) {
    if (t->tb_len + n > t->tb_cap) {
        t->tb_cap = MAX(t->tb_cap * 2, t->tb_len + n + 4096);
        t->tbytes = xrealloc(t->tbytes, t->tb_cap);
    }
    t->toff[id] = t->tb_len;
    t->tlen[id] = n;
    t->tb_len += n;
}

/* Sums the per-thread maps into map 0 and frees the others. */
static void merge_maps(toktrain *t) {
    flush_pending(t);
    wmap *m0 = &t->maps[0];
    for (int k = 1; k < t->n_threads; k++) {
        wmap *m = &t->maps[k];
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].count)
                wmap_add(m0, m->arena + m->slots[i].off, m->slots[i].len, m->slots[i].hash,
                         m->slots[i].count);
        wmap_release(m);
        wmap_init(m);
    }
}

static int check_opts(const toktrain_opts *o, const char *const *specials, int n_specials) {
    for (int i = 0; i < n_specials; i++) {
        size_t n = strlen(specials[i]);
        if (!n) return err_set("special token %d is empty", i + 1);
        /* llama.cpp looks a whole pre-token up in the vocabulary before
         * merging ("llama-bpe"), so a special that is one pre-token of
         * ordinary text would come out of ordinary text. */
        if (pretok_next(PRETOK_LLAMA3, specials[i], n, 0) == n)
            return err_set("special token '%s' could be a word of ordinary text; use a form like "
                           "'<|%s|>'", specials[i], specials[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(specials[i], specials[j]))
                return err_set("special token '%s' is given twice", specials[i]);
    }
    if (o->vocab_size < 256 + n_specials)
        return err_set("vocabulary size %d is too small: it must hold the 256 byte tokens and "
                       "%d special tokens (at least %d)",
                       o->vocab_size, n_specials, 256 + n_specials);
    if (o->min_count < 1) return err_set("minimum pair count %d must be at least 1", o->min_count);
    return 0;
}

int toktrain_check_opts(const toktrain_opts *o) {
    if (o->specials) return check_opts(o, o->specials, o->n_specials);
    return check_opts(o, toktrain_default_specials, TOKTRAIN_N_DEFAULT_SPECIALS);
}

/* 1 if bytes (p, n) equal a special token's text. */
static int is_special_text(const toktrain *t, const uint8_t *p, size_t n) {
    for (int i = 0; i < t->n_specials; i++)
        if (strlen(t->specials[i]) == n && !memcmp(t->specials[i], p, n)) return 1;
    return 0;
}

int toktrain_learn(toktrain *t, const toktrain_opts *o) {
    LLMOS_ASSERT(!t->learned);
    const char *const *specials = o->specials ? o->specials : toktrain_default_specials;
    int n_specials = o->specials ? o->n_specials : TOKTRAIN_N_DEFAULT_SPECIALS;
    if (check_opts(o, specials, n_specials)) return -1;
    merge_maps(t);
    wmap *m = &t->maps[0];
    if (!m->n) return err_set("no text to train on (the input is empty)");
    t->learned = 1;
    t->n_specials = n_specials;
    t->specials = xmalloc((size_t)n_specials * sizeof *t->specials);
    for (int i = 0; i < n_specials; i++) t->specials[i] = xstrdup(specials[i]);

    double t0 = time_now(), last = t0;
    int target = o->vocab_size - 256 - n_specials;
    t->merge_a = xmalloc((size_t)MAX(target, 1) * sizeof *t->merge_a);
    t->merge_b = xmalloc((size_t)MAX(target, 1) * sizeof *t->merge_b);
    size_t n_tok = 256 + (size_t)target;
    t->toff = xmalloc(n_tok * sizeof *t->toff);
    t->tlen = xmalloc(n_tok * sizeof *t->tlen);
    t->tb_cap = 4096;
    t->tbytes = xmalloc(t->tb_cap);
    for (int i = 0; i < 256; i++) {
        t->tbytes[i] = t->id_byte[i];
        t->toff[i] = (uint64_t)i;
        t->tlen[i] = 1;
    }
    t->tb_len = 256;

    /* Words: every unique pre-token of 2+ bytes, as byte token ids. */
    bpe S = {.t = t}, *s = &S;
    size_t n_syms = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].count && m->slots[i].len > 1) {
            s->n_words++;
            n_syms += m->slots[i].len;
        }
    s->syms = xmalloc(MAX(n_syms, (size_t)1) * sizeof *s->syms);
    s->wofs = xmalloc(MAX(s->n_words, (size_t)1) * sizeof *s->wofs);
    s->wlen = xmalloc(MAX(s->n_words, (size_t)1) * sizeof *s->wlen);
    s->wcnt = xmalloc(MAX(s->n_words, (size_t)1) * sizeof *s->wcnt);
    s->wstamp = xmalloc(MAX(s->n_words, (size_t)1) * sizeof *s->wstamp);
    size_t w = 0, pos = 0;
    for (size_t i = 0; i < m->cap; i++) {
        const wslot *e = &m->slots[i];
        if (!e->count || e->len < 2) continue;
        const unsigned char *p = (const unsigned char *)m->arena + e->off;
        s->wofs[w] = pos;
        s->wlen[w] = (uint32_t)e->len;
        s->wcnt[w] = (int64_t)e->count;
        s->wstamp[w] = -1;
        for (size_t j = 0; j < e->len; j++) s->syms[pos++] = t->byte_id[p[j]];
        w++;
    }
    wmap_release(m);
    wmap_init(m);

    /* Initial pair counts and occurrence lists. */
    pmap_grow(s);
    for (w = 0; w < s->n_words; w++) {
        const int32_t *x = s->syms + s->wofs[w];
        for (uint32_t j = 0; j + 1 < s->wlen[w]; j++) {
            int32_t idx = pair_find(s, x[j], x[j + 1], 1); /* may move s->pairs */
            bpe_pair *p = &s->pairs[idx];
            p->count += s->wcnt[w];
            occ_push(p, (int32_t)w);
        }
    }
    s->c_heap = MAX(s->n_pairs, (size_t)16);
    s->heap = xmalloc(s->c_heap * sizeof *s->heap);
    for (size_t i = 0; i < s->n_pairs; i++) s->heap[s->n_heap++] = (heap_ent){s->pairs[i].count, (int32_t)i};
    for (size_t i = s->n_heap / 2; i-- > 0;) heap_down(s, i);

    /* The merge loop. */
    int nm = 0;
    while (nm < target && s->n_heap) {
        heap_ent top = heap_pop(s);
        bpe_pair *p = &s->pairs[top.pair];
        if (top.count != p->count) { /* stale: counts only fall for old pairs */
            if (p->count > 0) heap_push(s, p->count, top.pair);
            continue;
        }
        if (p->count < o->min_count) break;
        int32_t a = p->a, b = p->b, c = 256 + nm;
        uint32_t la = t->tlen[a], lb = t->tlen[b];
        tok_reserve(t, c, la + lb);
        memcpy(t->tbytes + t->toff[c], t->tbytes + t->toff[a], la);
        memcpy(t->tbytes + t->toff[c] + la, t->tbytes + t->toff[b], lb);
        if (is_special_text(t, t->tbytes + t->toff[c], la + lb)) {
            t->tb_len -= la + lb; /* never merged: the pair drops out */
            continue;
        }
        t->merge_a[nm] = a;
        t->merge_b[nm] = b;

        int32_t *occ = p->occ;
        uint32_t nocc = p->nocc;
        p->occ = NULL;
        p->nocc = p->cap = 0;
        s->n_touched = 0;
        for (uint32_t k = 0; k < nocc; k++) {
            int32_t wi = occ[k];
            if (s->wstamp[wi] == nm) continue;
            s->wstamp[wi] = nm;
            merge_word(s, wi, a, b, c, nm);
        }
        free(occ);
        LLMOS_ASSERT(s->pairs[top.pair].count == 0);
        for (size_t k = 0; k < s->n_touched; k++) {
            bpe_pair *q = &s->pairs[s->touched[k]];
            if (q->count > 0) heap_push(s, q->count, s->touched[k]);
        }
        nm++;
        if (o->progress && ((nm & 63) == 0 || nm == target)) {
            double now = time_now();
            if (now - last >= 0.25 || nm == target) {
                last = now;
                toktrain_progress pr = {nm, target, top.count, now - t0};
                o->progress(o->progress_ctx, &pr);
            }
        }
    }
    t->n_merges = nm;
    t->vocab_size = 256 + nm + n_specials;

    for (size_t i = 0; i < s->n_pairs; i++) free(s->pairs[i].occ);
    free(s->pairs);
    free(s->pmap);
    free(s->heap);
    free(s->touched);
    free(s->syms);
    free(s->wofs);
    free(s->wlen);
    free(s->wcnt);
    free(s->wstamp);
    return 0;
}

int toktrain_vocab_size(const toktrain *t) { return t->vocab_size; }
int toktrain_n_merges(const toktrain *t) { return t->n_merges; }

/* ======================================================================
 * Output
 * ====================================================================== */

/* GPT-2 unicode text of a normal token into buf (>= 2 * len + 1). */
static size_t token_text(const toktrain *t, int id, char *buf) {
    size_t n = 0;
    const uint8_t *p = t->tbytes + t->toff[id];
    for (uint32_t i = 0; i < t->tlen[id]; i++) n += (size_t)toktrain_byte_to_unicode(p[i], buf + n);
    buf[n] = 0;
    return n;
}

void toktrain_to_gguf(const toktrain *t, gguf_writer *w) {
    LLMOS_ASSERT(t->learned);
    int n_norm = 256 + t->n_merges, V = t->vocab_size;
    char **tokens = xmalloc((size_t)V * sizeof *tokens);
    int32_t *types = xmalloc((size_t)V * sizeof *types);
    char **merges = xmalloc((size_t)MAX(t->n_merges, 1) * sizeof *merges);
    size_t maxlen = 0;
    for (int i = 0; i < n_norm; i++) maxlen = MAX(maxlen, (size_t)t->tlen[i]);
    char *buf = xmalloc(2 * maxlen + 1);
    for (int i = 0; i < n_norm; i++) {
        token_text(t, i, buf);
        tokens[i] = xstrdup(buf);
        types[i] = 1; /* normal */
    }
    for (int i = 0; i < t->n_specials; i++) {
        tokens[n_norm + i] = xstrdup(t->specials[i]);
        types[n_norm + i] = 3; /* control */
    }
    for (int i = 0; i < t->n_merges; i++) {
        const char *a = tokens[t->merge_a[i]], *b = tokens[t->merge_b[i]];
        size_t la = strlen(a), lb = strlen(b);
        merges[i] = xmalloc(la + lb + 2);
        memcpy(merges[i], a, la);
        merges[i][la] = ' ';
        memcpy(merges[i] + la + 1, b, lb + 1);
    }
    gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_set_str(w, "tokenizer.ggml.pre", "llama-bpe");
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tokens, NULL, (uint64_t)V);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_I32, types, (uint64_t)V);
    gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)merges, NULL,
                     (uint64_t)t->n_merges);
    /* The first three specials are bos, eos and eot when the defaults are
     * used; with a caller's list, the roles go to the names that match. */
    int bos = -1, eos = -1, eot = -1;
    for (int i = 0; i < t->n_specials; i++) {
        if (!strcmp(t->specials[i], toktrain_default_specials[0])) bos = n_norm + i;
        if (!strcmp(t->specials[i], toktrain_default_specials[1])) eos = n_norm + i;
        if (!strcmp(t->specials[i], toktrain_default_specials[2])) eot = n_norm + i;
    }
    if (bos >= 0) gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    if (eos >= 0) gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
    if (eot >= 0) gguf_set_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)eot);
    gguf_set_bool(w, "tokenizer.ggml.add_bos_token", bos >= 0);
    gguf_set_bool(w, "tokenizer.ggml.add_eos_token", 0);
    for (int i = 0; i < V; i++) free(tokens[i]);
    for (int i = 0; i < t->n_merges; i++) free(merges[i]);
    free(tokens);
    free(types);
    free(merges);
    free(buf);
}
