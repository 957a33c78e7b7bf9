/*
 * range_coder.c - the range coder of range_coder.h. The encoder and the
 * decoder do the same integer steps on (low, range) and (code, range):
 *
 *   step = range / total;  low += step * cum;  range = step * freq;
 *   while range < 2^48: shift a byte out of low (in) and range <<= 8.
 *
 * low + range never exceeds 2^57, so everything fits in 64 bits.
 */
#include "range_coder.h"

#include "../core/common.h"

#include <stdlib.h>
#include <string.h>

#define RC_BITS 56
#define RC_MASK (((uint64_t)1 << RC_BITS) - 1)
#define RC_BOT ((uint64_t)1 << (RC_BITS - 8))

static void put_byte(rc_encoder *e, uint8_t b) {
    if (e->len == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 256;
        e->buf = xrealloc(e->buf, e->cap);
    }
    e->buf[e->len++] = b;
}

/* Moves the top byte of low out. A top byte of 0xFF may still take a carry
 * (and pass it on), so it only counts as pending until a later byte below
 * 0xFF, or a carry, settles it and everything behind it. */
static void shift_low(rc_encoder *e) {
    if (e->low < ((uint64_t)0xFF << (RC_BITS - 8)) || e->low > RC_MASK) {
        const uint8_t carry = (uint8_t)(e->low >> RC_BITS);
        if (e->have_cache) put_byte(e, (uint8_t)(e->cache + carry));
        for (; e->pending; e->pending--) put_byte(e, (uint8_t)(0xFF + carry));
        e->cache = (uint8_t)(e->low >> (RC_BITS - 8));
        e->have_cache = 1;
    } else {
        e->pending++;
    }
    e->low = (e->low << 8) & RC_MASK;
}

void rc_encoder_init(rc_encoder *e) {
    memset(e, 0, sizeof(*e));
    e->range = RC_MASK;
}

void rc_encode(rc_encoder *e, uint64_t cum, uint64_t freq, uint64_t total) {
    const uint64_t step = e->range / total;
    e->low += step * cum;
    e->range = step * freq;
    while (e->range < RC_BOT) {
        e->range <<= 8;
        shift_low(e);
    }
}

const uint8_t *rc_encoder_finish(rc_encoder *e, size_t *len) {
    /* the value with the fewest leading bytes in [low, low + range): low
     * rounded up to a multiple of 2^(56 - 8k); k = 2 always fits, since
     * range >= 2^48 > 2^40 */
    int k = 1;
    uint64_t v = 0;
    for (; k <= RC_BITS / 8; k++) {
        const uint64_t unit = (uint64_t)1 << (RC_BITS - 8 * k);
        v = (e->low + unit - 1) & ~(unit - 1);
        if (v - e->low < e->range) break;
    }
    e->low = v;
    for (int i = 0; i < k; i++) shift_low(e);
    if (e->have_cache) put_byte(e, e->cache);
    for (; e->pending; e->pending--) put_byte(e, 0xFF);
    e->have_cache = 0;
    while (e->len && e->buf[e->len - 1] == 0) e->len--;
    *len = e->len;
    return e->buf;
}

void rc_encoder_release(rc_encoder *e) {
    free(e->buf);
    memset(e, 0, sizeof(*e));
}

static inline uint8_t next_byte(rc_decoder *d) { return d->p < d->end ? *d->p++ : 0; }

void rc_decoder_init(rc_decoder *d, const uint8_t *buf, size_t len) {
    d->p = buf;
    d->end = buf + len;
    d->code = 0;
    for (int i = 0; i < RC_BITS / 8; i++) d->code = d->code << 8 | next_byte(d);
    d->range = RC_MASK;
    d->step = 0;
}

uint64_t rc_decode_target(rc_decoder *d, uint64_t total) {
    d->step = d->range / total;
    const uint64_t v = d->code / d->step;
    return v < total ? v : UINT64_MAX;
}

void rc_decode_consume(rc_decoder *d, uint64_t cum, uint64_t freq) {
    d->code -= d->step * cum;
    d->range = d->step * freq;
    while (d->range < RC_BOT) {
        d->range <<= 8;
        d->code = (d->code << 8 | next_byte(d)) & RC_MASK;
    }
}
