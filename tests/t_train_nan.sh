#!/usr/bin/env bash
# A diverging run (absurd learning rate) stops at the first non-finite loss
# or gradient with one clear message naming the step and the last good
# checkpoint, exit 1; the checkpoint on disk is still a whole file from a
# step before the failure, and no final model is written.
set -eu
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000
if "$LLMOS" pretrain --data "$T/data" --dim 32 --layers 2 --heads 4 --ffn 64 --ctx 16 --batch 4 \
    --steps 50 --lr 1e12 --warmup 0 --clip 0 --save-every 1 --eval-every 0 --threads 2 --quiet \
    --out "$T/m.gguf" 2>"$T/err"; then
    echo "FAIL: the diverging run succeeded"; exit 1
fi
cat "$T/err"
grep -Eq "^llmos: the (loss|gradient norm) is (nan|inf) at step [0-9]+: training stopped; the last good checkpoint is '.*m.ckpt.gguf' \(step [0-9]+\)$" "$T/err"
[ ! -f "$T/m.gguf" ]
bad=$(sed -E 's/.* at step ([0-9]+):.*/\1/' "$T/err")
good=$(sed -E 's/.*\(step ([0-9]+)\)$/\1/' "$T/err")
"$PY" - "$T/m.ckpt.gguf" "$good" "$bad" <<'PYEOF'
import sys, os
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py
r = gguf_py.Reader(sys.argv[1])
assert r.get('train.step') == int(sys.argv[2]) < int(sys.argv[3]), (r.get('train.step'), sys.argv[2:])
PYEOF
