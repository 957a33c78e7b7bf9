/* test_tok_bad.c - tokenizer metadata that is wrong gives NULL and a
 * one-line message naming the problem, never a crash: no tokenizer,
 * unknown model or pre-tokenizer, tokens of the wrong type, token_type or
 * scores of the wrong length, special ids past the vocabulary, a merge that
 * is not two tokens, no merges for gpt2. A good file loads. */
#include "core/common.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_fail;

enum { GOOD, NO_MODEL, BAD_MODEL, BAD_PRE, NO_TOKENS, INT_TOKENS, SHORT_TYPES, SHORT_SCORES, BOS_RANGE,
       BAD_MERGE, NO_MERGES, STRING_TYPES, N_CASES };
static const char *const g_names[N_CASES] = {"good", "no model", "bad model", "bad pre", "no tokens",
                                             "int tokens", "short types", "short scores", "bos range",
                                             "bad merge", "no merges", "string types"};
static const char *const g_expect[N_CASES] = {NULL, "tokenizer.ggml.model", "unsupported tokenizer model",
                                              "pre-tokenizer", "tokens", "tokenizer.ggml.tokens",
                                              "token_type", "scores", "out of range", "merge",
                                              "merges", "token_type"};

static tokenizer *load_case(int c, const char *path) {
    static const char *const tokens[] = {"a", "b", "ab", "<|end|>"};
    int32_t types[] = {1, 1, 1, 3};
    float scores[] = {0, 0, -1, 0};
    const char *merges[] = {"a b"};
    gguf_writer *w = gguf_writer_new();
    if (c != NO_MODEL) gguf_set_str(w, "tokenizer.ggml.model", c == BAD_MODEL ? "wordpiece" : "gpt2");
    gguf_set_str(w, "tokenizer.ggml.pre", c == BAD_PRE ? "klingon" : "llama-bpe");
    if (c == INT_TOKENS) gguf_set_arr(w, "tokenizer.ggml.tokens", GGUF_I32, types, 4);
    else if (c != NO_TOKENS) gguf_set_arr_str(w, "tokenizer.ggml.tokens", tokens, NULL, 4);
    if (c == STRING_TYPES) gguf_set_arr_str(w, "tokenizer.ggml.token_type", tokens, NULL, 4);
    else gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_I32, types, c == SHORT_TYPES ? 3 : 4);
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_F32, scores, c == SHORT_SCORES ? 2 : 4);
    if (c == BAD_MERGE) {
        const char *bad[] = {"ab"};
        gguf_set_arr_str(w, "tokenizer.ggml.merges", bad, NULL, 1);
    } else if (c != NO_MERGES) gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, NULL, 1);
    gguf_set_u32(w, "tokenizer.ggml.bos_token_id", c == BOS_RANGE ? 4 : 3);
    gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 3);
    int rc = gguf_writer_save(w, path);
    gguf_writer_free(w);
    if (rc) return NULL;
    gguf_file *g = gguf_open(path);
    if (!g) return NULL;
    tokenizer *t = tok_from_gguf(g);
    gguf_close(g);
    return t;
}

int main(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_tok_bad.%d.gguf", (int)getpid());
    for (int c = 0; c < N_CASES; c++) {
        err_set("(none)");
        tokenizer *t = load_case(c, path);
        if (c == GOOD) {
            int *ids;
            size_t n = t ? tok_encode(t, "abab<|end|>", 11, 0, 1, &ids) : 0;
            if (!t || n != 3 || ids[0] != 2 || ids[1] != 2 || ids[2] != 3) {
                printf("FAIL good file: %s\n", t ? "wrong ids" : err_msg());
                g_fail++;
            }
            if (t) free(ids);
            if (t && tok_eot(t) != 3) {
                printf("FAIL good file: end of turn not found by its text\n");
                g_fail++;
            }
        } else if (t) {
            printf("FAIL %s: loaded\n", g_names[c]);
            g_fail++;
        } else if (!strstr(err_msg(), g_expect[c]) || strchr(err_msg(), '\n')) {
            printf("FAIL %s: message '%s' does not mention '%s'\n", g_names[c], err_msg(), g_expect[c]);
            g_fail++;
        }
        tok_free(t);
    }
    unlink(path);
    return g_fail != 0;
}
