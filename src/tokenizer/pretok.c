/*
 * pretok.c - the regex pre-tokenizers of pretok.h as hand-written scanners.
 *
 * Each call looks at the text from pos and returns where the piece that
 * the regex would match there ends. The alternatives are tried in the
 * regex's order; the only backtracking the patterns need is the one of
 * \s+(?!\S): a run of k > 1 white-space characters followed by more text
 * gives up its last character, which then starts the next piece (so that
 * " word" stays together).
 *
 * Characters are decoded with llama.cpp's rules (unicode.h); an invalid
 * byte is one character of class "other", as U+FFFD is for llama.cpp. The
 * contractions are ASCII only: GPT-2's are case-sensitive, Llama 3's
 * (?i:...) match either case, as llama.cpp implements them.
 */
#include "pretok.h"

#include "unicode.h"

/* One decoded character: its codepoint, class and length in bytes. */
typedef struct {
    uint32_t cp;
    int cls;
    size_t len;
} uchar;

/* Classes of ASCII bytes, the common case: block 0 of the table. */
#define ASCII_CLS(c) (uni_stage2[uni_stage1[0]][(c)])

/* Decodes the character at i (< n). */
static inline uchar char_at(const unsigned char *s, size_t n, size_t i) {
    uchar u;
    if (s[i] < 0x80) {
        u.cp = s[i];
        u.cls = ASCII_CLS(s[i]);
        u.len = 1;
    } else {
        u.cp = uni_decode(s + i, n - i, &u.len);
        u.cls = uni_class(u.cp);
    }
    return u;
}

/* Class of the character at i, or -1 past the end. */
static inline int cls_at(const unsigned char *s, size_t n, size_t i) {
    if (i >= n) return -1;
    if (s[i] < 0x80) return ASCII_CLS(s[i]);
    size_t len;
    return uni_class(uni_decode(s + i, n - i, &len));
}

/* Skips characters of class cls from i; returns the first other position. */
static inline size_t skip_class(const unsigned char *s, size_t n, size_t i, int cls) {
    while (i < n) {
        uchar u = char_at(s, n, i);
        if (u.cls != cls) break;
        i += u.len;
    }
    return i;
}

static inline int lower_ascii(unsigned c) { return (c >= 'A' && c <= 'Z') ? (int)(c | 0x20) : (int)c; }

/* 's 't 're 've 'm 'll 'd at i (s[i] == '\''): returns the length in bytes
 * or 0. The letters are compared as decoded characters, as llama.cpp does
 * (an overlong form of 's' counts). */
static size_t contraction(const unsigned char *s, size_t n, size_t i, int fold) {
    if (i + 1 >= n) return 0;
    uchar a = char_at(s, n, i + 1);
    uint32_t x = fold && a.cp < 128 ? (uint32_t)lower_ascii(a.cp) : a.cp;
    if (x == 's' || x == 't' || x == 'm' || x == 'd') return 1 + a.len;
    size_t j = i + 1 + a.len;
    if (j >= n) return 0;
    uchar b = char_at(s, n, j);
    uint32_t y = fold && b.cp < 128 ? (uint32_t)lower_ascii(b.cp) : b.cp;
    if ((x == 'r' && y == 'e') || (x == 'v' && y == 'e') || (x == 'l' && y == 'l')) return 1 + a.len + b.len;
    return 0;
}

/* A white-space run at i (s[i] is white space). With stop_at_newline (Llama
 * 3's \s*[\r\n]+) a run containing \r or \n ends after its last one.
 * Otherwise \s+(?!\S): the whole run at the end of the text or when it is
 * one character long, else all but its last character. */
static size_t space_run(const unsigned char *s, size_t n, size_t i, int stop_at_newline) {
    size_t last_start = i, last_nl_end = 0, k = 0;
    while (i < n) {
        uchar u = char_at(s, n, i);
        if (u.cls != UNI_SPACE) break;
        if (u.cp == '\r' || u.cp == '\n') last_nl_end = i + u.len;
        last_start = i;
        i += u.len;
        k++;
    }
    if (stop_at_newline && last_nl_end) return last_nl_end;
    if (k > 1 && i < n) return last_start;
    return i;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static size_t next_gpt2(const unsigned char *s, size_t n, size_t pos) {
    uchar c = char_at(s, n, pos);
    if (c.cp == '\'') {
        size_t k = contraction(s, n, pos, 0);
        if (k) return pos + k;
    }
    size_t start = pos;
    int cls = c.cls;
    if (c.cp == ' ') {
        cls = cls_at(s, n, pos + c.len);
        start = pos + c.len;
    }
    if (cls == UNI_LETTER || cls == UNI_NUMBER || cls == UNI_OTHER) return skip_class(s, n, start, cls);
    return space_run(s, n, pos, 0);
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static size_t next_llama3(const unsigned char *s, size_t n, size_t pos) {
    uchar c = char_at(s, n, pos);
    if (c.cp == '\'') {
        size_t k = contraction(s, n, pos, 1);
        if (k) return pos + k;
    }
    if (c.cp != '\r' && c.cp != '\n' && c.cls != UNI_NUMBER) {
        if (c.cls == UNI_LETTER || cls_at(s, n, pos + c.len) == UNI_LETTER)
            return skip_class(s, n, pos + c.len, UNI_LETTER);
    }
    if (c.cls == UNI_NUMBER) {
        size_t i = pos;
        for (int k = 0; k < 3 && i < n; k++) {
            uchar u = char_at(s, n, i);
            if (u.cls != UNI_NUMBER) break;
            i += u.len;
        }
        return i;
    }
    size_t start = pos;
    int cls = c.cls;
    if (c.cp == ' ') {
        cls = cls_at(s, n, pos + c.len);
        start = pos + c.len;
    }
    if (cls == UNI_OTHER || (cls == -1 && start > pos)) {
        size_t i = skip_class(s, n, start, UNI_OTHER);
        while (i < n && (s[i] == '\r' || s[i] == '\n')) i++;
        return i;
    }
    return space_run(s, n, pos, 1);
}

size_t pretok_next(pretok_kind k, const char *text, size_t n, size_t pos) {
    const unsigned char *s = (const unsigned char *)text;
    size_t end = k == PRETOK_LLAMA3 ? next_llama3(s, n, pos) : next_gpt2(s, n, pos);
    return end > pos ? end : pos + 1;
}
