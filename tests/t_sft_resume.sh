#!/usr/bin/env bash
# SFT resume is bit-identical: 8 steps in one run give the same model file,
# checkpoint and log as 5 steps, a stop, and a --resume to 8 (the batch
# order depends only on the seed and the step; AdamW's moments and step
# count travel in the checkpoint). A different seed gives a different model,
# so the comparison can fail.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
common="--model base.gguf --data chats.jsonl --val chats.jsonl --batch 4 --steps 8 --eval-every 4 --save-every 0 --threads 2 --quiet"
"$LLMOS" sft $common --out a.gguf
"$LLMOS" sft $common --out b.gguf --stop-after 5
[ -f b.ckpt.gguf ] && [ ! -f b.gguf ]
"$LLMOS" sft $common --out b.gguf --resume
cmp a.gguf b.gguf
cmp a.ckpt.gguf b.ckpt.gguf
cmp a.log.jsonl b.log.jsonl
"$LLMOS" sft $common --out c.gguf --seed 2
if cmp -s a.gguf c.gguf; then echo "FAIL: another seed gave the same model"; exit 1; fi
# the output is an assistant model llmos chat and llama.cpp's reader accept
"$LLMOS" chat a.gguf -p "What does zebra mean?" -n 8 --temp 0 > answer.txt
test -s answer.txt
"$PY" - <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tests/py'))
import gguf_py
r = gguf_py.Reader('a.gguf')
assert r.get('tokenizer.chat_template').startswith('{%- for message in messages'), 'no chat template'
steps = [json.loads(l) for l in open('a.log.jsonl')]
assert sum('loss' in s for s in steps) == 8 and sum("val_loss" in s for s in steps) == 3, steps
print('resume ok')
PY
