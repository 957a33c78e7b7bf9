/*
 * corpus.c - the corpus builder's pipeline: it collects cleaned documents
 * from the readers, then removes boilerplate, chunks, filters, removes
 * exact and near duplicates (MinHash + LSH), splits train/validation by
 * document, applies the per-source mixture weights and writes the JSONL
 * files and the manifest. The steps and their defaults are described in
 * corpus.h; the counts of every step are kept per source for the manifest.
 */
#include "corpus.h"

#include "../core/common.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MH_PERM 128   /* MinHash permutations */
#define MH_BANDS 16   /* LSH bands of MH_ROWS rows */
#define MH_ROWS 8
#define MH_SHINGLE 5  /* words per shingle */
#define MH_MAX_CMP 32 /* earlier members of a bucket compared with each doc */

/* Why a document was dropped (0 = kept). */
enum { DOC_KEPT, DOC_SHORT, DOC_LONG, DOC_SYMBOL, DOC_REPEAT, DOC_EXACT, DOC_NEAR };

typedef struct {
    char *name, *license;
    double weight;
    uint64_t docs_in, bytes_in, repaired, empty;
    uint64_t boiler_lines, boiler_bytes;
    uint64_t chunks;
    uint64_t dropped[DOC_NEAR + 1], dropped_bytes[DOC_NEAR + 1];
    uint64_t kept, kept_bytes;
    uint64_t train_docs, train_bytes, val_docs, val_bytes;
} corpus_src;

typedef struct {
    char *text;
    size_t len;
    int src;
    int dead;       /* DOC_* */
    uint64_t h[2];  /* hash of the normalized text */
} corpus_doc;

struct corpus {
    corpus_opts o;
    corpus_src *srcs;
    int n_src, cap_src;
    corpus_doc *docs;
    size_t n_docs, cap_docs;
    uint64_t skips[CORPUS_SKIP_N];
    uint64_t files, bytes_added;
    uint64_t near_hist[9];  /* [0]..[7] by k_hist_edges, [8] exactly 1 */   /* removed near duplicates by similarity bucket */
    double t0, t_last;
};

static const char *k_skip_names[CORPUS_SKIP_N] = {"unreadable", "binary", "empty", "bad format",
                                                  "failed URL"};
static const double k_hist_edges[9] = {0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0};

void corpus_opts_default(corpus_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->val_fraction = 0.01;
    o->chunk_bytes = 32768;
    o->min_bytes = 24;
    o->max_bytes = (size_t)64 << 20;
    o->max_symbol_ratio = 0.30;
    o->max_dup_line_ratio = 0.30;
    o->near_threshold = 0.8;
    o->boilerplate = 1;
    o->threads = 0;
}

corpus *corpus_new(const corpus_opts *o) {
    corpus *c = xcalloc(1, sizeof *c);
    c->o = *o;
    if (c->o.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->o.threads = n > 0 ? (int)n : 1;
    }
    c->t0 = c->t_last = time_now();
    return c;
}

void corpus_free(corpus *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_docs; i++) free(c->docs[i].text);
    for (int i = 0; i < c->n_src; i++) {
        free(c->srcs[i].name);
        free(c->srcs[i].license);
    }
    free(c->docs);
    free(c->srcs);
    free(c);
}

static int find_source(const corpus *c, const char *name) {
    for (int i = 0; i < c->n_src; i++)
        if (!strcmp(c->srcs[i].name, name)) return i;
    return -1;
}

int corpus_source(corpus *c, const char *name, const char *license) {
    int i = find_source(c, name);
    if (i >= 0) {
        if (license && strcmp(c->srcs[i].license, "unknown") == 0 && strcmp(license, "unknown")) {
            free(c->srcs[i].license);
            c->srcs[i].license = xstrdup(license);
        }
        return i;
    }
    if (c->n_src == c->cap_src) {
        c->cap_src = c->cap_src ? c->cap_src * 2 : 16;
        c->srcs = xrealloc(c->srcs, (size_t)c->cap_src * sizeof *c->srcs);
    }
    corpus_src *s = &c->srcs[c->n_src];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name);
    s->license = xstrdup(license ? license : "unknown");
    s->weight = 1.0;
    return c->n_src++;
}

int corpus_set_weight(corpus *c, const char *name, double weight) {
    int i = find_source(c, name);
    if (i < 0) return -1;
    c->srcs[i].weight = weight;
    return 0;
}

int corpus_set_license(corpus *c, const char *name, const char *license) {
    int i = find_source(c, name);
    if (i < 0) return -1;
    free(c->srcs[i].license);
    c->srcs[i].license = xstrdup(license);
    return 0;
}

static void push_doc(corpus *c, char *text, size_t len, int src) {
    if (c->n_docs == c->cap_docs) {
        c->cap_docs = c->cap_docs ? c->cap_docs * 2 : 1024;
        c->docs = xrealloc(c->docs, c->cap_docs * sizeof *c->docs);
    }
    corpus_doc *d = &c->docs[c->n_docs++];
    memset(d, 0, sizeof *d);
    d->text = text;
    d->len = len;
    d->src = src;
}

