#!/usr/bin/env bash
# Conversation files with problems are refused with one clear line naming
# the file, the line and the problem (exit 1), never a crash or an output.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
good='{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}'
expect() { # file pattern
    local out rc=0
    out=$("$LLMOS" sft --model base.gguf --data "$1" --out bad.gguf --steps 1 --quiet 2>&1) || rc=$?
    if [ "$rc" -ne 1 ]; then echo "FAIL: $1: exit $rc, expected 1: $out"; exit 1; fi
    if ! printf '%s' "$out" | grep -q -- "$2"; then echo "FAIL: $1: '$out' lacks '$2'"; exit 1; fi
    if [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then echo "FAIL: $1: more than one line: $out"; exit 1; fi
    [ ! -e bad.gguf ] || { echo "FAIL: $1: an output was written"; exit 1; }
}
case_() { # name line3
    { echo "$good"; echo "$good"; echo "$2"; echo "$good"; } > "$1.jsonl"
}
case_ role '{"messages": [{"role": "user", "content": "Hi"}, {"role": "bot", "content": "Hello."}]}'
expect role.jsonl "role.jsonl:3: message 2 has unknown role 'bot' (expected system, user, assistant or tool)"
case_ empty '{"messages": [{"role": "user", "content": "   "}, {"role": "assistant", "content": "Hello."}]}'
expect empty.jsonl "empty.jsonl:3: message 1 (user) has empty content"
case_ json '{"messages": [{"role": "user", "content": "Hi"}'
expect json.jsonl "json.jsonl:3: not valid JSON"
case_ noarr '{"text": "plain document"}'
expect noarr.jsonl 'noarr.jsonl:3: no "messages" array'
case_ noasst '{"messages": [{"role": "user", "content": "Hi"}]}'
expect noasst.jsonl "noasst.jsonl:3: no assistant message"
case_ sys '{"messages": [{"role": "user", "content": "Hi"}, {"role": "system", "content": "Be brief."}, {"role": "assistant", "content": "Ok."}]}'
expect sys.jsonl "sys.jsonl:3: message 2: a system message may only come first"
case_ type '{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "Ok."}]}'
expect type.jsonl 'type.jsonl:3: message 1 (user): "content" is not a string'
long=$("$PY" -c 'print("word " * 400)')
case_ long "{\"messages\": [{\"role\": \"user\", \"content\": \"$long\"}, {\"role\": \"assistant\", \"content\": \"Ok.\"}]}"
expect long.jsonl "long.jsonl:3: conversation is [0-9]* tokens, longer than the context (128)"
expect missing.jsonl "cannot open 'missing.jsonl'"
# --skip-long drops it and trains on the rest
"$LLMOS" sft --model base.gguf --data long.jsonl --out ok.gguf --steps 1 --skip-long --threads 2 2> log.txt
grep -q "1 conversations longer than 128 tokens skipped" log.txt
test -s ok.gguf
echo ok
