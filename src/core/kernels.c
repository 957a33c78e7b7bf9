/*
 * kernels.c - matmul for every weight type: the dispatcher, the portable C
 * path, and the activation converters the paths share.
 *
 * matmul converts the activations once per call when the path wants them in
 * another form (q8_0 blocks for quantized weights, bf16 for vdpbf16ps), then
 * splits the weight rows into one contiguous range per thread: in generation
 * (n = 1) each thread streams its own part of the matrix from memory once.
 * The path is chosen once, from the CPU's features (kernels_x86.c), unless
 * LLMOS_KERNELS or kernels_select says otherwise.
 */
#include "kernels.h"

#include "common.h"
#include "kernels_impl.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---------------------------------------------------------------- portable */

static float dot_f32(const float *a, const float *b, int64_t n) {
    /* Eight partial sums: independent chains the compiler can vectorize. */
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += a[i + j] * b[i + j];
    float t = 0;
    for (; i < n; i++) t += a[i] * b[i];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + t;
}

float vec_dot_portable(const float *a, const float *b, int n) { return dot_f32(a, b, n); }

void vec_axpy_portable(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* f32, f16, bf16 weights: each row converted to float once, then dotted
 * with every token. */
static void mm_float_portable(float *out, int64_t ldo, const void *xv, size_t xs, const matrix *w,
                              int n, int64_t r0, int64_t r1) {
    const int64_t cols = w->cols;
    const size_t rb = type_row_bytes(w->type, cols);
    float *tmp = w->type == TYPE_F32 ? NULL : xmalloc(cols * sizeof(float));
    for (int64_t r = r0; r < r1; r++) {
        const void *row = (const char *)w->data + r * rb;
        const float *wr = row;
        if (tmp) {
            row_to_float(w->type, row, tmp, cols);
            wr = tmp;
        }
        for (int t = 0; t < n; t++)
            out[t * ldo + r] = dot_f32((const float *)((const char *)xv + t * xs), wr, cols);
    }
    free(tmp);
}

/* The int8 values and scale of block b of a natural-order ACT_Q8 row. */
static const int8_t *xq_block(const void *x, int64_t b, float *d) {
    const char *slot = (const char *)x + (b / 2) * XQ_SLOT_BYTES;
    memcpy(d, slot + 128 + (b % 2) * 32, sizeof(float));
    return (const int8_t *)slot + (b % 2) * 32;
}

static void mm_q8_0_portable(float *out, int64_t ldo, const void *xv, size_t xs, const matrix *w,
                             int n, int64_t r0, int64_t r1) {
    const int64_t nb = w->cols / QK;
    for (int64_t r = r0; r < r1; r++) {
        const block_q8_0 *wb = (const block_q8_0 *)w->data + r * nb;
        for (int t = 0; t < n; t++) {
            const void *x = (const char *)xv + t * xs;
            float s = 0;
            for (int64_t b = 0; b < nb; b++) {
                float dx;
                const int8_t *q = xq_block(x, b, &dx);
                int32_t is = 0;
                for (int j = 0; j < QK; j++) is += wb[b].qs[j] * q[j];
                s += fp16_to_fp32(wb[b].d) * dx * (float)is;
            }
            out[t * ldo + r] = s;
        }
    }
}

static void mm_q4_0_portable(float *out, int64_t ldo, const void *xv, size_t xs, const matrix *w,
                             int n, int64_t r0, int64_t r1) {
    const int64_t nb = w->cols / QK;
    for (int64_t r = r0; r < r1; r++) {
        const block_q4_0 *wb = (const block_q4_0 *)w->data + r * nb;
        for (int t = 0; t < n; t++) {
            const void *x = (const char *)xv + t * xs;
            float s = 0;
            for (int64_t b = 0; b < nb; b++) {
                float dx;
                const int8_t *q = xq_block(x, b, &dx);
                int32_t is = 0;
                for (int j = 0; j < QK / 2; j++)
                    is += ((wb[b].qs[j] & 0xf) - 8) * q[j] + ((wb[b].qs[j] >> 4) - 8) * q[j + QK / 2];
                s += fp16_to_fp32(wb[b].d) * dx * (float)is;
            }
            out[t * ldo + r] = s;
        }
    }
}

/* ---------------------------------------------------- activation converters */

size_t act_row_bytes(int act, int64_t cols) {
    if (act == ACT_Q8) return ((size_t)((cols / QK + 1) / 2) * XQ_SLOT_BYTES + (cols / QK) * 8 + 63) / 64 * 64;
    if (act == ACT_BF16) return (size_t)((cols + 31) / 32) * 64;
    return (size_t)cols * sizeof(float);
}

static void act_q8_table(void *dst, int64_t cols, tensor_type wtype, int permute);

void act_q8_row(const float *x, void *dst, int64_t cols, tensor_type wtype, int permute) {
    const int64_t nb = cols / QK;
    const int32_t c = wtype == TYPE_Q8_0 ? 128 : 8;
    memset(dst, 0, act_row_bytes(ACT_Q8, cols));
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * QK;
        char *slot = (char *)dst + (b / 2) * XQ_SLOT_BYTES;
        int half = (int)(b % 2);
        int perm = permute && wtype == TYPE_Q4_0 && (b / 2) * 2 + 1 < nb;
        float amax = 0;
        for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(xb[j]));
        float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        float dq = fp16_to_fp32(fp32_to_fp16(d));
        for (int j = 0; j < QK; j++) {
            int pos = perm ? (j / 16) * 32 + half * 16 + j % 16 : half * 32 + j;
            ((int8_t *)slot)[pos] = (int8_t)roundf(xb[j] * id);
        }
        /* The scale goes to the lanes holding this block's values. */
        for (int l = 0; l < 16; l++)
            if ((perm ? (l / 4) % 2 : l / 8) == half) memcpy(slot + 128 + 4 * l, &dq, 4);
    }
    for (int64_t p = 0; p < (nb + 1) / 2; p++) {
        char *slot = (char *)dst + p * XQ_SLOT_BYTES;
        const int8_t *q = (const int8_t *)slot;
        for (int l = 0; l < 16; l++) {
            int32_t off = -c * (q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3]);
            memcpy(slot + 64 + 4 * l, &off, 4);
        }
    }
    act_q8_table(dst, cols, wtype, permute);
}

