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
bad=0
check() { # model input [compress options...]
    local m=$1 f=$2; shift 2
    local z="$T/$(basename "$m").$(basename "$f").llmz"
    "$LLMOS" compress "$m" "$f" "$z" -q "$@"
    "$LLMOS" tokenize "$m" --file "$f" --ids > "$T/ids"
    local r; r=$($PY tests/py/compress_ref.py check "$m" "$f" "$z" "$T/ids")
    if ! echo "$r" | $PY -c '
import json, sys
r = json.load(sys.stdin)
c, i = r["coded_bytes"], r["ideal_bytes"]
ok = abs(c - i) <= 0.001 * i + 4
print("%s: %d tokens, coded %d bytes, ideal %.1f (%+.4f%%)" % (sys.argv[1], r["tokens"], c, i, 100 * (c - i) / max(i, 1e-9)))
sys.exit(0 if ok else 1)' "$(basename "$m") $(basename "$f") $*"; then
        echo "  FAIL: more than 0.1% + 4 bytes from the ideal"; bad=$((bad + 1))
    fi
}
for f in "$T"/in/*-byte-41 "$T"/in/*-prose-x10 "$T"/in/*-script-all "$T"/in/*-random-1000; do
    check "$T/m/gqa-q8_0.gguf" "$f"
done
check "$T/m/mqa-f16.gguf" "$(ls "$T"/in/*-prose-x10)" --ctx 40
check "$T/m/mqa-f16.gguf" "$(ls "$T"/in/*-code-python)"
check "$T/m/spm-f32.gguf" "$(ls "$T"/in/*-prose-upper)"
[ "$bad" -eq 0 ]
