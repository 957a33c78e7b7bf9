#!/usr/bin/env bash
# DPO against PyTorch float64 (tests/py/train_ref.py's Llama):
# 1. at initialization (policy = reference) the held-out loss is ln 2, the
#    reward accuracy 0.5 and the margin 0; step 1's training loss is ln 2;
# 2. the reference log-probs cached in OUT.ref.bin equal PyTorch's sums of
#    the answer tokens' log-probs (prompt tokens not scored), a second run
#    loads them, and a fresh computation gives the same bytes;
# 3. with a policy that differs from the reference (a few DPO steps with a
#    large learning rate, then --ref base.gguf), the loss and every gradient
#    of llmos's first batch (5 pairs: --batch 5) equal PyTorch's DPO loss and
#    autograd gradients at the test's own --beta 0.2;
# 4. a run stopped after step 2 and resumed ends with the same bytes as an
#    uninterrupted one (reference log-probs come from the cache);
# 5. training raises held-out reward accuracy above 0.8 on a learnable
#    preference (chosen answers in one style, rejected in another).
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
write_pairs pairs.jsonl 4
# 1 + 2: a short run from the base model
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out d1.gguf --steps 2 --batch 4 --threads 2 --quiet > d1.txt
grep -q '"ref_cached":0' d1.log.jsonl
cp d1.ref.bin ref_first.bin
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out d1.gguf --steps 2 --batch 4 --threads 2 --quiet > /dev/null
grep -q '"ref_cached":1' d1.log.jsonl
cmp ref_first.bin d1.ref.bin
rm d1.ref.bin
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out d1.gguf --steps 2 --batch 4 --threads 2 --quiet > /dev/null
cmp ref_first.bin d1.ref.bin
# 3: a policy away from the reference
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out moved.gguf --steps 2 --batch 4 --lr 2e-5 \
    --warmup 0 --schedule constant --threads 2 --quiet > /dev/null
mkdir -p dump
"$LLMOS" dpo --model moved.gguf --ref base.gguf --data pairs.jsonl --out g.gguf --batch 5 --beta 0.2 \
    --threads 2 --grad-dump dump --quiet > dump.txt
# resume: stopping after step 2 and resuming gives the uninterrupted run's model
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out r1.gguf --steps 4 --batch 4 --lr 1e-4 --threads 2 --quiet > /dev/null
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out r2.gguf --steps 4 --batch 4 --lr 1e-4 --threads 2 --quiet --stop-after 2
[ ! -e r2.gguf ]
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out r2.gguf --steps 4 --batch 4 --lr 1e-4 --threads 2 --quiet --resume > /dev/null
grep -q '"ref_cached":1' r2.log.jsonl
cmp r1.gguf r2.gguf
# 5: learning the preference
"$LLMOS" dpo --model base.gguf --data pairs.jsonl --out d4.gguf --epochs 3 --batch 6 --lr 2e-3 \
    --eval-every 20 --threads 2 --quiet > d4.txt
cat d4.txt
"$PY" - <<'PY'
import json, math, os, struct, sys
import numpy as np, torch
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tests/py'))
import gguf_py, train_ref
torch.set_num_threads(2)
log = [json.loads(l) for l in open('d1.log.jsonl')]
v0 = next(r for r in log if r.get('step') == 0 and 'val_loss' in r)
assert abs(v0['val_loss'] - math.log(2)) < 1e-7 and v0['val_acc'] == 0.5 and v0['val_margin'] == 0, v0
s1 = next(r for r in log if r.get('step') == 1 and 'loss' in r)
assert abs(s1['loss'] - math.log(2)) < 1e-5, s1
head = next(r for r in log if r.get('step') == 0 and 'pairs' in r)
n_tr, n_va = head['pairs'], head['heldout']
assert n_tr + n_va == 60 and n_va > 0, head

