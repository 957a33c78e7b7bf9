/*
 * tokenizer.c - the tokenizer object: reading and writing llama.cpp's
 * tokenizer.ggml.* metadata, the lookup tables encoding needs, special
 * tokens, and decoding. Encoding proper is in bpe.c (gpt2) and spm.c
 * (llama).
 *
 * What each token decodes to (its "bytes"):
 *   gpt2   normal and byte tokens: GPT-2's byte-to-unicode map undone
 *          (each character of the text stands for one byte); control,
 *          user-defined and unknown tokens: their text as is.
 *   llama  byte tokens "<0xNN>": the byte; normal and user-defined tokens:
 *          the text with U+2581 turned back into spaces; control and
 *          unknown tokens: their text.
 *
 * Special tokens in the input. As in llama.cpp, user-defined tokens are
 * always found in the text before encoding; control and unknown tokens only
 * when the caller asks (parse_special). Longer tokens are looked for first,
 * across the whole text, then shorter ones in what is left.
 */
#include "tok_internal.h"
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

/* ---- hashing and the text -> id table ---- */

uint64_t tok_hash_bytes(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)s[i] << (8 * i);
    h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 32;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 29;
    return h;
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

int tok_lookup(const tokenizer *t, const char *s, size_t n) {
    size_t mask = t->text_cap - 1;
    size_t h = (size_t)tok_hash_bytes(s, n) & mask;
    for (;;) {
        int32_t id = t->text_slots[h];
        if (id < 0) return -1;
        if (t->text_len[id] == n && !memcmp(t->text[id], s, n)) return id;
        h = (h + 1) & mask;
    }
}

static void build_text_table(tokenizer *t) {
    t->text_cap = pow2_at_least((size_t)t->n_vocab * 2);
    t->text_slots = xmalloc(t->text_cap * sizeof(int32_t));
    memset(t->text_slots, 0xFF, t->text_cap * sizeof(int32_t));
    size_t mask = t->text_cap - 1;
    for (int id = 0; id < t->n_vocab; id++) {
        size_t h = (size_t)tok_hash_bytes(t->text[id], t->text_len[id]) & mask;
        for (;;) {
            int32_t o = t->text_slots[h];
            if (o < 0) {
                t->text_slots[h] = id;
                break;
            }
            if (t->text_len[o] == t->text_len[id] && !memcmp(t->text[o], t->text[id], t->text_len[id])) {
                t->text_slots[h] = id; /* a later duplicate wins, as in llama.cpp */
                break;
            }
            h = (h + 1) & mask;
        }
    }
}

/* ---- GPT-2's byte <-> printable character map ---- */

/* Codepoint standing for byte b. */
static uint32_t gpt2_byte_cp(int b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return (uint32_t)b;
    int n = 0;
    for (int c = 0; c < b; c++)
        if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF))) n++;
    return 256u + (uint32_t)n;
}

/* ---- building ---- */

static int is_special_type(int type) {
    return type == TOKT_CONTROL || type == TOKT_USER_DEFINED || type == TOKT_UNKNOWN;
}

static void set_bytes(tokenizer *t, int id, const char *b, size_t n) {
    t->bytes[id] = xmalloc(n + 1);
    memcpy(t->bytes[id], b, n);
    t->bytes[id][n] = 0;
    t->bytes_len[id] = (uint32_t)n;
}