static void act_q8_table(void *dst, int64_t cols, tensor_type wtype, int permute) {
    const int64_t nb = cols / QK;
    char *table = (char *)dst + (nb + 1) / 2 * XQ_SLOT_BYTES;
    for (int64_t b = 0; b < nb; b++) {
        const char *slot = (const char *)dst + (b / 2) * XQ_SLOT_BYTES;
        int perm = permute && wtype == TYPE_Q4_0 && (b / 2) * 2 + 1 < nb, h = (int)(b % 2);
        int32_t tot = 0, off;
        for (int l = 0; l < 16; l++)
            if ((perm ? (l / 4) % 2 : l / 8) == h) {
                memcpy(&off, slot + 64 + 4 * l, 4);
                tot += off;
            }
        memcpy(table + 4 * b, &tot, 4);
        memcpy(table + 4 * nb + 4 * b, slot + 128 + 4 * (perm ? 4 * h : 8 * h), 4);
    }
}

/* ------------------------------------------------------------------ packing */

static const kernel_set *current_set(void);

/* Memory for weight copies. Generation streams every matrix once per
 * token, and through 4 KiB pages (a file mapping, or malloc without
 * transparent huge pages) the page walks cost half the bandwidth in a VM
 * (f16 110M: 15 -> 30 GB/s on one core). So copies are carved from 32 MiB
 * chunks, 2 MiB-aligned and marked for huge pages; a chunk is released when
 * the last copy in it is. */
typedef struct weight_chunk {
    struct weight_chunk *next;
    char *base;
    size_t size, used;
    int live; /* copies still in it */
} weight_chunk;

