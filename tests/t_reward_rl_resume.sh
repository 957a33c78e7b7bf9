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
write_pairs pairs.jsonl
head -n 30 pairs.jsonl > pairs30.jsonl

fail() { echo "FAIL: $*"; exit 1; }
# stop_resume P K ARGS...: llmos ARGS uninterrupted (out P1), stopped after
# step K (P2.ckpt.gguf kept as P2.stopped.gguf, no model yet) and resumed:
# model, checkpoint, log and printed summary must be the same bytes; a run
# of K steps (P3) must give another model, so the comparison can fail.
stop_resume() {
    local p=$1 k=$2 f
    shift 2
    "$LLMOS" "$@" --out "${p}1.gguf" > "${p}1.txt"
    "$LLMOS" "$@" --out "${p}2.gguf" --stop-after "$k"
    [ ! -e "${p}2.gguf" ] && [ ! -e "${p}2.policy.gguf" ] && [ -s "${p}2.ckpt.gguf" ] ||
        fail "$p: stopping after step $k left the wrong files"
    cp "${p}2.ckpt.gguf" "${p}2.stopped.gguf"
    "$LLMOS" "$@" --out "${p}2.gguf" --resume > "${p}2.txt"
    for f in .gguf .ckpt.gguf .log.jsonl .txt; do cmp "${p}1$f" "${p}2$f"; done
    "$LLMOS" "$@" --out "${p}3.gguf" --steps "$k" > /dev/null
    if cmp -s "${p}1.gguf" "${p}3.gguf"; then fail "$p: $k steps gave the same model as the whole run"; fi
}

# reward train: 18 steps over 2 epochs, stopped in the second epoch
RM=(reward train --model base.gguf --data pairs.jsonl --epochs 2 --batch 6 --lr 1e-3 --eval-every 5 --threads 2 --quiet)
stop_resume r 11 "${RM[@]}"

# rl: 4 steps, rewards from an external judge (the byte count of its JSON
# input, so advantages differ), stopped after step 3
RL=(rl --model chat.gguf --prompts chats.jsonl --heldout chats.jsonl --judge "cmd:wc -c" --prompts-per-step 2
    --group 3 --max-new 8 --steps 4 --eval 2 --eval-k 2 --eval-every 2 --pass 1e9 --lr 1e-3 --threads 2 --quiet)
make_chat_model chat.gguf
stop_resume q 3 "${RL[@]}"

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
