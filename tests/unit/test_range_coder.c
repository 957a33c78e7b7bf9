/* test_range_coder.c - the range coder gives back every symbol sequence,
 * and costs what information theory says: on random tables (totals from 2
 * to 2^32, frequencies from 1 up, skewed so that one symbol takes almost
 * everything, which makes long 0xFF runs and carries), the coded size is
 * within 2 bytes + 2^-15 bits per symbol of sum -log2(freq / total), the
 * bound computed here in long double, not by the coder. Also: an empty
 * stream is 0 bytes; a stream of one sure symbol costs next to nothing; a
 * decoder fed bytes that no table can have produced says so. */
#include "core/common.h"
#include "infer/range_coder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_fail;

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* a table of n frequencies totalling at most max_total, of some shape */
static uint64_t make_table(uint64_t *freq, int n, uint64_t max_total, int shape, uint64_t *s) {
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        uint64_t f = 1;
        if (shape == 0) f = 1 + rng_next(s) % (max_total / n);           /* flat-ish */
        else if (shape == 1) f = i == 0 ? max_total - (uint64_t)n : 1;     /* one symbol takes all */
        else f = 1 + (rng_next(s) % 2 ? rng_next(s) % (max_total / n) : 0); /* many at the floor */
        freq[i] = f;
        total += f;
    }
    return total;
}

/* the symbol i with cum[i] <= v < cum[i + 1] */
static int find(const uint64_t *cum, int n, uint64_t v) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (cum[mid] <= v) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

static void run_case(int n_sym, int n, uint64_t max_total, int shape, uint64_t seed) {
    uint64_t s = seed, *freq = xmalloc(sizeof(uint64_t) * n), *cum = xmalloc(sizeof(uint64_t) * (n + 1));
    const uint64_t total = make_table(freq, n, max_total, shape, &s);
    cum[0] = 0;
    for (int i = 0; i < n; i++) cum[i + 1] = cum[i] + freq[i];
    int *sym = xmalloc(sizeof(int) * (n_sym ? n_sym : 1));
    long double bits = 0;
    for (int k = 0; k < n_sym; k++) {
        /* draw from the table itself half of the time, uniformly the rest */
        if (rng_next(&s) % 2) {
            sym[k] = find(cum, n, rng_next(&s) % total);
        } else {
            sym[k] = (int)(rng_next(&s) % (uint64_t)n);
        }
        bits -= log2l((long double)freq[sym[k]] / (long double)total);
    }
    rc_encoder e;
    rc_encoder_init(&e);
    for (int k = 0; k < n_sym; k++) rc_encode(&e, cum[sym[k]], freq[sym[k]], total);
    size_t len;
    const uint8_t *code = rc_encoder_finish(&e, &len);
    const long double bound = bits / 8 + 2 + (long double)n_sym * 0x1p-15L / 8;
    if ((long double)len > bound) {
        fprintf(stderr, "FAIL: %d symbols of %d (total %llu, shape %d): %zu bytes, bound %.2Lf\n", n_sym, n,
                (unsigned long long)total, shape, len, bound);
        g_fail = 1;
    }
    rc_decoder d;
    rc_decoder_init(&d, code, len);
    for (int k = 0; k < n_sym; k++) {
        const uint64_t v = rc_decode_target(&d, total);
        const int i = v == UINT64_MAX ? -1 : find(cum, n, v);
        if (i != sym[k]) {
            fprintf(stderr, "FAIL: %d symbols of %d (total %llu, shape %d): symbol %d decodes wrong\n", n_sym, n,
                    (unsigned long long)total, shape, k);
            g_fail = 1;
            break;
        }
        rc_decode_consume(&d, cum[i], freq[i]);
    }
    rc_encoder_release(&e);
    free(freq);
    free(cum);
    free(sym);
}

int main(void) {
    static const uint64_t totals[] = {2, 3, 256, 65536, (uint64_t)1 << 24, (uint64_t)1 << 30, RC_TOTAL_MAX};
    int cases = 0;
    for (size_t t = 0; t < ARRAY_LEN(totals); t++)
        for (int shape = 0; shape < 3; shape++)
            for (int n_sym = 0; n_sym <= 20000; n_sym = n_sym ? n_sym * 7 : 1) {
                const int n = (int)MIN(totals[t], (uint64_t)(shape == 1 ? 50000 : 300));
                if (shape == 1 && totals[t] <= (uint64_t)n) continue;
                run_case(n_sym, n, totals[t], shape, 0x9E3779B97F4A7C15ull ^ (t * 131 + shape * 7 + n_sym));
                cases++;
            }
    /* empty, and a long run of a sure symbol */
    rc_encoder e;
    rc_encoder_init(&e);
    size_t len;
    rc_encoder_finish(&e, &len);
    if (len) fprintf(stderr, "FAIL: an empty stream is %zu bytes\n", len), g_fail = 1;
    rc_encoder_release(&e);
    rc_encoder_init(&e);
    for (int k = 0; k < 100000; k++) rc_encode(&e, 0, RC_TOTAL_MAX - 1, RC_TOTAL_MAX);
    rc_encoder_finish(&e, &len);
    if (len > 3) fprintf(stderr, "FAIL: 100000 sure symbols cost %zu bytes\n", len), g_fail = 1;
    rc_encoder_release(&e);
    /* all ones: past the last symbol of a table of 3 (3 * (range / 3) <= code) */
    const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    rc_decoder d;
    rc_decoder_init(&d, ff, sizeof(ff));
    if (rc_decode_target(&d, 3) != UINT64_MAX)
        fprintf(stderr, "FAIL: an impossible value was accepted\n"), g_fail = 1;
    printf("range coder: %d random cases\n", cases);
    return g_fail;
}
