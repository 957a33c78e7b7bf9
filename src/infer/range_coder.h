/*
 * range_coder.h - a range coder: arithmetic coding that emits whole bytes.
 * A symbol with frequency freq, whose cumulative frequency (the sum over
 * the symbols before it) is cum, out of a table totalling total, narrows
 * the coder's interval to that share of it and costs -log2(freq / total)
 * bits plus a rounding loss below 2^-16 of that.
 *
 * The interval is kept in 56-bit fixed point: range stays in [2^48, 2^56),
 * so a table may total up to 2^32 (fine enough for every token of a large
 * vocabulary to keep a frequency of 1 beside a 2^30 scale) and each step's
 * division range / total truncates by under 2^-16. A carry out of the
 * interval's low end ripples into bytes already decided; those wait in a
 * one-byte cache and a count of 0xFF bytes until no carry can reach them.
 * The end of the stream is the shortest byte string inside the final
 * interval with its trailing zero bytes dropped: the decoder reads zeros
 * past the end, so a stream costs at most 2 bytes beyond its information.
 *
 * Ownership: the encoder owns its output buffer (rc_encoder_release frees
 * it; rc_encoder_finish's result points into it). The decoder reads the
 * caller's buffer, which must outlive it.
 */
#ifndef LLMOS_RANGE_CODER_H
#define LLMOS_RANGE_CODER_H

#include <stddef.h>
#include <stdint.h>

#define RC_TOTAL_MAX ((uint64_t)1 << 32) /* the largest frequency total */

typedef struct {
    uint64_t low;     /* the interval's low end: 56 bits and a carry bit */
    uint64_t range;   /* its width */
    uint64_t pending; /* 0xFF bytes waiting behind cache for a carry */
    uint8_t cache;    /* the last byte out, until no carry can reach it */
    int have_cache;
    uint8_t *buf;
    size_t len, cap;
} rc_encoder;

void rc_encoder_init(rc_encoder *e);
/* Codes the symbol [cum, cum + freq) of a table of total (1 <= freq,
 * cum + freq <= total <= RC_TOTAL_MAX). */
void rc_encode(rc_encoder *e, uint64_t cum, uint64_t freq, uint64_t total);
/* Ends the stream; returns its bytes (in e->buf) and their count in *len. */
const uint8_t *rc_encoder_finish(rc_encoder *e, size_t *len);
void rc_encoder_release(rc_encoder *e);

typedef struct {
    uint64_t code;  /* the stream's value minus the interval's low end */
    uint64_t range;
    uint64_t step;  /* range / total of the symbol being decoded */
    const uint8_t *p, *end;
} rc_decoder;

void rc_decoder_init(rc_decoder *d, const uint8_t *buf, size_t len);
/* The first half of decoding a symbol: the value v in [0, total) that
 * names it (the symbol whose [cum, cum + freq) holds v), or UINT64_MAX
 * when the stream cannot have come from this table (corrupt input). */
uint64_t rc_decode_target(rc_decoder *d, uint64_t total);
/* The second half: consumes the symbol found for the value. */
void rc_decode_consume(rc_decoder *d, uint64_t cum, uint64_t freq);

#endif
