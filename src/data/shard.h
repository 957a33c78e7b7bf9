/*
 * shard.h - token shards, the input of pretraining: the corpus tokenized
 * once, stored flat, mapped at training time.
 *
 * File format (little-endian), one shard per file:
 *   offset  0  char[8]  magic "LLMOSTOK"
 *           8  u32      version (1)
 *          12  u32      token width in bytes (2: uint16 ids, 4: uint32 ids)
 *          16  u64      token count n
 *          24  u32      vocabulary size the ids were made for
 *          28  i32      end-of-text id separating documents (-1: none)
 *          32  u64      bytes of source text the tokens encode (for bits per byte)
 *          40  u64      documents
 *          48  16 bytes zero
 *          64  n tokens of the given width
 * Documents follow each other: each starts with the BOS token when the
 * tokenizer adds one (tokenizer.ggml.add_bos_token, as llama.cpp does to
 * every prompt) and is followed by the end-of-text token.
 *
 * A data folder (written by `llmos data tokenize`) holds train-00000.bin,
 * train-00001.bin, ... and val.bin (the held-out documents), plus the
 * tokenizer as tokenizer.gguf.
 *
 * Sampling: batch (step, micro) row b is the window of T + 1 tokens that
 * starts at a position drawn from splitmix64(seed, step, micro, b),
 * uniform over all train positions. It depends on nothing else, so a run
 * resumes at any step by just asking for that step's batch.
 *
 * Ownership: shard_open maps the file until shard_close; a dataset owns its
 * shards (dataset_close).
 */
#ifndef LLMOS_SHARD_H
#define LLMOS_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/common.h"

#define SHARD_MAGIC "LLMOSTOK"
#define SHARD_VERSION 1
#define SHARD_HEADER_BYTES 64

typedef struct {
    char *path;
    uint32_t width;     /* 2 or 4 */
    uint64_t n_tokens;
    uint32_t vocab_size;
    int32_t eos;
    uint64_t n_bytes, n_docs;
    const uint8_t *tokens; /* in the mapping */
    void *map;
    size_t map_size;
} shard;

/* Maps and validates a shard (magic, version, width, size). With
 * vocab_size > 0, every id is checked to be below it. NULL with err_set. */
shard *shard_open(const char *path, uint32_t vocab_size);
void shard_close(shard *s);
static inline uint32_t shard_token(const shard *s, uint64_t i) {
    if (s->width == 2) return (uint32_t)s->tokens[2 * i] | (uint32_t)s->tokens[2 * i + 1] << 8;
    const uint8_t *p = s->tokens + 4 * i;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Streams tokens into a new shard, written atomically at shard_writer_close. */
typedef struct {
    atomic_file af;
    uint32_t width, vocab_size;
    int32_t eos;
    uint64_t n_tokens, n_bytes, n_docs;
} shard_writer;
int shard_writer_open(shard_writer *w, const char *path, uint32_t vocab_size, int32_t eos);
int shard_writer_add(shard_writer *w, const int *ids, size_t n);
/* Ends a document: appends eos and counts the text bytes it encoded. */
int shard_writer_end_doc(shard_writer *w, uint64_t text_bytes);
int shard_writer_close(shard_writer *w); /* 0 or -1; removes the temporary on failure */
void shard_writer_abort(shard_writer *w);

typedef struct {
    shard **train;
    int n_train;
    uint64_t train_tokens;
    shard *val;             /* NULL when the folder has none */
} dataset;

/* Opens DIR/train-*.bin (at least one) and DIR/val.bin (optional), all
 * checked against vocab_size. NULL with err_set. */
dataset *dataset_open(const char *dir, uint32_t vocab_size);
void dataset_close(dataset *d);

/* Fills tokens (B, T) and targets (B, T) (the tokens shifted by one) for
 * training step `step`, micro-batch `micro`. Shards shorter than T + 1 are
 * never drawn; -1 with err_set when no shard is long enough. */
int dataset_train_batch(const dataset *d, uint64_t seed, int64_t step, int micro, int B, int T,
                        int *tokens, int *targets);
/* Rows [row0, row0 + rows) of that batch (a rank's share of it), into
 * tokens (rows, T) and targets: row b depends on (seed, step, micro, b)
 * only, so any split of the rows gives the same batch. */
int dataset_train_rows(const dataset *d, uint64_t seed, int64_t step, int micro, int row0, int rows, int T,
                       int *tokens, int *targets);
/* Validation batch i: windows (i*B + b) laid end to end over val.bin
 * (wrapping). -1 with err_set when there is no val shard longer than T. */
int dataset_val_batch(const dataset *d, int i, int B, int T, int *tokens, int *targets);
/* Rows [row0, row0 + rows) of validation batch i of B rows. */
int dataset_val_rows(const dataset *d, int i, int B, int row0, int rows, int T, int *tokens, int *targets);
/* Number of distinct validation windows of length T + 1. */
int64_t dataset_val_windows(const dataset *d, int T);

#endif
