/*
 * compress.c - the model as a compressor (compress.h): chunking, the
 * sliding context, frequency tables, the file's header, and the threads.
 *
 * The encoder knows every token, so it runs each window of the context as
 * one batch (the tokens the window keeps from the last one without logits,
 * the new ones with them); the decoder learns a token only by decoding it,
 * so it rebuilds a window in one batch and then runs one token at a time
 * with the KV cache. Both get the same logits for every position because
 * exact.h's forward does not depend on the batching.
 */
#include "compress.h"

#include "../core/common.h"
#include "../core/sha256.h"
#include "exact.h"
#include "range_coder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char MAGIC[4] = {'L', 'L', 'M', 'Z'};
#define FREQ_SCALE 1073741824.0 /* 2^30: what the probabilities are scaled to */
#define SKIP_MAX 16             /* bytes a tokenizer may put in front of a chunk */

/* ---- byte buffers and varints ---- */

typedef struct {
    uint8_t *v;
    size_t n, cap;
} bytebuf;

static void put(bytebuf *b, const void *p, size_t n) {
    if (!n) return; /* p may be NULL (an empty coded chunk): memcpy may not take it */
    if (b->n + n > b->cap) {
        b->cap = MAX(b->cap * 2, b->n + n + 64);
        b->v = xrealloc(b->v, b->cap);
    }
    memcpy(b->v + b->n, p, n);
    b->n += n;
}

static void put_varint(bytebuf *b, uint64_t x) {
    do {
        uint8_t c = x & 0x7f;
        x >>= 7;
        if (x) c |= 0x80;
        put(b, &c, 1);
    } while (x);
}

static void put_u32(bytebuf *b, uint32_t x) {
    const uint8_t c[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
    put(b, c, 4);
}

typedef struct {
    const uint8_t *p, *end;
} reader;

static int get_varint(reader *r, uint64_t *x) {
    *x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end) return -1;
        const uint8_t c = *r->p++;
        *x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

static int get_u32(reader *r, uint32_t *x) {
    if (r->end - r->p < 4) return -1;
    *x = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return 0;
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) { /* zlib takes uInt lengths */
        const uInt k = (uInt)MIN(n, (size_t)1 << 30);
        c = crc32(c, p, k);
        p += k, n -= k;
    }
    return (uint32_t)c;
}

/* ---- what both directions share ---- */

typedef struct {
    const model *m;
    const exact_model *x;
    int V, ctx, keep, primer; /* primer: token id or -1 */
    const compress_opts *o;
    size_t total_bytes, done_bytes; /* progress */
} job;

/* One thread's working memory. */
typedef struct {
    exact_state *st;
    double *e;      /* (V) */
    uint32_t *freq; /* (V) */
    int *seq;       /* (ctx) */
} scratch;

static void scratch_init(scratch *s, const job *j, int threads) {
    s->st = exact_state_new(j->x, j->ctx);
    exact_state_set_threads(s->st, threads);
    s->e = xmalloc(sizeof(double) * j->V);
    s->freq = xmalloc(sizeof(uint32_t) * j->V);
    s->seq = xmalloc(sizeof(int) * j->ctx);
}

static void scratch_free(scratch *s) {
    exact_state_free(s->st);
    free(s->e);
    free(s->freq);
    free(s->seq);
}

static void progress(job *j, size_t bytes) {
    if (!j->o->progress) return;
#pragma omp critical(compress_progress)
    {
        j->done_bytes += bytes;
        j->o->progress(j->o->progress_arg, j->done_bytes, j->total_bytes);
    }
}

/* The frequency table of one position (compress.h): freq (V) and the
 * total; *sum gets S (the softmax's denominator over e), *max the largest
 * logit. */
static uint64_t freq_table(const exact_model *x, const float *lg, int V, double *e, uint32_t *freq, double *sum,
                           float *max) {
    float mx = lg[0];
    for (int i = 1; i < V; i++) mx = lg[i] > mx ? lg[i] : mx;
    for (int i = 0; i < V; i++) e[i] = (double)lg[i] - (double)mx;
    exact_exp_array(x, e, V);
    double s = 0;
    for (int i = 0; i < V; i++) s = s + e[i];
    const double scale = FREQ_SCALE / s;
    uint64_t total = 0;
    for (int i = 0; i < V; i++) {
        freq[i] = 1 + (uint32_t)(e[i] * scale);
        total += freq[i];
    }
    *sum = s;
    *max = mx;
    return total;
}

