#!/usr/bin/env bash
# tokenizer train: the same input trained with 1 and with 2 threads (and with
# the inputs in another order) gives byte-identical files. The input: a
# folder of real text (Python's standard library, walked recursively) and a
# 3 MB file of mixed scripts, emoji, combining marks, digits and invalid
# UTF-8 bytes, long enough to be cut into segments counted in parallel.
set -eu
cd "$T"
$PY - <<'PY'
import random
r = random.Random(11)
words = ["the", "of", "naïve", "café", "e\u0301t\u00e9", "日本語", "中文字符", "한국어", "Ελληνικά",
         "русский", "עברית", "العربية", "😀", "👍🏽", "🇫🇷", "  ", "\t", "\n", "\r\n", "12345", "3,14",
         "don't", "IT'S", "<|user|>", "x+=1;", "\u00a0", "\u3000"]
bad = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]
out = bytearray()
while len(out) < 3_000_000:
    if r.random() < 0.03:
        out += r.choice(bad)
    else:
        out += r.choice(words).encode()
    out += b" " if r.random() < 0.8 else b"\n"
open("mixed.txt", "wb").write(out)
PY
lib=/usr/lib/python3.11/json   # a folder of real text, small enough to be quick
[ -d "$lib" ]
$LLMOS tokenizer train --quiet --threads 1 --vocab-size 3000 --out t1.gguf mixed.txt "$lib" /usr/lib/python3.11/email
$LLMOS tokenizer train --quiet --threads 2 --vocab-size 3000 --out t2.gguf mixed.txt "$lib" /usr/lib/python3.11/email
$LLMOS tokenizer train --quiet --threads 2 --vocab-size 3000 --out t3.gguf /usr/lib/python3.11/email "$lib" mixed.txt
cmp t1.gguf t2.gguf
cmp t1.gguf t3.gguf
# the files hold a full vocabulary of real merges
n=$($PY "$ROOT/tests/py/tok_dump.py" merges t1.gguf | wc -l)
[ "$n" -eq $((3000 - 256 - 7)) ] || { echo "expected $((3000 - 256 - 7)) merges, got $n"; exit 1; }
echo ok