void corpus_add(corpus *c, int src, const char *text, size_t len) {
    LLMOS_ASSERT(src >= 0 && src < c->n_src);
    corpus_src *s = &c->srcs[src];
    int repaired = 0;
    size_t n;
    char *t = text_clean(text, len, &n, &repaired);
    s->repaired += (uint64_t)repaired;
    if (n == 0) {
        s->empty++;
        free(t);
        return;
    }
    s->docs_in++;
    s->bytes_in += n;
    c->bytes_added += n;
    push_doc(c, t, n, src);
}

void corpus_skip(corpus *c, corpus_skip_reason reason, const char *what, const char *why) {
    if (c->skips[reason]++ < 5 && !c->o.quiet)
        fprintf(stderr, "llmos: skipped '%s': %s\n", what, why);
    else if (c->skips[reason] == 6 && !c->o.quiet)
        fprintf(stderr, "llmos: (further '%s' inputs are only counted)\n", k_skip_names[reason]);
}

void corpus_progress(corpus *c, const char *what) {
    c->files++;
    double now = time_now();
    if (c->o.quiet || now - c->t_last < 1.0) return;
    c->t_last = now;
    char b1[32];
    fprintf(stderr, "\rcorpus: reading %-24.24s %8llu files  %8zu docs  %10s  %6.1f s%s",
            what, (unsigned long long)c->files, c->n_docs, fmt_bytes((double)c->bytes_added, b1, sizeof b1),
            now - c->t0, isatty(2) ? "" : "\n");
    fflush(stderr);
}

/* ---- a small open-addressing set/counter of 64-bit keys ------------------ */

typedef struct {
    uint64_t *keys; /* 0 = empty (keys are forced non-zero) */
    uint32_t *vals;
    uint32_t *aux;
    size_t cap, n;
} u64map;

static void map_init(u64map *m, size_t expect) {
    size_t cap = 64;
    while (cap < expect * 2) cap *= 2;
    m->keys = xcalloc(cap, sizeof *m->keys);
    m->vals = xcalloc(cap, sizeof *m->vals);
    m->aux = xcalloc(cap, sizeof *m->aux);
    m->cap = cap;
    m->n = 0;
}
static void map_free(u64map *m) {
    free(m->keys);
    free(m->vals);
    free(m->aux);
}
static size_t map_slot(u64map *m, uint64_t k);
static void map_grow(u64map *m) {
    u64map g;
    map_init(&g, m->cap);
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t s = map_slot(&g, m->keys[i]);
            g.keys[s] = m->keys[i];
            g.vals[s] = m->vals[i];
            g.aux[s] = m->aux[i];
            g.n++;
        }
    map_free(m);
    *m = g;
}
/* The slot of key k (existing or the empty one where it would go). */
static size_t map_slot(u64map *m, uint64_t k) {
    size_t i = (size_t)(k * 0x9E3779B97F4A7C15ULL) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
    return i;
}
/* Finds or inserts k; returns its slot. */
static size_t map_get(u64map *m, uint64_t k) {
    k |= 1;
    if ((m->n + 1) * 2 > m->cap) map_grow(m);
    size_t s = map_slot(m, k);
    if (!m->keys[s]) {
        m->keys[s] = k;
        m->vals[s] = 0;
        m->aux[s] = UINT32_MAX;
        m->n++;
    }
    return s;
}
static int map_has(u64map *m, uint64_t k) {
    k |= 1;
    return m->keys[map_slot(m, k)] == k;
}

/* A line that may be boilerplate: >= 12 bytes and >= 3 words (so that
 * headings such as "DESCRIPTION" or "SEE ALSO" stay). */
static int boiler_candidate(const char *s, size_t n) {
    size_t words = 0, bytes = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        int sp = s[i] == ' ' || s[i] == '\t';
        if (!sp) bytes++;
        if (!sp && !in) words++;
        in = !sp;
    }
    return bytes >= 12 && words >= 3;
}

/* Line spans of a text, trimmed of surrounding blanks. */
static uint64_t line_key(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return text_hash64(s, n, 0x6c696e65);
}
static size_t trimmed_len(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return n;
}

/* ---- step 2: boilerplate lines ------------------------------------------- */

