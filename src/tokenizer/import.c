/*
 * import.c - GPT-2's encoder.json + vocab.bpe and llama-tokenizer-js's Llama
 * 2 vocabulary turned into tokenizers (see import.h).
 */
#include "import.h"

#include "../core/common.h"
#include "tok_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

tokenizer *tok_import_gpt2(const char *encoder_json, const char *vocab_bpe) {
    tokenizer *t = NULL;
    size_t jn, bn;
    char *json = file_read_all(encoder_json, &jn);
    if (!json) return NULL;
    char *bpe = file_read_all(vocab_bpe, &bn);
    if (!bpe) {
        free(json);
        return NULL;
    }
    const char **tokens = NULL, **merges = NULL;
    int32_t *types = NULL;
    cJSON *root = cJSON_ParseWithLength(json, jn);
    if (!root || !cJSON_IsObject(root)) {
        err_set("%s: not a JSON object", encoder_json);
        goto done;
    }
    int n = cJSON_GetArraySize(root);
    if (n <= 0) {
        err_set("%s: no tokens", encoder_json);
        goto done;
    }
    tokens = xcalloc((size_t)n, sizeof(char *));
    types = xmalloc((size_t)n * sizeof(int32_t));
    int eot = -1;
    for (cJSON *e = root->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= n || e->valuedouble != (int)e->valuedouble) {
            err_set("%s: token '%s' has id that is not in 0..%d", encoder_json, e->string, n - 1);
            goto done;
        }
        int id = (int)e->valuedouble;
        if (tokens[id]) {
            err_set("%s: id %d is given to two tokens", encoder_json, id);
            goto done;
        }
        tokens[id] = e->string;
        types[id] = TOKT_NORMAL;
        if (!strcmp(e->string, "<|endoftext|>")) {
            types[id] = TOKT_CONTROL;
            eot = id;
        }
    }
    /* vocab.bpe: "#version: ..." then one merge per line */
    int n_merges = 0, cap = 1024;
    merges = xmalloc((size_t)cap * sizeof(char *));
    for (char *line = bpe, *next; line < bpe + bn; line = next) {
        char *nl = memchr(line, '\n', (size_t)(bpe + bn - line));
        next = nl ? nl + 1 : bpe + bn;
        if (nl) *nl = 0;
        size_t ln = strlen(line);
        if (ln && line[ln - 1] == '\r') line[--ln] = 0;
        if (!ln || (line == bpe && line[0] == '#')) continue;
        if (n_merges == cap) merges = xrealloc(merges, (size_t)(cap *= 2) * sizeof(char *));
        merges[n_merges++] = line;
    }
    tok_spec spec = {.kind = TOK_GPT2, .pre = "gpt-2", .n_vocab = n, .tokens = tokens, .types = types,
                     .n_merges = n_merges, .merges = merges, .bos = eot, .eos = eot, .eot = -1, .unk = -1,
                     .pad = -1, .add_bos = 0, .add_eos = 0};
    t = tok_new(&spec);
    if (!t) err_prefix(vocab_bpe);
done:
    cJSON_Delete(root);
    free(tokens);
    free(types);
    free(merges);
    free(json);
    free(bpe);
    return t;
}

/* ---- llama-tokenizer-js ---- */

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes base64 s[0..n) (padding allowed at the end) into a malloc'd
 * buffer; NULL on a bad character. */
