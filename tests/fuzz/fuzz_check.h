/*
 * fuzz_check.h - the harnesses' CHECK: a broken promise is a finding, so it
 * prints where and aborts (libFuzzer then keeps the input).
 */
#ifndef LLMOS_FUZZ_CHECK_H
#define LLMOS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "%s: broken promise at %s:%d: %s\n", FUZZ_NAME, __FILE__, __LINE__, #c); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#endif
