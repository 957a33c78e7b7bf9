/*
 * types.h - tensor element types, with the numeric ids and block layouts
 * that ggml (and so GGUF) defines, and conversion to and from float.
 *
 * A row of n elements of a block type occupies (n / block_size) blocks; n
 * must be a multiple of the block size.
 *
 *   F32   id 0   4 bytes per element
 *   F16   id 1   IEEE half
 *   Q4_0  id 2   blocks of 32: fp16 scale d, 16 bytes of nibbles. Element j
 *                (j < 16) is the low nibble of byte j, element j + 16 the
 *                high nibble; value = (nibble - 8) * d. 18 bytes per block.
 *   Q8_0  id 8   blocks of 32: fp16 scale d, 32 int8; value = q * d.
 *                34 bytes per block.
 *   BF16  id 30  upper half of an IEEE float, rounded to nearest even.
 */
#ifndef LLMOS_TYPES_H
#define LLMOS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TYPE_F32 = 0,
    TYPE_F16 = 1,
    TYPE_Q4_0 = 2,
    TYPE_Q8_0 = 8,
    TYPE_BF16 = 30,
    TYPE_COUNT_MAX = 64, /* ids at or above are rejected */
} tensor_type;

#define QK 32 /* elements per block for Q4_0 and Q8_0 */

typedef struct {
    uint16_t d;        /* fp16 scale */
    uint8_t qs[QK / 2];
} block_q4_0;

typedef struct {
    uint16_t d;        /* fp16 scale */
    int8_t qs[QK];
} block_q8_0;

/* Returns 1 if llmos can compute with this type id. */
int type_supported(uint32_t type);
/* "f32", "q8_0", ... or NULL for an unsupported id. */
const char *type_name(uint32_t type);
/* Parses a name as above (case-insensitive); -1 if unknown. */
int type_from_name(const char *name);
int type_block_size(tensor_type t);  /* elements per block */
size_t type_block_bytes(tensor_type t);
/* Bytes of a row of n elements; n must be a multiple of the block size. */
size_t type_row_bytes(tensor_type t, int64_t n);

float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);

/* Converts n elements (a multiple of the block size) between float and a
 * type, the way ggml's reference quantizers do. */
void row_to_float(tensor_type t, const void *src, float *dst, int64_t n);
void row_from_float(tensor_type t, const float *src, void *dst, int64_t n);

#endif
