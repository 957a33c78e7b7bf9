/*
 * test_gemm.c - the packed GEMM (every micro-kernel path the CPU has)
 * against the naive double-accumulating loop, on awkward sizes and all
 * three operand layouts training uses, overwrite and accumulate. A path
 * the CPU lacks is skipped by name (exit 77); one refused on a CPU whose
 * /proc/cpuinfo has its features fails.
 */
#include "core/gemm.h"
#include "cpu_has.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/wait.h>

static float frand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float round_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

static int g_bf16_check;

static int check(int M, int N, int K, int mode, int acc, unsigned *seed) {
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C = malloc(sizeof(float) * M * N), *R = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) A[i] = frand(seed);
    for (int i = 0; i < K * N; i++) B[i] = frand(seed);
    for (int i = 0; i < M * N; i++) C[i] = R[i] = frand(seed);
    /* mode 0: A (M,K) B (K,N); 1: A (M,K) B^T stored (N,K); 2: A^T stored (K,M) */
    int64_t ars = K, acs = 1, brs = N, bcs = 1;
    if (mode == 1) brs = 1, bcs = K;
    if (mode == 2) ars = 1, acs = M;
    gemm_f32(M, N, K, A, ars, acs, B, brs, bcs, C, N, acc);
    if (g_bf16_check) { /* the reference sees the operands as bf16 rounds them */
        for (int i = 0; i < M * K; i++) A[i] = round_bf16(A[i]);
        for (int i = 0; i < K * N; i++) B[i] = round_bf16(B[i]);
    }
    gemm_f32_ref(M, N, K, A, ars, acs, B, brs, bcs, R, N, acc);
    double maxerr = 0;
    for (int i = 0; i < M * N; i++) maxerr = fmax(maxerr, fabs(C[i] - R[i]));
    free(A), free(B), free(C), free(R);
    const double tol = 1e-5 * sqrt((double)K) + 1e-6;
    if (!(maxerr <= tol)) {
        fprintf(stderr, "gemm %s%s M=%d N=%d K=%d mode=%d acc=%d: max error %g > %g\n", gemm_path(), g_bf16_check ? " bf16" : "",
                M, N, K, mode, acc, maxerr, tol);
        return 1;
    }
    return 0;
}

int main(void) {
    static const int sizes[][3] = {{1, 1, 1},   {7, 33, 5},    {8, 32, 256}, {13, 97, 300},
                                   {100, 70, 513}, {200, 300, 64}, {97, 2100, 31}, {5, 17, 1}};
    const char *paths[] = {"", "avx2", "portable"};
    unsigned seed = 1;
    int fails = 0;
    /* the path is chosen once per process: re-exec for the forced ones */
    const char *force = getenv("LLMOS_GEMM");
    /* the path this run asked for, and the CPU features it needs */
    const char *want = force ? force : cpu_has("avx512f") ? "avx512" : cpu_has("avx2 fma") ? "avx2" : "portable";
    const char *needs = !strcmp(want, "avx512") ? "avx512f" : !strcmp(want, "avx2") ? "avx2 fma" : "";
    if (strcmp(gemm_path(), want)) {
        if (cpu_has(needs)) {
            fprintf(stderr, "FAIL gemm path %s runs %s on a CPU with %s\n", want, gemm_path(), needs);
            return 1;
        }
        printf("skip: gemm path %s (this CPU lacks %s)\n", want, needs);
        return SKIP_EXIT;
    }
    int skipped = 0;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int mode = 0; mode < 3; mode++)
            for (int acc = 0; acc < 2; acc++)
                fails += check(sizes[s][0], sizes[s][1], sizes[s][2], mode, acc, &seed);
    if (gemm_set_bf16(1) == 0) {
        g_bf16_check = 1;
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
            for (int mode = 0; mode < 3; mode++)
                for (int acc = 0; acc < 2; acc++)
                    fails += check(sizes[s][0], sizes[s][1], sizes[s][2], mode, acc, &seed);
        gemm_set_bf16(0);
        g_bf16_check = 0;
    } else if (cpu_has("avx512f avx512bw avx512_bf16")) {
        fprintf(stderr, "FAIL the bf16 gemm is refused on a CPU with avx512_bf16\n");
        fails++;
    } else {
        printf("skip %s bf16: this CPU lacks avx512_bf16\n", gemm_path());
        skipped++;
    }
    if (!force) {
        for (int p = 1; p < 3; p++) {
            char cmd[4096];
            extern char *program_invocation_name;
            snprintf(cmd, sizeof(cmd), "LLMOS_GEMM=%s '%s'", paths[p], program_invocation_name);
            int rc = system(cmd);
            if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == SKIP_EXIT) skipped++;
            else if (rc != 0) fails++;
        }
    }
    if (fails) fprintf(stderr, "%d gemm checks failed\n", fails);
    if (fails) return 1;
    printf("gemm %s ok\n", gemm_path());
    if (skipped) {
        printf("skip: %d gemm paths or modes this CPU cannot run (named above)\n", skipped);
        return SKIP_EXIT;
    }
    return 0;
}