/* The window that predicts token i (the first it predicts) when it starts
 * at token b: the primer and tokens b .. i-1 go into seq; returns their
 * count. */
static int window_seq(const job *j, int *seq, const int *ids, size_t b, size_t i) {
    int n = 0;
    if (j->primer >= 0) seq[n++] = j->primer;
    for (size_t k = b; k < i; k++) seq[n++] = ids[k];
    return n;
}

/* ---- encoding ---- */

/* Codes the n tokens ids of one chunk (chunk_len bytes) into enc. */
static int encode_chunk(job *j, scratch *s, const int *ids, size_t n, size_t chunk_len, rc_encoder *enc,
                        double *ideal) {
    const int P = j->primer >= 0, W = j->ctx - P;
    size_t i = 0, b = 0, last_done = 0;
    if (!P && n) { /* no context at all: every token equally likely */
        rc_encode(enc, (uint64_t)ids[0], 1, (uint64_t)j->V);
        *ideal += log2((double)j->V);
        i = 1;
    }
    while (i < n) {
        const size_t e = MIN(n, b + (size_t)W + 1); /* this window predicts tokens i .. e-1 */
        const int m = window_seq(j, s->seq, ids, b, e - 1), j0 = P + (int)(i - b) - 1;
        if (j0 > 0 && !exact_forward(j->x, s->st, s->seq, j0, 0, 0)) return -1;
        const float *lg = exact_forward(j->x, s->st, s->seq + j0, m - j0, j0, 1);
        if (!lg) return -1;
        for (size_t k = i; k < e; k++) {
            const float *row = lg + (k - i) * (size_t)j->V;
            double sum;
            float mx;
            const uint64_t total = freq_table(j->x, row, j->V, s->e, s->freq, &sum, &mx);
            uint64_t cum = 0;
            for (int t = 0; t < ids[k]; t++) cum += s->freq[t];
            rc_encode(enc, cum, s->freq[ids[k]], total);
            /* -log2 p = (max - l) / ln 2 + log2 S, finite even where e underflows */
            *ideal += ((double)mx - (double)row[ids[k]]) / M_LN2 + log2(sum);
        }
        i = e;
        b = e - (size_t)j->keep;
        const size_t done = (size_t)((double)chunk_len * i / n);
        progress(j, done - last_done);
        last_done = done;
    }
    return 0;
}

/* The tokens of one chunk and the bytes its decoding puts in front of it
 * (a SentencePiece tokenizer's leading space): -1 with err_set when the
 * tokens do not decode back to the chunk. */
static int tokenize_chunk(const job *j, const uint8_t *p, size_t len, size_t offset, int **ids, size_t *n,
                          size_t *skip) {
    const tokenizer *t = j->m->tok;
    *n = tok_encode(t, (const char *)p, len, 0, 0, ids);
    bytebuf d = {0};
    for (size_t k = 0; k < *n; k++) {
        size_t pl;
        const char *piece = tok_decode(t, (*ids)[k], &pl);
        if ((*ids)[k] >= j->V || !pl) {
            free(d.v);
            return err_set("the tokenizer gives token %d, which the model cannot code", (*ids)[k]);
        }
        put(&d, piece, pl);
    }
    int ok = d.n >= len && d.n - len <= SKIP_MAX && !memcmp(d.v + (d.n - len), p, len);
    *skip = ok ? d.n - len : 0;
    size_t at = 0;
    if (!ok)
        for (at = 0; at < len && at < d.n && d.v[at] == p[at]; at++) {}
    free(d.v);
    if (!ok) return err_set("the tokenizer does not give back the input's bytes (near byte %zu)", offset + at);
    return 0;
}

/* Refuses a tokenizer that cannot represent some byte value on its own. */
static int check_bytes_covered(const job *j) {
    for (int c = 0; c < 256; c++) {
        const uint8_t byte = (uint8_t)c;
        int *ids = NULL;
        size_t n, skip;
        const int rc = tokenize_chunk(j, &byte, 1, 0, &ids, &n, &skip);
        free(ids);
        if (rc)
            return err_set("its tokenizer cannot represent the byte 0x%02x (no byte tokens), so it cannot code "
                           "arbitrary input",
                           c);
    }
    return 0;
}

/* ---- decoding ---- */

/* Decodes one chunk's code into out (need bytes, of which the first skip
 * are dropped by the caller). */
