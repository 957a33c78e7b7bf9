/*
 * pretok.h - regex pre-tokenizers: split text into the pieces BPE merges
 * within, exactly as the reference regexes do (including on invalid UTF-8,
 * where each invalid byte is treated as a single non-letter, non-number,
 * non-space character).
 *
 * Text is decoded as llama.cpp decodes it (unicode.h: overlong forms and
 * surrogates count as the codepoint they spell) and classified with the
 * Unicode tables llama.cpp uses (\p{L}, \p{N}, \s = White_Space), so the
 * pieces are llama.cpp's on any bytes (tests/t_tok_bytes.sh). Reentrant.
 *
 *   PRETOK_GPT2   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   PRETOK_LLAMA3 (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *                 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *                 (GPT-4 style; llama.cpp's "llama-bpe" pre-tokenizer)
 */
#ifndef LLMOS_PRETOK_H
#define LLMOS_PRETOK_H

#include <stddef.h>

typedef enum { PRETOK_GPT2, PRETOK_LLAMA3 } pretok_kind;

/* Returns the end (exclusive) of the piece that starts at pos < n. */
size_t pretok_next(pretok_kind k, const char *s, size_t n, size_t pos);

#endif
