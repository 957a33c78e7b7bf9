/*
 * vecmath.h - whole-row float math for training's elementwise passes
 * (softmax and cross-entropy rows, SwiGLU forward and backward) and the
 * inference KV cache's f16 rows: an
 * AVX-512 path with its own exp (range reduction to 2^n e^r, a degree-7
 * polynomial, vscalefps; within 2 ulp of expf over the float range, NaN in
 * gives NaN out) when the CPU has it, chosen once at run time, and a
 * portable C path on libm's expf otherwise. LLMOS_VECMATH=portable in the
 * environment forces the portable path.
 *
 * Each function's result is the same on every call with the same input and
 * path (the sums run in a fixed lane order), so training stays
 * bit-identical between reruns. No function allocates or keeps state
 * beyond the path choice.
 */
#ifndef LLMOS_VECMATH_H
#define LLMOS_VECMATH_H

#include <stddef.h>
#include <stdint.h>

/* Largest of x[0 .. n), n >= 1 (NaNs are skipped unless all are NaN). */
float vec_max(const float *x, int n);
/* x[i] = exp(x[i] * scale - sub) in place; returns the sum of the new x. */
float vec_exp_sum(float *x, int n, float scale, float sub);
/* x[i] *= s. */
void vec_scale(float *x, int n, float s);
/* The backward pass of one softmax row p (n values) given dL/dp in d:
 * d[i] = p[i] * (d[i] - sum_j p[j] d[j]) * scale, in place. */
void vec_softmax_bwd(float *d, const float *p, int n, float scale);
/* out[i] = silu(g[i]) * u[i]. */
void vec_swiglu_fwd(float *out, const float *g, const float *u, size_t n);
/* With sig = sigmoid(g): du = dout * g * sig; dg = dout * u * sig * (1 + g (1 - sig)). */
void vec_swiglu_bwd(float *dg, float *du, const float *dout, const float *g, const float *u,
                    size_t n);

/* IEEE half rows (the inference KV cache): dst[i] = src[i] exactly, and
 * back rounded to nearest even (as types.h's fp32_to_fp16; overflow gives
 * inf, NaN stays NaN). */
void vec_f16_to_f32(float *dst, const uint16_t *src, size_t n);
void vec_f32_to_f16(uint16_t *dst, const float *src, size_t n);

/* The path in use: "avx512" or "portable". */
const char *vec_path(void);
/* For tests: 1 forces the portable path, 0 goes back to the CPU's best.
 * Not thread-safe; call between computations. */
void vec_set_portable(int on);

#endif