static weight_chunk *g_chunks; /* the first is the one being filled */
static pthread_mutex_t g_chunks_mu = PTHREAD_MUTEX_INITIALIZER;

static void *alloc_weights(size_t bytes) {
    const size_t huge = (size_t)2 << 20, chunk = (size_t)32 << 20;
    bytes = (bytes + 63) / 64 * 64;
    pthread_mutex_lock(&g_chunks_mu);
    weight_chunk *c = g_chunks;
    if (!c || c->size - c->used < bytes) {
        c = xcalloc(1, sizeof(*c));
        c->size = MAX(chunk, (bytes + huge - 1) / huge * huge);
        c->base = aligned_alloc(huge, c->size);
        LLMOS_ASSERT(c->base);
        madvise(c->base, c->size, MADV_HUGEPAGE); /* advice only: errors change nothing */
        c->next = g_chunks;
        g_chunks = c;
    }
    void *p = c->base + c->used;
    c->used += bytes;
    c->live++;
    pthread_mutex_unlock(&g_chunks_mu);
    return p;
}

static void free_weights(void *p) {
    if (!p) return;
    pthread_mutex_lock(&g_chunks_mu);
    for (weight_chunk **pc = &g_chunks; *pc; pc = &(*pc)->next) {
        weight_chunk *c = *pc;
        if ((char *)p >= c->base && (char *)p < c->base + c->size) {
            if (--c->live == 0) {
                *pc = c->next;
                free(c->base);
                free(c);
            }
            break;
        }
    }
    pthread_mutex_unlock(&g_chunks_mu);
}

void matrix_pack(matrix *w) {
    const kernel_set *k = current_set();
    if (w->packed) return;
    const size_t rb = type_row_bytes(w->type, w->cols);
    if (w->type == TYPE_F32 || w->type == TYPE_F16 || w->type == TYPE_BF16) {
        /* the same layout, in memory the kernels stream fastest */
        void *dst = alloc_weights(rb * w->rows);
        memcpy(dst, w->data, rb * w->rows);
        w->packed = dst;
        return;
    }
    if ((w->type != TYPE_Q8_0 && w->type != TYPE_Q4_0) || w->rows < PACK_ROWS) return;
    const int q4 = w->type == TYPE_Q4_0;
    if (!k->mm_packed[q4 ? SLOT_Q4_0 : SLOT_Q8_0]) return;
    const int64_t nb = w->cols / QK, groups = w->rows / PACK_ROWS;
    const size_t bb = q4 ? PACK_Q4_BYTES : PACK_Q8_BYTES;
    const size_t bytes = groups * nb * bb;
    uint8_t *dst = alloc_weights(bytes);
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < groups; g++)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *blk = dst + (g * nb + b) * bb;
            for (int l = 0; l < PACK_ROWS; l++) {
                const uint8_t *src = (const uint8_t *)w->data + (g * PACK_ROWS + l) * rb +
                                     b * (q4 ? sizeof(block_q4_0) : sizeof(block_q8_0));
                memcpy(blk + 2 * l, src, 2); /* the fp16 scale */
                for (int i = 0; i < 4; i++) {
                    if (q4) /* byte k of a block holds values k (low) and 16 + k (high) */
                        for (int j = 0; j < 4; j++)
                            blk[32 + 64 * j + 4 * l + i] = src[2 + 4 * j + i]; /* k and 16 + k */
                    else
                        for (int gi = 0; gi < 8; gi++)
                            blk[32 + 64 * gi + 4 * l + i] = (uint8_t)(src[2 + 4 * gi + i] ^ 0x80);
                }
            }
        }
    w->packed = dst;
}

void matrix_pack_free(matrix *w) {
    free_weights(w->packed);
    w->packed = NULL;
}

static void act_q8_row_natural(const float *x, void *dst, int64_t cols, tensor_type wtype) {
    act_q8_row(x, dst, cols, wtype, 0);
}