static void build_bytes(tokenizer *t) {
    t->bytes = xcalloc((size_t)t->n_vocab, sizeof(char *));
    t->bytes_len = xcalloc((size_t)t->n_vocab, sizeof(uint32_t));
    char *buf = xmalloc(1);
    size_t cap = 1;
    int16_t inv[324]; /* GPT-2: the byte each stand-in codepoint means */
    for (int i = 0; i < 324; i++) inv[i] = -1;
    for (int b = 0; b < 256; b++) inv[gpt2_byte_cp(b)] = (int16_t)b;
    for (int id = 0; id < t->n_vocab; id++) {
        const char *s = t->text[id];
        size_t n = t->text_len[id], o = 0;
        int type = t->type[id];
        if (n + 1 > cap) {
            cap = n + 1;
            buf = xrealloc(buf, cap);
        }
        /* as llama.cpp's token_to_piece (special tokens shown): control,
         * unknown and user-defined tokens are their text, unused and
         * undefined ones nothing, normal and byte tokens the bytes they
         * stand for */
        if (is_special_type(type)) {
            set_bytes(t, id, s, n);
            continue;
        }
        if (type == TOKT_UNUSED || type == TOKT_UNDEFINED) {
            set_bytes(t, id, "", 0);
            continue;
        }
        unsigned v;
        char tail;
        if (type == TOKT_BYTE && n == 6 && sscanf(s, "<0x%2X%c", &v, &tail) == 2 && tail == '>') {
            buf[o++] = (char)v; /* SentencePiece's byte fallback, also in BPE vocabularies (Gemma) */
        } else if (t->kind == TOK_GPT2) {
            for (size_t i = 0; i < n;) {
                size_t l;
                uint32_t cp = uni_decode((const unsigned char *)s + i, n - i, &l);
                int b = cp < 324 ? inv[cp] : -1;
                if (b >= 0) buf[o++] = (char)b;
                else {
                    memcpy(buf + o, s + i, l);
                    o += l;
                }
                i += l;
            }
        } else {
            for (size_t i = 0; i < n;) {
                if (i + 3 <= n && !memcmp(s + i, "\xE2\x96\x81", 3)) {
                    buf[o++] = ' ';
                    i += 3;
                } else buf[o++] = s[i++];
            }
        }
        set_bytes(t, id, buf, o);
    }
    free(buf);
}

static void pair_put(tokenizer *t, int l, int r, int rank, int id) {
    uint64_t key = (((uint64_t)(uint32_t)l << 32) | (uint32_t)r) + 1;
    size_t mask = t->pair_cap - 1;
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
    while (t->pairs[h].key) {
        if (t->pairs[h].key == key) return; /* the first (lowest rank) stays */
        h = (h + 1) & mask;
    }
    t->pairs[h].key = key;
    t->pairs[h].rank = rank;
    t->pairs[h].id = id;
}

static int build_merges(tokenizer *t) {
    t->pair_cap = pow2_at_least((size_t)t->n_merges * 2 + 16);
    t->pairs = xcalloc(t->pair_cap, sizeof(tok_pair));
    char *buf = NULL;
    size_t cap = 0;
    for (int i = 0; i < t->n_merges; i++) {
        const char *m = t->merges[i];
        size_t n = strlen(m);
        const char *sp = n > 1 ? memchr(m + 1, ' ', n - 1) : NULL;
        if (!sp) {
            free(buf);
            return err_set("merge %d ('%s') is not two tokens separated by a space", i, m);
        }
        size_t ln = (size_t)(sp - m), rn = n - ln - 1;
        int l = tok_lookup(t, m, ln), r = tok_lookup(t, sp + 1, rn);
        if (n > cap) {
            cap = n;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf, m, ln);
        memcpy(buf + ln, sp + 1, rn);
        int id = tok_lookup(t, buf, ln + rn);
        /* A merge whose parts or result are not tokens can never apply. */
        if (l >= 0 && r >= 0 && id >= 0) pair_put(t, l, r, i, id);
    }
    free(buf);
    return 0;
}

