#!/usr/bin/env bash
# t_gguf_bad.sh - damaged files never crash llmos. tests/py/bad_gguf.py
# writes ~120 variants of a good model: truncated at 60 offsets (header,
# metadata, tensor infos, data), wrong magic and version, counts, offsets and
# sizes past the end, absurd dimensions, unknown value and tensor types,
# bad alignment, duplicates; and well-formed files that are not usable
# llama models (missing tensors, wrong shapes, impossible hyperparameters).
# Broken files: `llmos info` and `llmos logits` both fail. Unusable models:
# `llmos logits` fails, `llmos info` may succeed. Odd tokenizer metadata
# (out-of-range special ids, unknown or malformed merges, ...): logits,
# generate and tokenize may succeed or refuse. A failure is exit code 1
# and exactly one line on stderr that names the file; any signal, sanitizer
# report or extra line is a defect.
set -eu
cd "$ROOT"
$PY tests/py/gen_model.py "$T/m" --configs mha --types q8_0
$PY tests/py/bad_gguf.py "$T/m/mha-q8_0.gguf" "$T/bad" > "$T/list"
bad=0 n=0

# run NAME EXPECT(fail|any) CMD...: checks one invocation
run() {
    local f=$1 expect=$2 rc=0; shift 2
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    n=$((n + 1))
    local lines; lines=$(wc -l <"$T/err")
    if grep -qE 'Sanitizer|runtime error|Segmentation|core dumped|Aborted|assertion' "$T/err" || [ "$rc" -gt 1 ]; then
        echo "CRASH ($rc): $* :"; head -n 5 "$T/err"; bad=$((bad + 1)); return
    fi
    [ "$expect" = any ] && [ "$rc" -eq 0 ] && return
    if [ "$rc" -ne 1 ]; then
        echo "ACCEPTED: $* (expected exit 1)"; bad=$((bad + 1))
    elif [ "$lines" -ne 1 ] || ! grep -qF "$f" "$T/err"; then
        echo "MESSAGE not one line naming the file: $*:"; head -n 5 "$T/err"; bad=$((bad + 1))
    fi
}

while IFS=$'\t' read -r f expect; do
    p="$T/bad/$f"
    if [ "$expect" = file ]; then run "$f" fail "$LLMOS" info "$p"; else run "$f" any "$LLMOS" info "$p"; fi
    if [ "$expect" = loose ]; then
        run "$f" any "$LLMOS" logits "$p" --tokens 1,2,3
        run "$f" any "$LLMOS" generate "$p" --ids 1,2 -n 4 --temp 0 --print-ids
        run "$f" any "$LLMOS" generate "$p" -p "the miller's hello" -n 4 --temp 0.8 --seed 1
        run "$f" any "$LLMOS" tokenize "$p" $'the miller\'s daughter, 12 caf\xc3\xa9 \xff'
    else
        run "$f" fail "$LLMOS" logits "$p" --tokens 1,2,3
    fi
done <"$T/list"
# the good file passes both, so the checks above can tell good from bad
"$LLMOS" info "$T/m/mha-q8_0.gguf" >/dev/null
"$LLMOS" logits "$T/m/mha-q8_0.gguf" --tokens 1,2,3 >/dev/null
echo "$n runs on $(wc -l <"$T/list") damaged files, $bad problems"
[ "$bad" -eq 0 ]
