/*
 * tokenizer.h - text <-> token ids, for every tokenizer llmos reads or
 * trains. One module serves the engine (vocabularies read from GGUF
 * metadata), the trainer (tokenizers it learns) and the data tools.
 *
 * Two kinds, as llama.cpp names them in `tokenizer.ggml.model`:
 *   "gpt2"   byte-level BPE: tokens + merges, a regex pre-tokenizer chosen by
 *            `tokenizer.ggml.pre` ("gpt2", or "llama-bpe" for the GPT-4
 *            style pattern our trainer uses), bytes mapped to printable
 *            unicode as GPT-2 does.
 *   "llama"  SentencePiece BPE: tokens with scores, byte fallback <0xNN>,
 *            a leading space added and spaces shown as U+2581.
 * Special and control tokens (token_type 3) are matched in the input only
 * when the caller asks (parse_special), as llama.cpp does.
 *
 * Ownership: tok_from_gguf copies what it needs; the gguf_file may be
 * closed afterwards. The caller frees a tokenizer with tok_free.
 */
#ifndef LLMOS_TOKENIZER_H
#define LLMOS_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../io/gguf.h"
#include "pretok.h"

typedef struct tokenizer tokenizer;

typedef enum { TOK_GPT2, TOK_LLAMA } tok_kind;

/* Reads tokenizer.ggml.* metadata. NULL with err_set when absent or bad. */
tokenizer *tok_from_gguf(const gguf_file *g);
void tok_free(tokenizer *t);
/* Writes the tokenizer.ggml.* keys (and chat template, if any) so that
 * tok_from_gguf and llama.cpp read the same tokenizer back. */
void tok_to_gguf(const tokenizer *t, gguf_writer *w);

tok_kind tok_get_kind(const tokenizer *t);
int tok_vocab_size(const tokenizer *t);
int tok_bos(const tokenizer *t);  /* -1 when none */
int tok_eos(const tokenizer *t);  /* end of text; -1 when none */
int tok_eot(const tokenizer *t);  /* end of turn: tokenizer.ggml.eot_token_id, else a token
                                   * named like one (<|eot_id|>, <|im_end|>... as llama.cpp
                                   * looks for them), else eos */
int tok_add_bos(const tokenizer *t); /* tokenizer.ggml.add_bos_token */
/* Id of a token by its exact text ("<|user|>"), -1 if absent. */
int tok_find(const tokenizer *t, const char *text);
/* 1 for control/special tokens (never produced from ordinary text). */
int tok_is_special(const tokenizer *t, int id);

/* Encodes len bytes of text. With add_bos the BOS token (if the vocabulary
 * has one) comes first. With parse_special, the text of special tokens
 * becomes those tokens; otherwise it is tokenized as ordinary text.
 * Returns the number of ids and stores a malloc'd array in *ids (caller
 * frees); never fails on any byte sequence. */
size_t tok_encode(const tokenizer *t, const char *text, size_t len, int add_bos,
                  int parse_special, int **ids);

/* The bytes that token id stands for when decoding, by its token_type as
 * llama.cpp's token_to_piece gives them with special tokens shown: normal
 * and byte tokens decode to their bytes (GPT-2's byte map and
 * SentencePiece's U+2581 and <0xNN> undone), control, unknown and
 * user-defined tokens to their text, unused and undefined tokens to
 * nothing. Returns a pointer owned by the tokenizer and the length in *len.
 * Concatenating pieces gives back the encoded bytes exactly when every id
 * is a normal or byte token (the encoder, like llama.cpp's, uses a token
 * by its text whatever its type, so a vocabulary that marks a byte token
 * "control" does not round-trip, in llama.cpp either). */
const char *tok_decode(const tokenizer *t, int id, size_t *len);
/* The token's text as stored in the vocabulary. */
const char *tok_text(const tokenizer *t, int id);


/* ---- Building and inspecting (importers, trainers, tools) ---- */

/* A vocabulary to build a tokenizer from. Strings are copied; lens may be
 * NULL for NUL-terminated texts; types/scores may be NULL (all normal, no
 * scores). merges ("left right", gpt2 only) in rank order. Ids are -1 when
 * absent. pre is the tokenizer.ggml.pre name (gpt2), NULL for "gpt-2". */
typedef struct {
    tok_kind kind;
    const char *pre;
    int n_vocab;
    const char *const *tokens;
    const uint32_t *lens;
    const int32_t *types;
    const float *scores;
    int n_merges;
    const char *const *merges;
    int bos, eos, eot, unk, pad;
    int add_bos, add_eos;
    const char *chat_template;
} tok_spec;

/* NULL with err_set when the vocabulary is inconsistent (a merge naming an
 * unknown token, an id out of range, a missing byte token). */
tokenizer *tok_new(const tok_spec *spec);

/* tok_encode on n_threads threads: long texts are cut at places where the
 * pre-tokenizer necessarily starts a new piece, so the ids are the same
 * as with one thread. */
size_t tok_encode_mt(const tokenizer *t, const char *text, size_t len, int add_bos,
                     int parse_special, int **ids, int n_threads);

/* The pre-tokenizer of a gpt2 tokenizer and its name in the file. */
pretok_kind tok_get_pretok(const tokenizer *t);
const char *tok_pre_name(const tokenizer *t);
int tok_n_merges(const tokenizer *t);
/* token_type of id (1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte). */
int tok_type(const tokenizer *t, int id);

#endif