static void remove_boilerplate(corpus *c) {
    for (int si = 0; si < c->n_src; si++) {
        corpus_src *s = &c->srcs[si];
        if (s->docs_in < 8) continue;
        u64map m;
        map_init(&m, 1024);
        for (size_t di = 0; di < c->n_docs; di++) {
            corpus_doc *d = &c->docs[di];
            if (d->src != si) continue;
            for (size_t i = 0; i < d->len;) {
                const char *nl = memchr(d->text + i, '\n', d->len - i);
                size_t e = nl ? (size_t)(nl - d->text) : d->len;
                if (boiler_candidate(d->text + i, e - i)) {
                    size_t k = map_get(&m, line_key(d->text + i, e - i));
                    if (m.aux[k] != (uint32_t)di) { /* count each document once */
                        m.aux[k] = (uint32_t)di;
                        m.vals[k]++;
                    }
                }
                i = e + 1;
            }
        }
        uint64_t min_docs = MAX((uint64_t)8, (uint64_t)ceil(0.30 * (double)s->docs_in));
        int any = 0;
        for (size_t i = 0; i < m.cap && !any; i++) any = m.keys[i] && m.vals[i] >= min_docs;
        if (any) {
            for (size_t di = 0; di < c->n_docs; di++) {
                corpus_doc *d = &c->docs[di];
                if (d->src != si) continue;
                size_t w = 0;
                for (size_t i = 0; i < d->len;) {
                    const char *nl = memchr(d->text + i, '\n', d->len - i);
                    size_t e = nl ? (size_t)(nl - d->text) : d->len;
                    size_t ll = e - i + (nl ? 1 : 0);
                    int drop = 0;
                    if (boiler_candidate(d->text + i, e - i)) {
                        uint64_t k = line_key(d->text + i, e - i) | 1;
                        size_t sl = map_slot(&m, k);
                        drop = m.keys[sl] == k && m.vals[sl] >= min_docs;
                    }
                    if (drop) {
                        s->boiler_lines++;
                        s->boiler_bytes += ll;
                    } else {
                        memmove(d->text + w, d->text + i, ll);
                        w += ll;
                    }
                    i = e + 1;
                }
                if (w != d->len) { /* re-tidy the blank lines left behind */
                    size_t n;
                    char *t = text_clean(d->text, w, &n, NULL);
                    free(d->text);
                    d->text = t;
                    d->len = n;
                }
            }
        }
        map_free(&m);
    }
}

/* ---- step 3: chunking ------------------------------------------------------ */

/* Where to cut text (n > max): the last paragraph break before max, else the
 * last line break, else the last space, else a UTF-8 boundary at max. */
static size_t cut_point(const char *t, size_t n, size_t max) {
    size_t lim = MIN(n, max);
    for (size_t i = lim; i > max / 4; i--)
        if (t[i - 1] == '\n' && i >= 2 && t[i - 2] == '\n') return i;
    for (size_t i = lim; i > max / 4; i--)
        if (t[i - 1] == '\n') return i;
    for (size_t i = lim; i > max / 4; i--)
        if (t[i - 1] == ' ') return i;
    size_t i = lim;
    while (i > 1 && ((unsigned char)t[i] & 0xC0) == 0x80) i--;
    return i;
}

static void chunk_docs(corpus *c) {
    size_t n0 = c->n_docs;
    corpus_doc *old = c->docs;
    c->docs = NULL;
    c->n_docs = c->cap_docs = 0;
    for (size_t di = 0; di < n0; di++) {
        corpus_doc *d = &old[di];
        corpus_src *s = &c->srcs[d->src];
        if (d->len == 0) { free(d->text); continue; }
        if (d->len > c->o.max_bytes) {
            s->dropped[DOC_LONG]++;
            s->dropped_bytes[DOC_LONG] += d->len;
            free(d->text);
            continue;
        }
        if (d->len <= c->o.chunk_bytes) {
            push_doc(c, d->text, d->len, d->src);
            s->chunks++;
            continue;
        }
        size_t i = 0;
        while (i < d->len) {
            size_t rest = d->len - i;
            size_t k = rest <= c->o.chunk_bytes ? rest : cut_point(d->text + i, rest, c->o.chunk_bytes);
            size_t a = i, z = i + k;
            while (a < z && isspace((unsigned char)d->text[a])) a++;
            while (z > a && isspace((unsigned char)d->text[z - 1])) z--;
            if (z > a) {
                push_doc(c, xstrndup(d->text + a, z - a), z - a, d->src);
                s->chunks++;
            }
            i += k;
        }
        free(d->text);
    }
    free(old);
}

/* ---- step 4: quality filters ----------------------------------------------- */

static int quality(const corpus *c, const corpus_doc *d) {
    if (d->len < c->o.min_bytes) return DOC_SHORT;
    size_t nonspace = 0, sym = 0;
    for (size_t i = 0; i < d->len; i++) {
        unsigned char ch = (unsigned char)d->text[i];
        if (isspace(ch)) continue;
        nonspace++;
        if (ch < 0x80 && !isalnum(ch)) sym++;
    }
    if (nonspace == 0 || (double)sym > c->o.max_symbol_ratio * (double)nonspace) return DOC_SYMBOL;
    /* repeated lines */
    size_t lines = 0, total = 0, dup = 0;
    for (size_t i = 0; i < d->len;) {
        const char *nl = memchr(d->text + i, '\n', d->len - i);
        size_t e = nl ? (size_t)(nl - d->text) : d->len;
        if (trimmed_len(d->text + i, e - i)) lines++;
        i = e + 1;
    }
    if (lines >= 4) {
        u64map m;
        map_init(&m, lines);
        for (size_t i = 0; i < d->len;) {
            const char *nl = memchr(d->text + i, '\n', d->len - i);
            size_t e = nl ? (size_t)(nl - d->text) : d->len;
            size_t tl = trimmed_len(d->text + i, e - i);
            if (tl) {
                uint64_t k = line_key(d->text + i, e - i);
                total += tl;
                if (map_has(&m, k)) dup += tl;
                else map_get(&m, k);
            }
            i = e + 1;
        }
        map_free(&m);
        if ((double)dup > c->o.max_dup_line_ratio * (double)total) return DOC_REPEAT;
    }
    return DOC_KEPT;
}

