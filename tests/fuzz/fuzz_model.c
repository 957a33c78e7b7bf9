/*
 * fuzz_model.c - libFuzzer harness for everything between a GGUF file and
 * the first logits: the reader, model_load (hyperparameters, tensor names,
 * shapes and types), the tokenizer read from metadata, and a forward pass
 * of two tokens. A file model_load rejects must come back as NULL with a
 * one-line message; a file it accepts must run: the forward gives V logits
 * per position, and the tokenizer encodes a fixed text with valid ids whose
 * decoded pieces concatenate back to the same bytes when the vocabulary has
 * a token for every byte and the ids are all normal or byte tokens
 * (tokenizer.h's promise; a token of another type decodes as llama.cpp
 * decodes it, to its text or to nothing).
 *
 *   make fuzz && build/fuzz_model -runs=100000 CORPUS_DIR
 */
#include "core/common.h"
#include "io/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(c)                                                                    \
    do {                                                                            \
        if (!(c)) {                                                                 \
            fprintf(stderr, "fuzz_model: broken promise at %s:%d: %s\n", __FILE__, \
                    __LINE__, #c);                                                  \
            abort();                                                                \
        }                                                                           \
    } while (0)

static int g_fd = -1;
static char g_path[64];
volatile float g_sink;

/* GPT-2's printable character for byte b, as UTF-8. */
static void gpt2_byte_char(int b, char out[4]) {
    int cp = b;
    if (!((b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff))) {
        int n = 0;
        for (int i = 0; i < b; i++)
            if (!((i >= '!' && i <= '~') || (i >= 0xa1 && i <= 0xac) || (i >= 0xae && i <= 0xff))) n++;
        cp = 256 + n;
    }
    if (cp < 0x80) out[0] = (char)cp, out[1] = 0;
    else out[0] = (char)(0xc0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3f)), out[2] = 0;
}

/* Only a vocabulary with a token for every byte can encode any text
 * losslessly (llama.cpp, too, drops bytes it has no token for). */
static int has_all_bytes(const tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        char s[8];
        if (tok_get_kind(t) == TOK_GPT2) gpt2_byte_char(b, s);
        else snprintf(s, sizeof s, "<0x%02X>", b);
        if (tok_find(t, s) < 0) return 0;
    }
    return 1;
}

static void check_tokenizer(const tokenizer *t) {
    static const char text[] = "Hello, world! 12 caf\xc3\xa9 \xff\xfe\n\tx";
    const size_t len = sizeof text - 1;
    int *ids = NULL;
    size_t n = tok_encode(t, text, len, 0, 0, &ids);
    char out[4 * sizeof text];
    size_t pos = 0;
    int plain = 1; /* only normal and byte tokens: their pieces are the bytes */
    for (size_t i = 0; i < n; i++) {
        CHECK(ids[i] >= 0 && ids[i] < tok_vocab_size(t));
        int ty = tok_type(t, ids[i]);
        CHECK(ty >= 0 && ty <= 6);
        if (ty != 1 && ty != 6) plain = 0;
        size_t plen = 0;
        const char *p = tok_decode(t, ids[i], &plen);
        CHECK(p != NULL && pos + plen <= sizeof out);
        memcpy(out + pos, p, plen);
        pos += plen;
    }
    if (plain && has_all_bytes(t)) CHECK(pos == len && !memcmp(out, text, len));
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_fd < 0) {
        g_fd = memfd_create("fuzz_model.gguf", 0);
        CHECK(g_fd >= 0);
        snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
        model_set_threads(1);
    }
    CHECK(ftruncate(g_fd, 0) == 0);
    CHECK(pwrite(g_fd, data, size, 0) == (ssize_t)size);
    model *m = model_load(g_path);
    if (!m) {
        const char *msg = err_msg();
        CHECK(msg && *msg && !strchr(msg, '\n'));
        return 0;
    }
    const model_config *c = &m->cfg;
    CHECK(c->dim > 0 && c->n_layers > 0 && c->n_heads > 0 && c->n_kv_heads > 0);
    CHECK(c->n_heads % c->n_kv_heads == 0 && c->vocab_size > 0);
    /* a forward pass only for small models: the fuzzer may make big ones */
    if ((int64_t)c->dim * c->vocab_size < (1 << 22) && (int64_t)c->dim * c->ffn_dim < (1 << 22) &&
        c->n_layers <= 8) {
        model_state *s = model_state_new(m, 4, 2);
        int toks[2] = {0, c->vocab_size - 1};
        const float *lg = model_forward(m, s, toks, 2, 0, 1);
        CHECK(lg != NULL);
        g_sink += lg[0] + lg[2 * c->vocab_size - 1];
        model_state_free(s);
    }
    if (m->tok) check_tokenizer(m->tok);
    model_free(m);
    return 0;
}
