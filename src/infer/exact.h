/*
 * exact.h - a transformer forward pass whose logits are the same bits on
 * every x86-64 or other IEEE-754 machine, kernel path, thread count and
 * build: the probability model of `llmos compress`, whose decoder must
 * rebuild the encoder's frequency tables exactly.
 *
 * The fast forward (model.h) cannot promise that: its sums run in an order
 * that depends on the SIMD width, fused multiply-adds round once where a
 * multiply and an add round twice, libm's expf differs between versions
 * and CPU variants, and quantized weights meet activations quantized per
 * path. Here every value comes from IEEE-754 basic operations (+ - * /
 * sqrt, each correctly rounded, so the same on every conforming machine)
 * done in one fixed order:
 *  - a dot product of n floats adds its products (each rounded) in 16
 *    lanes, lane j taking elements j, j+16, j+32, ... in order (a tail is
 *    padded with zeros), then adds the lanes as a tree: j + j+8, then
 *    j + j+4, j + j+2, j + j+1. The portable C, AVX2 (2 x 8 lanes) and
 *    AVX-512 (16 lanes) paths do exactly these operations, following
 *    LLMOS_KERNELS (portable, avx2, avx512*). exact.c is compiled without
 *    floating-point contraction (no fused multiply-add); exact_selfcheck
 *    proves it at run time.
 *  - exp, log, sin and cos are exact.c's own, in double from basic
 *    operations (range reduction and polynomials), rounded to float where
 *    the forward works in float.
 *  - weights of every type are converted to f32 first (exact for f16, bf16,
 *    q8_0 and q4_0: each value is a small integer times an f16 scale).
 *  - each position of a batch is computed by the same operations as a
 *    single token, so the logits of position p do not depend on how the
 *    positions were batched: the encoder runs whole windows, the decoder
 *    one token at a time with the KV cache (f32).
 * The architecture is model.h's 'llama' (RMSNorm, RoPE on adjacent pairs,
 * grouped-query attention, SwiGLU); other architectures are refused.
 *
 * Ownership: an exact_model borrows the model's weights (f32 ones directly,
 * others through f32 copies it owns) and must be freed before the model.
 * An exact_state belongs to one thread at a time; use one per thread (its
 * forwards may start their own threads: exact_state_set_threads).
 */
#ifndef LLMOS_EXACT_H
#define LLMOS_EXACT_H

#include "../model/model.h"

typedef struct exact_model exact_model;
typedef struct exact_state exact_state;

/* Prepares m for exact forwards of up to n_ctx positions (<= the model's
 * context). NULL with err_set when the model cannot be run so. */
exact_model *exact_model_new(const model *m, int n_ctx);
void exact_model_free(exact_model *x);

/* A KV cache of the model's n_ctx positions and scratch for batches of up
 * to n_batch tokens. */
exact_state *exact_state_new(const exact_model *x, int n_batch);
void exact_state_free(exact_state *s);
/* Threads for the matrix products of this state's forwards (default 1;
 * the logits are the same for any number). */
void exact_state_set_threads(exact_state *s, int n);

/* Runs n (1..n_batch) tokens at positions pos .. pos+n-1, the cache holding
 * 0 .. pos-1, and returns the logits of the last position (V floats) or,
 * with all, of every position (n x V), valid until the next call.
 * pos + n must not exceed n_ctx. */
const float *exact_forward(const exact_model *x, exact_state *s, const int *tokens, int n, int pos,
                           int all);

/* The path of the dot products ("portable", "avx2" or "avx512"), from
 * kernels_path() when the model was made. */
const char *exact_path(const exact_model *x);

/* 0 when this build computes as the contract says (no contraction into
 * fused multiply-adds, own exp/sin/cos values as expected, every path the
 * CPU has giving the portable path's bits); -1 with err_set otherwise. */
int exact_selfcheck(void);

/* e^x in double from basic operations (0 at and below -708 and for NaN,
 * inf above 709): one value, and n values in place on the model's path
 * (the same bits). */
double exact_exp(double x);
void exact_exp_array(const exact_model *x, double *v, int n);

#endif