static int decode_chunk(job *j, scratch *s, const uint8_t *code, size_t code_len, uint8_t *out, size_t need) {
    const int P = j->primer >= 0, W = j->ctx - P;
    const tokenizer *t = j->m->tok;
    rc_decoder dec;
    rc_decoder_init(&dec, code, code_len);
    size_t cap = 1024, i = 0, b = 0, produced = 0, reported = 0;
    int *ids = xmalloc(sizeof(int) * cap);
    int rc = -1, rebuild = 1;
    while (produced < need) {
        int id;
        if (i == 0 && !P) { /* the first token without a primer: uniform */
            const uint64_t v = rc_decode_target(&dec, (uint64_t)j->V);
            if (v == UINT64_MAX) goto corrupt;
            rc_decode_consume(&dec, v, 1);
            id = (int)v;
        } else {
            const float *lg;
            if (i == b + (size_t)W + 1) { /* the window is full: restart it */
                b = i - (size_t)j->keep;
                rebuild = 1;
            }
            if (rebuild) { /* the first prediction of a window: the cache from scratch */
                lg = exact_forward(j->x, s->st, s->seq, window_seq(j, s->seq, ids, b, i), 0, 0);
                rebuild = 0;
            } else {
                lg = exact_forward(j->x, s->st, &ids[i - 1], 1, P + (int)(i - 1 - b), 0);
            }
            if (!lg) goto done;
            double sum;
            float mx;
            const uint64_t total = freq_table(j->x, lg, j->V, s->e, s->freq, &sum, &mx);
            const uint64_t v = rc_decode_target(&dec, total);
            if (v == UINT64_MAX) goto corrupt;
            uint64_t cum = 0;
            for (id = 0; id < j->V && cum + s->freq[id] <= v; id++) cum += s->freq[id];
            rc_decode_consume(&dec, cum, s->freq[id]);
        }
        size_t pl;
        const char *piece = tok_decode(t, id, &pl);
        if (!pl || pl > need - produced) goto corrupt;
        memcpy(out + produced, piece, pl);
        produced += pl;
        if (i == cap) ids = xrealloc(ids, sizeof(int) * (cap *= 2));
        ids[i++] = id;
        if (produced - reported >= 4096 || produced == need) {
            progress(j, produced - reported);
            reported = produced;
        }
    }
    rc = 0;
    goto done;
corrupt:
    err_set("its coded tokens do not decode with this model");
done:
    free(ids);
    return rc;
}

/* ---- the drivers ---- */

static int job_init(job *j, const model *m, const compress_opts *o, int ctx, exact_model **x) {
    memset(j, 0, sizeof(*j));
    if (!m->tok) return err_set("the model file has no tokenizer");
    if (exact_selfcheck()) return -1;
    j->m = m;
    j->o = o;
    j->V = m->cfg.vocab_size;
    const int bos = tok_bos(m->tok), eos = tok_eos(m->tok);
    j->primer = bos >= 0 && bos < j->V ? bos : eos >= 0 && eos < j->V ? eos : -1;
    j->ctx = ctx;
    const int W = ctx - (j->primer >= 0);
    j->keep = W / 2;
    if (W < 2) return err_set("a context of %d tokens is too short to code with", ctx);
    if (!(*x = exact_model_new(m, ctx))) return -1;
    j->x = *x;
    return 0;
}

static int threads_of(const compress_opts *o, size_t chunks) {
    return (int)MAX(1, MIN((size_t)MAX(o->threads, 1), chunks));
}