# the chat template's tokens, from llmos chat --render (checked against llama.cpp elsewhere)
def seq_logps(cfg, P, seqs):
    """seqs: list of (ids, first scored index); returns the sums of log p(ids[t] | ids[:t])."""
    T = max(len(s) for s, _ in seqs) - 1
    tok = torch.zeros(len(seqs), T, dtype=torch.int64)
    out = []
    for b, (ids, k) in enumerate(seqs):
        x = torch.tensor([ids[:-1] + [0] * (T - len(ids) + 1)])
        tg = torch.tensor([[ids[t + 1] if t + 1 >= k and t + 1 < len(ids) else -1 for t in range(T)]])
        n = int((tg >= 0).sum())
        out.append(-train_ref.forward(cfg, P, x, tg) * n)
    return out

# 2: cached reference log-probs versus PyTorch on the rows of the grad dump
gr = gguf_py.Reader('dump/grads.gguf')
B, T, tokens, targets, c_loss = train_ref.dump_batch(gr)
ref_c = np.array(gr.get('test.ref_logps')[1], dtype=np.float64)
beta = 0.2  # the test's --beta: a DPO that ignored it (0.1 default) fails the loss
assert B == 2 * 5, ('--batch 5 pairs', B)
# prompt tokens are never targets: every row's targets are one contiguous answer run ending at EOT
tokv = gguf_py.Reader('tok.gguf').get('tokenizer.ggml.tokens')[1]
EOT, A = tokv.index('<|end_of_turn|>'), tokv.index('<|assistant|>')
for b in range(B):
    idx = [t for t in range(T) if targets[b, t] >= 0]
    assert idx == list(range(idx[0], idx[-1] + 1)) and targets[b, idx[-1]] == EOT, b
    assert tokens[b, idx[0]] == A, 'the first target follows the last <|assistant|>'
    assert A not in list(tokens[b, idx[0] + 1: idx[-1] + 1])
def batch_logps(path):
    cfg, P = train_ref.load_params(path, torch.float64)
    x = torch.tensor(tokens, dtype=torch.int64)
    res = []
    for b in range(B):
        tg = torch.tensor(targets[b:b + 1], dtype=torch.int64)
        n = int((tg >= 0).sum())
        res.append(-train_ref.forward(cfg, P, x[b:b + 1], tg) * n)
    return cfg, P, res
_, _, ref_t = batch_logps('base.gguf')
ref_t = np.array([r.item() for r in ref_t])
err = np.abs(ref_t - ref_c).max() / np.abs(ref_t).max()
assert err < 1e-5, ('reference log-probs', err, ref_t, ref_c)
# the cache file holds the same numbers (train pairs first, in file order)
raw = open('ref_first.bin', 'rb').read()
assert raw[:9] == b'LLMOSREF1'
n = struct.unpack('<Q', raw[24:32])[0]
cached = np.frombuffer(raw[32:], dtype='<f8')
assert n == 2 * 60 and len(cached) == n

# 3: loss and gradients
cfg, P, pol = batch_logps('dump/model.gguf')
ref = torch.tensor(ref_t)
loss = 0
for i in range(B // 2):
    z = beta * ((pol[2 * i] - ref[2 * i]) - (pol[2 * i + 1] - ref[2 * i + 1]))
    loss = loss - torch.nn.functional.logsigmoid(z)
loss = loss / (B // 2)
loss.backward()
lerr = abs(loss.item() - c_loss) / abs(loss.item())
assert lerr < 1e-5, ('loss', loss.item(), c_loss)
assert abs(loss.item() - math.log(2)) > 1e-3 and 0.02 < loss.item() < 3, ("policy too close to or too far from the reference", loss.item())
worst = train_ref.grad_error(P, gr)
assert worst < 1e-4, worst
# 4: learning
log4 = [json.loads(l) for l in open('d4.log.jsonl')]
last = [r for r in log4 if 'val_acc' in r][-1]
assert last['val_acc'] > 0.8 and last['val_margin'] > 0, last
print('dpo ok: loss %.6f (torch %.6f), worst gradient error %.2e, ref err %.1e, held-out acc %.3f margin %.3f'
      % (c_loss, loss.item(), worst, err, last['val_acc'], last['val_margin']))
PY
