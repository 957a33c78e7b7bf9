#!/usr/bin/env bash
# SFT loss mask: only assistant tokens (and their end of turn) are targets.
# 1. The targets of llmos sft's first batch (--grad-dump) equal the ones
#    derived here from the conversations' tokens (rendered by llmos chat
#    --render, whose tokens t_chat_template checks against llama.cpp): a
#    token is a target when it lies inside an assistant turn, from after
#    <|assistant|> up to and including <|end_of_turn|>.
# 2. The loss and every gradient equal PyTorch float64's for that masked
#    loss (tests/py/train_ref.py): user, system and padding tokens give no
#    gradient through their targets.
# 3. The check is not vacuous: PyTorch's gradient with user targets counted
#    differs.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
mkdir -p dump
"$LLMOS" sft --model base.gguf --data chats.jsonl --out x.gguf --batch 6 --threads 2 --grad-dump dump --quiet
"$LLMOS" chat base.gguf --render chats.jsonl > rendered.jsonl
"$PY" "$ROOT/tests/py/train_ref.py" gradcheck dump
"$PY" - <<'PY'
import json, os, sys
import numpy as np, torch
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tests/py'))
import gguf_py, train_ref
tok = gguf_py.Reader('tok.gguf')
vocab = tok.get('tokenizer.ggml.tokens')[1]
A, EOT = vocab.index('<|assistant|>'), vocab.index('<|end_of_turn|>')
convs = [json.loads(l) for l in open('rendered.jsonl') if '"generation_prompt": false' in l]
def expected_targets(ids):
    tg, inside = [], False
    for t in range(len(ids) - 1):
        nxt = ids[t + 1]
        if ids[t] == A:
            inside = True
        tg.append(nxt if inside else -1)
        if inside and nxt == EOT:
            inside = False
    return tg
gr = gguf_py.Reader('dump/grads.gguf')
B, T, tokens, targets, _ = train_ref.dump_batch(gr)
assert B == 6, ('--batch 6', B)
n_user_targets = 0
for b in range(B):
    row = list(tokens[b])
    match = [c for c in convs if c['ids'][:-1] == row[:len(c['ids']) - 1]
             and len(c['ids']) - 1 <= T]
    assert match, 'row %d is not a rendered conversation' % b
    ids = max(match, key=lambda c: len(c['ids']))['ids']
    exp = expected_targets(ids) + [-1] * (T - (len(ids) - 1))
    assert list(targets[b]) == exp, (b, list(targets[b]), exp)
    n_user_targets += sum(1 for t in range(len(ids) - 1) if exp[t] < 0)
assert n_user_targets > 10, n_user_targets
# non-vacuity: counting every real token as a target changes the gradients
cfg, P = train_ref.load_params('dump/model.gguf', torch.float64)
full = torch.tensor(np.concatenate([tokens[:, 1:], tokens[:, -1:]], axis=1), dtype=torch.int64)
loss = train_ref.forward(cfg, P, torch.tensor(tokens, dtype=torch.int64), full)
loss.backward()
g_ref = P['blk.0.attn_q.weight'].grad.numpy()
g_ours = gr.tensor_f64('blk.0.attn_q.weight')
diff = np.linalg.norm(g_ref - g_ours) / np.linalg.norm(g_ours)
assert diff > 0.05, diff
print('mask ok: %d rows, %d masked non-assistant targets; unmasked gradient differs by %.2f' % (B, n_user_targets, diff))
PY
