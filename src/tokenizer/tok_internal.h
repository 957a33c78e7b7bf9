/*
 * tok_internal.h - the tokenizer's inside, shared by tokenizer.c (loading,
 * saving, special tokens, decoding), bpe.c (byte-level BPE encoding) and
 * spm.c (SentencePiece BPE encoding). Not for use outside src/tokenizer.
 */
#ifndef LLMOS_TOK_INTERNAL_H
#define LLMOS_TOK_INTERNAL_H

#include "../core/common.h"
#include "pretok.h"
#include "tokenizer.h"

#include <stddef.h>
#include <stdint.h>

/* token_type values, as llama.cpp numbers them. */
enum {
    TOKT_UNDEFINED = 0, TOKT_NORMAL = 1, TOKT_UNKNOWN = 2, TOKT_CONTROL = 3,
    TOKT_USER_DEFINED = 4, TOKT_UNUSED = 5, TOKT_BYTE = 6
};

/* A growable array of ids. */
typedef struct {
    int *v;
    size_t n, cap;
} tok_ids;

static inline void ids_push(tok_ids *a, int id);

/* Pair of ids -> (rank, merged id), open addressing on a 64-bit key. */
typedef struct {
    uint64_t key; /* (left << 32 | right) + 1; 0 = empty */
    int32_t rank;
    int32_t id;
} tok_pair;

struct tokenizer {
    tok_kind kind;
    pretok_kind pre;
    char *pre_name;      /* tokenizer.ggml.pre as read (gpt2 only), or NULL */
    int n_vocab;
    char **text;         /* token text as stored in the vocabulary */
    uint32_t *text_len;
    char **bytes;        /* bytes the token decodes to */
    uint32_t *bytes_len;
    int32_t *type;       /* token_type */
    float *score;        /* NULL when the file has none */
    char **merges;       /* gpt2: "left right" as stored */
    int n_merges;
    int bos, eos, eot, unk, pad;
    int eot_found;       /* end of turn found by its text when eot is not set */
    int add_bos, add_eos, add_space_prefix;
    char *chat_template;

    /* text -> id (later ids win on duplicates, as llama.cpp) */
    int32_t *text_slots;
    size_t text_cap;
    /* gpt2: the token of each single byte, and the merge table */
    int byte_id[256];
    tok_pair *pairs;
    size_t pair_cap;
    /* llama: the characters (packed by spm_char_key) that some token has
     * right before a U+2581 that is not at its start; sorted. Before a
     * U+2581 that follows any other character no merge can reach across,
     * so the text is encoded in separate words there. */
    uint64_t *spm_glue;
    int n_spm_glue;
    /* tokens matched in the input before encoding: user-defined always,
     * control and unknown with parse_special; longest text first */
    int *specials;
    int n_specials;
};

static inline void ids_push(tok_ids *a, int id) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = xrealloc(a->v, a->cap * sizeof(int));
    }
    a->v[a->n++] = id;
}

/* A 64-bit hash of bytes (not cryptographic; good spread for tables). */
uint64_t tok_hash_bytes(const void *p, size_t n);

/* Id of the token whose stored text is exactly s[0..n), -1 if none. */
int tok_lookup(const tokenizer *t, const char *s, size_t n);

/* Rank and merged id of the pair (l, r); returns 0 when no merge. */
static inline int tok_pair_get(const tokenizer *t, int l, int r, int32_t *rank, int32_t *id) {
    uint64_t key = (((uint64_t)(uint32_t)l << 32) | (uint32_t)r) + 1;
    size_t mask = t->pair_cap - 1;
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
    for (;;) {
        const tok_pair *p = &t->pairs[h];
        if (p->key == key) {
            *rank = p->rank;
            *id = p->id;
            return 1;
        }
        if (!p->key) return 0;
        h = (h + 1) & mask;
    }
}

/* A cache from a piece's bytes to its tokens (bpe.c), for pieces of at
 * most CACHE_MAX_PIECE bytes. When it is full it starts over. One per
 * thread. h is tok_hash_bytes(s, n) | 1. */
#define CACHE_MAX_PIECE 64
typedef struct {
    uint64_t h;        /* 0 = empty */
    uint32_t str_off;  /* into bytes */
    uint32_t tok_off;  /* into toks */
    uint16_t str_len;
    uint16_t n_tok;
} cache_entry;

typedef struct {
    cache_entry *e;
    size_t cap, used;
    char *bytes;
    size_t nbytes, bytes_cap;
    int *toks;
    size_t ntoks, toks_cap;
} piece_cache;

void tok_cache_init(piece_cache *c, size_t cap);
/* Entries for a text of len bytes: 1/8 of it, between 1K and 256K (small
 * texts pay little to set the cache up). */
size_t tok_cache_size_for(size_t len);
void tok_cache_free(piece_cache *c);
const cache_entry *tok_cache_get(const piece_cache *c, uint64_t h, const char *s, size_t n);
void tok_cache_put(piece_cache *c, uint64_t h, const char *s, size_t n, const int *toks, size_t nt);

/* Byte-level BPE of text[0..len) (no special tokens inside), appended to out.
 * n_threads > 1 splits long text at piece boundaries. */
void bpe_encode(const tokenizer *t, const char *text, size_t len, tok_ids *out, int n_threads);

/* The bytes of one character (1..4) as a key. */
static inline uint64_t spm_char_key(const char *s, size_t n) {
    uint64_t k = n;
    for (size_t i = 0; i < n; i++) k |= (uint64_t)(unsigned char)s[i] << (8 * (i + 1));
    return k;
}

/* Builds t->spm_glue (spm.c). */
void spm_build_glue(tokenizer *t);

/* SentencePiece BPE of text[0..len) (already prefixed with a space when the
 * rule asks; spaces are escaped here), appended to out. */
void spm_encode(const tokenizer *t, const char *text, size_t len, tok_ids *out);

#endif
