/*
 * layers.h - the per-position math of the llama block, shared by the
 * inference forward (model.c) and training (train_model.c), so both compute
 * exactly the same function. Shapes in the names' comments.
 */
#ifndef LLMOS_LAYERS_H
#define LLMOS_LAYERS_H

#include <stddef.h>

/* out (C) = x / sqrt(mean(x^2) + eps) * w. out may alias x. */
void rmsnorm_forward(float *out, const float *x, const float *w, int C, float eps);
/* Rotates each head's adjacent pairs (x[2i], x[2i+1]) in place by
 * pos * base^(-2i/D). x is (n_heads, D). */
void rope_forward(float *x, int n_heads, int D, int pos, float base);
/* out[i] = silu(gate[i]) * up[i]; out may alias gate or up. */
void swiglu_forward(float *out, const float *gate, const float *up, size_t n);
/* Numerically stable softmax of n values; out may alias x. */
void softmax_forward(float *out, const float *x, int n);

#endif