void act_bf16_row(const float *x, void *dst, int64_t cols, tensor_type wtype) {
    (void)wtype;
    uint16_t *d = dst;
    int64_t padded = (cols + 31) / 32 * 32;
    for (int64_t i = 0; i < cols; i++) d[i] = fp32_to_bf16(x[i]);
    for (int64_t i = cols; i < padded; i++) d[i] = 0;
}

static const kernel_set g_portable = {
    .name = "portable",
    .mm = {mm_float_portable, mm_float_portable, mm_float_portable, mm_q8_0_portable,
           mm_q4_0_portable},
    .act = {ACT_F32, ACT_F32, ACT_F32, ACT_Q8, ACT_Q8},
    .dot = vec_dot_portable,
    .axpy = vec_axpy_portable,
    .to_q8 = act_q8_row_natural,
    .to_bf16 = act_bf16_row,
};

/* ---------------------------------------------------------------- dispatch */

const char *const kernels_path_names[] = {"portable", "avx2", "avx512", "avx512vnni", "avx512bf16",
                                          NULL};

static const kernel_set *set_by_name(const char *name) {
    if (!strcmp(name, "portable")) return &g_portable;
    if (!strcmp(name, "avx2")) return kernels_x86_avx2();
    if (!strcmp(name, "avx512")) return kernels_x86_avx512();
    if (!strcmp(name, "avx512vnni")) return kernels_x86_avx512vnni();
    if (!strcmp(name, "avx512bf16")) return kernels_x86_avx512bf16();
    return NULL;
}

static const kernel_set *best_set(void) {
    for (int i = (int)ARRAY_LEN(kernels_path_names) - 2; i >= 0; i--) {
        const kernel_set *k = set_by_name(kernels_path_names[i]);
        if (k) return k;
    }
    return &g_portable;
}

static const kernel_set *g_set;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_set(void) {
    const char *e = getenv("LLMOS_KERNELS");
    if (e && *e && strcmp(e, "auto")) {
        g_set = set_by_name(e);
        if (!g_set) fprintf(stderr, "llmos: LLMOS_KERNELS='%s' is not available here, using auto\n", e);
    }
    if (!g_set) g_set = best_set();
}

static const kernel_set *current_set(void) {
    pthread_once(&g_once, init_set);
    return g_set;
}

int kernels_select(const char *name) {
    pthread_once(&g_once, init_set);
    if (!name || !strcmp(name, "auto")) {
        g_set = best_set();
        return 0;
    }
    int known = 0;
    for (int i = 0; kernels_path_names[i]; i++) known |= !strcmp(name, kernels_path_names[i]);
    if (!known) return err_set("unknown kernel path '%s'", name);
    const kernel_set *k = set_by_name(name);
    if (!k) return err_set("kernel path '%s' is not supported by this CPU", name);
    g_set = k;
    return 0;
}

const char *kernels_path(void) { return current_set()->name; }

float vec_dot(const float *a, const float *b, int n) { return current_set()->dot(a, b, n); }
void vec_axpy(float *y, float a, const float *x, int n) { current_set()->axpy(y, a, x, n); }

static int type_slot(tensor_type t) {
    switch (t) {
    case TYPE_F32: return SLOT_F32;
    case TYPE_F16: return SLOT_F16;
    case TYPE_BF16: return SLOT_BF16;
    case TYPE_Q8_0: return SLOT_Q8_0;
    case TYPE_Q4_0: return SLOT_Q4_0;
    default: break;
    }
    LLMOS_ASSERT(!"matmul: unsupported weight type");
    return -1;
}

void matmul(float *out, const float *x, const matrix *w, int n) { matmul_many(&out, x, &w, 1, n); }

void matmul_rows(int64_t rows, int ith, int nth, int64_t *r0, int64_t *r1) {
    int64_t chunk = (rows + nth - 1) / nth;
    chunk = (chunk + 15) / 16 * 16; /* packed matrices come in groups of 16 rows */
    *r0 = MIN(rows, ith * chunk);
    *r1 = MIN(rows, *r0 + chunk);
}

