/*
 * test_attention.c - core/attention.c's tiled causal attention (forward
 * and backward) and core/vecmath.c's row math, on every path the CPU has
 * (AVX-512 and portable), against naive double-precision loops written
 * from the definitions, on awkward sizes (T not a multiple of 8, head dims
 * below, between and above the 16/32-column tiles) and strided heads.
 * Without AVX-512 (by /proc/cpuinfo) the AVX-512 path is skipped by name
 * (exit 77); refused on a CPU that has it, it fails.
 */
#include "core/attention.h"
#include "core/vecmath.h"
#include "cpu_has.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double frand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 32768.0 - 1.0;
}

static double maxdiff(const float *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* Reference: P = softmax(q k^T / sqrt(D)) causal, y = P v; and given dy
 * the gradients of sum(y * dy): dq, dk, dv. Heads are (T, D) with stride ld. */
static void reference(int T, int D, int ld, const float *q, const float *k, const float *v,
                      const float *dy, double *P, double *y, double *dq, double *dk, double *dv) {
    const double sc = 1.0 / sqrt((double)D);
    double *dS = calloc((size_t)T * T, sizeof(double));
    memset(y, 0, sizeof(double) * T * D);
    memset(dq, 0, sizeof(double) * T * D);
    memset(dk, 0, sizeof(double) * T * D);
    memset(dv, 0, sizeof(double) * T * D);
    for (int t = 0; t < T; t++) {
        double mx = -INFINITY, sum = 0;
        for (int s = 0; s < T; s++) {
            double d = 0;
            for (int i = 0; i < D; i++) d += (double)q[t * ld + i] * k[s * ld + i];
            P[t * T + s] = s <= t ? d * sc : -INFINITY;
            if (s <= t && P[t * T + s] > mx) mx = P[t * T + s];
        }
        for (int s = 0; s < T; s++) sum += (P[t * T + s] = s <= t ? exp(P[t * T + s] - mx) : 0);
        for (int s = 0; s < T; s++) P[t * T + s] /= sum;
        for (int s = 0; s <= t; s++)
            for (int i = 0; i < D; i++) y[t * D + i] += P[t * T + s] * v[s * ld + i];
        /* backward of this row */
        double dot = 0;
        for (int s = 0; s <= t; s++) {
            double dp = 0;
            for (int i = 0; i < D; i++) dp += (double)dy[t * ld + i] * v[s * ld + i];
            dS[t * T + s] = dp;
            dot += P[t * T + s] * dp;
            for (int i = 0; i < D; i++) dv[s * D + i] += P[t * T + s] * dy[t * ld + i];
        }
        for (int s = 0; s <= t; s++) {
            const double ds = P[t * T + s] * (dS[t * T + s] - dot) * sc;
            for (int i = 0; i < D; i++) {
                dq[t * D + i] += ds * k[s * ld + i];
                dk[s * D + i] += ds * q[t * ld + i];
            }
        }
    }
    free(dS);
}

static int check(int T, int D, int ld, unsigned *seed) {
    const size_t n = (size_t)T * ld;
    float *q = malloc(n * 4), *k = malloc(n * 4), *v = malloc(n * 4), *dy = malloc(n * 4);
    float *y = malloc(n * 4), *dq = malloc(n * 4), *dk = malloc(n * 4), *dv = malloc(n * 4);
    float *att = malloc((size_t)T * T * 4), *scr = malloc(attn_scratch_floats(T, D) * 4);
    double *P = malloc(sizeof(double) * T * T), *ry = malloc(sizeof(double) * T * D);
    double *rdq = malloc(sizeof(double) * T * D), *rdk = malloc(sizeof(double) * T * D);
    double *rdv = malloc(sizeof(double) * T * D);
    for (size_t i = 0; i < n; i++) {
        q[i] = (float)(2 * frand(seed)), k[i] = (float)(2 * frand(seed));
        v[i] = (float)frand(seed), dy[i] = (float)frand(seed);
        dk[i] = dv[i] = 1.0f; /* accumulate = 1 below adds to these */
    }
    reference(T, D, ld, q, k, v, dy, P, ry, rdq, rdk, rdv);
    attn_head_fwd(y, ld, att, q, ld, k, v, ld, T, D, scr);
    attn_head_bwd(dq, ld, dk, dv, ld, dy, ld, q, k, v, att, T, D, 1, scr);
    int bad = 0;
    double e_att = maxdiff(att, P, (size_t)T * T), e_y = 0, e_q = 0, e_k = 0, e_v = 0;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < D; i++) {
            e_y = fmax(e_y, fabs(y[t * ld + i] - ry[t * D + i]));
            e_q = fmax(e_q, fabs(dq[t * ld + i] - rdq[t * D + i]));
            e_k = fmax(e_k, fabs(dk[t * ld + i] - 1.0 - rdk[t * D + i]));
            e_v = fmax(e_v, fabs(dv[t * ld + i] - 1.0 - rdv[t * D + i]));
        }
    const double tol = 2e-5 * sqrt((double)T * D);
    if (!(e_att < 1e-5 && e_y < tol && e_q < tol && e_k < tol && e_v < tol)) {
        fprintf(stderr, "attention %s T=%d D=%d ld=%d: errors att %g y %g dq %g dk %g dv %g (tol %g)\n",
                vec_path(), T, D, ld, e_att, e_y, e_q, e_k, e_v, tol);
        bad = 1;
    }
    /* overwrite mode gives the plain gradients */
    attn_head_bwd(dq, ld, dk, dv, ld, dy, ld, q, k, v, att, T, D, 0, scr);
    for (int t = 0; t < T && !bad; t++)
        for (int i = 0; i < D; i++)
            if (fabs(dk[t * ld + i] - rdk[t * D + i]) > tol || fabs(dv[t * ld + i] - rdv[t * D + i]) > tol) {
                fprintf(stderr, "attention %s T=%d D=%d: overwrite mode wrong at (%d, %d)\n", vec_path(), T, D, t, i);
                bad = 1;
                break;
            }
    free(q), free(k), free(v), free(dy), free(y), free(dq), free(dk), free(dv), free(att), free(scr);
    free(P), free(ry), free(rdq), free(rdk), free(rdv);
    return bad;
}