static int cmp_special(const void *a, const void *b, void *ctx) {
    const tokenizer *t = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    if (t->text_len[x] != t->text_len[y]) return t->text_len[x] > t->text_len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int build(tokenizer *t) {
    if (t->n_vocab <= 0) return err_set("tokenizer has no tokens");
    int *ids[] = {&t->bos, &t->eos, &t->eot, &t->unk, &t->pad};
    for (size_t i = 0; i < ARRAY_LEN(ids); i++)
        if (*ids[i] >= t->n_vocab) return err_set("special token id %d out of range (vocabulary of %d)", *ids[i], t->n_vocab);
    build_text_table(t);
    build_bytes(t);
    for (int b = 0; b < 256; b++) {
        char tx[8];
        int n;
        if (t->kind == TOK_GPT2) n = uni_encode(gpt2_byte_cp(b), tx);
        else n = snprintf(tx, sizeof tx, "<0x%02X>", b);
        t->byte_id[b] = tok_lookup(t, tx, (size_t)n);
    }
    if (t->kind == TOK_GPT2 && build_merges(t)) return -1;
    if (t->kind == TOK_LLAMA) spm_build_glue(t);
    /* End of turn when the file names none: the first of these texts the
     * vocabulary has (the ones llama.cpp looks for). */
    static const char *const eot_texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                            "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                                            "<\xEF\xBD\x9C\x65nd\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", /* DeepSeek */
                                            "<end_of_utterance>"};
    t->eot_found = -1;
    for (size_t i = 0; i < ARRAY_LEN(eot_texts) && t->eot_found < 0; i++) t->eot_found = tok_find(t, eot_texts[i]);
    t->specials = xmalloc((size_t)t->n_vocab * sizeof(int));
    for (int id = 0; id < t->n_vocab; id++)
        if (is_special_type(t->type[id]) && t->text_len[id] > 0) t->specials[t->n_specials++] = id;
    qsort_r(t->specials, (size_t)t->n_specials, sizeof(int), cmp_special, t);
    return 0;
}

static tokenizer *tok_alloc(tok_kind kind, int n_vocab) {
    tokenizer *t = xcalloc(1, sizeof *t);
    t->kind = kind;
    t->n_vocab = n_vocab;
    t->text = xcalloc((size_t)MAX(n_vocab, 1), sizeof(char *));
    t->text_len = xcalloc((size_t)MAX(n_vocab, 1), sizeof(uint32_t));
    t->type = xcalloc((size_t)MAX(n_vocab, 1), sizeof(int32_t));
    t->bos = t->eos = t->eot = t->unk = t->pad = -1;
    t->add_space_prefix = 1;
    return t;
}

static pretok_kind pretok_from_name(const char *pre, int *known) {
    *known = 1;
    if (!pre || !strcmp(pre, "gpt-2") || !strcmp(pre, "gpt2") || !strcmp(pre, "default")) return PRETOK_GPT2;
    if (!strcmp(pre, "llama-bpe") || !strcmp(pre, "llama3") || !strcmp(pre, "llama-v3")) return PRETOK_LLAMA3;
    *known = 0;
    return PRETOK_GPT2;
}

tokenizer *tok_new(const tok_spec *s) {
    tokenizer *t = tok_alloc(s->kind, s->n_vocab);
    for (int i = 0; i < s->n_vocab; i++) {
        size_t n = s->lens ? s->lens[i] : strlen(s->tokens[i]);
        t->text[i] = xstrndup(s->tokens[i], n);
        t->text_len[i] = (uint32_t)n;
        t->type[i] = s->types ? s->types[i] : TOKT_NORMAL;
    }
    if (s->scores) {
        t->score = xmalloc((size_t)MAX(s->n_vocab, 1) * sizeof(float));
        memcpy(t->score, s->scores, (size_t)s->n_vocab * sizeof(float));
    }
    t->n_merges = s->n_merges;
    t->merges = xcalloc((size_t)MAX(s->n_merges, 1), sizeof(char *));
    for (int i = 0; i < s->n_merges; i++) t->merges[i] = xstrdup(s->merges[i]);
    if (s->kind == TOK_GPT2) {
        int known;
        t->pre_name = xstrdup(s->pre ? s->pre : "gpt-2");
        t->pre = pretok_from_name(t->pre_name, &known);
        if (!known) {
            err_set("unknown pre-tokenizer '%s'", t->pre_name);
            tok_free(t);
            return NULL;
        }
    }
    t->bos = s->bos;
    t->eos = s->eos;
    t->eot = s->eot;
    t->unk = s->unk;
    t->pad = s->pad;
    t->add_bos = s->add_bos;
    t->add_eos = s->add_eos;
    if (s->chat_template) t->chat_template = xstrdup(s->chat_template);
    if (build(t)) {
        tok_free(t);
        return NULL;
    }
    return t;
}

/* ---- reading from GGUF ---- */

static int get_id(const gguf_file *g, const char *key, int *out) {
    if (!gguf_find(g, key)) return 0;
    int64_t v;
    if (gguf_get_int(g, key, &v)) return -1;
    *out = (v < 0 || v > INT32_MAX) ? -1 : (int)v;
    return 0;
}

