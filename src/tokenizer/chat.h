/*
 * chat.h - the chat template: how a conversation becomes the text and the
 * tokens a model is trained on and prompted with.
 *
 * One turn is the role's special token, the content as ordinary text, and
 * the end-of-turn token, with nothing in between:
 *
 *   <|system|>You are helpful.<|end_of_turn|><|user|>Hi<|end_of_turn|>
 *   <|assistant|>Hello!<|end_of_turn|>          (one line in reality)
 *
 * A prompt for the next reply ends with "<|assistant|>" (the generation
 * prompt); the model writes the content and closes it with <|end_of_turn|>.
 * The beginning-of-text token is not part of the template: the tokenizer
 * adds it (tokenizer.ggml.add_bos_token), as llama.cpp does when it
 * tokenizes a rendered prompt.
 *
 * The same format is stored in a GGUF as `tokenizer.chat_template`, in the
 * Jinja form llama.cpp (and node-llama-cpp, Ollama, transformers) render,
 * so a model trained here chats the same way there. The role tokens are
 * written as '<|' + role + '|>' in the Jinja text on purpose: llama.cpp's
 * fallback (non-Jinja) path guesses a format from literal substrings and
 * would otherwise mistake this template for GLM-Edge's.
 *
 * Tokens. Content is tokenized without parsing special tokens, so a user
 * who types "<|assistant|>" gets ordinary text, never a role switch (this
 * equals llama.cpp's tokenization of the rendered text, which splits at
 * special tokens first, whenever the content holds no special-token text).
 * chat_encode marks the tokens the model must learn to produce: the
 * content of assistant turns and the end-of-turn that closes them.
 *
 * Ownership: chat_render returns a malloc'd string (caller frees).
 * chat_tokens owns its arrays (chat_tokens_free). A chat_format borrows its
 * tokenizer.
 */
#ifndef LLMOS_CHAT_H
#define LLMOS_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "../io/gguf.h"
#include "tokenizer.h"

#define CHAT_TEMPLATE_KEY "tokenizer.chat_template"

typedef enum { CHAT_SYSTEM, CHAT_USER, CHAT_ASSISTANT, CHAT_TOOL, CHAT_N_ROLES } chat_role;

typedef struct {
    chat_role role;
    const char *content; /* NUL-terminated UTF-8 */
} chat_msg;

/* "system", "user", "assistant", "tool". */
const char *chat_role_name(chat_role r);
/* The role named s, or -1. */
int chat_role_parse(const char *s);
/* The special token of a role: "<|user|>". */
const char *chat_role_token(chat_role r);
#define CHAT_EOT_TOKEN "<|end_of_turn|>"

/* The Jinja source stored as tokenizer.chat_template. */
const char *chat_template_jinja(void);
/* Sets tokenizer.chat_template on a tokenizer or model GGUF being written. */
void chat_template_to_gguf(gguf_writer *w);
/* 1 when the file's stored template is exactly ours, 0 when it holds
 * another one, -1 when it holds none. */
int chat_template_check(const gguf_file *g);

/* The text of n messages (what the Jinja template renders for them), with
 * "<|assistant|>" appended when add_generation_prompt. Malloc'd; length in
 * *len when len is not NULL. */
char *chat_render(const chat_msg *m, int n, int add_generation_prompt, size_t *len);

/* The token ids of the template's special tokens in one vocabulary. */
typedef struct {
    const tokenizer *tok;
    int role[CHAT_N_ROLES];
    int eot;
    int bos; /* -1 when the tokenizer adds none */
} chat_format;

/* Looks the special tokens up. -1 with err_set ("tokenizer has no
 * '<|user|>' token ...") when the vocabulary lacks one. */
int chat_format_init(chat_format *f, const tokenizer *t);

/* A growing token sequence with, per token, 1 when it is a token the
 * assistant produces (content of an assistant turn or its end of turn). */
typedef struct {
    int *ids;
    uint8_t *train;
    size_t n, cap;
} chat_tokens;

void chat_tokens_clear(chat_tokens *ct); /* n = 0, keeps the buffers */
void chat_tokens_free(chat_tokens *ct);
void chat_tokens_push(chat_tokens *ct, int id, int train);

/* Appends one whole turn: role token, content, end of turn. */
void chat_encode_msg(const chat_format *f, chat_tokens *ct, const chat_msg *m);
/* Appends the generation prompt (the assistant role token). */
void chat_encode_gen_prompt(const chat_format *f, chat_tokens *ct);
/* Clears ct and encodes a conversation: BOS (when the tokenizer adds one),
 * every message, and the generation prompt when asked. Returns ct->n. */
size_t chat_encode(const chat_format *f, const chat_msg *m, int n, int add_generation_prompt,
                   chat_tokens *ct);

#endif
