/*
 * train.h - byte-level BPE training: learn a vocabulary of N tokens from raw
 * text, in the form llama.cpp's "gpt2" tokenizer reads.
 *
 * The pipeline:
 *   1. Text is split into pre-tokens by the GPT-4 style pattern
 *      (PRETOK_LLAMA3, llama.cpp's "llama-bpe"); merges never cross a
 *      pre-token. Large inputs are cut into ~1 MB segments at positions that
 *      are piece boundaries of the pattern (an ASCII letter followed by a
 *      space, or a newline followed by an ASCII letter), so the segments give
 *      exactly the pieces of the whole text; the segments are counted on
 *      several threads and the per-thread counts summed.
 *   2. Unique pre-tokens are counted (word -> count). A piece longer than
 *      TOKTRAIN_MAX_PIECE bytes (a long run of spaces or dashes) is counted
 *      as consecutive parts of that size.
 *   3. Merges are learned with the incremental pair-count algorithm: the
 *      count of every adjacent symbol pair over all words (weighted by word
 *      count), a lazy max-heap of pairs, and per-pair lists of the words that
 *      hold the pair; a merge rewrites only the words on its list and
 *      adjusts the counts of the pairs around each occurrence.
 *
 * Determinism. The result depends only on the text and the options, never
 * on the thread count or the order of documents: word counts are sums, and
 * the next merge is the pair with
 *   (1) the highest count; then
 *   (2) the lexicographically smallest merged byte sequence (memcmp order,
 *       a prefix before a longer sequence); then
 *   (3) the shorter left part.
 * (1)-(3) identify a pair uniquely. Within a word, occurrences of a pair are
 * merged left to right without overlap ("a a a" -> "aa a").
 *
 * Vocabulary layout (ids):
 *   0..255      the 256 byte tokens, in GPT-2's byte-to-unicode order (id i
 *               is the byte whose printable stand-in is the i-th in GPT-2's
 *               table: '!'..'~', U+00A1..U+00AC, U+00AE..U+00FF, then the
 *               others in byte order), as GPT-2's own encoder.json;
 *   256..       one token per merge, in merge order (rank = id - 256);
 *   last K ids  the special tokens, in the order given (token_type 3,
 *               control). They are reserved: no merge may produce a byte
 *               sequence equal to a special token's text, and a special
 *               must not be a single pre-token of ordinary text (as
 *               "<|user|>" is not: it splits into "<|", "user", "|>"), so
 *               ordinary text never becomes one, in llmos or in llama.cpp
 *               (which looks whole pre-tokens up in the vocabulary).
 * The vocabulary size counts all three parts. Training stops early (a
 * smaller vocabulary) when no pair occurs at least min_count times.
 *
 * Ownership: a toktrain copies every text it is given; the caller frees it
 * with toktrain_free.
 */
#ifndef LLMOS_TOKTRAIN_H
#define LLMOS_TOKTRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../io/gguf.h"

#define TOKTRAIN_MAX_PIECE 256

/* The special tokens every trained tokenizer reserves, in id order:
 * bos, eos (end of text), eot (end of turn), then the chat roles. */
#define TOKTRAIN_N_DEFAULT_SPECIALS 7
extern const char *const toktrain_default_specials[TOKTRAIN_N_DEFAULT_SPECIALS];

typedef struct toktrain toktrain;

/* Progress of toktrain_learn, reported through the callback. */
typedef struct {
    int merges_done;
    int merges_target;
    int64_t last_count; /* count of the latest merged pair */
    double elapsed_s;
} toktrain_progress;

typedef struct {
    int vocab_size;   /* total: 256 bytes + merges + specials */
    int min_count;    /* a pair must occur this often to be merged (>= 1) */
    /* Special tokens in id order; NULL uses the defaults. */
    const char *const *specials;
    int n_specials;
    void (*progress)(void *ctx, const toktrain_progress *p); /* may be NULL */
    void *progress_ctx;
} toktrain_opts;

/* n_threads: threads used to pre-tokenize and count (>= 1). */
toktrain *toktrain_new(int n_threads);
void toktrain_free(toktrain *t);

/* Adds one document: its pre-tokens are counted. Documents are
 * pre-tokenized independently of each other. Small documents are batched
 * and counted together when the batch fills; large ones are counted at
 * once on all threads. */
void toktrain_add(toktrain *t, const char *text, size_t len);
/* Adds count occurrences of one pre-token word as it is (no splitting):
 * for callers that count words themselves, and for tests. */
void toktrain_add_word(toktrain *t, const char *word, size_t len, uint64_t count);

/* For streaming one long document in blocks: the largest cut <= n (and
 * > 0) at which s splits into pieces exactly as the whole text would, or 0
 * when there is none in s. Text before and after such a cut may be added
 * as separate documents with no change to the counts. */
size_t toktrain_safe_cut(const char *s, size_t n);

/* Counts the batched small documents now (toktrain_learn does it too). */
void toktrain_sync(toktrain *t);

/* Totals so far: bytes of text added; distinct pre-tokens (while counting
 * is spread over threads, an upper bound: a word seen by two threads counts
 * twice). */
uint64_t toktrain_bytes(const toktrain *t);
uint64_t toktrain_n_words(const toktrain *t);

/* Checks the options without training: 0, or -1 with err_set (the same
 * checks as toktrain_learn's, so a caller can fail before reading input). */
int toktrain_check_opts(const toktrain_opts *o);

/* Learns the merges. Returns 0, or -1 with err_set when the options are
 * invalid (vocabulary smaller than 256 + specials, a special that is empty
 * or repeated) or no text was added. May be called once. */
int toktrain_learn(toktrain *t, const toktrain_opts *o);

/* After toktrain_learn: the vocabulary size actually reached and the
 * number of merges. */
int toktrain_vocab_size(const toktrain *t);
int toktrain_n_merges(const toktrain *t);

/* After toktrain_learn: sets the tokenizer.ggml.* keys of llama.cpp's gpt2
 * tokenizer (model "gpt2", pre "llama-bpe", tokens, token_type, merges,
 * bos/eos/eot ids, add_bos_token true, add_eos_token false). */
void toktrain_to_gguf(const toktrain *t, gguf_writer *w);

/* GPT-2's printable stand-in for byte b, as UTF-8 into out (>= 3 bytes);
 * returns its length (1 or 2). */
int toktrain_byte_to_unicode(unsigned char b, char *out);

#endif