/* What matmul_many and matmul_many_part share: each matrix's function and
 * the matrix it reads (float types: the copy, in the same layout). Returns
 * the activation layout. */
static int many_setup(const kernel_set *k, const matrix *const *ws, int count, matmul_fn *fns,
                      matrix *copies) {
    LLMOS_ASSERT(count >= 1 && count <= MATMUL_MANY_MAX);
    const int slot = type_slot(ws[0]->type);
    for (int i = 0; i < count; i++) {
        const matrix *w = ws[i];
        LLMOS_ASSERT(w->type == ws[0]->type && w->cols == ws[0]->cols);
        fns[i] = w->packed && k->mm_packed[slot] ? k->mm_packed[slot] : k->mm[slot];
        copies[i] = *w;
        if (w->packed && slot <= SLOT_BF16) {
            copies[i].data = w->packed;
            copies[i].packed = NULL;
        }
    }
    return k->act[slot];
}

size_t matmul_scratch_bytes(const matrix *w, int n) {
    const int act = current_set()->act[type_slot(w->type)];
    return act == ACT_F32 ? 0 : act_row_bytes(act, w->cols) * (size_t)n;
}

void matmul_many_part(float *const *outs, const float *x, const matrix *const *ws, int count, int n,
                      void *scratch, int ith, int nth) {
    const kernel_set *k = current_set();
    matmul_fn fns[MATMUL_MANY_MAX];
    matrix copies[MATMUL_MANY_MAX];
    const int act = many_setup(k, ws, count, fns, copies);
    const int64_t cols = ws[0]->cols;
    const size_t xs = act_row_bytes(act, cols);
    const void *xa = x;
    if (act != ACT_F32) {
        LLMOS_ASSERT(scratch && (uintptr_t)scratch % 64 == 0);
        act_fn conv = act == ACT_Q8 ? k->to_q8 : k->to_bf16;
        for (int t = 0; t < n; t++) conv(x + (int64_t)t * cols, (char *)scratch + t * xs, cols, ws[0]->type);
        xa = scratch;
    }
    for (int i = 0; i < count; i++) {
        int64_t r0, r1;
        matmul_rows(copies[i].rows, ith, nth, &r0, &r1);
        if (r0 < r1) fns[i](outs[i], copies[i].rows, xa, xs, &copies[i], n, r0, r1);
    }
}

void matmul_many(float *const *outs, const float *x, const matrix *const *ws, int count, int n) {
    const kernel_set *k = current_set();
    matmul_fn fns[MATMUL_MANY_MAX];
    matrix copies[MATMUL_MANY_MAX];
    const int act = many_setup(k, ws, count, fns, copies);
    const tensor_type type = ws[0]->type;
    const int64_t cols = ws[0]->cols;
    double work = 0;
    for (int i = 0; i < count; i++) work += (double)ws[i]->rows * cols * n;
    if (n <= 0) return;

    size_t xs = act_row_bytes(act, cols);
    void *buf = NULL;
    const void *xa = x;
    if (act != ACT_F32) {
        buf = aligned_alloc(64, xs * n);
        LLMOS_ASSERT(buf);
        xa = buf;
    }
    act_fn conv = act == ACT_Q8 ? k->to_q8 : k->to_bf16;

    /* Small products are not worth waking the other threads for. */
    int nth = omp_get_max_threads();
    if (work < 65536) nth = 1;
#pragma omp parallel num_threads(nth)
    {
        if (buf) {
#pragma omp for schedule(static)
            for (int t = 0; t < n; t++) conv(x + (int64_t)t * cols, (char *)buf + t * xs, cols, type);
        }
        /* One contiguous range of rows of each matrix per thread. */
        int id = omp_get_thread_num(), nt = omp_get_num_threads();
        for (int i = 0; i < count; i++) {
            int64_t r0, r1;
            matmul_rows(copies[i].rows, id, nt, &r0, &r1);
            if (r0 < r1) fns[i](outs[i], copies[i].rows, xa, xs, &copies[i], n, r0, r1);
        }
    }
    free(buf);
}
