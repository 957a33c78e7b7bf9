#!/usr/bin/env bash
# Reward model against PyTorch float64: r = logit[pos] - logit[neg] at the
# last token of prompt + answer + end of turn (a linear head on the final
# hidden state), Bradley-Terry loss -log sigmoid(r_chosen - r_rejected):
# the loss and every gradient of llmos's first batch equal PyTorch's
# autograd. Then training separates a learnable preference on held-out
# pairs, and best-of-N picks answers with the reward model.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
write_pairs pairs.jsonl
mkdir -p dump
"$LLMOS" reward train --model base.gguf --data pairs.jsonl --out g.gguf --batch 5 --threads 2 --grad-dump dump --quiet > dump.txt
"$LLMOS" reward train --model base.gguf --data pairs.jsonl --out rm.gguf --epochs 4 --batch 6 --lr 1e-3 \
    --eval-every 20 --threads 2 --quiet > train.txt
cat train.txt
"$LLMOS" reward best-of --model base.gguf --reward rm.gguf -p 'What does "zebra" mean?' -n 4 --max-new 8 --threads 2 > best.txt
[ -s best.txt ]
"$PY" - <<'PY'
import json, math, os, re, sys
import numpy as np, torch
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tests/py'))
import gguf_py, train_ref
gr = gguf_py.Reader('dump/grads.gguf')
B, T, tokens, targets, c_loss = train_ref.dump_batch(gr)
# the reward head: logit[<|user|>] - logit[<|assistant|>] (llmos's default for
# a model without reward.token_pos/neg), from the vocabulary, not llmos's dump
tokv = gguf_py.Reader('tok.gguf').get('tokenizer.ggml.tokens')[1]
pos, neg = tokv.index('<|user|>'), tokv.index('<|assistant|>')
assert (int(gr.get('test.pos')), int(gr.get('test.neg'))) == (pos, neg)
assert B == 2 * 5, ('--batch 5 pairs', B)
cfg, P = train_ref.load_params('dump/model.gguf', torch.float64)
x = torch.tensor(tokens, dtype=torch.int64)
r = []
for b in range(B):
    last = [t for t in range(T) if targets[b, t] >= 0]
    assert len(last) == 1 and targets[b, last[0]] == neg, b
    def ce(tok):
        tg = torch.full((1, T), -1, dtype=torch.int64)
        tg[0, last[0]] = tok
        return train_ref.forward(cfg, P, x[b:b + 1], tg)
    r.append(ce(neg) - ce(pos))
loss = 0
for i in range(B // 2):
    loss = loss - torch.nn.functional.logsigmoid(r[2 * i] - r[2 * i + 1])
loss = loss / (B // 2)
loss.backward()
assert abs(loss.item() - c_loss) < 1e-5 * abs(loss.item()), (loss.item(), c_loss)
worst = train_ref.grad_error(P, gr)
assert worst < 1e-4, worst
m = re.search(r'accuracy ([0-9.]+)', open('train.txt').read())
assert m and float(m.group(1)) > 0.8, open('train.txt').read()
print('reward ok: loss %.6f (torch %.6f), worst gradient error %.2e, held-out accuracy %s'
      % (c_loss, loss.item(), worst, m.group(1)))
PY
