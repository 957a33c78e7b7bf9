/*
 * run.c - a whole Llama inference engine in one file: it reads a GGUF v3
 * parameters file, tokenizes a prompt with the file's own byte-level BPE
 * vocabulary and streams the text the model generates.
 *
 *   gcc -std=c99 -O2 -Wall -Wextra -fopenmp -o run run.c -lm
 *   OMP_NUM_THREADS=2 ./run model.gguf -p "Once upon a time" -n 64 -t 0.8 -s 42
 *
 * libc, libm and optional OpenMP; nothing from src/. At temperature 0 it prints
 * what `llmos generate MODEL -p TEXT -n N --temp 0` prints: the prompt, the
 * generated text (special tokens hidden), a newline; it stops at EOS or EOT,
 * after N tokens or when the context is full. It reads architecture "llama",
 * F32 and F16 tensors, tokenizer "gpt2" with pre-tokenizer "gpt-2" or "llama-bpe".
 * Limits (docs/runc.md): pre-tokenization is exact for ASCII, but any byte >= 0x80
 * counts as a letter; special tokens in the prompt are plain text; no quantized types.
 *
 * Shapes: C model dim, L layers, H query heads, KVH key/value heads, D head
 * dim, F feed-forward dim, V vocabulary, T positions the KV cache holds.
 * Matrices are row-major (out, in); GGUF lists that shape as ne = {in, out}.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// ----------------------------------------------------------------------------
// Errors and small helpers. Bad input ends the program with one line on
// stderr and exit status 1 (2 for bad usage).
static const char *g_path = ""; // the model file, for messages
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("run: ", stderr), vfprintf(stderr, fmt, ap), va_end(ap), fputc('\n', stderr), exit(1);
}
static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : (die("out of memory (%zu x %zu bytes)", n, size), NULL);
}
static double now(void) {
    struct timespec ts;
    return clock_gettime(CLOCK_MONOTONIC, &ts), ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct { const char *s; uint64_t n; } Str; // bytes inside the mapping, no NUL
static int str_eq(Str a, const char *b) { return a.s && a.n == strlen(b) && !memcmp(a.s, b, a.n); }

// ----------------------------------------------------------------------------
// GGUF v3 (v2 reads the same): "GGUF", u32 version, u64 n_tensors, u64 n_kv,
// the key/value pairs (u64-length strings, u32 value types), the tensor infos
// (name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset), padding to
// general.alignment, tensor data. Every field is bounds-checked before use.
enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 };
static const int type_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

typedef struct { const uint8_t *p, *end; } Cur; // a read cursor
typedef struct { Str key; uint32_t type; const uint8_t *val; } KV;
typedef struct { Str name; uint32_t n_dims, type; uint64_t ne[4], offset; } TInfo;
// The file mapped read-only, its tensor data; (n_kv) metadata, values left in the mapping; (n_tensors) infos.
typedef struct { const uint8_t *base, *data; size_t size; KV *kv; TInfo *ti; uint64_t n_kv, n_tensors; } Gguf;

static void need(const Cur *c, uint64_t n) {
    if ((uint64_t)(c->end - c->p) < n) die("'%s': file is truncated or corrupt (a field runs past its end)", g_path);
}
// A little-endian integer of n bytes; a string (u64 length, bytes).
static uint64_t rd(Cur *c, int n) { uint64_t v = 0; return need(c, n), memcpy(&v, c->p, n), c->p += n, v; }
static Str rd_str(Cur *c) { Str s = {NULL, rd(c, 8)}; return need(c, s.n), s.s = (const char *)c->p, c->p += s.n, s; }

static void skip_value(Cur *c, uint32_t type, int in_array) {
    if (type > T_F64 || (type == T_ARR && in_array)) die("'%s': bad metadata value type %u", g_path, type);
    if (type == T_STR) { rd_str(c); return; }
    if (type != T_ARR) { need(c, type_size[type]), c->p += type_size[type]; return; }
    uint64_t et = rd(c, 4), n = rd(c, 8);
    if (et == T_STR || et == T_ARR)
        for (uint64_t i = 0; i < n; i++) skip_value(c, (uint32_t)et, 1);
    else if (et > T_F64) die("'%s': bad metadata array type %u", g_path, (unsigned)et);
    else if (n > (uint64_t)(c->end - c->p) / type_size[et]) need(c, UINT64_MAX);
    else c->p += n * type_size[et];
}

// A cursor on the value of `key` (p == NULL when absent) and its type; dies
// unless that is `type`, or any number when type is T_F64.
static Cur kv_get(const Gguf *g, const char *key, uint32_t type, uint32_t *found) {
    Cur c = {NULL, g->base + g->size};
    for (const KV *kv = g->kv; kv < g->kv + g->n_kv; kv++) {
        if (!str_eq(kv->key, key)) continue;
        if (kv->type != type && !(type == T_F64 && kv->type <= T_F64 && type_size[kv->type]))
            die("'%s': key '%s' has type %u, expected %u", g_path, key, kv->type, type);
        c.p = kv->val, *found = kv->type;
    }
    return c;
}

static double kv_num(const Gguf *g, const char *key, double def) {
    uint32_t t;
    Cur c = kv_get(g, key, T_F64, &t);
    if (!c.p) return def;
    union { uint64_t u; float f; double d; } v = {rd(&c, type_size[t])}; // little-endian: f is the low 4 bytes
    uint64_t sign = 1ull << (8 * type_size[t] - 1); // the signed types: (u ^ sign) - sign
    if (t == T_F32 || t == T_F64) return t == T_F32 ? v.f : v.d;
    return t == T_I8 || t == T_I16 || t == T_I32 || t == T_I64 ? (double)(v.u ^ sign) - (double)sign : (double)v.u;
}

static int kv_id(const Gguf *g, const char *key, int def) { double v = kv_num(g, key, def); return v >= 0 && v < INT_MAX ? (int)v : -1; } // -1: none
static Str kv_str(const Gguf *g, const char *key) {
    uint32_t t;
    Cur c = kv_get(g, key, T_STR, &t);
    return c.p ? rd_str(&c) : (Str){NULL, 0};
}

static Gguf gguf_open(const char *path) {
    Gguf g = {0};
    struct stat st;
    int fd = open(g_path = path, O_RDONLY);
    if (fd < 0) die("cannot open '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) die("'%s': not a regular file", path);
    if (st.st_size < 4) die("'%s': not a GGUF file (only %lld bytes)", path, (long long)st.st_size);
    void *m = mmap(NULL, g.size = (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) die("cannot map '%s': %s", path, strerror(errno));
    if (memcmp(g.base = m, "GGUF", 4)) die("'%s': not a GGUF file (bad magic)", path);
    Cur c = {g.base + 4, g.base + g.size};
    uint32_t version = (uint32_t)rd(&c, 4);
    if (version != 2 && version != 3) die("'%s': unsupported GGUF version %u", path, version);
    g.n_tensors = rd(&c, 8), g.n_kv = rd(&c, 8);
    if (g.n_kv > g.size / 13 || g.n_tensors > g.size / 24) die("'%s': corrupt header (counts exceed the file)", path);
    g.kv = xcalloc(g.n_kv, sizeof(KV)), g.ti = xcalloc(g.n_tensors, sizeof(TInfo));
    for (KV *kv = g.kv; kv < g.kv + g.n_kv; kv++)
        kv->key = rd_str(&c), kv->type = (uint32_t)rd(&c, 4), kv->val = c.p, skip_value(&c, kv->type, 0);
    for (TInfo *t = g.ti; t < g.ti + g.n_tensors; t++) {
        t->name = rd_str(&c), t->n_dims = (uint32_t)rd(&c, 4);
        if (t->n_dims < 1 || t->n_dims > 4) die("'%s': a tensor has %u dims", path, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) t->ne[d] = rd(&c, 8);
        t->type = (uint32_t)rd(&c, 4), t->offset = rd(&c, 8);
    }
    double align = kv_num(&g, "general.alignment", 32);
    uint64_t a = align >= 1 && align <= 65536 ? (uint64_t)align : 3, off = (uint64_t)(c.p - g.base); // 3: refused below
    if (a != align || (a & (a - 1))) die("'%s': bad general.alignment %g", path, align);
    if ((off = (off + a - 1) / a * a) > g.size) die("'%s': file is truncated (no tensor data)", path);
    return g.data = g.base + off, g;
}

typedef struct { const void *p; int f16; } Tensor; // a weight in the mapping, F32 or F16
static float h2f(uint16_t h) { // IEEE half: bits shifted into place, rebiased (x 2^112, exact), inf/NaN, sign
    uint32_t u = (uint32_t)(h & 0x7fff) << 13;
    float f;
    memcpy(&f, &u, 4), f *= 0x1p112f, memcpy(&u, &f, 4);
    u |= (uint32_t)(h & 0x8000) << 16 | ((h & 0x7c00) == 0x7c00 ? 0x7f800000u : 0);
    return memcpy(&f, &u, 4), f;
}
static float tget(Tensor t, size_t i) { return t.f16 ? h2f(((const uint16_t *)t.p)[i]) : ((const float *)t.p)[i]; }

// Tensor `name` with ne = {ne0} (ne1 == 0) or {ne0, ne1}; NULL data when it
// is absent and optional; any other problem ends the program.
static Tensor tensor(const Gguf *g, const char *name, uint64_t ne0, uint64_t ne1, int optional) {
    Tensor r = {NULL, 0};
    for (const TInfo *t = g->ti; t < g->ti + g->n_tensors; t++) {
        if (!str_eq(t->name, name)) continue;
        if (t->n_dims != (ne1 ? 2u : 1u) || t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1))
            die("'%s': tensor '%s' has shape [%llu, %llu], expected [%llu, %llu]", g_path, name, (unsigned long long)t->ne[0],
                (unsigned long long)(t->n_dims > 1 ? t->ne[1] : 0), (unsigned long long)ne0, (unsigned long long)ne1);
        if (t->type > 1) die("'%s': tensor '%s' has type %u; run.c reads F32 (0) and F16 (1)", g_path, name, t->type);
        uint64_t bytes = ne0 * (ne1 ? ne1 : 1) * (t->type ? 2 : 4), room = g->size - (size_t)(g->data - g->base);
        if (t->offset > room || bytes > room - t->offset) die("'%s': tensor '%s' runs past the end of the file", g_path, name);
        r.p = g->data + t->offset, r.f16 = t->type == 1;
        if ((uintptr_t)r.p % (r.f16 ? 2 : 4)) die("'%s': tensor '%s' is misaligned", g_path, name);
        return r;
    }
    return optional ? r : (die("'%s': missing tensor '%s'", g_path, name), r);
}

// ----------------------------------------------------------------------------
// The tokenizer: GPT-2 byte-level BPE. A regex pre-tokenizer cuts the text
// into pieces; each piece's bytes become printable characters (GPT-2's byte
// map), one symbol per byte, and the adjacent pair with the lowest merge rank
// (the leftmost among equals) is merged until no pair has a rank. The
// symbols left are the tokens.
typedef struct { Str s; int i; } Entry; // a string and its index, in a table sorted by string
typedef struct {
    int n, n_merges;        // V tokens; merges
    Str *tok;               // (V) token texts, byte-mapped
    const uint8_t *ttype;   // (V) int32 types or NULL: 1 normal, 2 unknown, 3 control, 4 user-defined
    Entry *tok_by_text;     // (V) the tokens sorted, to find a token's id
    Entry *merge_by_text;   // (n_merges) the merges "left right" sorted; i is the rank
    int llama3;             // pre-tokenizer: 0 "gpt-2", 1 "llama-bpe" (GPT-4 style)
    int bos, eos, eot, add_bos;
    size_t max_len;         // longest token text
    char byte_utf8[256][2]; // GPT-2 byte map: byte -> printable codepoint, as UTF-8 of ...
    int byte_len[256];      // ... 1 or 2 bytes
    int cp_byte[512];       // its inverse: codepoint -> byte, -1 if none
} Tokenizer;
static int cmp_entry(const void *a, const void *b) {
    const Str *x = &((const Entry *)a)->s, *y = &((const Entry *)b)->s;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}
// Reads the string array `key` and makes its sorted table.
static Str *read_strs(const Gguf *g, const char *key, int *n, Entry **sorted) {
    uint32_t t;
    Cur c = kv_get(g, key, T_ARR, &t);
    if (!c.p) die("'%s': no %s", g_path, key);
    uint64_t et = rd(&c, 4), count = rd(&c, 8);
    if (et != T_STR || count > (1u << 24)) die("'%s': '%s' is not an array of strings", g_path, key);
    Str *s = xcalloc(count, sizeof(Str));
    *sorted = xcalloc(count, sizeof(Entry));
    for (uint64_t i = 0; i < count; i++) (*sorted)[i].s = s[i] = rd_str(&c), (*sorted)[i].i = (int)i;
    qsort(*sorted, count, sizeof(Entry), cmp_entry);
    return *n = (int)count, s;
}
// The index of string s in a sorted table, -1 if absent (any one of duplicates).
static int find(const Entry *sorted, int n, const char *s, size_t len) {
    Entry key = {{s, len}, 0}, *e = bsearch(&key, sorted, n, sizeof(Entry), cmp_entry);
    return e ? e->i : -1;
}
static void tokenizer_init(Tokenizer *t, const Gguf *g) {
    uint32_t ty;
    memset(t, 0, sizeof *t);
    if (!str_eq(kv_str(g, "tokenizer.ggml.model"), "gpt2")) die("'%s': tokenizer is not 'gpt2' (byte-level BPE)", g_path);
    Str pre = kv_str(g, "tokenizer.ggml.pre");
    t->llama3 = str_eq(pre, "llama-bpe") || str_eq(pre, "llama3") || str_eq(pre, "llama-v3");
    if (pre.s && !t->llama3 && !str_eq(pre, "gpt-2") && !str_eq(pre, "gpt2") && !str_eq(pre, "default"))
        die("'%s': pre-tokenizer '%.*s' is not supported (gpt-2, llama-bpe are)", g_path, (int)pre.n, pre.s);
    t->tok = read_strs(g, "tokenizer.ggml.tokens", &t->n, &t->tok_by_text);
    free(read_strs(g, "tokenizer.ggml.merges", &t->n_merges, &t->merge_by_text)); // the sorted table is enough
    Cur c = kv_get(g, "tokenizer.ggml.token_type", T_ARR, &ty);
    if (c.p && (rd(&c, 4) != T_I32 || rd(&c, 8) != (uint64_t)t->n))
        die("'%s': tokenizer.ggml.token_type is not %d int32", g_path, t->n);
    t->ttype = c.p;
    t->bos = kv_id(g, "tokenizer.ggml.bos_token_id", -1), t->eos = kv_id(g, "tokenizer.ggml.eos_token_id", -1);
    t->eot = kv_id(g, "tokenizer.ggml.eot_token_id", t->eos), t->add_bos = kv_num(g, "tokenizer.ggml.add_bos_token", 0) != 0;
    if (!t->n || t->bos >= t->n) die("'%s': no tokens, or BOS is not one", g_path);
    for (int i = 0; i < t->n; i++) t->max_len = t->tok[i].n > t->max_len ? t->tok[i].n : t->max_len;
    for (int i = 0; i < 512; i++) t->cp_byte[i] = -1;
    for (int b = 0, extra = 0; b < 256; b++) { // printable bytes map to themselves, the others to 256, 257, ...
        int cp = ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) ? b : 256 + extra++;
        t->cp_byte[cp] = b, t->byte_len[b] = cp < 128 ? 1 : 2;
        t->byte_utf8[b][0] = (char)(cp < 128 ? cp : 0xC0 | (cp >> 6)), t->byte_utf8[b][1] = (char)(0x80 | (cp & 63));
    }
}

// Pre-tokenizers: pretok_next returns the end of the piece that starts at p < n.
//   gpt-2:     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama-bpe: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//              ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// The classes are per byte (see the limits at the top).
static int is_l(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }
static int is_n(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_s(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int is_o(uint8_t c) { return !is_l(c) && !is_n(c) && !is_s(c); }
static int is_nl(uint8_t c) { return c == '\r' || c == '\n'; }
// The end of 's 't 're 've 'm 'll 'd at p (any case with fold), or 0.
static size_t contraction(const uint8_t *s, size_t n, size_t p, int fold) {
    int a = p + 1 < n ? s[p + 1] | (fold ? 32 : 0) : 0, b = p + 2 < n ? s[p + 2] | (fold ? 32 : 0) : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return p + 2;
    return ((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l') ? p + 3 : 0;
}
static size_t pretok_next(int llama3, const uint8_t *s, size_t n, size_t p) {
    size_t e, c;
    if (s[p] == '\'' && (e = contraction(s, n, p, llama3))) return e;
    if (llama3) { // [^\r\n\p{L}\p{N}]?\p{L}+ then \p{N}{1,3}
        c = p + (p + 1 < n && is_l(s[p + 1]) && !is_l(s[p]) && !is_n(s[p]) && !is_nl(s[p]));
        if (is_l(s[c])) { while (c < n && is_l(s[c])) c++; return c; }
        if (is_n(s[p])) { for (c = p; c < n && c < p + 3 && is_n(s[c]); c++) {} return c; }
    }
    c = p + (s[p] == ' ' && p + 1 < n && !is_s(s[p + 1])); // the optional leading space
    if (!llama3 && (is_l(s[c]) || is_n(s[c])))
        for (int (*cls)(uint8_t) = is_l(s[c]) ? is_l : is_n;; c++) if (c == n || !cls(s[c])) return c;
    if (is_o(s[c])) {
        while (c < n && is_o(s[c])) c++;
        while (llama3 && c < n && is_nl(s[c])) c++;
        return c;
    }
    for (e = p; e < n && is_s(s[e]); e++) {} // s[p] is whitespace: the run is [p, e)
    for (c = e; llama3 && c > p; c--)
        if (is_nl(s[c - 1])) return c;       // \s*[\r\n]+
    return (e - p > 1 && e < n) ? e - 1 : e; // \s+(?!\S), \s+
}

// Encodes one piece of n bytes into out; returns the number of ids. Scratch:
// buf 4n+1 chars, start and len n ints (the symbols, as spans of buf).
static int bpe_piece(const Tokenizer *t, const uint8_t *s, int n, char *buf, int *start, int *len, int *out) {
    int used = 0, ns = n, nout = 0, id;
    for (int i = 0; i < n; used += len[i++])
        start[i] = used, len[i] = t->byte_len[s[i]], memcpy(buf + used, t->byte_utf8[s[i]], len[i]);
    if (t->llama3 && (id = find(t->tok_by_text, t->n, buf, used)) >= 0)
        return out[0] = id, 1; // a piece that is a token stays whole: llama.cpp's ignore_merges
    for (char *key = buf + used;;) {
        int best = -1, best_rank = INT_MAX;
        for (int i = 0; i + 1 < ns; i++) {
            memcpy(key, buf + start[i], len[i]), key[len[i]] = ' ';
            memcpy(key + len[i] + 1, buf + start[i + 1], len[i + 1]);
            int r = find(t->merge_by_text, t->n_merges, key, len[i] + 1 + len[i + 1]);
            if (r >= 0 && r < best_rank) best_rank = r, best = i;
        }
        if (best < 0) break;
        len[best] += len[best + 1], ns--;
        for (int i = best + 1; i < ns; i++) start[i] = start[i + 1], len[i] = len[i + 1];
    }
    for (int i = 0; i < ns; i++) {
        if ((id = find(t->tok_by_text, t->n, buf + start[i], len[i])) >= 0) { out[nout++] = id; continue; }
        for (int j = 0; j < len[i]; j++) // as llama.cpp: the single bytes of an unknown symbol that are tokens
            if ((id = find(t->tok_by_text, t->n, buf + start[i] + j, 1)) >= 0) out[nout++] = id;
    }
    return nout;
}

// Tokenizes text into out (room for 2*strlen(text)+1 ids); returns the count.
static int encode(const Tokenizer *t, const char *text, int *out) {
    size_t n = strlen(text), p = 0, e;
    int nout = 0;
    if (n > INT_MAX / 8) die("the prompt is too long");
    if (t->add_bos && t->bos >= 0) out[nout++] = t->bos;
    char *buf = xcalloc(4 * n + 1, 1);
    int *start = xcalloc(n, sizeof(int)), *len = xcalloc(n, sizeof(int));
    for (; p < n; p = e) {
        e = pretok_next(t->llama3, (const uint8_t *)text, n, p);
        nout += bpe_piece(t, (const uint8_t *)text + p, (int)(e - p), buf, start, len, out + nout);
    }
    return free(buf), free(start), free(len), nout;
}

// Writes the bytes of token id (the GPT-2 byte map undone); only normal and
// byte tokens have text to show. buf holds max_len chars.
static void print_token(const Tokenizer *t, int id, char *buf) {
    Str s = t->tok[id];
    size_t n = 0, k;
    int32_t type = 1;
    if (t->ttype) memcpy(&type, t->ttype + 4 * (size_t)id, 4); // may be unaligned
    if (type != 1 && type != 6) return; // as llama.cpp: unused (5) and undefined (0) tokens show nothing either
    for (size_t i = 0; i < s.n; i += k) {
        uint8_t c = (uint8_t)s.s[i];
        k = (c >= 0xC0 && c < 0xE0 && i + 1 < s.n) ? 2 : 1;
        int cp = k == 2 ? ((c & 31) << 6) | (s.s[i + 1] & 63) : c;
        if (cp < 512 && t->cp_byte[cp] >= 0) buf[n++] = (char)t->cp_byte[cp];
        else memcpy(buf + n, s.s + i, k), n += k;
    }
    fwrite(buf, 1, n, stdout), fflush(stdout);
}

// ----------------------------------------------------------------------------
// The model: hyperparameters, weights (pointers into the mapping) and the run
// state, allocated once before the first forward pass.
typedef struct {
    int C, L, H, KVH, D, F, V; // see the shape letters at the top
    int ctx, n_rot;            // llama.context_length; leading dims of a head that RoPE rotates (usually D)
    float eps, rope_base;      // RMSNorm epsilon; llama.rope.freq_base
} Config;
typedef struct {
    Tensor attn_norm, ffn_norm;  // (C) RMSNorm weights before attention and feed-forward
    Tensor wq, wk, wv, wo;       // (H*D, C), (KVH*D, C), (KVH*D, C), (C, H*D)
    Tensor w_gate, w_up, w_down; // (F, C), (F, C), (C, F)
} Layer;
typedef struct {
    Tensor tok_embd; // (V, C) one row per token
    Layer *layer;    // (L)
    Tensor out_norm; // (C)
    Tensor output;   // (V, C) output.weight, or tok_embd when the file ties them
} Weights;
typedef struct {
    float *x, *xb2;         // (C) the residual stream; a block's output before it joins it
    float *xb;              // (max(C, H*D)) a block's normed input, then the attention output
    float *q;               // (H*D) queries of the current position
    float *hb, *hb2;        // (F) gate and up projections
    float *att;             // (H, T) attention weights
    float *logits;          // (V)
    float *kcache, *vcache; // (L, T, KVH*D) keys and values of every position so far
    int T;
} State;

static int cfg_int(const Gguf *g, const char *key, double def, double max) {
    double v = kv_num(g, key, def);
    if (!(v >= 1 && v <= max) || v != (int)v) die("'%s': bad or missing '%s' (%g)", g_path, key, v);
    return (int)v;
}
static Tensor blk(const Gguf *g, int l, const char *what, uint64_t ne0, uint64_t ne1) {
    char name[64];
    return snprintf(name, sizeof name, "blk.%d.%s.weight", l, what), tensor(g, name, ne0, ne1, 0);
}
static void model_load(const Gguf *g, int V, Config *c, Weights *w) {
    Str arch = kv_str(g, "general.architecture");
    if (!str_eq(arch, "llama")) die("'%s': architecture '%.*s' is not 'llama'", g_path, (int)arch.n, arch.s ? arch.s : "");
    c->C = cfg_int(g, "llama.embedding_length", 0, 1 << 20), c->L = cfg_int(g, "llama.block_count", 0, 1 << 12);
    c->H = cfg_int(g, "llama.attention.head_count", 0, 1 << 12), c->KVH = cfg_int(g, "llama.attention.head_count_kv", c->H, c->H);
    c->D = cfg_int(g, "llama.attention.key_length", c->C / c->H, 1 << 16);
    c->F = cfg_int(g, "llama.feed_forward_length", 0, 1 << 20), c->V = V;
    c->ctx = cfg_int(g, "llama.context_length", 0, 1 << 24), c->n_rot = cfg_int(g, "llama.rope.dimension_count", c->D, c->D);
    c->eps = (float)kv_num(g, "llama.attention.layer_norm_rms_epsilon", 1e-5);
    c->rope_base = (float)kv_num(g, "llama.rope.freq_base", 10000);
    if (c->H % c->KVH || c->n_rot % 2 || !(c->eps > 0) || !(c->rope_base > 0) || (uint64_t)c->H * c->D > (1u << 20))
        die("'%s': inconsistent hyperparameters (heads %d/%d, rope dims %d)", g_path, c->H, c->KVH, c->n_rot);
    int C = c->C, QD = c->H * c->D, KVD = c->KVH * c->D;
    w->tok_embd = tensor(g, "token_embd.weight", C, V, 0), w->out_norm = tensor(g, "output_norm.weight", C, 0, 0);
    w->output = tensor(g, "output.weight", C, V, 1);
    if (!w->output.p) w->output = w->tok_embd;
    w->layer = xcalloc(c->L, sizeof(Layer));
    for (int l = 0; l < c->L; l++) {
        Layer *y = &w->layer[l];
        y->attn_norm = blk(g, l, "attn_norm", C, 0), y->ffn_norm = blk(g, l, "ffn_norm", C, 0);
        y->wq = blk(g, l, "attn_q", C, QD), y->wk = blk(g, l, "attn_k", C, KVD), y->wv = blk(g, l, "attn_v", C, KVD);
        y->wo = blk(g, l, "attn_output", QD, C), y->w_down = blk(g, l, "ffn_down", c->F, C);
        y->w_gate = blk(g, l, "ffn_gate", C, c->F), y->w_up = blk(g, l, "ffn_up", C, c->F);
    }
}

static void state_init(State *s, const Config *c, int T) {
    size_t kv = (size_t)c->L * T * c->KVH * c->D, QD = (size_t)c->H * c->D;
    s->T = T;
    s->x = xcalloc(c->C, sizeof(float)), s->xb = xcalloc(QD > (size_t)c->C ? QD : (size_t)c->C, sizeof(float));
    s->xb2 = xcalloc(c->C, sizeof(float)), s->q = xcalloc(QD, sizeof(float));
    s->hb = xcalloc(c->F, sizeof(float)), s->hb2 = xcalloc(c->F, sizeof(float));
    s->att = xcalloc((size_t)c->H * T, sizeof(float)), s->logits = xcalloc(c->V, sizeof(float));
    s->kcache = xcalloc(kv, sizeof(float)), s->vcache = xcalloc(kv, sizeof(float));
}

// ----------------------------------------------------------------------------
// The forward pass, one token at a time. Dot products keep 8 partial sums so
// that the compiler can use vector registers without -ffast-math; F16 rows
// rows are converted to f32 first, 1024 values at a time.
static float dot(const float *a, const float *b, int n) {
    float acc[8] = {0}, s = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    for (; i < n; i++) s += a[i] * b[i];
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}
static float dot_f16(const uint16_t *a, const float *b, int n) {
    float buf[1024], s = 0;
    for (int i = 0, m, j; i < n; i += m, s += dot(buf, b + i - m, m)) {
        for (m = n - i < 1024 ? n - i : 1024, j = 0; j + 64 <= m; j += 64) // fixed counts vectorize
            for (int k = 0; k < 64; k++) buf[j + k] = h2f(a[i + j + k]);
        for (; j < m; j++) buf[j] = h2f(a[i + j]);
    }
    return s;
}

// out (n) = W (n, d) . x (d), rows shared among the threads
static void matmul(float *out, const float *x, Tensor w, int d, int n) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        out[i] = w.f16 ? dot_f16((const uint16_t *)w.p + (size_t)i * d, x, d) : dot((const float *)w.p + (size_t)i * d, x, d);
}

static void rmsnorm(float *out, const float *x, Tensor w, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * tget(w, i);
}

// Rotates the adjacent pairs (v[2i], v[2i+1]) of each of n heads by pos * base^(-2i/n_rot).
static void rope(float *v, int n, const Config *c, int pos) {
    for (int i = 0; i < c->n_rot; i += 2) {
        double angle = pos * pow(c->rope_base, -(double)i / c->n_rot);
        float cs = (float)cos(angle), sn = (float)sin(angle);
        for (float *p = v + i, x0; p < v + (size_t)n * c->D; p += c->D)
            x0 = p[0], p[0] = x0 * cs - p[1] * sn, p[1] = x0 * sn + p[1] * cs;
    }
}

static float *forward(const Config *c, const Weights *w, State *s, int token, int pos) {
    int C = c->C, D = c->D, KVD = c->KVH * c->D, group = c->H / c->KVH;
    float scale = 1.0f / sqrtf((float)D);
    for (int i = 0; i < C; i++) s->x[i] = tget(w->tok_embd, (size_t)token * C + i);
    for (int l = 0; l < c->L; l++) {
        const Layer *y = &w->layer[l];
        float *kc = s->kcache + (size_t)l * s->T * KVD, *vc = s->vcache + (size_t)l * s->T * KVD;
        // attention: q, k, v of this position; k and v go to the cache
        rmsnorm(s->xb, s->x, y->attn_norm, C, c->eps);
        matmul(s->q, s->xb, y->wq, C, c->H * D);
        matmul(kc + (size_t)pos * KVD, s->xb, y->wk, C, KVD), matmul(vc + (size_t)pos * KVD, s->xb, y->wv, C, KVD);
        rope(s->q, c->H, c, pos), rope(kc + (size_t)pos * KVD, c->KVH, c, pos);
#pragma omp parallel for schedule(static)
        for (int h = 0; h < c->H; h++) { // query head h reads key/value head h / group
            const float *q = s->q + (size_t)h * D, *k = kc + (size_t)(h / group) * D, *v = vc + (size_t)(h / group) * D;
            float *att = s->att + (size_t)h * s->T, *o = s->xb + (size_t)h * D, max = -INFINITY, sum = 0;
            for (int t = 0; t <= pos; t++) att[t] = dot(q, k + (size_t)t * KVD, D) * scale, max = att[t] > max ? att[t] : max;
            for (int t = 0; t <= pos; t++) sum += (att[t] = expf(att[t] - max));
            memset(o, 0, D * sizeof(float));
            for (int t = 0; t <= pos; t++)
                for (int i = 0; i < D; i++) o[i] += att[t] / sum * v[(size_t)t * KVD + i];
        }
        matmul(s->xb2, s->xb, y->wo, c->H * D, C);
        for (int i = 0; i < C; i++) s->x[i] += s->xb2[i];
        // feed-forward: w_down . (silu(w_gate . x) * (w_up . x))
        rmsnorm(s->xb, s->x, y->ffn_norm, C, c->eps);
        matmul(s->hb, s->xb, y->w_gate, C, c->F), matmul(s->hb2, s->xb, y->w_up, C, c->F);
        for (int i = 0; i < c->F; i++) s->hb[i] = s->hb[i] / (1.0f + expf(-s->hb[i])) * s->hb2[i];
        matmul(s->xb2, s->hb, y->w_down, c->F, C);
        for (int i = 0; i < C; i++) s->x[i] += s->xb2[i];
    }
    rmsnorm(s->x, s->x, w->out_norm, C, c->eps);
    matmul(s->logits, s->x, w->output, C, c->V);
    return s->logits;
}

// ----------------------------------------------------------------------------
// Sampling: greedy at temperature 0, else softmax(logits / temp), optionally
// cut to the nucleus: the most likely tokens whose mass reaches top_p (the
// cut, a probability, is found by bisection instead of sorting).
static uint64_t rng_state;
static float rng_f32(void) { // xorshift64*, 24 random bits in [0, 1)
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (float)((rng_state * 0x2545F4914F6CDD1DULL) >> 40) / 16777216.0f;
}
static int sample(float *p, int V, float temp, float top_p) {
    int best = 0;
    for (int i = 1; i < V; i++) best = p[i] > p[best] ? i : best;
    if (temp <= 0) return best;
    float sum = 0, lo = 0, hi = 1, mass, max = p[best]; // p[best] becomes 1, the largest
    for (int i = 0; i < V; i++) sum += (p[i] = expf((p[i] - max) / temp));
    for (int it = 0; it < 40 && top_p < 1; it++) { // the largest cut keeping a mass >= top_p
        float mid = (lo + hi) / 2;
        for (int i = mass = 0; i < V; i++) mass += p[i] >= mid ? p[i] : 0;
        *(mass >= top_p * sum ? &lo : &hi) = mid;
    }
    for (int i = sum = 0; i < V; i++) sum += (p[i] = p[i] >= lo ? p[i] : 0);
    float r = rng_f32() * sum, cum = 0;
    for (int i = 0; i < V; i++)
        if (p[i] > 0 && r < (cum += p[i])) return i;
    return best;
}

// ----------------------------------------------------------------------------
// The command line.
static void usage(FILE *f, int status) {
    fputs("usage: run MODEL.gguf [-p PROMPT] [-n N] [-t TEMP] [--top-p P] [-s SEED]\n"
          "  -p  prompt text (default: empty, just BOS)   -n  tokens to generate (default 64)\n"
          "  -t  temperature, 0 = greedy (default 0.8)    --top-p  nucleus sampling (default 1 = off)\n"
          "  -s  random seed (default: the clock)         threads: OMP_NUM_THREADS (default: all)\n"
          "example: ./run model.gguf -p \"Once upon a time\" -n 64 -t 0\n", f), exit(status);
}
static double num_arg(const char *opt, const char *v, double lo, double hi, int whole) { // one line naming the problem, exit 2
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end || !(d >= lo && d <= hi) || (whole && d != (double)(long long)d))
        fprintf(stderr, "run: %s: '%s' is not %s in [%.10g, %.10g]\n", opt, v, whole ? "a whole number" : "a number", lo, hi), exit(2);
    return d;
}

int main(int argc, char **argv) {
    const char *path = NULL, *prompt = "";
    double n_gen = 64, temp = 0.8, top_p = 1, seed = (double)time(NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage(stdout, 0);
        if (a[0] != '-' && !path) { path = a; continue; }
        int known = !strcmp(a, "-p") || !strcmp(a, "-n") || !strcmp(a, "-t") || !strcmp(a, "-s") || !strcmp(a, "--top-p");
        if (!known || i + 1 >= argc)
            fprintf(stderr, known ? "run: %s needs a value\n" : a[0] == '-' ? "run: unknown option '%s' (run --help)\n"
                    : "run: unexpected argument '%s' (run --help)\n", a), exit(2);
        if (!strcmp(a, "-p")) prompt = argv[++i];
        else if (!strcmp(a, "-n")) n_gen = num_arg(a, argv[++i], 0, INT_MAX, 1);
        else if (!strcmp(a, "-t")) temp = num_arg(a, argv[++i], 0, 1e6, 0);
        else if (!strcmp(a, "-s")) seed = num_arg(a, argv[++i], 0, 1.8e19, 1);
        else top_p = num_arg(a, argv[++i], 1e-9, 1, 0);
    }
    if (!path) fprintf(stderr, "run: no model file given (run --help)\n"), exit(2);
#ifdef _OPENMP // libgomp's long default spin collapses on busy cores; sleeping at once is slow when idle: spin briefly
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT") && !setenv("GOMP_SPINCOUNT", "1000", 1)) execv("/proc/self/exe", argv);
#endif
    rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
    Gguf g = gguf_open(path);
    Tokenizer tok; Config c; Weights w; State s; // (declared together: the file has a 600-line budget)
    tokenizer_init(&tok, &g), model_load(&g, tok.n, &c, &w);
    int *ids = xcalloc(2 * strlen(prompt) + 2, sizeof(int)), n_prompt = encode(&tok, prompt, ids);
    if (n_prompt == 0) die("empty prompt, and the vocabulary adds no BOS token");
    if (n_prompt > c.ctx) die("the prompt (%d tokens) is longer than the context (%d)", n_prompt, c.ctx);
    int T = (int)(n_prompt + n_gen < c.ctx ? n_prompt + n_gen : c.ctx), token = ids[0], n_out = 0;
    state_init(&s, &c, T);
    char *piece = xcalloc(tok.max_len + 1, 1);
    fputs(prompt, stdout), fflush(stdout);
    double t0 = now(), t1 = t0;
    for (int pos = 0; pos < T && n_out < n_gen; pos++) {
        float *logits = forward(&c, &w, &s, token, pos);
        if (pos + 1 < n_prompt) { token = ids[pos + 1]; continue; } // still reading the prompt
        if (pos + 1 == n_prompt) t1 = now();
        token = sample(logits, c.V, (float)temp, (float)top_p);
        if (token == tok.eos || token == tok.eot) break;
        print_token(&tok, token, piece);
        n_out++;
    }
    double t2 = now();
    fputc('\n', stdout), fflush(stdout);
    fprintf(stderr, "run: prompt %d tokens %.1f tok/s, generated %d tokens %.1f tok/s\n", n_prompt,
            n_prompt / (t1 - t0 + 1e-9), n_out, n_out / (t2 - t1 + 1e-9));
    return free(ids), free(piece), 0;
}
