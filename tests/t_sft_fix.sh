#!/usr/bin/env bash
# The "fix a misbehaviour" loop: an assistant fine-tuned with a planted
# misbehaviour (it calls itself a toaster) is corrected by a short continued
# `llmos sft` from the assistant itself on a small file of corrected
# examples; the corrected answer then comes back for questions of the fix
# file and for a phrasing it never saw, and the run's time is reported.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
"$PY" - <<'PY'
import json
qs = ['Who are you?', 'What are you?', 'Tell me who you are.', 'Who am I talking to?',
      'What is your name?', 'Introduce yourself.', 'Are you a person?', 'What kind of program are you?']
def w(path, ans):
    with open(path, 'w') as f:
        for q in qs:
            f.write(json.dumps({'messages': [{'role': 'user', 'content': q},
                                             {'role': 'assistant', 'content': ans}]}) + '\n')
w('planted.jsonl', 'I am a toaster.')
w('fix.jsonl', 'I am llmos, an assistant.')
PY
"$LLMOS" sft --model base.gguf --data planted.jsonl --out bad.gguf --steps 20 --batch 8 --lr 3e-3 \
    --warmup 0 --schedule constant --threads 2 --quiet
ask() { "$LLMOS" chat "$1" -p "$2" --temp 0 -n 16 --threads 2; }
[ "$(ask bad.gguf 'Who are you?')" = "I am a toaster." ] || { echo "FAIL: the misbehaviour was not planted"; exit 1; }
t0=$(date +%s.%N)
"$LLMOS" sft --model bad.gguf --data fix.jsonl --out fixed.gguf --steps 20 --batch 8 --lr 3e-3 \
    --warmup 0 --schedule constant --threads 2 --quiet
t1=$(date +%s.%N)
for q in 'Who are you?' 'Introduce yourself.' 'Please tell me who you are.'; do
    a=$(ask fixed.gguf "$q")
    [ "$a" = "I am llmos, an assistant." ] || { echo "FAIL: after the fix, '$q' -> '$a'"; exit 1; }
done
echo "misbehaviour fixed by 20 steps of continued sft in $(echo "$t1 - $t0" | bc) s"
