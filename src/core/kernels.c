/*
 * kernels.c - matmul for every weight type: the portable reference path.
 * Each output row is a dot product of an input row with a weight row,
 * computed in float. Threads split the weight rows.
 */
#include "kernels.h"

#include "common.h"

#include <stdlib.h>
#include <string.h>

static float dot_f32(const float *a, const float *b, int64_t n) {
    float s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void matmul(float *out, const float *x, const matrix *w, int n) {
    const int64_t rows = w->rows, cols = w->cols;
    const size_t rb = type_row_bytes(w->type, cols);
#pragma omp parallel
    {
        float *tmp = w->type == TYPE_F32 ? NULL : xmalloc(cols * sizeof(float));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            const void *row = (const char *)w->data + r * rb;
            const float *wr = row;
            if (tmp) {
                row_to_float(w->type, row, tmp, cols);
                wr = tmp;
            }
            for (int t = 0; t < n; t++) out[(int64_t)t * rows + r] = dot_f32(x + (int64_t)t * cols, wr, cols);
        }
        free(tmp);
    }
}

const char *kernels_path(void) { return "portable"; }