static int check_vecmath(unsigned *seed) {
    int bad = 0;
    float x[203], g[203], u[203], d[203], o[203], dg[203], du[203];
    for (int n = 1; n <= 203; n += 17) {
        for (int i = 0; i < n; i++) x[i] = (float)(60 * frand(seed)), g[i] = (float)(12 * frand(seed)),
                                    u[i] = (float)frand(seed), d[i] = (float)frand(seed);
        double mx = -INFINITY, sum = 0;
        for (int i = 0; i < n; i++) mx = fmax(mx, x[i]);
        if (vec_max(x, n) != (float)mx) bad |= fprintf(stderr, "vec_max %s n=%d\n", vec_path(), n) > 0;
        float e[203];
        memcpy(e, x, sizeof(float) * n);
        const float s = vec_exp_sum(e, n, 0.5f, (float)mx * 0.5f);
        for (int i = 0; i < n; i++) {
            const double ref = exp(x[i] * 0.5 - mx * 0.5);
            sum += ref;
            if (fabs(e[i] - ref) > 3e-7 * ref + 1e-37) bad |= fprintf(stderr, "vec_exp_sum %s: exp(%g) = %g, not %g\n", vec_path(), x[i] * 0.5 - mx * 0.5, e[i], ref) > 0;
        }
        if (fabs(s - sum) > 1e-6 * sum) bad |= fprintf(stderr, "vec_exp_sum %s: sum %g, not %g\n", vec_path(), s, sum) > 0;
        vec_swiglu_fwd(o, g, u, (size_t)n);
        vec_swiglu_bwd(dg, du, d, g, u, (size_t)n);
        for (int i = 0; i < n; i++) {
            const double sg = 1 / (1 + exp(-(double)g[i]));
            const double ro = g[i] * sg * u[i], rdu = d[i] * g[i] * sg, rdg = d[i] * u[i] * sg * (1 + g[i] * (1 - sg));
            if (fabs(o[i] - ro) > 1e-6 * (fabs(ro) + 1e-3) || fabs(du[i] - rdu) > 1e-6 * (fabs(rdu) + 1e-3) ||
                fabs(dg[i] - rdg) > 1e-6 * (fabs(rdg) + 1e-3))
                bad |= fprintf(stderr, "swiglu %s at g=%g u=%g\n", vec_path(), g[i], u[i]) > 0;
        }
    }
    /* exp keeps NaN and saturates at both ends */
    float z[4] = {NAN, -1000.0f, 1000.0f, 0.0f};
    vec_exp_sum(z, 4, 1.0f, 0.0f);
    if (!isnan(z[0]) || z[1] != 0.0f || !isinf(z[2]) || z[3] != 1.0f)
        bad |= fprintf(stderr, "vec_exp_sum %s: exp(nan, -1000, 1000, 0) = %g %g %g %g\n", vec_path(), z[0], z[1], z[2], z[3]) > 0;
    return bad;
}

