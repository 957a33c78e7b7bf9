#!/usr/bin/env bash
# `llmos chat` in a real terminal (tmux): a tiny model fine-tuned by
# `llmos sft` to answer every question with one sentence answers through
# the readline prompt, streams its reply, keeps a multi-turn conversation
# (the context meter grows turn by turn), and writes its readline history.
# The first answer equals the non-interactive `llmos chat -p` one.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
"$PY" - <<'PY'
import json
qs = ['What does "zebra" mean?', 'Where is Paris?', 'Hi', 'What is the capital of Spain?',
      'Tell me a story.', 'What does "happy" mean?', 'Why?', 'Numbers: 12, 3.5']
with open('hello.jsonl', 'w') as f:
    for q in qs:
        f.write(json.dumps({'messages': [{'role': 'user', 'content': q},
                                         {'role': 'assistant', 'content': 'Hello! I am llmos.'}]}) + '\n')
PY
"$LLMOS" sft --model base.gguf --data hello.jsonl --out hello.gguf --steps 40 --batch 8 --lr 3e-3 \
    --warmup 0 --schedule constant --threads 2 --quiet
want="Hello! I am llmos."
got=$("$LLMOS" chat hello.gguf -p "What is a horse?" --temp 0 -n 16)
[ "$got" = "$want" ] || { echo "FAIL: -p answered '$got'"; exit 1; }

sock="llmos-test-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT
HOME="$T" tmux -L "$sock" new-session -d -s chat -x 150 -y 40 \
    "HOME='$T' '$LLMOS' chat hello.gguf --temp 0 -n 16 --threads 2 --system 'Be kind.'; sleep 30"
wait_for() { # pattern count
    for _ in $(seq 1 150); do
        [ "$(tmux -L "$sock" capture-pane -p -t chat | grep -c -- "$1")" -ge "$2" ] && return 0
        sleep 0.2
    done
    echo "FAIL: timed out waiting for '$1' x$2"; tmux -L "$sock" capture-pane -p -t chat; exit 1
}
wait_for "^>" 1
tmux -L "$sock" send-keys -t chat "What is a horse?" Enter
wait_for "^\[ctx " 1
tmux -L "$sock" send-keys -t chat "And a zebra?" Enter
wait_for "^\[ctx " 2
tmux -L "$sock" send-keys -t chat C-d
sleep 0.5
screen=$(tmux -L "$sock" capture-pane -p -t chat)
printf '%s\n' "$screen"
[ "$(printf '%s\n' "$screen" | grep -c -x -F "$want")" -eq 2 ] || { echo "FAIL: two answers expected"; exit 1; }
meters=$(printf '%s\n' "$screen" | sed -n 's/^\[ctx \([0-9]*\)\/128 .*/\1/p')
set -- $meters
[ $# -eq 2 ] && [ "$1" -gt 10 ] && [ "$2" -gt "$1" ] || { echo "FAIL: meters '$meters'"; exit 1; }
grep -q "And a zebra?" "$T/.llmos_chat_history" || { echo "FAIL: no readline history"; exit 1; }
echo ok
