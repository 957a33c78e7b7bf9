/*
 * chat.c - the chat template (see chat.h): rendering to text, the Jinja
 * source for GGUF files, and encoding to tokens with the assistant mask.
 */
#include "chat.h"

#include "../core/common.h"

#include <stdlib.h>
#include <string.h>

static const char *const g_role_names[CHAT_N_ROLES] = {"system", "user", "assistant", "tool"};
static const char *const g_role_tokens[CHAT_N_ROLES] = {"<|system|>", "<|user|>",
                                                        "<|assistant|>", "<|tool|>"};

/* The Jinja form of the template. Whitespace control ({%- -%}) keeps the
 * output free of the template's own line breaks. */
static const char g_jinja[] =
    "{%- for message in messages -%}"
    "{{- '<|' + message['role'] + '|>' + message['content'] + '" CHAT_EOT_TOKEN "' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|' + 'assistant' + '|>' -}}"
    "{%- endif -%}";

const char *chat_role_name(chat_role r) {
    LLMOS_ASSERT(r >= 0 && r < CHAT_N_ROLES);
    return g_role_names[r];
}

int chat_role_parse(const char *s) {
    for (int r = 0; r < CHAT_N_ROLES; r++)
        if (!strcmp(s, g_role_names[r])) return r;
    return -1;
}

const char *chat_role_token(chat_role r) {
    LLMOS_ASSERT(r >= 0 && r < CHAT_N_ROLES);
    return g_role_tokens[r];
}

const char *chat_template_jinja(void) { return g_jinja; }

void chat_template_to_gguf(gguf_writer *w) { gguf_set_str(w, CHAT_TEMPLATE_KEY, g_jinja); }

int chat_template_check(const gguf_file *g) {
    const char *s = gguf_get_str(g, CHAT_TEMPLATE_KEY);
    if (!s) return -1;
    return strcmp(s, g_jinja) == 0;
}

char *chat_render(const chat_msg *m, int n, int add_generation_prompt, size_t *len) {
    size_t total = 1 + (add_generation_prompt ? strlen(g_role_tokens[CHAT_ASSISTANT]) : 0);
    for (int i = 0; i < n; i++)
        total += strlen(chat_role_token(m[i].role)) + strlen(m[i].content) + strlen(CHAT_EOT_TOKEN);
    char *s = xmalloc(total), *p = s;
    for (int i = 0; i < n; i++) {
        p = stpcpy(p, chat_role_token(m[i].role));
        p = stpcpy(p, m[i].content);
        p = stpcpy(p, CHAT_EOT_TOKEN);
    }
    if (add_generation_prompt) p = stpcpy(p, g_role_tokens[CHAT_ASSISTANT]);
    *p = 0;
    if (len) *len = (size_t)(p - s);
    return s;
}

int chat_format_init(chat_format *f, const tokenizer *t) {
    memset(f, 0, sizeof *f);
    f->tok = t;
    for (int r = 0; r < CHAT_N_ROLES; r++) {
        f->role[r] = tok_find(t, g_role_tokens[r]);
        if (f->role[r] < 0)
            return err_set("tokenizer has no '%s' token (chat needs the role tokens of a "
                           "tokenizer trained by llmos)",
                           g_role_tokens[r]);
    }
    f->eot = tok_find(t, CHAT_EOT_TOKEN);
    if (f->eot < 0)
        return err_set("tokenizer has no '%s' token (chat needs the role tokens of a "
                       "tokenizer trained by llmos)",
                       CHAT_EOT_TOKEN);
    f->bos = tok_add_bos(t) ? tok_bos(t) : -1;
    return 0;
}

void chat_tokens_clear(chat_tokens *ct) { ct->n = 0; }

void chat_tokens_free(chat_tokens *ct) {
    free(ct->ids);
    free(ct->train);
    memset(ct, 0, sizeof *ct);
}

static void reserve(chat_tokens *ct, size_t extra) {
    if (ct->n + extra <= ct->cap) return;
    size_t cap = ct->cap ? ct->cap : 256;
    while (cap < ct->n + extra) cap *= 2;
    ct->ids = xrealloc(ct->ids, cap * sizeof *ct->ids);
    ct->train = xrealloc(ct->train, cap);
    ct->cap = cap;
}

void chat_tokens_push(chat_tokens *ct, int id, int train) {
    reserve(ct, 1);
    ct->ids[ct->n] = id;
    ct->train[ct->n] = train ? 1 : 0;
    ct->n++;
}

void chat_encode_msg(const chat_format *f, chat_tokens *ct, const chat_msg *m) {
    int learn = m->role == CHAT_ASSISTANT;
    chat_tokens_push(ct, f->role[m->role], 0);
    int *ids = NULL;
    size_t n = tok_encode(f->tok, m->content, strlen(m->content), 0, 0, &ids);
    reserve(ct, n + 1);
    memcpy(ct->ids + ct->n, ids, n * sizeof *ids);
    memset(ct->train + ct->n, learn, n);
    ct->n += n;
    free(ids);
    chat_tokens_push(ct, f->eot, learn);
}

void chat_encode_gen_prompt(const chat_format *f, chat_tokens *ct) {
    chat_tokens_push(ct, f->role[CHAT_ASSISTANT], 0);
}

size_t chat_encode(const chat_format *f, const chat_msg *m, int n, int add_generation_prompt,
                   chat_tokens *ct) {
    chat_tokens_clear(ct);
    if (f->bos >= 0) chat_tokens_push(ct, f->bos, 0);
    for (int i = 0; i < n; i++) chat_encode_msg(f, ct, &m[i]);
    if (add_generation_prompt) chat_encode_gen_prompt(f, ct);
    return ct->n;
}
