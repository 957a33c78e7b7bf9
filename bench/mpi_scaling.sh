#!/usr/bin/env bash
# bench/mpi_scaling.sh - data-parallel training on this machine: 2 ranks x
# 1 thread (mpirun) against 1 process x 2 threads, on the default preset
# (tiny) and a ~30M-parameter model, run alternately ROUNDS times; then the
# all-reduce bandwidth between 2 ranks (bench/mpi_allreduce.c) on shared
# memory and on TCP. docs/distributed.md records the results.
#
#   bench/mpi_scaling.sh [ROUNDS (2)] [STEPS (12)]
#
# Figures per run, from OUT.log.jsonl without step 1: tokens/s (all ranks'
# tokens over the wall time of the steps) and the share of the step time
# rank 0 spent inside MPI (comm_sec / sec: sending, and waiting for the
# other rank). The load average is printed beside every run: the machine
# is shared.
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-2}
steps=${2:-12}
PY=/usr/bin/python3
LLMOS=${LLMOS:-$PWD/llmos}
work=$(mktemp -d /tmp/llmos-mpi-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# OpenMPI's default shared memory (with its single-copy path): without it,
# buckets move only while both ranks are inside MPI (docs/distributed.md)
MPIRUN=(mpirun --oversubscribe --bind-to none --mca btl self,vader,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
[ -x "$LLMOS" ] || make -j2 llmos
"$PY" tests/py/train_data.py "$work/data" 8192 2000000 20000 >/dev/null

declare -A model=(
    [tiny]="--preset tiny --batch 8"
    [30m]="--dim 512 --layers 8 --heads 8 --kv-heads 4 --ffn 1408 --ctx 256 --batch 4"
)
summary() { # log -> "tok/s comm%"
    "$PY" - "$1" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if 'loss' in r and r['step'] > 1]
sec = sum(r['sec'] for r in rows)
print('%.0f %.1f' % (sum(r['tokens'] for r in rows[:1]) / rows[0]['step'] * len(rows) / sec,
                     100 * sum(r.get('comm_sec', 0) for r in rows) / sec))
PYEOF
}
run() { # name model-key ranks threads
    local out=$work/$1.gguf load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [ "$3" -eq 1 ]; then
        "$LLMOS" pretrain --data "$work/data" ${model[$2]} --threads "$4" --steps "$steps" --eval-every 0 \
            --save-every 0 --quiet --out "$out"
    else
        "${MPIRUN[@]}" -np "$3" "$LLMOS" pretrain --data "$work/data" ${model[$2]} --threads "$4" --steps "$steps" \
            --eval-every 0 --save-every 0 --quiet --out "$out"
    fi
    read -r tps comm < <(summary "$work/$1.log.jsonl")
    printf '%-5s %-12s %9s %7s%%   load %s\n' "$2" "$3 x $4" "$tps" "$comm" "$load"
}
echo "model ranks x thr   tok/s   comm   (load average before the run)"
for r in $(seq "$rounds"); do
    for m in tiny 30m; do
        if [ $((r % 2)) -eq 1 ]; then run "$m-a$r" "$m" 1 2; run "$m-b$r" "$m" 2 1
        else run "$m-b$r" "$m" 2 1; run "$m-a$r" "$m" 1 2; fi
    done
done

echo
echo "== all-reduce bandwidth, 2 ranks (bench/mpi_allreduce.c) =="
mpicc -O2 -o "$work/mpi_allreduce" bench/mpi_allreduce.c
echo "-- shared memory (btl vader)"
"${MPIRUN[@]}" -np 2 "$work/mpi_allreduce" 64
echo "-- TCP over loopback (btl tcp forced)"
"${MPIRUN[@]/self,vader,tcp/self,tcp}" -np 2 "$work/mpi_allreduce" 64