static void drop(corpus *c, corpus_doc *d, int why) {
    d->dead = why;
    c->srcs[d->src].dropped[why]++;
    c->srcs[d->src].dropped_bytes[why] += d->len;
}

/* ---- step 5: exact duplicates ---------------------------------------------- */

/* Lowercased ASCII, whitespace runs as one space, trimmed. */
static size_t normalize(const char *s, size_t n, char *out) {
    size_t w = 0;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isspace(ch)) { sp = 1; continue; }
        if (sp && w) out[w++] = ' ';
        sp = 0;
        out[w++] = (char)tolower(ch);
    }
    return w;
}

typedef struct { uint64_t h0, h1; size_t i; } hash_ix;
static int cmp_hash_ix(const void *a, const void *b) {
    const hash_ix *x = a, *y = b;
    if (x->h0 != y->h0) return x->h0 < y->h0 ? -1 : 1;
    if (x->h1 != y->h1) return x->h1 < y->h1 ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void exact_dedup(corpus *c) {
    hash_ix *v = xmalloc((c->n_docs + 1) * sizeof *v);
    size_t m = 0;
    char *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < c->n_docs; i++) {
        corpus_doc *d = &c->docs[i];
        if (d->len + 1 > cap) buf = xrealloc(buf, cap = d->len + 1);
        size_t n = normalize(d->text, d->len, buf);
        d->h[0] = text_hash64(buf, n, 0x5eed0001);
        d->h[1] = text_hash64(buf, n, 0x5eed0002);
        if (d->dead) continue;
        v[m++] = (hash_ix){d->h[0], d->h[1], i};
    }
    free(buf);
    qsort(v, m, sizeof *v, cmp_hash_ix);
    for (size_t k = 1; k < m; k++)
        if (v[k].h0 == v[k - 1].h0 && v[k].h1 == v[k - 1].h1) drop(c, &c->docs[v[k].i], DOC_EXACT);
    free(v);
}

/* ---- step 6: near duplicates (MinHash + LSH) ------------------------------- */

static inline uint64_t mh_mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Signature of one text: for each permutation k the minimum over its word
 * 5-shingles of (a_k * shingle + b_k) >> 32. Returns 0 when the text has no
 * words (no signature). */
static int minhash(const char *t, size_t n, const uint64_t *pa, const uint64_t *pb, uint32_t *sig) {
    uint64_t win[MH_SHINGLE];
    size_t nw = 0;
    int any = 0;
    for (int k = 0; k < MH_PERM; k++) sig[k] = UINT32_MAX;
    char word[64];
    size_t i = 0;
    for (;;) {
        while (i < n && !(isalnum((unsigned char)t[i]) || (unsigned char)t[i] >= 0x80)) i++;
        if (i >= n) break;
        size_t wl = 0;
        uint64_t wh;
        size_t st = i;
        while (i < n && (isalnum((unsigned char)t[i]) || (unsigned char)t[i] >= 0x80)) {
            if (wl < sizeof word) word[wl++] = (char)tolower((unsigned char)t[i]);
            i++;
        }
        wh = wl < sizeof word ? text_hash64(word, wl, 7) : text_hash64(t + st, i - st, 7);
        win[nw % MH_SHINGLE] = wh;
        nw++;
        if (nw >= MH_SHINGLE) {
            uint64_t s = 0;
            for (size_t j = nw - MH_SHINGLE; j < nw; j++) s = mh_mix(s * 0x100000001b3ULL + win[j % MH_SHINGLE]);
            for (int k = 0; k < MH_PERM; k++) {
                uint32_t v = (uint32_t)((pa[k] * s + pb[k]) >> 32);
                if (v < sig[k]) sig[k] = v;
            }
            any = 1;
        }
    }
    if (!any && nw > 0) { /* fewer words than a shingle: one shingle of all */
        uint64_t s = 0;
        for (size_t j = 0; j < nw; j++) s = mh_mix(s * 0x100000001b3ULL + win[j]);
        for (int k = 0; k < MH_PERM; k++) sig[k] = (uint32_t)((pa[k] * s + pb[k]) >> 32);
        any = 1;
    }
    return any;
}

typedef struct { uint64_t key; uint32_t doc; } band_ix;
static int cmp_band_ix(const void *a, const void *b) {
    const band_ix *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}