int compress_bytes(const model *m, const uint8_t *in, size_t len, const compress_opts *o, uint8_t **out,
                   size_t *out_len, compress_stats *stats) {
    *out = NULL;
    *out_len = 0;
    const int ctx = o->ctx ? o->ctx : MIN(m->cfg.ctx_len, COMPRESS_CTX_DEFAULT_MAX);
    if (ctx < 2 || ctx > m->cfg.ctx_len)
        return err_set("context %d is out of range (2 .. %d, the model's)", ctx, m->cfg.ctx_len);
    const size_t chunk = o->chunk ? o->chunk : COMPRESS_CHUNK_DEFAULT;
    job j;
    exact_model *x = NULL;
    if (job_init(&j, m, o, ctx, &x) || check_bytes_covered(&j)) {
        exact_model_free(x);
        return -1;
    }
    j.total_bytes = len;
    const size_t n_chunks = (len + chunk - 1) / chunk;
    bytebuf *code = xcalloc(MAX(n_chunks, 1), sizeof(bytebuf));
    size_t *skip = xcalloc(MAX(n_chunks, 1), sizeof(size_t));
    double ideal = 0;
    size_t tokens = 0, failed = SIZE_MAX;
    char why[512] = "";
#pragma omp parallel num_threads(threads_of(o, n_chunks)) reduction(+ : ideal, tokens)
    {
        scratch s; /* one chunk: its forwards use the threads */
        scratch_init(&s, &j, n_chunks == 1 ? MAX(o->threads, 1) : 1);
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < n_chunks; c++) {
            const size_t off = c * chunk, cl = MIN(chunk, len - off);
            int *ids = NULL;
            size_t n;
            rc_encoder enc;
            rc_encoder_init(&enc);
            int rc = tokenize_chunk(&j, in + off, cl, off, &ids, &n, &skip[c]);
            if (!rc) rc = encode_chunk(&j, &s, ids, n, cl, &enc, &ideal);
            if (!rc) {
                size_t cn;
                const uint8_t *cb = rc_encoder_finish(&enc, &cn);
                put(&code[c], cb, cn);
                tokens += n;
            } else {
#pragma omp critical(compress_error)
                if (c < failed) failed = c, snprintf(why, sizeof(why), "%s", err_msg());
            }
            rc_encoder_release(&enc);
            free(ids);
        }
        scratch_free(&s);
    }
    int rc = -1;
    if (failed != SIZE_MAX) {
        err_set("%s", why);
        goto done;
    }
    bytebuf h = {0};
    uint8_t digest[32];
    sha256(m->file->map, m->file->map_size, digest);
    const uint8_t version = COMPRESS_VERSION;
    put(&h, MAGIC, 4);
    put(&h, &version, 1);
    put(&h, digest, 32);
    put_varint(&h, len);
    put_u32(&h, crc32_of(in, len));
    put_varint(&h, chunk);
    put_varint(&h, (uint64_t)j.ctx);
    put_varint(&h, (uint64_t)j.keep);
    put_varint(&h, (uint64_t)(j.primer + 1));
    for (size_t c = 0; c < n_chunks; c++) {
        put_varint(&h, code[c].n);
        put_varint(&h, skip[c]);
    }
    put_u32(&h, crc32_of(h.v, h.n));
    const size_t header = h.n;
    for (size_t c = 0; c < n_chunks; c++) put(&h, code[c].v, code[c].n);
    *out = h.v;
    *out_len = h.n;
    if (stats) {
        *stats = (compress_stats){.tokens = tokens, .ideal_bits = ideal, .header_bytes = header,
                                  .chunks = n_chunks, .ctx = j.ctx, .path = exact_path(x)};
    }
    rc = 0;
done:
    for (size_t c = 0; c < n_chunks; c++) free(code[c].v);
    free(code);
    free(skip);
    exact_model_free(x);
    return rc;
}

/* The header of a compressed file, as read. */
typedef struct {
    uint8_t digest[32];
    uint64_t len, chunk, ctx, keep, primer1;
    uint32_t crc;
    size_t n_chunks;
    uint64_t *code_len, *skip;
    size_t header_bytes;
} header;

static int parse_header(const uint8_t *in, size_t len, header *h) {
    memset(h, 0, sizeof(*h));
    if (len < 5 || memcmp(in, MAGIC, 4))
        return err_set("not a file of llmos compress (no 'LLMZ' at its start)");
    if (in[4] != COMPRESS_VERSION)
        return err_set("format version %d (this llmos reads version %d)", in[4], COMPRESS_VERSION);
    reader r = {in + 5, in + len};
    if (r.end - r.p < 32) return err_set("truncated in its header");
    memcpy(h->digest, r.p, 32);
    r.p += 32;
    if (get_varint(&r, &h->len) || get_u32(&r, &h->crc) || get_varint(&r, &h->chunk) ||
        get_varint(&r, &h->ctx) || get_varint(&r, &h->keep) || get_varint(&r, &h->primer1))
        return err_set("truncated in its header");
    if (!h->chunk || h->chunk > ((uint64_t)1 << 40) || h->len > ((uint64_t)1 << 48))
        return err_set("corrupted header (chunk size %llu, length %llu)", (unsigned long long)h->chunk,
                       (unsigned long long)h->len);
    const uint64_t n = h->len ? (h->len - 1) / h->chunk + 1 : 0;
    if (n > (uint64_t)(r.end - r.p) / 2) return err_set("truncated in its header (%llu chunks announced)", (unsigned long long)n);
    h->n_chunks = (size_t)n;
    h->code_len = xcalloc(MAX(n, 1), sizeof(uint64_t));
    h->skip = xcalloc(MAX(n, 1), sizeof(uint64_t));
    for (size_t c = 0; c < n; c++)
        if (get_varint(&r, &h->code_len[c]) || get_varint(&r, &h->skip[c]))
            return err_set("truncated in its header");
    uint32_t hcrc;
    if (get_u32(&r, &hcrc)) return err_set("truncated in its header");
    h->header_bytes = (size_t)(r.p - in);
    if (hcrc != crc32_of(in, h->header_bytes - 4)) return err_set("corrupted header (its checksum does not match)");
    uint64_t body = 0;
    for (size_t c = 0; c < n; c++) {
        if (h->code_len[c] > len || h->skip[c] > SKIP_MAX) return err_set("corrupted header (chunk %zu)", c);
        body += h->code_len[c];
    }
    const size_t have = len - h->header_bytes;
    if (body > have)
        return err_set("truncated: %llu bytes of coded data missing", (unsigned long long)(body - have));
    if (body < have) return err_set("%llu bytes of unknown data after the coded chunks", (unsigned long long)(have - body));
    return 0;
}

