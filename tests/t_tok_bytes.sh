#!/usr/bin/env bash
# t_tok_bytes.sh - text that is not UTF-8 (stray continuation bytes,
# truncated sequences, overlong forms, surrogates, NUL, bytes F8..FF): our
# pre-tokenizers cut it exactly where llama.cpp's do. The reference is
# llama.cpp's own src/unicode.cpp, taken from the llama.cpp source that npm
# node-llama-cpp bundles (JavaScript strings cannot carry such bytes to
# llama.cpp through node-llama-cpp) and compiled here with a small driver
# (tests/cc/lcpp_pretok.cpp). llama.cpp then encodes each invalid byte as
# U+FFFD; llmos keeps the byte itself (a byte token), so decoding gives the
# input back (test_tok_roundtrip checks that).
set -eu
cd "$ROOT"
bundle=tests/oracle/node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -f "$bundle" ] || { echo "node-llama-cpp's llama.cpp source bundle missing (scripts/install-deps.sh)"; exit 1; }
git clone -q --no-checkout "$bundle" "$T/lc"
mkdir -p "$T/src"
for f in unicode.cpp unicode.h unicode-data.cpp unicode-data.h; do git -C "$T/lc" show "HEAD:src/$f" > "$T/src/$f"; done
g++ -O1 -std=c++17 -I"$T/src" tests/cc/lcpp_pretok.cpp "$T/src/unicode.cpp" "$T/src/unicode-data.cpp" -o "$T/lcpp_pretok"
gcc -O2 -std=c11 -Isrc tests/cc/our_pretok.c src/tokenizer/pretok.c src/tokenizer/unicode.c src/tokenizer/unicode_table.c \
    -o "$T/our_pretok"
$PY tests/py/make_bytes_cases.py "$T/cases.bin" 4000
for k in gpt2 llama3; do
    "$T/lcpp_pretok" $k < "$T/cases.bin" > "$T/lcpp-$k.txt"
    "$T/our_pretok" $k < "$T/cases.bin" > "$T/ours-$k.txt"
    n=$(wc -l < "$T/lcpp-$k.txt")
    [ "$n" -ge 4000 ] || { echo "llama.cpp driver gave only $n lines"; exit 1; }
    if ! cmp -s "$T/lcpp-$k.txt" "$T/ours-$k.txt"; then
        echo "$k: piece ends differ from llama.cpp's (case: line, llama.cpp, llmos):"
        diff <(nl -ba "$T/lcpp-$k.txt") <(nl -ba "$T/ours-$k.txt") | head -6
        exit 1
    fi
    echo "$k: identical piece boundaries on $n byte strings"
done

# every codepoint of the planes in use (0-3 and 14-16; surrogates as
# llama.cpp decodes them too) between an ASCII letter and a digit or '!':
# the four classes (letter, number, white space, other) cut these
# differently, so equal cuts mean equal classes
$PY - "$T/allcp.bin" <<'PY'
import struct, sys
with open(sys.argv[1], 'wb') as f:
    for cp in list(range(0x40000)) + list(range(0xE0000, 0x110000)):
        for tail in (b'1', b'!'):
            c = b'a' + chr(cp).encode('utf-8', 'surrogatepass') + tail
            f.write(struct.pack('<I', len(c)) + c)
PY
"$T/lcpp_pretok" gpt2 < "$T/allcp.bin" > "$T/lcpp-all.txt"
"$T/our_pretok" gpt2 < "$T/allcp.bin" > "$T/ours-all.txt"
if ! cmp -s "$T/lcpp-all.txt" "$T/ours-all.txt"; then
    echo "codepoint classes differ from llama.cpp's:"
    diff <(nl -ba "$T/lcpp-all.txt") <(nl -ba "$T/ours-all.txt") | head -6
    exit 1
fi
echo "all 458752 codepoints of planes 0-3 and 14-16 classified as llama.cpp does"