typedef struct { uint32_t later, earlier; float sim; } near_pair;
static int cmp_near_pair(const void *a, const void *b) {
    const near_pair *x = a, *y = b;
    if (x->later != y->later) return x->later < y->later ? -1 : 1;
    return x->earlier < y->earlier ? -1 : x->earlier > y->earlier;
}

static void near_dedup(corpus *c) {
    uint64_t pa[MH_PERM], pb[MH_PERM], st = 0x243F6A8885A308D3ULL;
    for (int k = 0; k < MH_PERM; k++) {
        st = mh_mix(st + 0x9E3779B97F4A7C15ULL);
        pa[k] = st | 1;
        st = mh_mix(st + 0x9E3779B97F4A7C15ULL);
        pb[k] = st;
    }
    /* the living documents, in order */
    size_t m = 0;
    uint32_t *ids = xmalloc((c->n_docs + 1) * sizeof *ids);
    for (size_t i = 0; i < c->n_docs; i++)
        if (!c->docs[i].dead) ids[m++] = (uint32_t)i;
    uint32_t *sig = xmalloc((m + 1) * MH_PERM * sizeof *sig);
    unsigned char *has = xcalloc(m + 1, 1);
    double t0 = time_now();
#pragma omp parallel for schedule(dynamic, 64) num_threads(c->o.threads)
    for (size_t j = 0; j < m; j++) {
        const corpus_doc *d = &c->docs[ids[j]];
        has[j] = (unsigned char)minhash(d->text, d->len, pa, pb, sig + j * MH_PERM);
    }
    if (!c->o.quiet)
        fprintf(stderr, "corpus: MinHash signatures of %zu documents in %.1f s\n", m, time_now() - t0);

    near_pair *pairs = NULL;
    size_t np = 0, pcap = 0;
    band_ix *bx = xmalloc((m + 1) * sizeof *bx);
    for (int b = 0; b < MH_BANDS; b++) {
        size_t nb = 0;
        for (size_t j = 0; j < m; j++) {
            if (!has[j]) continue;
            bx[nb].key = text_hash64(sig + j * MH_PERM + b * MH_ROWS, MH_ROWS * sizeof(uint32_t), (uint64_t)b);
            bx[nb].doc = (uint32_t)j;
            nb++;
        }
        qsort(bx, nb, sizeof *bx, cmp_band_ix);
        for (size_t g = 0; g < nb;) {
            size_t e = g + 1;
            while (e < nb && bx[e].key == bx[g].key) e++;
            for (size_t x = g + 1; x < e; x++) {
                size_t from = x - g > MH_MAX_CMP ? x - MH_MAX_CMP : g;
                for (size_t y = from; y < x; y++) {
                    const uint32_t *sx = sig + (size_t)bx[x].doc * MH_PERM, *sy = sig + (size_t)bx[y].doc * MH_PERM;
                    int same = 0;
                    for (int k = 0; k < MH_PERM; k++) same += sx[k] == sy[k];
                    float sim = (float)same / MH_PERM;
                    if (sim >= c->o.near_threshold) {
                        if (np == pcap) pairs = xrealloc(pairs, (pcap = pcap ? pcap * 2 : 1024) * sizeof *pairs);
                        pairs[np++] = (near_pair){bx[x].doc, bx[y].doc, sim};
                    }
                }
            }
            g = e;
        }
    }
    free(bx);
    if (np) qsort(pairs, np, sizeof *pairs, cmp_near_pair);
    /* keep the first of each cluster: a document goes when it is near one
     * that is still kept (all earlier decisions are final) */
    unsigned char *gone = xcalloc(m + 1, 1);
    for (size_t p = 0; p < np;) {
        size_t e = p;
        float best = -1;
        while (e < np && pairs[e].later == pairs[p].later) {
            if (!gone[pairs[e].earlier] && pairs[e].sim > best) best = pairs[e].sim;
            e++;
        }
        if (best >= 0) {
            gone[pairs[p].later] = 1;
            drop(c, &c->docs[ids[pairs[p].later]], DOC_NEAR);
            int h = 0;
            while (h < 7 && best >= k_hist_edges[h + 1]) h++;
            c->near_hist[best >= 1.0f ? 8 : h]++;
        }
        p = e;
    }
    free(gone);
    free(pairs);
    free(has);
    free(sig);
    free(ids);
}

/* ---- steps 7-8: split, mix, write ------------------------------------------ */

static void json_str(FILE *f, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    fputc('"', f);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (ch == '"') esc = "\\\"";
        else if (ch == '\\') esc = "\\\\";
        else if (ch == '\n') esc = "\\n";
        else if (ch == '\t') esc = "\\t";
        else if (ch == '\r') esc = "\\r";
        else if (ch < 0x20 || ch == 0x7F) {
            u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
            u[4] = hex[ch >> 4]; u[5] = hex[ch & 15]; u[6] = 0;
            esc = u;
        }
        if (esc) {
            if (run) fwrite(s + i - run, 1, run, f);
            run = 0;
            fputs(esc, f);
        } else {
            run++;
        }
    }
    if (run) fwrite(s + n - run, 1, run, f);
    fputc('"', f);
}

