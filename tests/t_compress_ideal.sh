#!/usr/bin/env bash
# t_compress_ideal.sh - `llmos compress` codes within 0.1% + 4 bytes of the
# model's ideal code length, the sum of -log2 p over the tokens, computed
# independently: tests/py/compress_ref.py runs the float64 PyTorch forward
# of tests/py/ref_llama.py over the context windows compress.h defines
# (primer, sliding by half a window), reading the header from the format's
# definition (SHA-256 of the model and CRC-32s checked with hashlib and
# zlib). Models: GQA with q8_0 weights, MQA with f16 and a tied output,
# and a SentencePiece vocabulary; inputs from 1 to ~3700 tokens, so that
# the window slides several times (context 128, and 40 to slide more often).
set -eu
cd "$ROOT"
$PY tests/py/compress_ref.py models "$T/m"
$PY tests/py/compress_ref.py inputs "$T/in" >/dev/null
: > "$T/list"
n=0
add() { # model input [compress options...]
    local m=$1 f=$2; shift 2
    n=$((n + 1))
    "$LLMOS" compress "$m" "$f" "$T/$n.llmz" -q "$@"
    "$LLMOS" tokenize "$m" --file "$f" --ids > "$T/$n.ids"
    echo "$m $f $T/$n.llmz $T/$n.ids $(basename "$m") $(basename "$f") $*" >> "$T/list"
}
for f in "$T"/in/*-byte-41 "$T"/in/*-prose-x10 "$T"/in/*-script-all "$T"/in/*-random-1000; do
    add "$T/m/gqa-q8_0.gguf" "$f"
done
add "$T/m/mqa-f16.gguf" "$(ls "$T"/in/*-prose-x10)" --ctx 40
add "$T/m/mqa-f16.gguf" "$(ls "$T"/in/*-code-python)"
add "$T/m/spm-f32.gguf" "$(ls "$T"/in/*-prose-upper)"
$PY tests/py/compress_ref.py check "$T/list"