static unsigned char *b64_decode(const char *s, size_t n, size_t *out_len) {
    unsigned char *out = xmalloc(n / 4 * 3 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') break;
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

/* The string literal assigned to `const NAME = "..."` in src. */
static const char *js_string(const char *src, const char *name, size_t *len) {
    char pat[128];
    snprintf(pat, sizeof pat, "const %s = \"", name);
    const char *p = strstr(src, pat);
    if (!p) return NULL;
    p += strlen(pat);
    const char *q = strchr(p, '"');
    if (!q) return NULL;
    *len = (size_t)(q - p);
    return p;
}

tokenizer *tok_import_llama_js(const char *path) {
    size_t n;
    char *src = file_read_all(path, &n);
    if (!src) return NULL;
    tokenizer *t = NULL;
    unsigned char *vocab = NULL, *mbin = NULL;
    const char **tokens = NULL;
    uint32_t *lens = NULL;
    int32_t *types = NULL;
    float *scores = NULL;
    size_t vl, ml, vn, mn;
    const char *vs = js_string(src, "llama_vocab_base64", &vl);
    const char *ms = js_string(src, "llama_merges_binary", &ml);
    if (!vs || !ms) {
        err_set("%s: no llama_vocab_base64 / llama_merges_binary (not llama-tokenizer-js?)", path);
        goto done;
    }
    vocab = b64_decode(vs, vl, &vn);
    mbin = b64_decode(ms, ml, &mn);
    if (!vocab || !mbin || mn % 4) {
        err_set("%s: bad base64 vocabulary or merges", path);
        goto done;
    }
    /* tokens: one per line */
    int nv = 1;
    for (size_t i = 0; i < vn; i++) nv += vocab[i] == '\n';
    tokens = xmalloc((size_t)nv * sizeof(char *));
    lens = xmalloc((size_t)nv * sizeof(uint32_t));
    types = xmalloc((size_t)nv * sizeof(int32_t));
    scores = xmalloc((size_t)nv * sizeof(float));
    int k = 0;
    for (size_t i = 0, st = 0; i <= vn; i++) {
        if (i == vn || vocab[i] == '\n') {
            tokens[k] = (const char *)vocab + st;
            lens[k] = (uint32_t)(i - st);
            k++;
            st = i + 1;
        }
    }
    for (int i = 0; i < nv; i++) {
        unsigned v;
        char tail;
        char tmp[8];
        types[i] = TOKT_NORMAL;
        scores[i] = 0;
        if (lens[i] == 6) {
            memcpy(tmp, tokens[i], 6);
            tmp[6] = 0;
            if (sscanf(tmp, "<0x%2X%c", &v, &tail) == 2 && tail == '>') types[i] = TOKT_BYTE;
        }
    }
    if (nv < 3) {
        err_set("%s: only %d tokens", path, nv);
        goto done;
    }
    types[0] = TOKT_UNKNOWN;
    types[1] = TOKT_CONTROL;
    types[2] = TOKT_CONTROL;
    /* A provisional tokenizer gives the text -> id lookup for the merges. */
    tok_spec spec = {.kind = TOK_LLAMA, .n_vocab = nv, .tokens = tokens, .lens = lens, .types = types,
                     .scores = scores, .bos = 1, .eos = 2, .eot = -1, .unk = 0, .pad = -1, .add_bos = 1};
    tokenizer *probe = tok_new(&spec);
    if (!probe) goto done;
    char *buf = NULL;
    size_t cap = 0;
    unsigned char *seen = xcalloc((size_t)nv, 1);
    for (size_t m = 0; m < mn / 4; m++) {
        int a = mbin[4 * m] | (mbin[4 * m + 1] << 8), b = mbin[4 * m + 2] | (mbin[4 * m + 3] << 8);
        if (a >= nv || b >= nv) {
            err_set("%s: merge %zu names token %d, past the vocabulary", path, m, a >= nv ? a : b);
            free(seen);
            free(buf);
            tok_free(probe);
            goto done;
        }
        size_t l = lens[a] + lens[b];
        if (l > cap) buf = xrealloc(buf, cap = l * 2);
        memcpy(buf, tokens[a], lens[a]);
        memcpy(buf + lens[a], tokens[b], lens[b]);
        int id = tok_lookup(probe, buf, l);
        if (id >= 0 && !seen[id]) {
            seen[id] = 1;
            scores[id] = -(float)m;
        }
    }
    free(seen);
    free(buf);
    tok_free(probe);
    t = tok_new(&spec);
done:
    free(src);
    free(vocab);
    free(mbin);
    free(tokens);
    free(lens);
    free(types);
    free(scores);
    return t;
}
