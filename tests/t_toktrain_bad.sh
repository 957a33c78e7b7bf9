#!/usr/bin/env bash
# tokenizer train: bad inputs give a one-line error naming the problem, exit
# 1 (2 for bad usage), and never leave an output file (an existing one stays
# as it was). Edge inputs that are valid train: a file of only newlines, a
# 20 MB single line of spaces, stdin.
set -eu
cd "$T"
expect_fail() { # code pattern args...
    local code=$1 pat=$2; shift 2
    set +e
    "$LLMOS" tokenizer train --quiet "$@" > out.txt 2> err.txt
    local rc=$?
    set -e
    if [ $rc -ne "$code" ]; then echo "exit $rc, expected $code: $*"; cat err.txt; exit 1; fi
    if ! grep -q -- "$pat" err.txt; then echo "message lacks '$pat': $*"; cat err.txt; exit 1; fi
    [ "$(wc -l < err.txt)" -eq 1 ] || { echo "more than one line: $*"; cat err.txt; exit 1; }
}
printf 'hello world, hello there\n' > good.txt
echo old > out.gguf
expect_fail 1 "cannot open 'missing.txt'" --out out.gguf missing.txt
: > empty.txt
expect_fail 1 "no text" --out out.gguf empty.txt
mkdir -p bin && head -c 5000 /dev/urandom > bin/blob.txt && printf '\0' >> bin/blob.txt
printf 'abc\0def' > bin/zero.md
expect_fail 1 "no text" --out out.gguf bin
expect_fail 1 "too small" --vocab-size 200 --out out.gguf good.txt
expect_fail 1 "too small" --vocab-size 263 --special "<|image|>" --out out.gguf good.txt
expect_fail 2 "vocab-size" --vocab-size abc --out out.gguf good.txt
expect_fail 2 "no INPUT" --out out.gguf
expect_fail 2 "unknown option" --bogus good.txt
expect_fail 2 "empty token" --special "<|a|>,,<|b|>" --out out.gguf good.txt
expect_fail 1 "could be a word of ordinary text" --special "<|image|>,hello" --out out.gguf good.txt
expect_fail 1 "given twice" --special "<|user|>" --out out.gguf good.txt
printf '{"text": "fine"}\n{"txt": "no text field"}\n' > bad.jsonl
expect_fail 1 "line 2" --out out.gguf bad.jsonl
printf '{"text": "fine"}\nnot json\n' > bad2.jsonl
expect_fail 1 "bad2.jsonl' line 2: not valid JSON" --out out.gguf bad2.jsonl
[ "$(cat out.gguf)" = old ] || { echo "out.gguf was overwritten"; exit 1; }
[ -z "$(ls | grep -v -e '^out.gguf$' -e '\.txt$' -e '\.jsonl$' -e '^bin$')" ] || { echo "stray files:"; ls; exit 1; }

# valid edge inputs
head -c 1000000 /dev/zero | tr '\0' '\n' > newlines.txt
$LLMOS tokenizer train --quiet --vocab-size 300 --out nl.gguf newlines.txt
head -c 20000000 /dev/zero | tr '\0' ' ' > spaces.txt
$LLMOS tokenizer train --quiet --vocab-size 300 --out sp.gguf spaces.txt
printf 'some text from stdin, some text' | $LLMOS tokenizer train --quiet --vocab-size 300 --out in.gguf -
for f in nl sp in; do $PY "$ROOT/tests/py/tok_dump.py" merges $f.gguf > $f.txt; done
# a run of newlines merges into ever longer runs, as does a run of spaces
grep -q '^0a0a 0a0a$' nl.txt
grep -q '^2020 2020$' sp.txt
[ -s in.txt ]
echo ok
