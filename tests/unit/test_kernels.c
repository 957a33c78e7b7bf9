/*
 * test_kernels.c - every matmul path this CPU can run, for every weight
 * type, against a naive float64 reference written here from the type
 * definitions alone (types.h), on random inputs of awkward sizes: rows
 * that do not fill a register tile or split evenly between threads, rows
 * with tails shorter than a vector, odd counts of q8_0/q4_0 blocks, token
 * counts that cross the prompt-processing token blocks.
 *
 * Quantized matrices are checked as they are and packed (matrix_pack).
 * The reference reads every weight row with its own decoder (decode_row),
 * written here from the formats' definitions, not with llmos's
 * row_to_float: a dequantizer that scaled wrong would fail both.
 * A new weight type is a row of types[] plus a case in decode_row.
 *
 * The reference quantizes the activations with the ggml reference quantizer
 * (row_from_float to q8_0) for quantized weights, and rounds them to bf16
 * for bf16 weights on the avx512bf16 path: the same inputs the kernels
 * see, so any difference is the kernels' float summation order, bounded
 * here by 1e-5 of the sum of |terms|. A single activation quantized one
 * step off shows up as about 1/cols of that sum, far above the bound.
 *
 * A path this CPU cannot run is named and skipped (exit 77, which
 * tests/run.sh counts as a skip), but only when /proc/cpuinfo, read here
 * independently of the kernels' own detection, lacks one of the features
 * the path needs: a path refused on a CPU that has them is a failure.
 */
