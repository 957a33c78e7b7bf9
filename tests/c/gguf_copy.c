/*
 * gguf_copy.c - test helper: reads a GGUF with llmos's reader and writes it
 * back with llmos's writer (gguf_writer_from_file), so that a test can check
 * that reading then writing gives the same bytes.
 *
 *   cc -Isrc tests/c/gguf_copy.c src/io/gguf.c src/core/common.c src/core/types.c -lm
 *   ./a.out IN.gguf OUT.gguf
 */
#include "core/common.h"
#include "io/gguf.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: gguf_copy IN.gguf OUT.gguf\n");
        return 2;
    }
    gguf_file *g = gguf_open(argv[1]);
    if (!g) {
        fprintf(stderr, "gguf_copy: %s\n", err_msg());
        return 1;
    }
    gguf_writer *w = gguf_writer_from_file(g, 1);
    int rc = gguf_writer_save(w, argv[2]);
    if (rc) fprintf(stderr, "gguf_copy: %s\n", err_msg());
    gguf_writer_free(w);
    gguf_close(g);
    return rc ? 1 : 0;
}