static int get_bool(const gguf_file *g, const char *key, int *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 0;
    if (kv->type == GGUF_ARRAY || kv->type == GGUF_STRING) return err_set("'%s' is not a boolean", key);
    *out = kv->v.u != 0;
    return 0;
}

static const gguf_kv *get_array(const gguf_file *g, const char *key, int want_string) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return NULL;
    if (kv->type != GGUF_ARRAY) {
        err_set("'%s' is not an array", key);
        return NULL;
    }
    if (want_string != (kv->arr_type == GGUF_STRING)) {
        err_set("'%s' is an array of %s", key, gguf_type_name(kv->arr_type));
        return NULL;
    }
    return kv;
}

tokenizer *tok_from_gguf(const gguf_file *g) {
    const char *model = gguf_get_str(g, "tokenizer.ggml.model");
    if (!model) {
        err_set("no tokenizer in the file (tokenizer.ggml.model missing)");
        return NULL;
    }
    tok_kind kind;
    if (!strcmp(model, "gpt2")) kind = TOK_GPT2;
    else if (!strcmp(model, "llama")) kind = TOK_LLAMA;
    else {
        err_set("unsupported tokenizer model '%s' (gpt2 and llama are)", model);
        return NULL;
    }
    const gguf_kv *toks = get_array(g, "tokenizer.ggml.tokens", 1);
    if (!toks) {
        if (!gguf_find(g, "tokenizer.ggml.tokens")) err_set("tokenizer.ggml.tokens missing");
        return NULL;
    }
    if (toks->n == 0 || toks->n > INT32_MAX / 4) {
        err_set("tokenizer.ggml.tokens has %llu entries", (unsigned long long)toks->n);
        return NULL;
    }
    int n = (int)toks->n;
    tokenizer *t = tok_alloc(kind, n);
    for (int i = 0; i < n; i++) {
        if (toks->strs[i].len > UINT32_MAX / 2) {
            err_set("token %d is too long", i);
            goto fail;
        }
        t->text[i] = xstrndup(toks->strs[i].s, toks->strs[i].len);
        t->text_len[i] = (uint32_t)toks->strs[i].len;
        t->type[i] = TOKT_NORMAL;
    }
    const gguf_kv *kv;
    if ((kv = gguf_find(g, "tokenizer.ggml.token_type"))) {
        if (kv->type != GGUF_ARRAY || kv->arr_type == GGUF_STRING || kv->arr_type == GGUF_ARRAY || kv->n != (uint64_t)n) {
            err_set("tokenizer.ggml.token_type is not %d integers", n);
            goto fail;
        }
        for (int i = 0; i < n; i++) {
            int64_t ty = gguf_arr_i(kv, (uint64_t)i);
            if (ty < TOKT_UNDEFINED || ty > TOKT_BYTE) {
                err_set("tokenizer.ggml.token_type of token %d is %lld (valid: 0 undefined, 1 normal, "
                        "2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)", i, (long long)ty);
                goto fail;
            }
            t->type[i] = (int32_t)ty;
        }
    }
    if ((kv = gguf_find(g, "tokenizer.ggml.scores"))) {
        if (kv->type != GGUF_ARRAY || kv->arr_type == GGUF_STRING || kv->arr_type == GGUF_ARRAY || kv->n != (uint64_t)n) {
            err_set("tokenizer.ggml.scores is not %d numbers", n);
            goto fail;
        }
        t->score = xmalloc((size_t)n * sizeof(float));
        for (int i = 0; i < n; i++) t->score[i] = (float)gguf_arr_f(kv, (uint64_t)i);
    }
    if (kind == TOK_GPT2) {
        const gguf_kv *m = get_array(g, "tokenizer.ggml.merges", 1);
        if (!m) {
            if (!gguf_find(g, "tokenizer.ggml.merges")) err_set("tokenizer.ggml.merges missing (needed by a gpt2 tokenizer)");
            goto fail;
        }
        if (m->n > INT32_MAX / 4) {
            err_set("tokenizer.ggml.merges has too many entries");
            goto fail;
        }
        t->n_merges = (int)m->n;
        t->merges = xcalloc((size_t)MAX(t->n_merges, 1), sizeof(char *));
        for (int i = 0; i < t->n_merges; i++) t->merges[i] = xstrndup(m->strs[i].s, m->strs[i].len);
        const char *pre = gguf_get_str(g, "tokenizer.ggml.pre");
        int known;
        t->pre_name = xstrdup(pre ? pre : "default");
        t->pre = pretok_from_name(t->pre_name, &known);
        if (!known) {
            err_set("unsupported pre-tokenizer '%s' (gpt-2, default, llama-bpe are)", t->pre_name);
            goto fail;
        }
    } else {
        /* SentencePiece defaults, as llama.cpp has them */
        t->bos = 1;
        t->eos = 2;
        t->unk = 0;
        t->add_bos = 1;
    }
    if (get_id(g, "tokenizer.ggml.bos_token_id", &t->bos) || get_id(g, "tokenizer.ggml.eos_token_id", &t->eos) ||
        get_id(g, "tokenizer.ggml.eot_token_id", &t->eot) || get_id(g, "tokenizer.ggml.unknown_token_id", &t->unk) ||
        get_id(g, "tokenizer.ggml.padding_token_id", &t->pad) || get_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos) ||
        get_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos) ||
        get_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix))
        goto fail;
    if (kind == TOK_GPT2 && !gguf_find(g, "tokenizer.ggml.add_space_prefix")) t->add_space_prefix = 0;
    const char *tmpl = gguf_get_str(g, "tokenizer.chat_template");
    if (tmpl) t->chat_template = xstrdup(tmpl);
    if (build(t)) goto fail;
    return t;
