#!/usr/bin/env bash
# Checkpoint and resume: 20 steps in one go versus 10 steps, a stop, and
# --resume for the rest give the same loss curve bit for bit (the JSONL logs
# are compared line by line on step, loss and grad norm), and the same
# final weights. Also: the final model loads back as a llama GGUF with the
# tokenizer's keys (checked with the independent Python reader).
set -eu
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000
args=(--data "$T/data" --dim 32 --layers 2 --heads 4 --kv-heads 2 --ffn 64 --ctx 16 --batch 4
      --lr 3e-3 --warmup 3 --steps 20 --eval-every 5 --threads 2 --seed 11)
"$LLMOS" pretrain "${args[@]}" --out "$T/full.gguf" --save-every 0 --quiet
# the interrupted run: checkpoints every 4 steps, stopped after step 10 as if
# killed (the checkpoint holds step 8, steps 9-10 are redone)
"$LLMOS" pretrain "${args[@]}" --out "$T/part.gguf" --save-every 4 --stop-after 10 --quiet
[ -f "$T/part.ckpt.gguf" ] && [ ! -f "$T/part.gguf" ]
"$LLMOS" pretrain "${args[@]}" --out "$T/part.gguf" --save-every 4 --resume 2>"$T/resume.err"
grep -q "resumed from .* at step 8$" "$T/resume.err" || { cat "$T/resume.err"; exit 1; }
"$PY" - "$T/full.log.jsonl" "$T/part.log.jsonl" "$T/full.gguf" "$T/part.gguf" <<'PYEOF'
import json, sys, os
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py, numpy as np
def rows(p):
    out = []
    for l in open(p):
        o = json.loads(l)
        out.append((o['step'], o.get('loss'), o.get('grad_norm'), o.get('val_loss')))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert len(a) == 25, len(a)  # 20 steps, 4 evaluations, the config record
assert a == b, 'logs differ:\n%s\n%s' % ([x for x in a if x not in b], [x for x in b if x not in a])
assert a[-1][0] == 20 or a[-2][0] == 20
fa, fb = gguf_py.Reader(sys.argv[3]), gguf_py.Reader(sys.argv[4])
assert fa.get('general.architecture') == 'llama'
assert fa.get('tokenizer.ggml.model') == 'gpt2' and len(fa.get('tokenizer.ggml.tokens')[1]) == 97
assert not any(t['name'].startswith('optim.') for t in fa.tensors)
for t in fa.tensors:
    assert t['data'] == fb.tensor(t['name'])['data'], t['name']
print('resume: %d log lines identical, %d tensors identical' % (len(a), len(fa.tensors)))
PYEOF
# resuming without a checkpoint is a clear error
if "$LLMOS" pretrain "${args[@]}" --out "$T/none.gguf" --resume 2>"$T/err"; then exit 1; fi
grep -q "no checkpoint" "$T/err"
# the same with gradient accumulation and bf16 matmuls (where the CPU has them)
bf=$(grep -q avx512_bf16 /proc/cpuinfo && echo --bf16 || true)
args2=(--data "$T/data" --dim 32 --layers 2 --heads 4 --kv-heads 2 --ffn 64 --ctx 16 --batch 2 --accum 3
       --lr 3e-3 --warmup 2 --steps 12 --eval-every 4 --threads 2 --seed 5 --quiet $bf)
"$LLMOS" pretrain "${args2[@]}" --out "$T/full2.gguf" --save-every 0
"$LLMOS" pretrain "${args2[@]}" --out "$T/part2.gguf" --save-every 5 --stop-after 7
"$LLMOS" pretrain "${args2[@]}" --out "$T/part2.gguf" --save-every 5 --resume
cmp <(grep -v '"event"' "$T/full2.log.jsonl" | sed 's/,"tok_per_s".*//') \
    <(grep -v '"event"' "$T/part2.log.jsonl" | sed 's/,"tok_per_s".*//')
