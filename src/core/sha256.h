/*
 * sha256.h - SHA-256 (FIPS 180-4), for naming a file by its contents: a
 * compressed file records the hash of the model that coded it, so that
 * decoding with any other model is refused instead of producing garbage.
 * Streaming (init, update any number of times, final) and one-shot forms;
 * no allocation.
 */
#ifndef LLMOS_SHA256_H
#define LLMOS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t block[64]; /* the partial block */
    size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, uint8_t out[32]);
void sha256(const void *data, size_t n, uint8_t out[32]);
/* 64 lowercase hex digits and a NUL into hex (65 bytes). */
void sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
