/*
 * train_gemm.c - the fp32 matmul roofline for training on this machine: the
 * FMA peak (register-only loop, CPU time) and src/core/gemm.c's three
 * layouts at the shapes a training step uses, on 1 and 2 threads, as
 * GFLOP/s of wall time and of CPU time (the latter is what a shared
 * machine still lets us measure), in fp32 and with bf16 operands. Built and run by bench/train_speed.sh.
 */
#include "core/common.h"
#include "core/gemm.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const int shapes[][3] = {{2048, 1024, 384}, {2048, 384, 1024}, {2048, 8192, 384},
                             {1024, 2048, 768}, {1024, 768, 2048}};
    const char *names[] = {"x.W^T (forward)", "dY.W (input grad)", "dY^T.X (weight grad)"};
    printf("FMA peak: %.1f GFLOP/s on 1 thread, %.1f on 2 (gemm path %s)\n", gemm_peak_gflops(1),
           gemm_peak_gflops(2), gemm_path());
    for (int run = 0; run < 4; run++) {
        const int th = 1 + run % 2, bf16 = run >= 2;
        if (bf16 && gemm_set_bf16(1) < 0) break;
        omp_set_num_threads(th);
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            const int N = shapes[s][0], O = shapes[s][1], I = shapes[s][2];
            float *x = calloc((size_t)N * I, 4), *w = calloc((size_t)O * I, 4), *y = calloc((size_t)N * O, 4);
            for (size_t i = 0; i < (size_t)N * I; i++) x[i] = (float)(i % 13) * 0.01f;
            for (size_t i = 0; i < (size_t)O * I; i++) w[i] = (float)(i % 7) * 0.01f;
            for (int mode = 0; mode < 3; mode++) {
                int reps = 0;
                const double t0 = time_now(), c0 = cpu_now();
                while (time_now() - t0 < 0.5 || reps < 2) {
                    if (mode == 0) gemm_nt(y, x, w, N, I, O, 0);
                    else if (mode == 1) gemm_nn(x, y, w, N, I, O, 0);
                    else gemm_tn(w, y, x, N, I, O, 1);
                    reps++;
                }
                const double wall = time_now() - t0, cpu = cpu_now() - c0, fl = 2.0 * N * O * I * reps;
                printf("%s %d thread(s)  N=%-5d O=%-5d I=%-5d %-22s %6.1f GFLOP/s wall  %6.1f per CPU-second\n",
                       bf16 ? "bf16" : "fp32", th, N, O, I, names[mode], fl / wall / 1e9, fl / cpu / 1e9 * th);
            }
            free(x), free(w), free(y);
        }
    }
    return 0;
}
