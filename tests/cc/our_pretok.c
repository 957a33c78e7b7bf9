/* our_pretok.c - llmos's pre-tokenizer (pretok_next) over the same framed
 * cases as lcpp_pretok.cpp, printing the same kind of lines, for the tests
 * that compare the two on bytes that are not UTF-8. */
#include "tokenizer/pretok.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    pretok_kind k = strcmp(argv[1], "gpt2") ? PRETOK_LLAMA3 : PRETOK_GPT2;
    uint32_t n;
    while (fread(&n, 4, 1, stdin) == 1) {
        char *s = malloc(n + 1);
        if (n && fread(s, 1, n, stdin) != n) return 1;
        for (size_t pos = 0; pos < n;) {
            size_t end = pretok_next(k, s, n, pos);
            printf(pos ? ",%zu" : "%zu", end);
            pos = end;
        }
        printf("\n");
        free(s);
    }
    return 0;
}