#include "core/common.h"
#include "core/kernels.h"
#include "core/types.h"
#include "cpu_has.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned g_seed = 12345;
static float frand(void) { /* uniform in [-1, 1) */
    g_seed = g_seed * 1103515245u + 12345u;
    return ((g_seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static int g_fail = 0, g_checks = 0;

/* IEEE half: sign, 5 exponent bits (bias 15), 10 fraction bits. */
static double half(const unsigned char *p) {
    unsigned h = p[0] | p[1] << 8, e = h >> 10 & 31, f = h & 1023;
    double v = e == 0 ? ldexp(f, -24) : e == 31 ? (f ? NAN : INFINITY) : ldexp(1024 + f, (int)e - 25);
    return h >> 15 ? -v : v;
}

/* One row of K weights of type t at p, decoded from the GGUF format's
 * definition: f32 and f16 little-endian; bf16 the top half of an f32;
 * q8_0 blocks of 32: an f16 scale d, then 32 int8 q, x = d q; q4_0 blocks
 * of 32: an f16 scale d, then 16 bytes whose low nibbles are elements
 * 0-15 and high nibbles 16-31, x = d (nibble - 8). Returns -1 for a type
 * this test has no decoder for. */
static int decode_row(tensor_type t, const unsigned char *p, double *x, int64_t K) {
    switch (t) {
    case TYPE_F32:
        for (int64_t k = 0; k < K; k++) {
            float f;
            memcpy(&f, p + 4 * k, 4);
            x[k] = f;
        }
        return 0;
    case TYPE_F16:
        for (int64_t k = 0; k < K; k++) x[k] = half(p + 2 * k);
        return 0;
    case TYPE_BF16:
        for (int64_t k = 0; k < K; k++) {
            uint32_t u = (uint32_t)(p[2 * k] | p[2 * k + 1] << 8) << 16;
            float f;
            memcpy(&f, &u, 4);
            x[k] = f;
        }
        return 0;
    case TYPE_Q8_0:
        for (int64_t b = 0; b < K / 32; b++, p += 34)
            for (int i = 0; i < 32; i++) x[b * 32 + i] = half(p) * (signed char)p[2 + i];
        return 0;
    case TYPE_Q4_0:
        for (int64_t b = 0; b < K / 32; b++, p += 18)
            for (int i = 0; i < 16; i++) {
                x[b * 32 + i] = half(p) * ((p[2 + i] & 15) - 8);
                x[b * 32 + 16 + i] = half(p) * ((p[2 + i] >> 4) - 8);
            }
        return 0;
    default:
        return -1;
    }
}

/* Reference out[t][r] and its error bound. */
static void reference(const matrix *w, const float *x, int n, int bf16_act, double *ref,
                      double *bound) {
    const int64_t K = w->cols;
    const size_t rb = type_row_bytes(w->type, K);
    double *wf = malloc(K * sizeof(double)), *xf = malloc(K * sizeof(double));
    int quant = w->type == TYPE_Q8_0 || w->type == TYPE_Q4_0;
    block_q8_0 *xq = quant ? malloc(K / QK * sizeof(block_q8_0)) : NULL;
    for (int t = 0; t < n; t++) {
        const float *xt = x + (int64_t)t * K;
        if (quant) {
            row_from_float(TYPE_Q8_0, xt, xq, K);
            decode_row(TYPE_Q8_0, (const unsigned char *)xq, xf, K);
        } else {
            for (int64_t k = 0; k < K; k++) xf[k] = bf16_act ? bf16_to_fp32(fp32_to_bf16(xt[k])) : xt[k];
        }
        for (int64_t r = 0; r < w->rows; r++) {
            if (decode_row(w->type, (const unsigned char *)w->data + r * rb, wf, K) < 0) {
                fprintf(stderr, "FAIL: no decoder for type %s in this test\n", type_name(w->type));
                exit(1);
            }
            double s = 0, a = 0;
            for (int64_t k = 0; k < K; k++) {
                s += wf[k] * xf[k];
                a += fabs(wf[k] * xf[k]);
            }
            ref[t * w->rows + r] = s;
            bound[t * w->rows + r] = 1e-5 * a + 1e-30;
        }
    }
    free(wf);
    free(xf);
    free(xq);
}

/* llmos's dequantizer (row_to_float, which the model uses for embeddings
 * and the kernels' tails) against decode_row, exactly, on rows of every
 * type with scales far apart. */
static void check_dequant(tensor_type type, int64_t cols) {
    const size_t rb = type_row_bytes(type, cols);
    float *src = malloc(cols * sizeof(float)), *ours = malloc(cols * sizeof(float));
    double *want = malloc(cols * sizeof(double));
    unsigned char *row = malloc(rb);
    for (int rep = 0; rep < 4; rep++) {
        float scale = rep == 0 ? 1.0f : rep == 1 ? 3e3f : rep == 2 ? 1e-4f : 0.37f;
        for (int64_t k = 0; k < cols; k++) src[k] = frand() * scale;
        row_from_float(type, src, row, cols);
        row_to_float(type, row, ours, cols);
        if (decode_row(type, row, want, cols) < 0) {
            fprintf(stderr, "FAIL: no decoder for type %s in this test\n", type_name(type));
            g_fail++;
            break;
        }
        for (int64_t k = 0; k < cols; k++)
            if ((double)ours[k] != want[k]) {
                fprintf(stderr, "FAIL dequantize %s cols %lld: element %lld is %.9g, the format says %.9g\n",
                        type_name(type), (long long)cols, (long long)k, ours[k], want[k]);
                g_fail++;
                break;
            }
        g_checks++;
    }
    free(src), free(ours), free(want), free(row);
}

static void check(const char *path, tensor_type type, int64_t rows, int64_t cols, int n, int ties,
                  int pack) {
    const size_t rb = type_row_bytes(type, cols);
    float *wf = malloc(cols * sizeof(float));
    void *wd = malloc(rows * rb); /* exact size: reads past the end show under ASan */
    for (int64_t r = 0; r < rows; r++) {
        float scale = r % 7 == 3 ? 100.0f : r % 7 == 5 ? 1e-3f : 1.0f;
        for (int64_t k = 0; k < cols; k++) wf[k] = frand() * scale;
        row_from_float(type, wf, (char *)wd + r * rb, cols);
    }
    float *x = malloc((size_t)n * cols * sizeof(float));
    for (int64_t i = 0; i < n * cols; i++) x[i] = frand() * (i % 13 == 0 ? 4.0f : 1.0f);
    if (ties) /* amax 127 makes d = 1: every x.5 is a rounding tie */
        for (int64_t i = 0; i < n * cols; i++)
            x[i] = i % QK == 0 ? 127.0f : (float)((int)(frand() * 120) + ((i % 3) ? 0.5 : 0.0));
    matrix w = {.type = type, .data = wd, .rows = rows, .cols = cols};
    float *out = malloc((size_t)n * rows * sizeof(float));
    double *ref = malloc((size_t)n * rows * sizeof(double)), *bound = malloc((size_t)n * rows * sizeof(double));
    for (int64_t i = 0; i < n * rows; i++) out[i] = NAN;
    reference(&w, x, n, type == TYPE_BF16 && !strcmp(path, "avx512bf16"), ref, bound);
    if (pack) {
        matrix_pack(&w);
        /* the VNNI paths have packed kernels for every quantized type */
        if (!w.packed && ((!strncmp(path, "avx512", 6) && strcmp(path, "avx512") && rows >= 16) ||
                          type == TYPE_F32 || type == TYPE_F16 || type == TYPE_BF16)) {
            fprintf(stderr, "FAIL path %s: matrix_pack made no copy of a %s matrix\n", path, type_name(type));
            g_fail++;
        }
        /* matmul must read the copy: spoil the rows it holds (the quantized
         * kernels read rows past the last group of 16 from the original) */
        if (w.packed) {
            int64_t spoilt = (type == TYPE_Q8_0 || type == TYPE_Q4_0) ? rows / 16 * 16 : rows;
            memset(wd, 0x7f, spoilt * rb);
        }
    }
    matmul(out, x, &w, n);
    matrix_pack_free(&w);
    int bad = 0;
    for (int64_t i = 0; i < n * rows; i++) {
        double e = fabs(out[i] - ref[i]);
        if (!(e <= bound[i])) {
            if (bad < 3)
                fprintf(stderr,
                        "FAIL path %s type %s rows %lld cols %lld n %d ties %d: out[t=%lld][r=%lld] = "
                        "%.9g, reference %.9g (error %.3g > %.3g)\n",
                        path, type_name(type), (long long)rows, (long long)cols, n, ties,
                        (long long)(i / rows), (long long)(i % rows), out[i], ref[i], e, bound[i]);
            bad++;
        }
    }
    g_fail += bad > 0;
    g_checks++;
    free(wf);
    free(wd);
    free(x);
    free(out);
    free(ref);
    free(bound);
}

/* the /proc/cpuinfo flags each kernel path needs */
static const char *path_needs(const char *path) {
    static const struct { const char *path, *flags; } needs[] = {
        {"portable", ""},
        {"avx2", "avx2 fma f16c"},
        {"avx512", "avx2 fma f16c avx512f avx512bw avx512vl avx512dq"},
        {"avx512vnni", "avx2 fma f16c avx512f avx512bw avx512vl avx512dq avx512_vnni"},
        {"avx512bf16", "avx2 fma f16c avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16"},
    };
    for (size_t i = 0; i < ARRAY_LEN(needs); i++)
        if (!strcmp(needs[i].path, path)) return needs[i].flags;
    return NULL;
}

int main(void) {
    omp_set_num_threads(2); /* the row split between threads is part of what is tested */
    if (kernels_select("no-such-path") == 0) {
        fprintf(stderr, "FAIL kernels_select accepted an unknown name\n");
        return 1;
    }
    static const int64_t float_cols[] = {1, 5, 16, 31, 33, 96, 160, 300};
    static const int64_t quant_cols[] = {32, 64, 96, 160, 256, 288, 800};
    static const struct { int64_t rows; int n; } shapes[] = {
        {1, 1}, {5, 1}, {17, 1}, {67, 1}, {4, 2}, {17, 3}, {33, 7}, {64, 13}, {6, 50},
    };
    /* packed matrices: whole groups of 16 rows plus unpacked tails */
    static const struct { int64_t rows; int n; } packed_shapes[] = {
        {16, 1}, {17, 1}, {67, 1}, {33, 7}, {64, 13}, {32, 50}, {48, 4},
    };
    static const tensor_type types[] = {TYPE_F32, TYPE_F16, TYPE_BF16, TYPE_Q8_0, TYPE_Q4_0};
    for (size_t ti = 0; ti < ARRAY_LEN(types); ti++) {
        int quant = types[ti] == TYPE_Q8_0 || types[ti] == TYPE_Q4_0;
        for (int64_t cols = quant ? 32 : 1; cols <= 320; cols += quant ? 96 : 53) check_dequant(types[ti], cols);
    }
    printf("dequantizers %s\n", g_fail ? "FAILED" : "ok");
    int paths = 0;
    char skipped[256] = "";
    for (int p = 0; kernels_path_names[p]; p++) {
        const char *path = kernels_path_names[p];
        const char *needs = path_needs(path);
        if (!needs) {
            fprintf(stderr, "FAIL path %s: this test does not know which CPU features it needs\n", path);
            g_fail++;
            continue;
        }
        if (kernels_select(path) != 0) {
            if (cpu_has(needs)) {
                fprintf(stderr, "FAIL path %s refused (%s) on a CPU with %s\n", path, err_msg(), needs);
                g_fail++;
            } else {
                printf("skip %s: %s\n", path, err_msg());
                snprintf(skipped + strlen(skipped), sizeof(skipped) - strlen(skipped), " %s", path);
            }
            continue;
        }
        paths++;
        int before = g_fail;
        for (size_t ti = 0; ti < ARRAY_LEN(types); ti++) {
            tensor_type type = types[ti];
            int quant = type == TYPE_Q8_0 || type == TYPE_Q4_0;
            const int64_t *cols = quant ? quant_cols : float_cols;
            size_t ncols = quant ? ARRAY_LEN(quant_cols) : ARRAY_LEN(float_cols);
            for (size_t c = 0; c < ncols; c++)
                for (size_t s = 0; s < ARRAY_LEN(shapes); s++)
                    check(path, type, shapes[s].rows, cols[c], shapes[s].n, 0, 0);
            if (!quant) /* a packed float matrix is a copy in other memory */
                for (size_t c = 0; c < ncols; c++) check(path, type, 33, cols[c], 7, 0, 1);
            if (quant) {
                for (size_t c = 0; c < ncols; c++) check(path, type, 9, cols[c], 3, 1, 0);
                for (size_t c = 0; c < ncols; c++) {
                    for (size_t s = 0; s < ARRAY_LEN(packed_shapes); s++)
                        check(path, type, packed_shapes[s].rows, cols[c], packed_shapes[s].n, 0, 1);
                    check(path, type, 35, cols[c], 5, 1, 1);
                }
            }
        }
        printf("%-11s %s\n", path, g_fail == before ? "ok" : "FAILED");
    }
    kernels_select(NULL);
    printf("%d paths, %d checks, %d failed; default path %s\n", paths, g_checks, g_fail, kernels_path());
    if (g_fail) return 1;
    if (*skipped) {
        printf("skip: paths this CPU cannot run:%s\n", skipped);
        return SKIP_EXIT;
    }
    return 0;
}
