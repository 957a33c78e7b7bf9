#!/usr/bin/env bash
# Data parallelism is the same training: 20 steps on one process and on 2
# and 3 ranks under mpirun (each rank reading its rows of every global
# batch, gradients all-reduced in buckets during backward) give the same
# loss at every step and the same final parameters, within 1e-6 relative
# (fp32 sums in another order: not bit for bit); ZeRO-1 (--zero: AdamW's
# moments sharded, gradients reduce-scattered, parameters all-gathered)
# gives bit-identical parameters, moments and log to plain all-reduce at 2
# ranks. Only rank 0 writes files. The global batch (5, with --accum 2:
# rows split 2/3 and 1/2/2) is the same in every run.
set -eu
source "$ROOT/tests/mpi_run.sh"
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000
args=(--data "$T/data" --dim 32 --layers 3 --heads 4 --kv-heads 2 --ffn 64 --ctx 16 --batch 5 --accum 2
      --lr 3e-3 --warmup 3 --steps 20 --eval-every 5 --save-every 0 --seed 7 --quiet)
"$LLMOS" pretrain "${args[@]}" --threads 2 --out "$T/one.gguf"
"${MPIRUN[@]}" -np 2 "$LLMOS" pretrain "${args[@]}" --threads 1 --out "$T/two.gguf"
"${MPIRUN[@]}" -np 2 "$LLMOS" pretrain "${args[@]}" --threads 1 --zero --out "$T/zero.gguf"
"${MPIRUN[@]}" -np 3 "$LLMOS" pretrain "${args[@]}" --threads 1 --zero --out "$T/three.gguf"
grep -q '"event":"ranks","ranks":2,"zero":false' "$T/two.log.jsonl"
grep -q '"comm_sec"' "$T/two.log.jsonl"
! grep -q '"comm_sec"' "$T/one.log.jsonl"
[ "$(grep -c '"loss"' "$T/two.log.jsonl")" -eq 20 ]   # one log line per step: rank 0 alone writes
mpi_compare losses "$T/one.log.jsonl" "$T/two.log.jsonl" 1e-6
mpi_compare params "$T/one.ckpt.gguf" "$T/two.ckpt.gguf" 1e-6
mpi_compare losses "$T/one.log.jsonl" "$T/three.log.jsonl" 1e-6
mpi_compare params "$T/one.ckpt.gguf" "$T/three.ckpt.gguf" 1e-6
# ZeRO-1 against all-reduce at 2 ranks: the same bits (checkpoint gathered from the shards)
mpi_compare params "$T/two.ckpt.gguf" "$T/zero.ckpt.gguf" 0
mpi_compare losses "$T/two.log.jsonl" "$T/zero.log.jsonl" 0
cmp "$T/two.gguf" "$T/zero.gguf"
# a different seed changes the parameters beyond the tolerance (the comparison can fail)
"$LLMOS" pretrain "${args[@]}" --threads 2 --seed 8 --out "$T/other.gguf"
if mpi_compare params "$T/one.gguf" "$T/other.gguf" 1e-6 >/dev/null 2>&1; then echo "FAIL: another seed passed"; exit 1; fi
# a global batch smaller than the ranks is refused in one line
if "${MPIRUN[@]}" -np 2 "$LLMOS" pretrain "${args[@]}" --batch 1 --accum 1 --out "$T/b1.gguf" 2>"$T/err"; then exit 1; fi
grep -q "batch 1 is smaller than the 2 ranks" "$T/err"
