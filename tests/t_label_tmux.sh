#!/usr/bin/env bash
# `llmos label` in a real terminal (tmux): the instructions are shown, then
# K=3 sampled answers per prompt; the labeler ranks the first prompt, writes
# an ideal answer for the second and picks the better of two, flags the
# third unsafe. Checked: the store's records (ranks as typed, flags, the
# ideal), the SFT file (prompt + written answer, valid conversation JSON),
# that a second labeler sees the same candidates (so `prefs merge` finds
# comparisons), and that a restarted session skips judged prompts.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
head -n 3 chats.jsonl > prompts.jsonl
printf '# Test guideline\nPrefer correct answers.\n' > guide.md
sock="llmos-label-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT
tmux -L "$sock" new-session -d -s lab -x 160 -y 50 \
    "'$LLMOS' label --model base.gguf --prompts prompts.jsonl --store store.jsonl --labeler alice --k 3 --max-new 10 --threads 2 --instructions guide.md; sleep 30"
wait_for() { # pattern count
    for _ in $(seq 1 150); do
        [ "$(tmux -L "$sock" capture-pane -p -S -500 -t lab | grep -c -- "$1")" -ge "$2" ] && return 0
        sleep 0.2
    done
    echo "FAIL: timed out waiting for '$1' x$2"; tmux -L "$sock" capture-pane -p -t lab; exit 1
}
wait_for "Prefer correct answers" 1
wait_for "Press Enter to start" 1
tmux -L "$sock" send-keys -t lab Enter
wait_for "^>" 1
tmux -L "$sock" send-keys -t lab "zz" Enter          # not understood
wait_for "not understood" 1
tmux -L "$sock" send-keys -t lab "cab" Enter
wait_for "prompt 2/3" 1
wait_for "^>" 3
tmux -L "$sock" send-keys -t lab "w" Enter
wait_for "write the ideal answer" 1
tmux -L "$sock" send-keys -t lab "It means a striped horse." Enter "." Enter
wait_for "ideal answer saved" 1
tmux -L "$sock" send-keys -t lab "b>a" Enter
wait_for "prompt 3/3" 1
tmux -L "$sock" send-keys -t lab "u" Enter
wait_for "judgements saved" 1
tmux -L "$sock" capture-pane -p -t lab | tail -5
# a second labeler (plain stdin) ranks the first prompt, skips the others
printf '\nabc\ns\ns\n' | "$LLMOS" label --model base.gguf --prompts prompts.jsonl --store store.jsonl \
    --labeler bob --k 3 --max-new 10 --threads 2 > bob.txt
# alice again: everything judged
printf '\n' | "$LLMOS" label --model base.gguf --prompts prompts.jsonl --store store.jsonl \
    --labeler alice --k 3 --max-new 10 --threads 2 > again.txt
grep -q "0 judgements saved .*(3 prompts judged before)" again.txt
"$LLMOS" prefs merge store.jsonl --out pairs.jsonl > merge.txt
cat merge.txt
grep -q "agreement .* over 3 comparisons" merge.txt
"$PY" - <<'PY'
import json
recs = [json.loads(l) for l in open('store.jsonl')]
convs = [json.loads(l) for l in open('prompts.jsonl')]
a = [r for r in recs if r['labeler'] == 'alice']
assert len(a) == 4, len(a)
first_user = lambda c: c['messages'][:next(i for i, m in enumerate(c['messages']) if m['role'] == 'user') + 1]
assert a[0]['prompt'] == first_user(convs[0]) and a[0]['ranks'] == [2, 3, 1] and a[0]['flags'] == []
assert a[1]['ideal'] == 'It means a striped horse.' and a[1]['ranks'] == [0, 0, 0]
assert a[2]['ranks'] == [2, 1, 0] and a[2]['prompt'] == first_user(convs[1])
assert a[3]['flags'] == ['unsafe']
b = [r for r in recs if r['labeler'] == 'bob']
assert [r['flags'] for r in b] == [[], ['skip'], ['skip']] and b[0]['ranks'] == [1, 2, 3]
assert b[0]['candidates'] == a[0]['candidates'], 'labelers must see the same answers'
assert len(set(a[0]['candidates'])) > 1
sft = [json.loads(l) for l in open('store.sft.jsonl')]
assert len(sft) == 1 and sft[0]['messages'] == first_user(convs[1]) + [
    {'role': 'assistant', 'content': 'It means a striped horse.'}]
print('label ok')
PY
# the SFT file is a valid conversation file for llmos sft / chat
"$LLMOS" chat base.gguf --render store.sft.jsonl > /dev/null
