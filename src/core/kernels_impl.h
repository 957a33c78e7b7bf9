/*
 * kernels_impl.h - private to kernels.c and kernels_x86.c: the table of
 * matmul functions one kernel path provides, and the layouts of the
 * converted activations some of them read.
 *
 * A path's matmul function computes rows r0 .. r1-1 of out for all n tokens:
 * out[t * ldo + r] = dot(x_t, W_r). The caller (matmul in kernels.c) splits
 * the rows between threads and converts x first when the path asks for it:
 *
 *   ACT_F32   x as given, token rows of cols floats.
 *   ACT_BF16  x rounded to bf16 (nearest even), cols padded with zeros to
 *             a multiple of 32.
 *   ACT_Q8    x quantized to q8_0 blocks of 32 exactly as ggml's reference
 *             quantizer does (d = amax / 127, q = round(x / d), d rounded to
 *             fp16), for integer dot products with q8_0 or q4_0 weights.
 *             Blocks come in pairs ("slots" of 192 bytes; a final odd block
 *             has a zero partner):
 *               bytes   0..63   the 64 int8 values of blocks 2p and 2p+1
 *               bytes  64..127  16 int32 "offsets": for lane l, -c times the
 *                               sum of the 4 values at bytes 4l..4l+3, with
 *                               c = 128 for q8_0 weights (dot products of
 *                               w + 128, unsigned, against x) and c = 8 for
 *                               q4_0 weights (unsigned nibbles).
 *               bytes 128..191  16 floats: lane l holds the scale d of the
 *                               block its 4 values belong to.
 *             With q4_0 weights on the x86 paths the 64 values are stored
 *             in the order the nibbles unpack to: x_2p[0:16], x_2p+1[0:16],
 *             x_2p[16:32], x_2p+1[16:32]; otherwise in natural order.
 *             After the slots, per block b: int32 at 4b, the sum of the
 *             block's 16 lane offsets; float at 4 nb + 4b, its scale d.
 *
 * Every layout starts each token row on a 64-byte boundary.
 *
 * Packed matrices (matrix_pack): rows in groups of 16; per group, per block
 * b, 32 bytes of the 16 rows' fp16 scales, then the values as 64-byte
 * vectors whose 4-byte lane l holds 4 consecutive values of row l:
 *   q8_0 (544 bytes): vector g (0..7) holds values 4g..4g+3, each plus 128
 *        (unsigned);
 *   q4_0 (288 bytes): vector j (0..3) holds in its low nibbles values
 *        4j..4j+3 and in its high nibbles values 16+4j..16+4j+3.
 * Rows past the last full group are not packed; kernels read them from the
 * original data.
 */
#define PACK_ROWS 16
#define PACK_Q8_BYTES (32 + 16 * 32)
#define PACK_Q4_BYTES (32 + 16 * 16)
#ifndef LLMOS_KERNELS_IMPL_H
#define LLMOS_KERNELS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

enum { ACT_F32, ACT_BF16, ACT_Q8 };
/* Slots of the type table, in this order. */
enum { SLOT_F32, SLOT_F16, SLOT_BF16, SLOT_Q8_0, SLOT_Q4_0, SLOT_COUNT };

#define XQ_SLOT_BYTES 192

/* x: token rows xs bytes apart, in the activation layout of the slot. */
typedef void (*matmul_fn)(float *out, int64_t ldo, const void *x, size_t xs, const matrix *w,
                          int n, int64_t r0, int64_t r1);
/* Converts one token row of cols floats into the activation layout. */
typedef void (*act_fn)(const float *x, void *dst, int64_t cols, tensor_type wtype);

typedef struct {
    const char *name;
    matmul_fn mm[SLOT_COUNT];
    matmul_fn mm_packed[SLOT_COUNT]; /* for packed matrices; NULL: none */
    int act[SLOT_COUNT];     /* ACT_* each function reads */
    float (*dot)(const float *a, const float *b, int n);
    void (*axpy)(float *y, float a, const float *x, int n);
    act_fn to_q8;            /* makes ACT_Q8 rows */
    act_fn to_bf16;          /* makes ACT_BF16 rows */
} kernel_set;

/* Bytes of one converted token row. */
size_t act_row_bytes(int act, int64_t cols);

/* Portable vector kernels (kernels.c). */
float vec_dot_portable(const float *a, const float *b, int n);
void vec_axpy_portable(float *y, float a, const float *x, int n);

/* Portable converters (kernels.c). permute: store q4_0 pairs in unpack
 * order, as the x86 paths want. */
void act_q8_row(const float *x, void *dst, int64_t cols, tensor_type wtype, int permute);
void act_bf16_row(const float *x, void *dst, int64_t cols, tensor_type wtype);

/* x86 paths (kernels_x86.c); NULL when the CPU lacks them or the build
 * is not for x86-64. */
const kernel_set *kernels_x86_avx2(void);
const kernel_set *kernels_x86_avx512(void);
const kernel_set *kernels_x86_avx512vnni(void);
const kernel_set *kernels_x86_avx512bf16(void);

#endif
