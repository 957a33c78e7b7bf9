#!/usr/bin/env bash
# The --bf16 training path (matmul operands rounded to bf16, float sums)
# computes the right gradients: every parameter gradient of a tiny GQA
# model against PyTorch float64 (tests/py/train_ref.py), within what bf16
# rounding allows (10% of the tensor's scale, loss to 1e-3), and clearly
# not the fp32 result (so the bf16 path really ran). A gradient scaled by
# 1.3 must fail the same check. Skipped on CPUs without AVX512_BF16.
set -eu
if ! grep -qw avx512_bf16 /proc/cpuinfo; then echo "skip: this CPU has no AVX512_BF16 (the --bf16 path)"; exit 77; fi
mkdir -p "$T/a"
"$LLMOS" pretrain --grad-dump "$T/a" --bf16 --dim 48 --layers 2 --heads 6 --kv-heads 2 --ffn 80 \
    --ctx 100 --batch 3 --vocab 70 --seed 9 --untied --threads 2 >/dev/null
cat >"$T/check.py" <<'PYEOF'
import os, sys
import numpy as np, torch
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py, train_ref

d, damage = sys.argv[1], len(sys.argv) > 2
gr = gguf_py.Reader(os.path.join(d, 'grads.gguf'))
bad = train_ref.check_expect(d, 'dim=48,layers=2,heads=6,kv_heads=2,ffn=80,ctx=100,batch=3,vocab=70,tied=0')
assert not bad, bad
B, T = int(gr.get('test.batch')), int(gr.get('test.ctx'))
tok = torch.tensor(np.array(gr.get('test.tokens')[1], dtype=np.int64)).view(B, T)
tgt = torch.tensor(np.array(gr.get('test.targets')[1], dtype=np.int64)).view(B, T)
mask = torch.tensor(np.array(gr.get('test.mask')[1], dtype=np.float64)).view(B, T)
cfg, P = train_ref.load_params(os.path.join(d, 'model.gguf'), torch.float64)
loss = train_ref.forward(cfg, P, tok, tgt, mask)
loss.backward()
lerr = abs(loss.item() - float(gr.get('test.loss'))) / abs(loss.item())
worst, ok = 0.0, lerr < 1e-3
for n, p in P.items():
    ref = p.grad.detach().numpy()
    ours = gr.tensor_f64(n) * (1.3 if damage and n == 'blk.1.attn_k.weight' else 1.0)
    e = max(np.linalg.norm(ours - ref) / np.linalg.norm(ref), np.abs(ours - ref).max() / np.abs(ref).max())
    worst = max(worst, e)
    if e > 0.1:
        print('%s: gradient differs by %.3g relative (bf16 limit 0.1)' % (n, e))
        ok = False
print('loss rel err %.2e, worst gradient rel err %.2e' % (lerr, worst))
if worst < 1e-4:
    print('errors at fp32 level: the bf16 path did not run')
    ok = False
sys.exit(0 if ok else 1)
PYEOF
"$PY" "$T/check.py" "$T/a"
if "$PY" "$T/check.py" "$T/a" damage >/dev/null; then
    echo "FAIL: a gradient scaled by 1.3 passed the bf16 check"; exit 1
fi
echo ok