/* A half's value from its bits by the IEEE formula (an independent
 * decoder: ldexp, not types.c's bit moves). */
static double half_value(unsigned h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    const double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return h & 0x8000 ? -v : v;
}

/* The half nearest to f, ties to the even bit pattern, by search over the
 * ordered positive halves; at 65520 and beyond (halfway past the largest
 * half) infinity. */
static unsigned half_nearest(float f) {
    const unsigned sign = signbit(f) ? 0x8000 : 0;
    const double a = fabs((double)f);
    if (a >= 65520.0) return sign | 0x7c00;
    unsigned lo = 0, hi = 0x7bff;
    while (hi - lo > 1) {
        const unsigned mid = (lo + hi) / 2;
        if (half_value(mid) <= a) lo = mid;
        else hi = mid;
    }
    const double dl = a - half_value(lo), dh = half_value(hi) - a;
    return sign | (dl < dh || (dl == dh && !(lo & 1)) ? lo : hi);
}

/* vec_f16_to_f32 on every half; vec_f32_to_f16 on floats over the whole
 * half range, its subnormals, ties and overflow edge. */
static int check_f16(unsigned *seed) {
    int bad = 0;
    static uint16_t h[65536], back[4096];
    static float f[65536], r[4096];
    for (unsigned i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    vec_f16_to_f32(f, h, 65536);
    for (unsigned i = 0; i < 65536 && bad < 5; i++) {
        const double ref = half_value(i);
        if (isnan(ref) ? !isnan(f[i]) : (double)f[i] != ref || !!signbit(f[i]) != !!(i & 0x8000))
            bad += fprintf(stderr, "vec_f16_to_f32 %s: 0x%04x gave %g, not %g\n", vec_path(), i, f[i], ref) > 0;
    }
    for (int i = 0; i < 4096; i++) {
        const int kind = i % 4;
        if (kind == 0) r[i] = (float)ldexp(frand(seed), (int)(frand(seed) * 20) - 4); /* normal range */
        else if (kind == 1) r[i] = (float)ldexp(frand(seed), -14 - (int)(fabs(frand(seed)) * 12)); /* subnormal */
        else if (kind == 2) r[i] = (float)((half_value(i & 0x7bff) + half_value((i & 0x7bff) + 1)) / 2 * (i & 8 ? -1 : 1)); /* exact ties */
        else r[i] = (float)(65504 + 32 * frand(seed)); /* around the overflow edge */
    }
    vec_f32_to_f16(back, r, 4096);
    for (int i = 0; i < 4096 && bad < 5; i++)
        if (back[i] != half_nearest(r[i]))
            bad += fprintf(stderr, "vec_f32_to_f16 %s: %.9g gave 0x%04x, not 0x%04x\n", vec_path(), r[i], back[i], half_nearest(r[i])) > 0;
    return bad;
}

int main(void) {
    static const int shapes[][3] = {{1, 8, 8}, {7, 8, 24}, {37, 12, 12}, {64, 64, 64},
                                    {100, 16, 48}, {45, 40, 40}, {33, 64, 128}};
    int bad = 0;
    for (int path = 0; path < 2; path++) {
        vec_set_portable(path);
        unsigned seed = 7;
        bad |= check_vecmath(&seed);
        bad |= check_f16(&seed);
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
            bad |= check(shapes[i][0], shapes[i][1], shapes[i][2], &seed);
        if (!bad) printf("attention + vecmath %s: ok\n", vec_path());
    }
    vec_set_portable(0);
    if (bad) return 1;
    if (strcmp(vec_path(), "avx512")) {
        if (cpu_has("avx512f")) {
            fprintf(stderr, "FAIL the avx512 row math is refused on a CPU with avx512f\n");
            return 1;
        }
        printf("skip: the avx512 path (this CPU lacks avx512f)\n");
        return SKIP_EXIT;
    }
    return 0;
}
