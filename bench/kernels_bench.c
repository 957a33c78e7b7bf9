/*
 * kernels_bench.c - the machine's read bandwidth and the matmul kernels'
 * speed on the weight matrices of a llama model, without the rest of the
 * model. Built and run by bench/kernels.sh.
 *
 *   kernels_bench stream [MiB]            read bandwidth, GB/s (all threads)
 *   kernels_bench model DIM FFN LAYERS VOCAB TYPE N [SECONDS]
 *       runs the model's matrices (per layer wq wk wv wo 3 x ffn, then the
 *       output head) on N tokens at a time and prints tokens/s, weight
 *       bytes/s and FLOP/s: an upper bound for the whole model's speed.
 *
 * Threads: OMP_NUM_THREADS. Kernel path: LLMOS_KERNELS. Quantized matrices
 * are packed as model_load packs them (BENCH_NO_PACK=1: not). With
 * BENCH_CPU_TIME=1 the rates come from process CPU time (for 1 thread on a
 * shared machine).
 */
#include "core/common.h"
#include "core/kernels.h"
#include "core/types.h"

#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

__attribute__((target("avx2"))) static double stream_read(const char *buf, size_t bytes, int reps) {
    double best = 0;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = time_now();
        __m256i total = _mm256_setzero_si256();
#pragma omp parallel
        {
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
#pragma omp for schedule(static)
            for (size_t i = 0; i < bytes; i += 128) {
                const __m256i *p = (const __m256i *)(buf + i);
                a0 = _mm256_xor_si256(a0, _mm256_load_si256(p));
                a1 = _mm256_xor_si256(a1, _mm256_load_si256(p + 1));
                a2 = _mm256_xor_si256(a2, _mm256_load_si256(p + 2));
                a3 = _mm256_xor_si256(a3, _mm256_load_si256(p + 3));
            }
#pragma omp critical
            total = _mm256_xor_si256(total, _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3)));
        }
        double dt = time_now() - t0;
        volatile int sink = _mm256_extract_epi32(total, 0);
        (void)sink;
        if (bytes / dt > best) best = bytes / dt;
    }
    return best;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static matrix make_matrix(tensor_type type, int64_t rows, int64_t cols, unsigned *seed) {
    size_t rb = type_row_bytes(type, cols);
    size_t bytes = (rows * rb + (2u << 20) - 1) / (2u << 20) * (2u << 20);
    char *d = aligned_alloc(2u << 20, bytes);
    if (getenv("BENCH_HUGE")) madvise(d, bytes, MADV_HUGEPAGE);
    float *tmp = malloc(cols * sizeof(float));
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < cols; k++) {
            *seed = *seed * 1103515245u + 12345u;
            tmp[k] = ((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
        }
        row_from_float(type, tmp, d + r * rb, cols);
    }
    free(tmp);
    return (matrix){.type = type, .data = d, .rows = rows, .cols = cols};
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "stream")) {
        size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
        size_t bytes = mib << 20;
        char *buf = aligned_alloc(64, bytes);
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < bytes; i += 4096) memset(buf + i, (int)(i >> 12), 4096);
        double bw = stream_read(buf, bytes, 10);
        printf("stream read: %.1f GB/s (%d threads, %zu MiB)\n", bw / 1e9, omp_get_max_threads(), mib);
        free(buf);
        return 0;
    }
    if (argc < 8 || strcmp(argv[1], "model")) {
        fprintf(stderr, "usage: kernels_bench stream [MiB] | model DIM FFN LAYERS VOCAB TYPE N [SECONDS]\n");
        return 2;
    }
    int dim = atoi(argv[2]), ffn = atoi(argv[3]), layers = atoi(argv[4]), vocab = atoi(argv[5]);
    int type = type_from_name(argv[6]), n = atoi(argv[7]);
    double secs = argc > 8 ? atof(argv[8]) : 3.0;
    if (type < 0 || dim <= 0 || ffn <= 0 || layers <= 0 || vocab <= 0 || n <= 0) {
        fprintf(stderr, "kernels_bench: bad arguments\n");
        return 2;
    }
    unsigned seed = 1;
    int nm = layers * 7 + 1;
    matrix *m = malloc(nm * sizeof(matrix));
    double bytes = 0, flops = 0;
    for (int l = 0; l < layers; l++) {
        for (int j = 0; j < 4; j++) m[l * 7 + j] = make_matrix(type, dim, dim, &seed);
        m[l * 7 + 4] = make_matrix(type, ffn, dim, &seed);
        m[l * 7 + 5] = make_matrix(type, ffn, dim, &seed);
        m[l * 7 + 6] = make_matrix(type, dim, ffn, &seed);
    }
    m[nm - 1] = make_matrix(type, vocab, dim, &seed);
    /* as model_load does (BENCH_NO_PACK=1: the unpacked kernels) */
    if (!getenv("BENCH_NO_PACK"))
        for (int i = 0; i < nm; i++) matrix_pack(&m[i]);
    for (int i = 0; i < nm; i++) {
        bytes += (double)type_row_bytes(type, m[i].cols) * m[i].rows;
        flops += 2.0 * m[i].rows * m[i].cols * n;
    }
    int64_t big = MAX(vocab, ffn);
    float *x = malloc(sizeof(float) * n * big), *out = malloc(sizeof(float) * n * big);
    for (int64_t i = 0; i < (int64_t)n * big; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    /* The best pass: on a shared machine the others only ever slow a pass
     * down, so the minimum is the kernels' own speed. */
    double t0 = time_now(), per = 1e30, cpu = 1e30;
    do {
        double t1 = time_now(), c1 = cpu_now();
        for (int i = 0; i < nm; i++) matmul(out, x, &m[i], n);
        per = MIN(per, time_now() - t1);
        cpu = MIN(cpu, cpu_now() - c1);
    } while (time_now() - t0 < secs);
    /* With one thread, CPU time leaves out the time others held the core. */
    if (getenv("BENCH_CPU_TIME")) per = cpu / omp_get_max_threads();
    printf("%s %s n=%d threads=%d: %.1f tok/s, %.2f GB/s weights, %.1f GFLOP/s (%.2f ms per pass, %.0f MB)\n",
           kernels_path(), argv[6], n, omp_get_max_threads(), n / per, bytes / per / 1e9, flops / per / 1e9,
           per * 1e3, bytes / 1e6);
    for (int i = 0; i < nm; i++) {
        free((void *)m[i].data);
        matrix_pack_free(&m[i]);
    }
    free(m);
    free(x);
    free(out);
    return 0;
}
