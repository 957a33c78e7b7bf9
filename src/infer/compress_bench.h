/*
 * compress_bench.h - `llmos compress --bench`: the model as a compressor
 * beside its own ideal and beside the usual compressors on the same bytes.
 *
 * The model compresses and decompresses the input in memory (checked to
 * round-trip), timed both ways; its ideal is the sum of -log2 p over the
 * coded tokens (compress_stats). The peers run as the programs they are,
 * on a copy of the input in a temporary folder: `xz -9`, `zstd -19` and
 * `zpaq a -m5` (the context-mixing archiver; its size is the archive's),
 * each timed compressing and decompressing (xz -d, zstd -d, zpaq x), in
 * wall-clock and CPU seconds (the second says more on a loaded machine); a
 * peer that is not installed is reported as missing, not as a failure.
 */
#ifndef LLMOS_COMPRESS_BENCH_H
#define LLMOS_COMPRESS_BENCH_H

#include "compress.h"

#define COMPRESS_BENCH_PEERS 3

typedef struct {
    const char *name;    /* "xz -9", "zstd -19", "zpaq -m5" */
    int ok;              /* 0: not installed or it failed (see why) */
    char why[96];
    size_t bytes;        /* compressed size */
    double enc_s, dec_s;     /* wall seconds */
    double enc_cpu, dec_cpu; /* CPU seconds (user + system, all threads) */
} compress_peer;

typedef struct {
    size_t in_bytes, out_bytes;
    double enc_s, dec_s, enc_cpu, dec_cpu; /* as the peers' */
    compress_stats st;
    compress_peer peers[COMPRESS_BENCH_PEERS];
} compress_bench_result;

/* Runs the comparison on len bytes. 0, or -1 with err_set when the model
 * fails (a peer's failure is only recorded in its row). */
int compress_bench(const model *m, const uint8_t *in, size_t len, const compress_opts *o,
                   compress_bench_result *r);

#endif