int decompress_bytes(const model *m, const uint8_t *in, size_t len, const compress_opts *o, uint8_t **out,
                     size_t *out_len, compress_stats *stats) {
    *out = NULL;
    *out_len = 0;
    header h;
    int rc = -1;
    exact_model *x = NULL;
    uint8_t *res = NULL;
    if (parse_header(in, len, &h)) goto done;
    uint8_t digest[32];
    sha256(m->file->map, m->file->map_size, digest);
    if (memcmp(digest, h.digest, 32)) {
        char a[65], b[65];
        sha256_hex(h.digest, a);
        sha256_hex(digest, b);
        err_set("it was compressed with another model (sha256 %.16s..., this model's is %.16s...)", a, b);
        goto done;
    }
    if (h.ctx < 2 || h.ctx > (uint64_t)m->cfg.ctx_len || h.primer1 > (uint64_t)m->cfg.vocab_size) {
        err_set("corrupted header (context %llu)", (unsigned long long)h.ctx);
        goto done;
    }
    job j;
    if (job_init(&j, m, o, (int)h.ctx, &x)) goto done;
    j.primer = (int)h.primer1 - 1;
    if (h.keep < 1 || h.keep >= (uint64_t)(j.ctx - (j.primer >= 0))) {
        err_set("corrupted header (keep %llu)", (unsigned long long)h.keep);
        goto done;
    }
    j.keep = (int)h.keep;
    j.total_bytes = h.len;
    /* a damaged but self-consistent header may announce anything: fail, not abort, when it is too much */
    if (h.len > SIZE_MAX / 2 || !(res = malloc((size_t)MAX(h.len, 1) + SKIP_MAX))) {
        err_set("cannot allocate %llu bytes for the output", (unsigned long long)h.len);
        goto done;
    }
    size_t failed = SIZE_MAX;
    char why[512] = "";
    const uint8_t *body = in + h.header_bytes;
#pragma omp parallel num_threads(threads_of(o, h.n_chunks))
    {
        scratch s;
        scratch_init(&s, &j, h.n_chunks == 1 ? MAX(o->threads, 1) : 1);
        uint8_t *tmp = xmalloc(MIN(h.chunk, h.len) + SKIP_MAX);
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < h.n_chunks; c++) {
            const uint8_t *cb = body;
            for (size_t k = 0; k < c; k++) cb += h.code_len[k];
            const size_t off = c * h.chunk, cl = MIN(h.chunk, h.len - off);
            if (decode_chunk(&j, &s, cb, h.code_len[c], tmp, cl + h.skip[c])) {
#pragma omp critical(compress_error)
                if (c < failed) failed = c, snprintf(why, sizeof(why), "%s", err_msg());
            } else {
                memcpy(res + off, tmp + h.skip[c], cl);
            }
        }
        free(tmp);
        scratch_free(&s);
    }
    if (failed != SIZE_MAX) {
        err_set("corrupted: chunk %zu: %s", failed, why);
        goto done;
    }
    if (crc32_of(res, h.len) != h.crc) {
        err_set("corrupted: the decoded bytes do not match the checksum in the header");
        goto done;
    }
    if (stats)
        *stats = (compress_stats){.header_bytes = h.header_bytes, .chunks = h.n_chunks, .ctx = j.ctx,
                                  .path = exact_path(x)};
    *out = res;
    *out_len = h.len;
    res = NULL;
    rc = 0;
done:
    free(res);
    free(h.code_len);
    free(h.skip);
    exact_model_free(x);
    return rc;
}
