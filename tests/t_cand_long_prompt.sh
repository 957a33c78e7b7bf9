#!/usr/bin/env bash
# A prompt longer than the model's context: `llmos prefs auto` (infer/candidates)
# stops with exit 1 and one line that gives the prompt's real token count
# (more than the context of 128), never "0 tokens" (the count was read after
# the token buffer was freed), and writes no store.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
"$PY" - > long.jsonl <<'PY'
import json
print(json.dumps({'messages': [{'role': 'user', 'content': ' '.join('w%d' % i for i in range(80))}]}))
PY
rc=0
"$LLMOS" prefs auto --model base.gguf --prompts long.jsonl --store store.jsonl --k 2 --max-new 4 \
    --threads 1 > out.txt 2> err.txt || rc=$?
cat err.txt
[ "$rc" = 1 ] || { echo "FAIL: exit $rc, want 1"; exit 1; }
[ ! -s store.jsonl ] || { echo "FAIL: a store was written"; exit 1; }
line=$(grep "does not fit the context of $CTX" err.txt) || { echo "FAIL: no context message"; exit 1; }
[ "$(grep -c . err.txt)" = 1 ] || { echo "FAIL: more than one line on stderr"; exit 1; }
n=$(printf '%s\n' "$line" | sed -n 's/.*prompt of \([0-9]*\) tokens.*/\1/p')
[ -n "$n" ] && [ "$n" -ge "$CTX" ] || { echo "FAIL: token count '$n' is not over the context $CTX"; exit 1; }
echo "ok: $line"
