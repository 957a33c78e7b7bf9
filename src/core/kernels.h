/*
 * kernels.h - the compute kernels inference and training spend their time
 * in. Every kernel has a portable C path; fast paths (AVX2, AVX-512, VNNI,
 * BF16) are chosen once at run time from the CPU's features, so one binary
 * runs everywhere and uses what the machine has. Threads come from OpenMP
 * (omp_set_num_threads / --threads).
 */
#ifndef LLMOS_KERNELS_H
#define LLMOS_KERNELS_H

#include <stdint.h>

#include "types.h"

/* A weight matrix of `rows` rows, each `cols` elements of `type`, row-major
 * (a GGUF tensor with ne = {cols, rows}). */
typedef struct {
    tensor_type type;
    const void *data;
    int64_t rows, cols;
} matrix;

/* out (n, w->rows) = x (n, w->cols) . W^T, for any supported type of W.
 * n = 1 is generation (matrix-vector, memory bound); n > 1 is prompt
 * processing or training (matrix-matrix). out must not alias x. */
void matmul(float *out, const float *x, const matrix *w, int n);

/* Name of the kernel path in use ("avx512", "avx2", "portable"), for logs. */
const char *kernels_path(void);

#endif
