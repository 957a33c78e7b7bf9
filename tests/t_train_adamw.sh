#!/usr/bin/env bash
# Twenty optimizer steps of `llmos pretrain` (AdamW, warmup + cosine decay,
# gradient clipping, 2 micro-batches of gradient accumulation) from a given
# initial GGUF, replayed in PyTorch with torch.optim.AdamW on the same
# batches: the loss trajectories agree to 1e-4.
set -eu
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000
mkdir -p "$T/init"
"$LLMOS" pretrain --grad-dump "$T/init" --dim 32 --layers 2 --heads 4 --kv-heads 2 --ffn 64 \
    --ctx 16 --batch 2 --vocab 97 --seed 3 >/dev/null
"$LLMOS" pretrain --data "$T/data" --init "$T/init/model.gguf" --out "$T/m.gguf" --ctx 16 \
    --batch 2 --accum 2 --steps 20 --lr 3e-3 --warmup 5 --schedule cosine --min-lr-ratio 0.1 \
    --weight-decay 0.1 --clip 1.0 --seed 7 --threads 2 --eval-every 0 --save-every 0 --quiet \
    --dump-batches "$T/batches.bin"
"$PY" "$ROOT/tests/py/train_ref.py" adamw "$T/init/model.gguf" "$T/batches.bin" "$T/m.log.jsonl" \
    --steps 20 --batch 2 --ctx 16 --accum 2 --lr 3e-3 --warmup 5 --schedule cosine --min-ratio 0.1 \
    --wd 0.1 --clip 1.0 --beta1 0.9 --beta2 0.95 --eps 1e-8