fail:
    tok_free(t);
    return NULL;
}

void tok_free(tokenizer *t) {
    if (!t) return;
    for (int i = 0; i < t->n_vocab; i++) {
        free(t->text[i]);
        if (t->bytes) free(t->bytes[i]);
    }
    for (int i = 0; i < t->n_merges; i++) free(t->merges[i]);
    free(t->text);
    free(t->text_len);
    free(t->bytes);
    free(t->bytes_len);
    free(t->type);
    free(t->score);
    free(t->merges);
    free(t->pre_name);
    free(t->chat_template);
    free(t->text_slots);
    free(t->pairs);
    free(t->specials);
    free(t->spm_glue);
    free(t);
}

/* ---- writing to GGUF ---- */

void tok_to_gguf(const tokenizer *t, gguf_writer *w) {
    gguf_set_str(w, "tokenizer.ggml.model", t->kind == TOK_GPT2 ? "gpt2" : "llama");
    if (t->kind == TOK_GPT2) gguf_set_str(w, "tokenizer.ggml.pre", t->pre_name);
    uint64_t *lens = xmalloc((size_t)t->n_vocab * sizeof(uint64_t));
    for (int i = 0; i < t->n_vocab; i++) lens[i] = t->text_len[i];
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)t->text, lens, (uint64_t)t->n_vocab);
    free(lens);
    if (t->score) gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_F32, t->score, (uint64_t)t->n_vocab);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_I32, t->type, (uint64_t)t->n_vocab);
    if (t->kind == TOK_GPT2)
        gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)t->merges, NULL, (uint64_t)t->n_merges);
    if (t->bos >= 0) gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)t->bos);
    if (t->eos >= 0) gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)t->eos);
    if (t->eot >= 0) gguf_set_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)t->eot);
    if (t->unk >= 0) gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)t->unk);
    if (t->pad >= 0) gguf_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)t->pad);
    gguf_set_bool(w, "tokenizer.ggml.add_bos_token", t->add_bos);
    gguf_set_bool(w, "tokenizer.ggml.add_eos_token", t->add_eos);
    if (t->kind == TOK_LLAMA) gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", t->add_space_prefix);
    if (t->chat_template) gguf_set_str(w, "tokenizer.chat_template", t->chat_template);
}

/* ---- queries ---- */

