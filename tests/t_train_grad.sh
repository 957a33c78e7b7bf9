#!/usr/bin/env bash
# Every parameter gradient and the loss of llmos's training forward/backward
# against PyTorch float64 (tests/py/train_ref.py): a tiny GQA model with
# random weights, random tokens, a loss mask and an ignored target; tied and
# untied heads (the shape each run asked for checked in its dump); the second case is long enough (3 x 100 tokens) to cross the
# GEMM's K blocking in the weight gradients.
set -eu
mkdir -p "$T/a" "$T/b"
"$LLMOS" pretrain --grad-dump "$T/a" --dim 32 --layers 2 --heads 4 --kv-heads 2 --ffn 48 \
    --ctx 8 --batch 3 --vocab 50 --seed 5 --threads 2
"$PY" "$ROOT/tests/py/train_ref.py" gradcheck "$T/a" --expect dim=32,layers=2,heads=4,kv_heads=2,ffn=48,ctx=8,batch=3,vocab=50,tied=1
"$LLMOS" pretrain --grad-dump "$T/b" --dim 48 --layers 2 --heads 6 --kv-heads 2 --ffn 80 \
    --ctx 100 --batch 3 --vocab 70 --seed 9 --untied --threads 2
"$PY" "$ROOT/tests/py/train_ref.py" gradcheck "$T/b" --expect dim=48,layers=2,heads=6,kv_heads=2,ffn=80,ctx=100,batch=3,vocab=70,tied=0
# a wrong gradient must be caught: damage one value of the dump and expect failure
"$PY" - "$T/b/grads.gguf" <<'PYEOF'
import sys
sys.path.insert(0, __import__('os').environ['ROOT'] + '/tests/py')
import gguf_py, numpy as np
r = gguf_py.Reader(sys.argv[1])
t = r.tensor('blk.1.attn_k.weight')
buf = bytearray(r.buf)
start = r.buf.find(t['data'])
v = np.frombuffer(t['data'], dtype='<f4').copy()
v[3] *= 1.001
buf[start:start + len(t['data'])] = v.tobytes()
open(sys.argv[1], 'wb').write(bytes(buf))
PYEOF
if "$PY" "$ROOT/tests/py/train_ref.py" gradcheck "$T/b" >/dev/null; then
    echo "FAIL: a damaged gradient passed the check"; exit 1
fi
echo ok
