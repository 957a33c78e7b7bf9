/*
 * layers.c - per-position forward math of the llama block (see layers.h).
 */
#include "layers.h"

#include <math.h>

void rmsnorm_forward(float *out, const float *x, const float *w, int C, float eps) {
    float ss = 0;
    for (int i = 0; i < C; i++) ss += x[i] * x[i];
    const float r = 1.0f / sqrtf(ss / C + eps);
    for (int i = 0; i < C; i++) out[i] = x[i] * r * w[i];
}

void rope_forward(float *x, int n_heads, int D, int pos, float base) {
    for (int i = 0; i < D; i += 2) {
        const float theta = pos * powf(base, -(float)i / D);
        const float cs = cosf(theta), sn = sinf(theta);
        for (int h = 0; h < n_heads; h++) {
            float *p = x + (size_t)h * D + i;
            const float a = p[0], b = p[1];
            p[0] = a * cs - b * sn;
            p[1] = a * sn + b * cs;
        }
    }
}

void swiglu_forward(float *out, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void softmax_forward(float *out, const float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    float sum = 0;
    for (int i = 0; i < n; i++) sum += (out[i] = expf(x[i] - max));
    const float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) out[i] *= inv;
}
