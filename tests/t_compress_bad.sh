#!/usr/bin/env bash
# t_compress_bad.sh - `llmos decompress` refuses what it cannot decode
# exactly, with one line on stderr, exit 1, and no output file (nor a
# temporary left beside it): truncated files (at 12 places, down to empty),
# single bytes changed in the header and in the coded data (at 16 places),
# bytes appended, foreign files (text, a GGUF, gzip, random bytes), a newer
# format version, and a file compressed with another model. `llmos
# compress` refuses a model whose tokenizer cannot represent every byte
# (a SentencePiece vocabulary without byte tokens) and a missing input.
set -eu
cd "$ROOT"
$PY tests/py/compress_ref.py models "$T/m"
M=$T/m/micro-f32.gguf
head -c 30000 README.md > "$T/orig"
head -c 3000 /dev/urandom >> "$T/orig"
"$LLMOS" compress "$M" "$T/orig" "$T/good" -q --chunk 8K
"$LLMOS" decompress "$M" "$T/good" "$T/back" -q
cmp "$T/orig" "$T/back"
size=$(stat -c %s "$T/good")
bad=0 n=0
# refuse NAME EXPECTED_TEXT CMD...: CMD must fail with one line containing the text and leave no $T/out*
refuse() {
    local name=$1 want=$2 rc=0; shift 2
    rm -f "$T"/out*
    "$@" >"$T/stdout" 2>"$T/err" || rc=$?
    n=$((n + 1))
    if [ "$rc" -ne 1 ] || [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -qF -- "$want" "$T/err" ||
        grep -qE 'Sanitizer|runtime error' "$T/err" || ls "$T"/out* >/dev/null 2>&1; then
        echo "$name: exit $rc, expected one line with '$want' and no output:"; head -n 3 "$T/err"
        ls "$T"/out* 2>/dev/null || true
        bad=$((bad + 1))
    fi
}
dec() { refuse "$1" "$2" "$LLMOS" decompress "${3:-$M}" "$T/in" "$T/out" -q; }
for cut in 0 1 4 5 20 37 40 50 $((size / 2)) $((size - 100)) $((size - 2)) $((size - 1)); do
    head -c "$cut" "$T/good" > "$T/in"
    dec "truncated at $cut" "$T/in"
done
hdr=$($PY -c '
import sys; sys.path.insert(0, "tests/py"); import compress_ref
print(compress_ref.read_header(open(sys.argv[1], "rb").read())["header_bytes"])' "$T/good")
for pos in 4 6 40 $((hdr - 1)) $((hdr - 6)) $hdr $((hdr + 1)) $((hdr + 7)) $((hdr + 100)) $((hdr + 1000)) \
           $((size / 3)) $((size / 2)) $((size * 2 / 3)) $((size - 300)) $((size - 60)) $((size - 8)); do
    $PY -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); p = int(sys.argv[2]); b[p] ^= 0x5a
open(sys.argv[3], "wb").write(b)' "$T/good" "$pos" "$T/in"
    dec "byte $pos changed" "$T/in"
done
{ cat "$T/good"; printf 'x'; } > "$T/in"; dec "a byte appended" "unknown data after"
cp README.md "$T/in"; dec "a text file" "not a file of llmos compress"
cp "$M" "$T/in"; dec "a GGUF file" "not a file of llmos compress"
gzip -c README.md > "$T/in"; dec "gzip" "not a file of llmos compress"
head -c 5000 /dev/urandom > "$T/in"; dec "random bytes" "$T/in"
$PY -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[4] = 2
open(sys.argv[2], "wb").write(b)' "$T/good" "$T/in"
dec "version 2" "format version 2"
cp "$T/good" "$T/in"; dec "another model" "compressed with another model" "$T/m/gqa-q8_0.gguf"
refuse "no byte tokens" "cannot represent the byte" "$LLMOS" compress "$T/m/spm-nobytes.gguf" "$T/orig" "$T/out" -q
refuse "missing input" "$T/nothere" "$LLMOS" compress "$M" "$T/nothere" "$T/out" -q
echo "$n bad inputs tried, $bad not refused as they should be"
[ "$bad" -eq 0 ]
