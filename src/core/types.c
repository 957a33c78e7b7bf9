/*
 * types.c - the element-type table and the scalar reference conversions.
 * Quantizers follow ggml's reference rounding so that our quantized files
 * hold the same bytes llama.cpp's quantize would write.
 */
#include "types.h"

#include <math.h>
#include <string.h>
#include <strings.h>

static const struct {
    tensor_type t;
    const char *name;
    int block;
    size_t bytes;
} g_types[] = {
    {TYPE_F32, "f32", 1, 4},
    {TYPE_F16, "f16", 1, 2},
    {TYPE_BF16, "bf16", 1, 2},
    {TYPE_Q8_0, "q8_0", QK, sizeof(block_q8_0)},
    {TYPE_Q4_0, "q4_0", QK, sizeof(block_q4_0)},
};

static int find(uint32_t t) {
    for (size_t i = 0; i < sizeof(g_types) / sizeof(g_types[0]); i++)
        if ((uint32_t)g_types[i].t == t) return (int)i;
    return -1;
}

int type_supported(uint32_t t) { return find(t) >= 0; }
const char *type_name(uint32_t t) { int i = find(t); return i < 0 ? NULL : g_types[i].name; }
int type_block_size(tensor_type t) { return g_types[find(t)].block; }
size_t type_block_bytes(tensor_type t) { return g_types[find(t)].bytes; }

int type_from_name(const char *name) {
    for (size_t i = 0; i < sizeof(g_types) / sizeof(g_types[0]); i++)
        if (!strcasecmp(name, g_types[i].name)) return g_types[i].t;
    return -1;
}

size_t type_row_bytes(tensor_type t, int64_t n) {
    int i = find(t);
    return (size_t)(n / g_types[i].block) * g_types[i].bytes;
}

float fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal: renormalize */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000 | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffff;
    if (absx > 0x7f800000) return (uint16_t)(sign | 0x7e00); /* NaN */
    if (absx >= 0x477ff000) return (uint16_t)(sign | 0x7c00); /* overflow -> inf */
    if (absx < 0x38800000) { /* subnormal or zero in half */
        float a;
        memcpy(&a, &absx, 4);
        /* round to nearest even multiple of 2^-24 */
        float scaled = a * 16777216.0f;
        uint32_t m = (uint32_t)nearbyintf(scaled);
        return (uint16_t)(sign | m);
    }
    uint32_t exp = (absx >> 23) - 127 + 15;
    uint32_t man = absx & 0x7fffff;
    uint32_t h = (exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++; /* carries into exp correctly */
    return (uint16_t)(sign | h);
}

float bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t fp32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 64); /* quiet NaN */
    return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

void row_to_float(tensor_type t, const void *src, float *dst, int64_t n) {
    switch (t) {
    case TYPE_F32: memcpy(dst, src, n * 4); break;
    case TYPE_F16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = fp16_to_fp32(s[i]);
    } break;
    case TYPE_BF16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_fp32(s[i]);
    } break;
    case TYPE_Q8_0: {
        const block_q8_0 *b = src;
        for (int64_t i = 0; i < n / QK; i++) {
            float d = fp16_to_fp32(b[i].d);
            for (int j = 0; j < QK; j++) dst[i * QK + j] = b[i].qs[j] * d;
        }
    } break;
    case TYPE_Q4_0: {
        const block_q4_0 *b = src;
        for (int64_t i = 0; i < n / QK; i++) {
            float d = fp16_to_fp32(b[i].d);
            for (int j = 0; j < QK / 2; j++) {
                dst[i * QK + j] = ((b[i].qs[j] & 0xf) - 8) * d;
                dst[i * QK + j + QK / 2] = ((b[i].qs[j] >> 4) - 8) * d;
            }
        }
    } break;
    default: break;
    }
}

void row_from_float(tensor_type t, const float *src, void *dst, int64_t n) {
    switch (t) {
    case TYPE_F32: memcpy(dst, src, n * 4); break;
    case TYPE_F16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = fp32_to_fp16(src[i]);
    } break;
    case TYPE_BF16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = fp32_to_bf16(src[i]);
    } break;
    case TYPE_Q8_0: {
        block_q8_0 *b = dst;
        for (int64_t i = 0; i < n / QK; i++) {
            const float *x = src + i * QK;
            float amax = 0;
            for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
            float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
            b[i].d = fp32_to_fp16(d);
            for (int j = 0; j < QK; j++) b[i].qs[j] = (int8_t)roundf(x[j] * id);
        }
    } break;
    case TYPE_Q4_0: {
        block_q4_0 *b = dst;
        for (int64_t i = 0; i < n / QK; i++) {
            const float *x = src + i * QK;
            float amax = 0, max = 0;
            for (int j = 0; j < QK; j++)
                if (fabsf(x[j]) > amax) amax = fabsf(x[j]), max = x[j];
            float d = max / -8.0f, id = d ? 1.0f / d : 0.0f;
            b[i].d = fp32_to_fp16(d);
            for (int j = 0; j < QK / 2; j++) {
                int q0 = (int)(x[j] * id + 8.5f), q1 = (int)(x[j + QK / 2] * id + 8.5f);
                q0 = q0 > 15 ? 15 : q0;
                q1 = q1 > 15 ? 15 : q1;
                b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
            }
        }
    } break;
    default: break;
    }
}
