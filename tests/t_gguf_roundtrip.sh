#!/usr/bin/env bash
# t_gguf_roundtrip.sh - llmos's GGUF reader/writer against an independent
# numpy implementation (tests/py/gguf_py.py):
#  1. reading then writing (tests/c/gguf_copy.c: gguf_open +
#     gguf_writer_from_file + save) gives the same bytes, for python-written
#     files with every metadata type, every tensor type, 1-4 dims,
#     alignment 32 and 64, and for llama models with a tokenizer;
#  2. `llmos quantize X-f32.gguf OUT f32` reproduces X-f32.gguf byte for byte;
#  3. `llmos quantize X-f32.gguf OUT T` for T in f16 bf16 q8_0 q4_0 gives the
#     same bytes as gguf_py's own quantizers (both follow ggml's reference
#     rounding), also on values placed on every type's rounding edges
#     (gen_model.py --ties), and quantizing a T file to T again changes
#     nothing.
set -eu
cd "$ROOT"
CC=${CC:-cc}
SAN=""; [ -n "${LLMOS_ASAN:-}" ] && SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
$CC -std=c11 -D_GNU_SOURCE -O1 -g $SAN -Isrc -o "$T/gguf_copy" tests/c/gguf_copy.c \
    src/io/gguf.c src/core/common.c src/core/types.c -lm
$PY tests/fuzz/seeds.py "$T/seeds"
$PY tests/py/gen_model.py "$T/m"
fail=0
check() { # what file1 file2
    if cmp -s "$2" "$3"; then echo "same bytes: $1"; else echo "DIFFERENT: $1 ($(cmp "$2" "$3" 2>&1 | head -1))"; fail=1; fi
}
for f in "$T"/seeds/{empty,kv,tensors,align64,llama}.gguf "$T"/m/*.gguf; do
    "$T/gguf_copy" "$f" "$T/copy.gguf"
    check "read+write $(basename "$f")" "$f" "$T/copy.gguf"
done
for c in gqa mqa mha; do
    "$LLMOS" quantize "$T/m/$c-f32.gguf" "$T/q.gguf" f32 2>/dev/null
    check "quantize $c-f32 -> f32" "$T/m/$c-f32.gguf" "$T/q.gguf"
    for t in f16 bf16 q8_0 q4_0; do
        "$LLMOS" quantize "$T/m/$c-f32.gguf" "$T/q.gguf" "$t" 2>/dev/null
        check "quantize $c-f32 -> $t vs numpy quantizer" "$T/m/$c-$t.gguf" "$T/q.gguf"
        "$LLMOS" quantize "$T/m/$c-$t.gguf" "$T/q.gguf" "$t" 2>/dev/null
        check "quantize $c-$t -> $t" "$T/m/$c-$t.gguf" "$T/q.gguf"
    done
done
$PY tests/py/gen_model.py --ties "$T/ties"
for t in f16 bf16 q8_0 q4_0; do
    "$LLMOS" quantize "$T/ties/ties-f32.gguf" "$T/q.gguf" "$t" 2>/dev/null
    check "quantize rounding edges f32 -> $t vs numpy quantizer" "$T/ties/ties-$t.gguf" "$T/q.gguf"
done
exit $fail
