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
    void *packed; /* NULL, or the copy matrix_pack made (owned by the matrix) */
} matrix;

/* out (n, w->rows) = x (n, w->cols) . W^T, for any supported type of W.
 * n = 1 is generation (matrix-vector, memory bound); n > 1 is prompt
 * processing or training (matrix-matrix). out must not alias x. */
void matmul(float *out, const float *x, const matrix *w, int n);

/* matmul of one x with count (<= MATMUL_MANY_MAX) matrices of the same type
 * and cols: out[i] = x . W_i^T. The activations are converted once and
 * every product runs in one parallel region (one wake-up and one barrier
 * instead of count), which is what a layer's q/k/v and gate/up need. */
#define MATMUL_MANY_MAX 4
void matmul_many(float *const *outs, const float *x, const matrix *const *ws, int count, int n);

/* For a caller that runs its own parallel region (no OpenMP inside):
 * thread ith of nth computes its rows of matmul_many, matmul_rows's range
 * of each matrix, after converting x into scratch (matmul_scratch_bytes of
 * the first matrix, 64-byte aligned, private to the thread). */
void matmul_many_part(float *const *outs, const float *x, const matrix *const *ws, int count, int n,
                      void *scratch, int ith, int nth);
size_t matmul_scratch_bytes(const matrix *w, int n);
/* Rows [r0, r1) of a matrix of `rows` rows that thread ith of nth computes
 * (contiguous, starting at multiples of 16; matmul uses the same split). */
void matmul_rows(int64_t rows, int ith, int nth, int64_t *r0, int64_t *r1);

/* Makes a copy of a matrix that matmul then reads instead of data: q8_0
 * and q4_0 in the layout the fastest kernels of this CPU read (16 rows
 * interleaved per block: one vector lane per row, no horizontal sums; the
 * same size; skipped when the path in use has no such kernels), f32, f16
 * and bf16 as they are. Copies of 2 MiB and more live in memory marked for
 * transparent huge pages: streamed once per token through 4 KiB pages (a
 * file mapping) the weights came at half the bandwidth. Call once after
 * loading; matrix_pack_free releases the copy. */
void matrix_pack(matrix *w);
void matrix_pack_free(matrix *w);

/* The vector kernels attention uses: the dot product of n floats, and
 * y += a * x. Vectorized on the same paths as matmul. */
float vec_dot(const float *a, const float *b, int n);
void vec_axpy(float *y, float a, const float *x, int n);

/* Name of the kernel path in use, for logs: "portable", "avx2" (AVX2, FMA,
 * F16C), "avx512" (F, BW, VL), "avx512vnni" (+ VNNI: integer dots for q8_0
 * and q4_0) or "avx512bf16" (+ BF16: vdpbf16ps for bf16 weights, which
 * rounds the activations to bf16). The best one the CPU has is chosen at
 * the first call; the environment variable LLMOS_KERNELS=NAME picks
 * another. On every path q8_0 and q4_0 weights meet activations quantized
 * to q8_0 blocks, as llama.cpp does. */
const char *kernels_path(void);

/* Selects a path by name (NULL or "auto": the best available). Returns 0,
 * or -1 with err_set when the name is unknown or this CPU lacks the path.
 * Not thread-safe: call it while no matmul runs (tests, benchmarks). */
int kernels_select(const char *name);
/* NULL-terminated list of every path name, slowest first. */
extern const char *const kernels_path_names[];

#endif
