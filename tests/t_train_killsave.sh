#!/usr/bin/env bash
# kill -9 while checkpoints are being written (every step, ~40 MB each, so
# most of the run is spent saving): the checkpoint left behind is always a
# whole GGUF (parsed completely by the independent Python reader, every
# tensor present and sized) and --resume continues from it.
set -eu
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000
args=(--data "$T/data" --dim 256 --layers 4 --heads 4 --kv-heads 2 --ffn 512 --ctx 16 --batch 2
      --steps 100000 --save-every 1 --eval-every 0 --threads 2 --quiet --out "$T/m.gguf")
for delay in 0.7 1.1 1.6 2.2 2.9; do
    "$LLMOS" pretrain "${args[@]}" $([ -f "$T/m.ckpt.gguf" ] && echo --resume) &
    pid=$!
    sleep "$delay"
    kill -9 $pid
    wait $pid 2>/dev/null || true
    [ -f "$T/m.ckpt.gguf" ] || continue
    "$PY" - "$T/m.ckpt.gguf" <<'PYEOF'
import sys, os
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py
r = gguf_py.Reader(sys.argv[1])
names = {t['name'] for t in r.tensors}
assert 'token_embd.weight' in names and 'optim.v.blk.3.ffn_down.weight' in names
for t in r.tensors:
    n = 1
    for d in t['ne']:
        n *= d
    assert len(t['data']) == 4 * n, t['name']
print('checkpoint intact at step', r.get('train.step'))
PYEOF
done
[ -f "$T/m.ckpt.gguf" ] || { echo "no checkpoint was ever written"; exit 1; }
step=$("$PY" -c "import sys; sys.path.insert(0, '$ROOT/tests/py'); import gguf_py; print(gguf_py.Reader(sys.argv[1]).get('train.step'))" "$T/m.ckpt.gguf")
"$LLMOS" pretrain "${args[@]/100000/$((step + 1))}" --resume
"$PY" -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; assert l[-1]['step'] == $((step + 1)), l[-1]" "$T/m.log.jsonl"
# the temporaries of the killed saves were cleaned up by the later runs
[ -z "$(ls "$T" | grep 'ckpt.gguf.tmp')" ] || { ls "$T"; echo "stale temporaries left"; exit 1; }