tok_kind tok_get_kind(const tokenizer *t) { return t->kind; }
int tok_vocab_size(const tokenizer *t) { return t->n_vocab; }
int tok_bos(const tokenizer *t) { return t->bos; }
int tok_eos(const tokenizer *t) { return t->eos; }
int tok_eot(const tokenizer *t) { return t->eot >= 0 ? t->eot : t->eot_found >= 0 ? t->eot_found : t->eos; }
int tok_add_bos(const tokenizer *t) { return t->add_bos; }
pretok_kind tok_get_pretok(const tokenizer *t) { return t->pre; }
const char *tok_pre_name(const tokenizer *t) { return t->pre_name; }
int tok_n_merges(const tokenizer *t) { return t->n_merges; }

int tok_find(const tokenizer *t, const char *text) { return tok_lookup(t, text, strlen(text)); }

int tok_type(const tokenizer *t, int id) { return (id >= 0 && id < t->n_vocab) ? t->type[id] : TOKT_UNDEFINED; }

int tok_is_special(const tokenizer *t, int id) {
    int ty = tok_type(t, id);
    return ty == TOKT_CONTROL || ty == TOKT_USER_DEFINED || ty == TOKT_UNKNOWN;
}

const char *tok_decode(const tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        *len = 0;
        return "";
    }
    *len = t->bytes_len[id];
    return t->bytes[id];
}

const char *tok_text(const tokenizer *t, int id) {
    if (id < 0 || id >= t->n_vocab) return "";
    return t->text[id];
}

/* ---- encoding: special tokens, then the model's own algorithm ---- */

typedef struct {
    size_t off, len;
    int token; /* -1 for raw text */
} fragment;

typedef struct {
    fragment *v;
    size_t n, cap;
} frag_list;

static void frag_push(frag_list *l, size_t off, size_t len, int token) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(fragment));
    }
    l->v[l->n++] = (fragment){off, len, token};
}

/* Cuts the raw fragments of *in at every occurrence of special token id. */
static void split_special(const tokenizer *t, const char *text, frag_list *in, int id) {
    frag_list out = {0};
    const char *st = t->text[id];
    size_t sl = t->text_len[id];
    for (size_t i = 0; i < in->n; i++) {
        fragment f = in->v[i];
        if (f.token >= 0 || f.len < sl) {
            frag_push(&out, f.off, f.len, f.token);
            continue;
        }
        size_t pos = f.off, end = f.off + f.len;
        for (;;) {
            const char *hit = memmem(text + pos, end - pos, st, sl);
            if (!hit) break;
            size_t h = (size_t)(hit - text);
            if (h > pos) frag_push(&out, pos, h - pos, -1);
            frag_push(&out, h, sl, id);
            pos = h + sl;
        }
        if (pos < end) frag_push(&out, pos, end - pos, -1);
    }
    free(in->v);
    *in = out;
}

size_t tok_encode_mt(const tokenizer *t, const char *text, size_t len, int add_bos, int parse_special,
                     int **ids, int n_threads) {
    tok_ids out = {0};
    if (add_bos && t->bos >= 0) ids_push(&out, t->bos);
    frag_list frags = {0};
    if (len) frag_push(&frags, 0, len, -1);
    for (int i = 0; i < t->n_specials && frags.n; i++) {
        int id = t->specials[i];
        if (t->type[id] == TOKT_USER_DEFINED || parse_special) split_special(t, text, &frags, id);
    }
    int prev_special = 1;
    char *buf = NULL;
    for (size_t i = 0; i < frags.n; i++) {
        fragment f = frags.v[i];
        if (f.token >= 0) {
            ids_push(&out, f.token);
            prev_special = 1;
            continue;
        }
        if (t->kind == TOK_GPT2) {
            bpe_encode(t, text + f.off, f.len, &out, n_threads);
        } else if (t->add_space_prefix && prev_special) {
            buf = xrealloc(buf, f.len + 1);
            buf[0] = ' ';
            memcpy(buf + 1, text + f.off, f.len);
            spm_encode(t, buf, f.len + 1, &out);
        } else {
            spm_encode(t, text + f.off, f.len, &out);
        }
        prev_special = 0;
    }
    free(buf);
    free(frags.v);
    if (!out.v) out.v = xmalloc(sizeof(int));
    *ids = out.v;
    return out.n;
}

size_t tok_encode(const tokenizer *t, const char *text, size_t len, int add_bos, int parse_special, int **ids) {
    return tok_encode_mt(t, text, len, add_bos, parse_special, ids, 1);
}
