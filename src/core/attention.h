/*
 * attention.h - causal self-attention of one sequence and one query head,
 * forward and backward, for training (fp32). Every product (Q K^T, P V,
 * and in the backward dY V^T, dS K, P^T dY, dS^T Q) runs through a
 * register-tiled kernel (8 rows x 32 columns of output held in registers,
 * AVX-512 when the CPU has it, portable C otherwise; the same switch as
 * vecmath.h) on 8-row blocks of the causal triangle, so the work is about
 * half of the full T x T products and no inner loop goes through memory.
 *
 * Shapes: T positions, D head dim; q, dq, y, dy are (T, D) with row stride
 * ldq / ldy; k, v, dk, dv are (T, D) with row stride ldkv (a head inside a
 * (T, heads * D) activation); att is (T, T), row t holding the softmax
 * probabilities over s <= t and zeros after. The scale is 1/sqrt(D).
 *
 * The caller owns every buffer; scratch must hold attn_scratch_floats(T, D)
 * floats and be private to the calling thread. The functions are
 * reentrant: run many heads in parallel, one per thread. Results depend
 * only on the inputs (fixed summation order).
 */
#ifndef LLMOS_ATTENTION_H
#define LLMOS_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

size_t attn_scratch_floats(int T, int D);

/* y = softmax(q k^T / sqrt(D), causal) v; att gets the probabilities. */
void attn_head_fwd(float *y, int64_t ldy, float *att, const float *q, int64_t ldq,
                   const float *k, const float *v, int64_t ldkv, int T, int D, float *scratch);

/* Gradients from dy: dq is overwritten; dk and dv are overwritten when
 * accumulate = 0 and added to otherwise (query heads sharing one kv head). */
void attn_head_bwd(float *dq, int64_t ldq, float *dk, float *dv, int64_t ldkv, const float *dy,
                   int64_t ldy, const float *q, const float *k, const float *v, const float *att,
                   int T, int D, int accumulate, float *scratch);

#endif
