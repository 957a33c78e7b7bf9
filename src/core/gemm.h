/*
 * gemm.h - dense fp32 matrix-matrix products for training, where (unlike
 * generation) every weight is used by many tokens at once and the work is
 * compute bound. Three shapes cover the forward and the backward pass of a
 * linear layer y = x W^T with x (N, I), W (O, I), y (N, O):
 *
 *   forward         y  (N, O)  = x  (N, I) . W^T          gemm_nt
 *   input gradient  dx (N, I) += dy (N, O) . W            gemm_nn
 *   weight gradient dW (O, I) += dy^T (O, N) . x (N, I)   gemm_tn
 *
 * All matrices are row-major with a leading dimension (row stride) in
 * elements. `accumulate` = 0 overwrites C, 1 adds to it.
 *
 * Implementation: the operands are packed into panels (A in MR-row strips,
 * B in NR-column strips, k-major) in cache-sized blocks and a register-tiled
 * micro-kernel computes MR x NR tiles; OpenMP threads split C by row (or
 * column) strips, and every element is summed by one thread in k order, so
 * results depend neither on timing nor on the thread count. The
 * micro-kernel is AVX-512 or AVX2+FMA when the CPU has it (chosen once at
 * run time) and portable C otherwise.
 * Within one output element the k-sum runs in blocks of GEMM_KC in order.
 *
 * Not reentrant: the packing buffers are module-level; call from one thread
 * (the calls themselves use all OpenMP threads).
 */
#ifndef LLMOS_GEMM_H
#define LLMOS_GEMM_H

#include <stdint.h>

/* General form: C (M, N) (+)= op(A) (M, K) . op(B) (K, N), where op(A)[m][k]
 * = A[m*a_rs + k*a_cs] and op(B)[k][n] = B[k*b_rs + n*b_cs]; C has row
 * stride ldc. */
void gemm_f32(int M, int N, int K, const float *A, int64_t a_rs, int64_t a_cs, const float *B,
              int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate);

/* y (N, O) (+)= x (N, I) . W^T, W (O, I). */
void gemm_nt(float *y, const float *x, const float *W, int N, int I, int O, int accumulate);
/* dx (N, I) (+)= dy (N, O) . W (O, I). */
void gemm_nn(float *dx, const float *dy, const float *W, int N, int I, int O, int accumulate);
/* dW (O, I) (+)= dy^T . x, dy (N, O), x (N, I). */
void gemm_tn(float *dW, const float *dy, const float *x, int N, int I, int O, int accumulate);

/* Mixed precision: with bf16 on, every gemm_* rounds its operands to bf16
 * (round to nearest even) while packing and sums the products in float
 * with AVX512_BF16's dot instruction: twice the fp32 FMA rate, for
 * training with fp32 master weights. Off by default. Returns -1 (and stays
 * fp32) when the CPU lacks AVX512_BF16. */
int gemm_set_bf16(int on);
int gemm_bf16(void);

/* The naive triple loop (double accumulation) of gemm_f32, for tests. */
void gemm_f32_ref(int M, int N, int K, const float *A, int64_t a_rs, int64_t a_cs,
                  const float *B, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc,
                  int accumulate);

/* Micro-kernel in use: "avx512", "avx2" or "portable". LLMOS_GEMM=portable
 * (or avx2) in the environment forces a slower path. */
const char *gemm_path(void);

/* The machine's fp32 FMA peak in GFLOP/s for `threads` threads, measured by
 * a register-only FMA loop of the widest vector unit on each thread's CPU
 * time (about 0.1 s; other load on the machine does not lower it). */
double gemm_peak_gflops(int threads);

#endif