static void write_doc(FILE *f, const corpus_src *s, const corpus_doc *d) {
    fputs("{\"source\":", f);
    json_str(f, s->name, strlen(s->name));
    fputs(",\"license\":", f);
    json_str(f, s->license, strlen(s->license));
    fputs(",\"text\":", f);
    json_str(f, d->text, d->len);
    fputs("}\n", f);
}

static inline uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unit(uint64_t h) { return (double)(h >> 11) * (1.0 / 9007199254740992.0); }

static int mkdir_p(const char *dir) {
    char *p = xstrdup(dir);
    for (char *q = p + 1; *q; q++) {
        if (*q != '/') continue;
        *q = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            err_set("cannot create '%s': %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *q = '/';
    }
    int rc = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) rc = err_set("cannot create '%s': %s", p, strerror(errno));
    free(p);
    return rc;
}

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int write_outputs(corpus *c, const char *dir, const char *preset) {
    /* split */
    size_t nval = 0, nkept = 0, best = SIZE_MAX;
    double best_u = 2;
    unsigned char *is_val = xcalloc(c->n_docs + 1, 1);
    for (size_t i = 0; i < c->n_docs; i++) {
        corpus_doc *d = &c->docs[i];
        if (d->dead) continue;
        nkept++;
        double u = unit(text_hash64(d->h, sizeof d->h, c->o.seed ^ 0x73706c6974ULL));
        if (u < c->o.val_fraction) { is_val[i] = 1; nval++; }
        if (u < best_u) { best_u = u; best = i; }
    }
    if (nkept == 0) {
        free(is_val);
        return err_set("no documents left to write (all inputs were skipped, filtered or duplicates)");
    }
    if (nval == 0 && c->o.val_fraction > 0 && nkept >= 2) { is_val[best] = 1; nval = 1; }
    /* mix: train copies per document */
    size_t ntrain = 0, cap = 1024;
    uint32_t *order = xmalloc(cap * sizeof *order);
    for (size_t i = 0; i < c->n_docs; i++) {
        corpus_doc *d = &c->docs[i];
        if (d->dead || is_val[i]) continue;
        double w = c->srcs[d->src].weight;
        double u = unit(text_hash64(d->h, sizeof d->h, c->o.seed ^ 0x6d6978ULL));
        size_t copies = (size_t)floor(w) + (u < w - floor(w) ? 1 : 0);
        for (size_t k = 0; k < copies; k++) {
            if (ntrain == cap) order = xrealloc(order, (cap *= 2) * sizeof *order);
            order[ntrain++] = (uint32_t)i;
        }
    }
    uint64_t rng = c->o.seed * 0x2545F4914F6CDD1DULL + 17;
    for (size_t i = ntrain; i > 1; i--) {
        size_t j = (size_t)(splitmix(&rng) % i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (int s = 0; s < c->n_src; s++) {
        corpus_src *cs = &c->srcs[s];
        cs->kept = cs->kept_bytes = cs->train_docs = cs->train_bytes = cs->val_docs = cs->val_bytes = 0;
    }
    for (size_t i = 0; i < c->n_docs; i++) {
        corpus_doc *d = &c->docs[i];
        if (d->dead) continue;
        corpus_src *s = &c->srcs[d->src];
        s->kept++;
        s->kept_bytes += d->len;
        if (is_val[i]) { s->val_docs++; s->val_bytes += d->len; }
    }
    for (size_t k = 0; k < ntrain; k++) {
        corpus_doc *d = &c->docs[order[k]];
        c->srcs[d->src].train_docs++;
        c->srcs[d->src].train_bytes += d->len;
    }

    int rc = -1;
    if (mkdir_p(dir) != 0) goto out;
    char *tp = path_join(dir, "train.jsonl"), *vp = path_join(dir, "val.jsonl"), *mp = path_join(dir, "manifest.json");
    atomic_file af;
    if (atomic_open(&af, tp) == 0) {
        for (size_t k = 0; k < ntrain; k++) write_doc(af.f, &c->srcs[c->docs[order[k]].src], &c->docs[order[k]]);
        if (atomic_commit(&af) != 0) goto out2;
    } else goto out2;
    if (atomic_open(&af, vp) == 0) {
        for (size_t i = 0; i < c->n_docs; i++)
            if (!c->docs[i].dead && is_val[i]) write_doc(af.f, &c->srcs[c->docs[i].src], &c->docs[i]);
        if (atomic_commit(&af) != 0) goto out2;
    } else goto out2;

    /* manifest */
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "llmos-corpus-1");
    if (preset) cJSON_AddStringToObject(root, "preset", preset);
    cJSON_AddNumberToObject(root, "seed", (double)c->o.seed);
    cJSON_AddNumberToObject(root, "val_fraction", c->o.val_fraction);
    cJSON *opt = cJSON_AddObjectToObject(root, "options");
    cJSON_AddNumberToObject(opt, "chunk_bytes", (double)c->o.chunk_bytes);
    cJSON_AddNumberToObject(opt, "min_bytes", (double)c->o.min_bytes);
    cJSON_AddNumberToObject(opt, "max_bytes", (double)c->o.max_bytes);
    cJSON_AddNumberToObject(opt, "max_symbol_ratio", c->o.max_symbol_ratio);
    cJSON_AddNumberToObject(opt, "max_dup_line_ratio", c->o.max_dup_line_ratio);
    cJSON_AddNumberToObject(opt, "near_threshold", c->o.near_threshold);
    cJSON_AddNumberToObject(opt, "minhash_permutations", MH_PERM);
    cJSON_AddNumberToObject(opt, "lsh_bands", MH_BANDS);
    cJSON_AddNumberToObject(opt, "lsh_rows", MH_ROWS);
    cJSON_AddNumberToObject(opt, "shingle_words", MH_SHINGLE);
    cJSON_AddBoolToObject(opt, "boilerplate", c->o.boilerplate);
    uint64_t tot[16] = {0};
    cJSON *arr = cJSON_AddArrayToObject(root, "sources");
    for (int s = 0; s < c->n_src; s++) {
        corpus_src *cs = &c->srcs[s];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", cs->name);
        cJSON_AddStringToObject(o, "license", cs->license);
        cJSON_AddNumberToObject(o, "weight", cs->weight);
        cJSON_AddNumberToObject(o, "docs_in", (double)cs->docs_in);
        cJSON_AddNumberToObject(o, "bytes_in", (double)cs->bytes_in);
        cJSON_AddNumberToObject(o, "empty_docs", (double)cs->empty);
        cJSON_AddNumberToObject(o, "encoding_repaired", (double)cs->repaired);
        cJSON_AddNumberToObject(o, "boilerplate_lines", (double)cs->boiler_lines);
        cJSON_AddNumberToObject(o, "boilerplate_bytes", (double)cs->boiler_bytes);
        cJSON_AddNumberToObject(o, "chunks", (double)cs->chunks);
        cJSON_AddNumberToObject(o, "too_short", (double)cs->dropped[DOC_SHORT]);
        cJSON_AddNumberToObject(o, "too_long", (double)cs->dropped[DOC_LONG]);
        cJSON_AddNumberToObject(o, "symbols", (double)cs->dropped[DOC_SYMBOL]);
        cJSON_AddNumberToObject(o, "repetitive", (double)cs->dropped[DOC_REPEAT]);
        cJSON_AddNumberToObject(o, "exact_duplicates", (double)cs->dropped[DOC_EXACT]);
        cJSON_AddNumberToObject(o, "near_duplicates", (double)cs->dropped[DOC_NEAR]);
        cJSON_AddNumberToObject(o, "kept_docs", (double)cs->kept);
        cJSON_AddNumberToObject(o, "kept_bytes", (double)cs->kept_bytes);
        cJSON_AddNumberToObject(o, "train_docs", (double)cs->train_docs);
        cJSON_AddNumberToObject(o, "train_bytes", (double)cs->train_bytes);
        cJSON_AddNumberToObject(o, "val_docs", (double)cs->val_docs);
        cJSON_AddNumberToObject(o, "val_bytes", (double)cs->val_bytes);
        cJSON_AddItemToArray(arr, o);
        uint64_t v[] = {cs->docs_in, cs->bytes_in, cs->chunks, cs->dropped[DOC_SHORT] + cs->dropped[DOC_LONG] +
                        cs->dropped[DOC_SYMBOL] + cs->dropped[DOC_REPEAT], cs->dropped[DOC_EXACT],
                        cs->dropped[DOC_NEAR], cs->kept, cs->kept_bytes, cs->train_docs, cs->train_bytes,
                        cs->val_docs, cs->val_bytes, cs->boiler_lines};
        for (size_t k = 0; k < ARRAY_LEN(v); k++) tot[k] += v[k];
    }
    cJSON *t = cJSON_AddObjectToObject(root, "totals");
    static const char *tn[] = {"docs_in", "bytes_in", "chunks", "filtered", "exact_duplicates",
                               "near_duplicates", "kept_docs", "kept_bytes", "train_docs", "train_bytes",
                               "val_docs", "val_bytes", "boilerplate_lines"};
    for (size_t k = 0; k < ARRAY_LEN(tn); k++) cJSON_AddNumberToObject(t, tn[k], (double)tot[k]);
    cJSON *nh = cJSON_AddArrayToObject(root, "near_duplicates_by_similarity");
    for (int h = 0; h < 9; h++) {
        if (!c->near_hist[h]) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "min", h == 8 ? 1.0 : k_hist_edges[h]);
        cJSON_AddNumberToObject(o, "max", h == 8 ? 1.0 : k_hist_edges[h + 1]);
        cJSON_AddNumberToObject(o, "docs", (double)c->near_hist[h]);
        cJSON_AddItemToArray(nh, o);
    }
    cJSON *sk = cJSON_AddObjectToObject(root, "skipped_inputs");
    for (int r = 0; r < CORPUS_SKIP_N; r++) cJSON_AddNumberToObject(sk, k_skip_names[r], (double)c->skips[r]);
    char *js = cJSON_Print(root);
    cJSON_Delete(root);
    size_t jl = strlen(js);
    js = xrealloc(js, jl + 2);
    js[jl] = '\n';
    rc = file_write_atomic(mp, js, jl + 1);
    free(js);
out2:
    free(tp);
    free(vp);
    free(mp);
out:
    free(order);
    free(is_val);
    return rc;
}

