/*
 * unicode.c - UTF-8 decoding with llama.cpp's acceptance rules (see
 * unicode.h) and UTF-8 encoding. The class table is in unicode_table.c.
 */
#include "unicode.h"

uint32_t uni_decode(const unsigned char *s, size_t n, size_t *len) {
    unsigned c = s[0];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    size_t need;
    uint32_t cp;
    if (c < 0xC0) goto invalid;         /* stray continuation byte */
    else if (c < 0xE0) { need = 1; cp = c & 0x1F; }
    else if (c < 0xF0) { need = 2; cp = c & 0x0F; }
    else if (c < 0xF8) { need = 3; cp = c & 0x07; }
    else goto invalid;
    if (need >= n) goto invalid;
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) goto invalid;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *len = need + 1;
    return cp;
invalid:
    *len = 1;
    return UNI_INVALID;
}

int uni_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
