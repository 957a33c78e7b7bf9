/*
 * compress.h - lossless compression with a language model as the
 * probability model of a range coder: `llmos compress` / `decompress`.
 *
 * A model that gives the next token probability p stores it in -log2 p
 * bits; its cross-entropy on a text is a compression rate, and this makes
 * it a real file. The input's bytes are cut into chunks (coded
 * independently, so several threads can work on one file in both
 * directions); each chunk is tokenized by the model's tokenizer (any byte
 * string round-trips: byte-level BPE covers every byte, SentencePiece
 * through its <0xNN> byte tokens; a tokenizer that cannot represent every
 * byte is refused), and each token is range coded (range_coder.h) under
 * the model's next-token distribution from exact.h's forward, which gives
 * the same bits on every machine, kernel path and thread count.
 *
 * The context of a chunk's tokens: a primer token (BOS when the vocabulary
 * has one, else EOS, else none) and the chunk's tokens so far, up to ctx
 * positions. When they fill it, the window restarts from the primer and
 * the last `keep` tokens (half of the window). The first token of a chunk
 * without a primer is coded with all tokens equally likely.
 *
 * The frequency table of a position, from its logits l (V floats):
 *   e_i = exp(l_i - max l) in double (exact_exp), S = sum of e_i in order,
 *   freq_i = 1 + floor(e_i * (2^30 / S)),  total = sum of freq_i < 2^32,
 * so every token has a frequency of at least 1.
 *
 * The file (integers little-endian; varint = LEB128, 7 bits a byte):
 *   "LLMZ"  magic
 *   u8      format version (1)
 *   32 B    SHA-256 of the model file that coded it
 *   varint  original length in bytes
 *   u32     CRC-32 (zlib's) of the original bytes
 *   varint  chunk size in bytes (every chunk but the last has this length)
 *   varint  context (ctx), varint keep, varint primer token id + 1 (0: none)
 *   per chunk: varint coded bytes, varint bytes to drop from the front of
 *           its decoded tokens (1 for a SentencePiece leading space, else 0)
 *   u32     CRC-32 of the header up to here
 *   the chunks' coded bytes, one after another, and nothing after them.
 *
 * Memory: the functions below return malloc'd buffers the caller frees;
 * they read the model (shared, read-only) from several threads.
 */
#ifndef LLMOS_COMPRESS_H
#define LLMOS_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"

#define COMPRESS_VERSION 1
#define COMPRESS_CHUNK_DEFAULT (256 << 10)
#define COMPRESS_CTX_DEFAULT_MAX 512

typedef struct {
    int threads;      /* chunks coded at once (< 1: 1) */
    int ctx;          /* compress: context in tokens (0: the model's, at most 512) */
    size_t chunk;     /* compress: bytes per chunk (0: COMPRESS_CHUNK_DEFAULT) */
    /* called now and then with the input bytes done so far (from any
     * thread, one call at a time); may be NULL */
    void (*progress)(void *arg, size_t done, size_t total);
    void *progress_arg;
} compress_opts;

typedef struct {
    size_t tokens;      /* tokens coded */
    double ideal_bits;  /* sum of -log2 p over them, p from the same softmax in double */
    size_t header_bytes;
    size_t chunks;
    int ctx;
    const char *path;   /* the dot product path of the forward (exact.h) */
} compress_stats;

/* Compresses len bytes with model m (loaded from its file: the file's
 * hash goes into the header). 0 with *out (malloc'd) and *out_len, or -1
 * with err_set (a tokenizer that cannot represent every byte, a bad
 * option). stats may be NULL. */
int compress_bytes(const model *m, const uint8_t *in, size_t len, const compress_opts *o, uint8_t **out,
                   size_t *out_len, compress_stats *stats);

/* Decompresses what compress_bytes made with the same model file. -1 with
 * err_set and nothing in *out on any problem: not a compressed file, a
 * version this build does not read, another model, a truncated or
 * corrupted file (the header's and the output's checksums are checked). */
int decompress_bytes(const model *m, const uint8_t *in, size_t len, const compress_opts *o, uint8_t **out,
                     size_t *out_len, compress_stats *stats);

#endif
