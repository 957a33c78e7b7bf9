#!/usr/bin/env bash
# A checkpoint written by N ranks resumes on M ranks and continues the same
# curve (the data order depends on the global step only, the checkpoint
# holds whole moments whatever the ranks): 2 ranks stopped after step 10
# (checkpoint at 8, steps 9-10 redone) resumed on 1 process, and 1 process
# resumed on 3 ZeRO ranks, each against the uninterrupted 20-step run:
# every step's loss within 1e-6 relative, the final parameters too; the
# resumed log keeps the first run's lines. 2 ZeRO ranks stopped and resumed
# on 2 ZeRO ranks give the uninterrupted run's files bit for bit.
set -eu
source "$ROOT/tests/mpi_run.sh"
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000
args=(--data "$T/data" --dim 32 --layers 2 --heads 4 --kv-heads 2 --ffn 64 --ctx 16 --batch 6
      --lr 3e-3 --warmup 3 --steps 20 --eval-every 5 --seed 3 --quiet --threads 1)
"$LLMOS" pretrain "${args[@]}" --save-every 0 --out "$T/full.gguf"
# 2 ranks -> 1 process
"${MPIRUN[@]}" -np 2 "$LLMOS" pretrain "${args[@]}" --save-every 4 --stop-after 10 --out "$T/a.gguf"
[ -f "$T/a.ckpt.gguf" ] && [ ! -f "$T/a.gguf" ]
"$LLMOS" pretrain "${args[@]}" --save-every 4 --resume --out "$T/a.gguf"
mpi_compare losses "$T/full.log.jsonl" "$T/a.log.jsonl" 1e-6
mpi_compare params "$T/full.ckpt.gguf" "$T/a.ckpt.gguf" 1e-6
# 1 process -> 3 ranks with sharded moments
"$LLMOS" pretrain "${args[@]}" --save-every 5 --stop-after 7 --out "$T/b.gguf"
"${MPIRUN[@]}" -np 3 "$LLMOS" pretrain "${args[@]}" --save-every 5 --zero --resume --out "$T/b.gguf"
mpi_compare losses "$T/full.log.jsonl" "$T/b.log.jsonl" 1e-6
mpi_compare params "$T/full.ckpt.gguf" "$T/b.ckpt.gguf" 1e-6
# 2 ZeRO ranks, stopped and resumed on 2 ZeRO ranks: identical files
"${MPIRUN[@]}" -np 2 "$LLMOS" pretrain "${args[@]}" --zero --save-every 0 --out "$T/z.gguf"
"${MPIRUN[@]}" -np 2 "$LLMOS" pretrain "${args[@]}" --zero --save-every 3 --stop-after 9 --out "$T/y.gguf"
"${MPIRUN[@]}" -np 2 "$LLMOS" pretrain "${args[@]}" --zero --save-every 3 --resume --out "$T/y.gguf"
cmp "$T/z.gguf" "$T/y.gguf"
cmp "$T/z.ckpt.gguf" "$T/y.ckpt.gguf"
mpi_compare losses "$T/z.log.jsonl" "$T/y.log.jsonl" 0
