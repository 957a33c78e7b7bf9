/*
 * tok_pieces.c - test helper: the piece (tok_decode) of every token of a
 * GGUF file's tokenizer, one per line as hex bytes (an empty line for an
 * empty piece), so that a test can compare them with llama.cpp's.
 *
 *   cc -Isrc tests/c/tok_pieces.c src/tokenizer/\*.c src/io/gguf.c src/core/common.c src/core/types.c -fopenmp -lcjson -lm
 *   ./a.out MODEL.gguf
 */
#include "core/common.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: tok_pieces MODEL.gguf\n");
        return 2;
    }
    gguf_file *g = gguf_open(argv[1]);
    tokenizer *t = g ? tok_from_gguf(g) : NULL;
    if (!t) {
        fprintf(stderr, "tok_pieces: %s\n", err_msg());
        if (g) gguf_close(g);
        return 1;
    }
    for (int id = 0; id < tok_vocab_size(t); id++) {
        size_t n;
        const unsigned char *p = (const unsigned char *)tok_decode(t, id, &n);
        for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
        putchar('\n');
    }
    tok_free(t);
    gguf_close(g);
    return 0;
}
