#!/usr/bin/env bash
# The sampler (src/infer/sample.c) against a float64 numpy reference of
# llama.cpp's default chain (penalties, top-k, top-p, min-p, temperature)
# on fixed logits, 16 settings: the distribution it draws from equals the
# reference's, and 20000 seeded draws through sampler_sample pass a
# chi-square test against it (tests/py/check_sampler.py, which explains the
# reference). tests/c/sample_dump.c links the sampler as generation does.
set -eu
cd "$ROOT"
CC=${CC:-cc}
SAN=""; [ -n "${LLMOS_ASAN:-}" ] && SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
$CC -std=c11 -D_GNU_SOURCE -O1 -g $SAN -Isrc -o "$T/sample_dump" tests/c/sample_dump.c \
    src/infer/sample.c src/core/common.c -lm
$PY tests/py/check_sampler.py "$T/sample_dump"
