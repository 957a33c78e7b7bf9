#!/usr/bin/env bash
# Checkpoints of `llmos reward train` and `llmos rl`: a run stopped after
# step k (--stop-after) and continued with --resume ends with the same bytes
# (model, checkpoint, log) as the uninterrupted run. The stopped checkpoint
# is read with the Python GGUF reader: its step is k, it carries non-zero
# AdamW moments for every parameter and the keys a resume checks. A resume
# with no checkpoint, other data or a finished run is refused.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
"$PY" - <<'PY'
import json, random
random.seed(11)
words = ['zebra', 'horse', 'capital', 'France', 'Paris', 'Spain', 'Madrid', 'happy', 'stripes']
with open('pairs.jsonl', 'w') as f:
    for i in range(60):
        w = random.choice(words)
        f.write(json.dumps({'prompt': 'What does "%s" mean? (%d)' % (w, i),
                            'chosen': 'The word "%s" means something %d.' % (w, i),
                            'rejected': 'Paris Paris %s %s!' % (random.choice(words), random.choice(words))}) + '\n')
PY
head -n 30 pairs.jsonl > pairs30.jsonl

# reward train: 18 steps over 2 epochs, stopped in the second epoch
RM=(reward train --model base.gguf --data pairs.jsonl --epochs 2 --batch 6 --lr 1e-3 --eval-every 5 --threads 2 --quiet)
"$LLMOS" "${RM[@]}" --out r1.gguf > r1.txt
"$LLMOS" "${RM[@]}" --out r2.gguf --stop-after 11
[ ! -e r2.gguf ] && [ -s r2.ckpt.gguf ]
cp r2.ckpt.gguf r2.stopped.gguf
"$LLMOS" "${RM[@]}" --out r2.gguf --resume > r2.txt
cmp r1.gguf r2.gguf
cmp r1.ckpt.gguf r2.ckpt.gguf
cmp r1.log.jsonl r2.log.jsonl
cmp r1.txt r2.txt
# a model trained 11 steps is not the 18-step one (the comparison can fail)
"$LLMOS" "${RM[@]}" --out r3.gguf --steps 11 > /dev/null
! cmp -s r1.gguf r3.gguf

# rl: 4 steps, rewards from an external judge (the byte count of its JSON
# input, so advantages differ), stopped after step 3
RL=(rl --model chat.gguf --prompts chats.jsonl --heldout chats.jsonl --judge "cmd:wc -c" --prompts-per-step 2
    --group 3 --max-new 8 --steps 4 --eval 2 --eval-k 2 --eval-every 2 --pass 1e9 --lr 1e-3 --threads 2 --quiet)
"$LLMOS" chat --print-template | tr -d '\n' > tmpl.txt
"$PY" "$ROOT/tests/py/chat_model.py" tok.gguf chat.gguf --ctx "$CTX" --template tmpl.txt
"$LLMOS" "${RL[@]}" --out q1.gguf > q1.txt
"$LLMOS" "${RL[@]}" --out q2.gguf --stop-after 3
[ ! -e q2.gguf ] && [ ! -e q2.policy.gguf ] && [ -s q2.ckpt.gguf ]
cp q2.ckpt.gguf q2.stopped.gguf
"$LLMOS" "${RL[@]}" --out q2.gguf --resume > q2.txt
cmp q1.gguf q2.gguf
cmp q1.ckpt.gguf q2.ckpt.gguf
cmp q1.log.jsonl q2.log.jsonl
cmp q1.txt q2.txt
"$LLMOS" "${RL[@]}" --out q3.gguf --steps 3 > /dev/null
! cmp -s q1.gguf q3.gguf

"$PY" - <<'PY'
import os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tests/py'))
import gguf_py, train_ref
for path, step, keys in (('r2.stopped.gguf', 11, {'reward.pairs': 50, 'reward.token_pos': None}),
                         ('q2.stopped.gguf', 3, {'rl.prompts': 40, 'rl.next_prompt': 6})):
    r = gguf_py.Reader(path)
    assert int(r.get('train.step')) == step, (path, r.get('train.step'))
    for k, v in keys.items():
        assert r.get(k) is not None and (v is None or int(r.get(k)) == v), (path, k, r.get(k))
    cfg = train_ref.load_config(r)
    for name in train_ref.param_names(cfg):
        for mom in ('optim.m.', 'optim.v.'):
            a = r.tensor_f64(mom + name)
            assert a is not None and np.abs(a).max() > 0, (path, mom + name)
    print(path, 'step', step, 'ok')
PY

expect_fail() { # message-substring command...
    local want=$1 rc=0; shift
    "$@" > /dev/null 2> err.txt || rc=$?
    [ "$rc" -eq 1 ] || { echo "exit $rc, want 1: $*"; cat err.txt; exit 1; }
    grep -q -- "$want" err.txt || { echo "no '$want' in:"; cat err.txt; exit 1; }
    cat err.txt
}
expect_fail "no checkpoint" "$LLMOS" "${RM[@]}" --out none.gguf --resume
expect_fail "nothing to resume" "$LLMOS" "${RM[@]}" --out r1.gguf --resume
cp r2.stopped.gguf r4.ckpt.gguf
expect_fail "this data has" "$LLMOS" "${RM[@]/pairs.jsonl/pairs30.jsonl}" --out r4.gguf --resume
expect_fail "no checkpoint" "$LLMOS" "${RL[@]}" --out none.gguf --resume
expect_fail "nothing to resume" "$LLMOS" "${RL[@]}" --out q1.gguf --resume
cp q2.stopped.gguf q4.ckpt.gguf
expect_fail "seed" "$LLMOS" "${RL[@]}" --out q4.gguf --resume --seed 9
echo "resume ok"
