#!/usr/bin/env bash
# tokenizer train: the merges learned by the incremental trainer equal those
# of a plain recount-every-merge BPE written independently in Python
# (tests/py/bpe_ref.py) on ASCII text: real Python sources (over 1 MB in one
# file, so the text is cut into segments counted on two threads) and random
# ASCII with contractions, digit runs, whitespace runs, \r\n, \v and \f.
# The same text given as JSONL records and on stdin gives the same file.
set -eu
cd "$T"
# ASCII-only standard library sources, > 1.1 MB in one file
: > src.txt
for f in $(find /usr/lib/python3.11 -maxdepth 1 -name '*.py' | sort); do
    LC_ALL=C grep -q -P '[^\x09-\x0d\x20-\x7e]' "$f" && continue
    cat "$f" >> src.txt
    [ "$(stat -c %s src.txt)" -gt 1100000 ] && break
done
[ "$(stat -c %s src.txt)" -gt 1100000 ]
$PY - <<'PY'
import random
r = random.Random(7)
parts = ["'s", "'T", "'re", "'VE", "'m", "'ll", "'d", "don't", "I'M", "  ", "   ", "\t", "\r\n",
         "\n\n", "\v", "\f", " \n ", "12345", "3.14159", "1,000,000", "x = y + 1;", "-->", "...",
         "(a[i])", "#", "@@", "==", " the", " and", " of", "The", "Hello", "world", "ABC", "q"]
words = [r.choice(parts) if r.random() < 0.5 else
         "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789 .,;'\"") for _ in range(r.randint(1, 9)))
         for _ in range(60000)]
open("rand.txt", "w").write(" ".join(words))
PY
merges=200
vocab=$((256 + merges + 7))
$LLMOS tokenizer train --quiet --threads 2 --vocab-size $vocab --out ours.gguf src.txt rand.txt
$PY "$ROOT/tests/py/tok_dump.py" merges ours.gguf > ours.txt
$PY "$ROOT/tests/py/bpe_ref.py" $merges 2 src.txt rand.txt > ref.txt
[ "$(wc -l < ref.txt)" -eq $merges ]
diff ours.txt ref.txt > diff.txt || { echo "merges differ from the reference:"; head -20 diff.txt; exit 1; }

# the same documents as JSONL records, and on stdin (one document per input)
$PY -c '
import json, sys
with open("docs.jsonl", "w") as f:
    for p in ("src.txt", "rand.txt"):
        f.write(json.dumps({"id": p, "text": open(p, newline="").read()}) + "\n")'
$LLMOS tokenizer train --quiet --vocab-size $vocab --out jsonl.gguf docs.jsonl
cmp ours.gguf jsonl.gguf
$LLMOS tokenizer train --quiet --vocab-size $vocab --out stdin.gguf - rand.txt < src.txt
cmp ours.gguf stdin.gguf
echo ok