int corpus_finish(corpus *c, const char *dir, const char *preset) {
    if (!c->o.quiet && c->files) fprintf(stderr, isatty(2) ? "\n" : "");
    char b1[32];
    if (!c->o.quiet)
        fprintf(stderr, "corpus: read %zu documents (%s) from %d sources, %llu files, in %.1f s\n", c->n_docs,
                fmt_bytes((double)c->bytes_added, b1, sizeof b1), c->n_src, (unsigned long long)c->files,
                time_now() - c->t0);
    double t = time_now();
    if (c->o.boilerplate) remove_boilerplate(c);
    chunk_docs(c);
    for (size_t i = 0; i < c->n_docs; i++) {
        int q = quality(c, &c->docs[i]);
        if (q) drop(c, &c->docs[i], q);
    }
    if (!c->o.quiet) fprintf(stderr, "corpus: cleaned, chunked and filtered in %.1f s\n", time_now() - t);
    t = time_now();
    exact_dedup(c);
    near_dedup(c);
    if (!c->o.quiet) fprintf(stderr, "corpus: deduplicated in %.1f s\n", time_now() - t);
    t = time_now();
    int rc = write_outputs(c, dir, preset);
    if (!c->o.quiet && rc == 0) fprintf(stderr, "corpus: wrote %s in %.1f s\n", dir, time_now() - t);
    return rc;
}

