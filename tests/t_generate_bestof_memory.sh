#!/usr/bin/env bash
# generate --best-of N scores the candidates a few at a time: the reward
# model's activations (those of a training batch, every position's logits
# included) must not grow with N. On the tiny chat model, --best-of 256 may
# take at most 20 MB more peak memory than --best-of 1 (it took ~50 MB more
# when the reward model was opened for all N rows at once: about 200 KB per
# row here, gigabytes for a 100M reward model); and the rewards of a
# best-of-9 run, scored in chunks, are those of each candidate scored alone
# (--best-of 1 with the same seed gives candidate 0's reward).
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
make_reward_model 1
peak() { # N -> peak RSS in KB of generate --best-of N (under ASan: without its quarantine of freed blocks)
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 "$PY" - "$LLMOS" "$1" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], 'generate', 'chat.gguf', '--best-of', sys.argv[2], '--reward', 'rm.gguf', '-p', 'hi',
                '-n', '2', '-t', '1', '-q'], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
p1=$(peak 1)
p256=$(peak 256)
echo "peak RSS: best-of 1 ${p1} KB, best-of 256 ${p256} KB"
[ $((p256 - p1)) -lt 20480 ] || { echo "FAIL: best-of 256 takes $((p256 - p1)) KB more than best-of 1"; exit 1; }
"$LLMOS" generate chat.gguf --best-of 9 --reward rm.gguf -p 'What is zebra?' -n 16 --seed 3 --temp 1 -t 1 \
    --print-rewards > nine.out 2> nine.err
"$LLMOS" generate chat.gguf --best-of 1 --reward rm.gguf -p 'What is zebra?' -n 16 --seed 3 --temp 1 -t 1 \
    --print-rewards > one.out 2> one.err
"$PY" - <<'PY'
import json
nine = [json.loads(l) for l in open('nine.err') if l.startswith('{')]
one = [json.loads(l) for l in open('one.err') if l.startswith('{')]
assert len(nine) == 9 and len(one) == 1, (len(nine), len(one))
assert nine[0]['ids'] == one[0]['ids'] and nine[0]['reward'] == one[0]['reward'], (nine[0], one[0])
best = max(range(9), key=lambda k: (nine[k]['reward'], -k))
print('ok: candidate 0 reward', one[0]['reward'], 'best', best)
PY
