#!/usr/bin/env bash
# llmos rl's policy gradient against PyTorch float64: the loss
# -(1/N) sum_i A_i sum_t log pi(y_it) (A_i = reward - group mean, N sampled
# tokens) of step 1's batch and every parameter gradient, with rewards from
# an external judge (answer length, so advantages differ; the judge logs
# each reward and the test computes the advantages from them). Also: the
# advantages of each group sum to zero, targets cover only sampled tokens,
# and a short run logs held-out pass@1/pass@k before and after.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
cat > judge.py <<'PY'
import json, sys
import os
r = len(json.load(sys.stdin)['answer'])
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rewards.txt'), 'a') as f:
    f.write('%d\n' % r)
print(r)
PY
mkdir -p dump
"$LLMOS" rl --model base.gguf --prompts chats.jsonl --out r.gguf --judge "cmd:$PY $T/judge.py" \
    --prompts-per-step 2 --group 3 --max-new 8 --threads 2 --grad-dump dump --quiet > dump.txt
mv rewards.txt rewards_dump.txt
"$LLMOS" rl --model base.gguf --prompts chats.jsonl --heldout chats.jsonl --out r2.gguf \
    --judge "cmd:$PY $T/judge.py" --prompts-per-step 2 --group 3 --max-new 8 --steps 2 --eval 3 \
    --eval-k 2 --eval-every 1 --pass 5 --lr 1e-4 --threads 2 --quiet > run.txt
grep -q "heldout pass@1" run.txt
[ -s r2.gguf ] && [ ! -e r2.policy.gguf ]
"$PY" - <<'PY'
import json, os, sys
import numpy as np, torch
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tests/py'))
import gguf_py, train_ref
log = [json.loads(l) for l in open('r2.log.jsonl')]
assert sum(1 for r in log if 'pass@1' in r) == 3, log
gr = gguf_py.Reader('dump/grads.gguf')
B, T, tokens, targets, c_loss = train_ref.dump_batch(gr)
# advantages from the judge's own rewards (the first 6 it gave: the dump run's
# step), less each --group 3's mean, over --prompts-per-step 2 groups
rw = np.loadtxt('rewards_dump.txt')[:6]
adv = rw - np.repeat(rw.reshape(2, 3).mean(1), 3)
ours = np.array(gr.get('test.adv')[1], dtype=np.float64)
assert B == 6 and np.abs(adv - ours).max() < 1e-4 and np.abs(adv).max() > 0, (adv, ours)
tokv = gguf_py.Reader('tok.gguf').get('tokenizer.ggml.tokens')[1]
A = tokv.index('<|assistant|>')
for b in range(B):
    idx = [t for t in range(T) if targets[b, t] >= 0]
    assert idx and idx == list(range(idx[0], idx[-1] + 1)) and tokens[b, idx[0]] == A, b
cfg, P = train_ref.load_params('dump/model.gguf', torch.float64)
N = int((targets >= 0).sum())
x = torch.tensor(tokens, dtype=torch.int64)
loss = 0
for b in range(B):
    tg = torch.tensor(targets[b:b + 1], dtype=torch.int64)
    n = int((tg >= 0).sum())
    logp = -train_ref.forward(cfg, P, x[b:b + 1], tg) * n
    loss = loss - float(adv[b]) * logp / N
loss.backward()
assert abs(loss.item() - c_loss) <= 1e-5 * max(1e-3, abs(loss.item())), (loss.item(), c_loss)
worst = train_ref.grad_error(P, gr)
assert worst < 1e-4, worst
print('rl ok: loss %.6g (torch %.6g), worst gradient error %.2e' % (c_loss, loss.item(), worst))
PY