void corpus_print_summary(const corpus *c, FILE *f) {
    fprintf(f, "%-16s %-20s %7s %9s %9s %7s %7s %7s %9s %9s %7s\n", "source", "license", "weight", "docs in",
            "MB in", "filter", "exact", "near", "train", "train MB", "val");
    uint64_t tot[8] = {0};
    for (int s = 0; s < c->n_src; s++) {
        const corpus_src *cs = &c->srcs[s];
        uint64_t filt = cs->dropped[DOC_SHORT] + cs->dropped[DOC_LONG] + cs->dropped[DOC_SYMBOL] + cs->dropped[DOC_REPEAT];
        fprintf(f, "%-16.16s %-20.20s %7.2f %9llu %9.2f %7llu %7llu %7llu %9llu %9.2f %7llu\n", cs->name, cs->license,
                cs->weight, (unsigned long long)cs->docs_in, cs->bytes_in / 1e6, (unsigned long long)filt,
                (unsigned long long)cs->dropped[DOC_EXACT], (unsigned long long)cs->dropped[DOC_NEAR],
                (unsigned long long)cs->train_docs, cs->train_bytes / 1e6, (unsigned long long)cs->val_docs);
        uint64_t v[] = {cs->docs_in, cs->bytes_in, filt, cs->dropped[DOC_EXACT], cs->dropped[DOC_NEAR],
                        cs->train_docs, cs->train_bytes, cs->val_docs};
        for (int k = 0; k < 8; k++) tot[k] += v[k];
    }
    fprintf(f, "%-16s %-20s %7s %9llu %9.2f %7llu %7llu %7llu %9llu %9.2f %7llu\n", "total", "", "",
            (unsigned long long)tot[0], tot[1] / 1e6, (unsigned long long)tot[2], (unsigned long long)tot[3],
            (unsigned long long)tot[4], (unsigned long long)tot[5], tot[6] / 1e6, (unsigned long long)tot[7]);
    int any = 0;
    for (int h = 0; h < 9; h++) any |= c->near_hist[h] != 0;
    if (any) {
        fprintf(f, "near duplicates removed by estimated Jaccard similarity:");
        for (int h = 0; h < 9; h++) {
            if (!c->near_hist[h]) continue;
            if (h == 8) fprintf(f, "  1.00: %llu", (unsigned long long)c->near_hist[h]);
            else fprintf(f, "  %.2f-%.2f: %llu", k_hist_edges[h], k_hist_edges[h + 1], (unsigned long long)c->near_hist[h]);
        }
        fprintf(f, "\n");
    }
    uint64_t sk = 0;
    for (int r = 0; r < CORPUS_SKIP_N; r++) sk += c->skips[r];
    if (sk) {
        fprintf(f, "skipped inputs: %llu (", (unsigned long long)sk);
        int first = 1;
        for (int r = 0; r < CORPUS_SKIP_N; r++)
            if (c->skips[r]) {
                fprintf(f, "%s%s %llu", first ? "" : ", ", k_skip_names[r], (unsigned long long)c->skips[r]);
                first = 0;
            }
        fprintf(f, ")\n");
    }
}
