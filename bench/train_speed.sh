#!/usr/bin/env bash
# bench/train_speed.sh - training speed of `llmos pretrain` against a
# PyTorch CPU loop of the same model, batch and threads
# (bench/py/torch_train.py: fp32, torch.optim.AdamW, clipping), plus the
# matmul roofline (bench/train_gemm.c). Results go to stdout as a table;
# docs/benchmarks.md ("Training") records them.
#
#   bench/train_speed.sh [small|100m|all] [THREADS]     (TORCH=0: llmos only)
#
# PyTorch is given its best BLAS: Debian's torch is built with BLAS_INFO=generic
# and calls whatever libblas.so.3 resolves to; the reference BLAS runs at
# ~3 GFLOP/s, so the script points it at OpenBLAS (libopenblas0-pthread)
# through LD_LIBRARY_PATH. PyTorch runs with OMP_WAIT_POLICY=passive (on a
# shared machine spinning threads collapse); llmos with its own default, a
# 1000-iteration spin before sleeping (src/cli/main.c); both with the same
# thread count. Wall-clock tokens/s depend on what
# else the machine runs; tokens per CPU-second (process CPU time per step)
# do much less, so both are shown.
set -eu
cd "$(dirname "$0")/.."
which=${1:-all}
threads=${2:-2}
PY=/usr/bin/python3
LLMOS=${LLMOS:-$PWD/llmos}
OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
work=$(mktemp -d /tmp/llmos-train-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -x "$LLMOS" ] || make -j2 llmos

echo "== matmul roofline (bench/train_gemm.c) =="
make -s build/src/core/gemm.o build/src/core/common.o
gcc -O2 -fopenmp -Isrc bench/train_gemm.c build/src/core/gemm.o build/src/core/common.o -o "$work/train_gemm" -lm
OMP_WAIT_POLICY=passive "$work/train_gemm"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# name dim layers heads kv ffn vocab batch ctx our_steps torch_steps
configs=()
[ "$which" = all ] || [ "$which" = small ] && configs+=("small 384 6 6 2 1024 8192 8 256 8 3")
[ "$which" = all ] || [ "$which" = 100m ] && configs+=("100m 768 12 12 4 2048 32000 4 256 5 2")

for c in "${configs[@]}"; do
    read -r name dim layers heads kv ffn vocab batch ctx steps tsteps <<<"$c"
    echo
    echo "== $name: dim $dim, $layers layers, $heads/$kv heads, ffn $ffn, vocab $vocab, batch $batch x $ctx, $threads threads =="
    $PY tests/py/train_data.py "$work/$name" "$vocab" 400000 20000
    for prec in fp32 bf16; do
        /usr/bin/time -f "%M" -o "$work/$name.rss" "$LLMOS" pretrain --data "$work/$name" --dim "$dim" \
            --layers "$layers" --heads "$heads" --kv-heads "$kv" --ffn "$ffn" --ctx "$ctx" --batch "$batch" \
            --steps "$steps" --eval-every 0 --save-every 0 --threads "$threads" --out "$work/$name.gguf" \
            $([ $prec = bf16 ] && echo --bf16) 2>&1 | grep -E "parameters|peak" | sed 's/^/  /'
        $PY - "$work/$name.log.jsonl" "$(cat "$work/$name.rss")" "$batch" "$ctx" "$prec" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l][2:]   # skip 2 warm-up steps
tok = int(sys.argv[3]) * int(sys.argv[4])
sec = sum(r['sec'] for r in rows) / len(rows)
cpu = sum(r['cpu_sec'] for r in rows) / len(rows)
gf = sum(r['gflops'] for r in rows) / len(rows)
print('llmos %s %8.1f tok/s  %8.1f tok/CPU-s  %6.1f GFLOP/s  %.2f s/step  peak RSS %.0f MB' %
      (sys.argv[5], tok / sec, tok / cpu, gf, sec, int(sys.argv[2]) / 1024))
PYEOF
    done
    [ "${TORCH:-1}" = 0 ] && continue
    OMP_WAIT_POLICY=passive OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
        LD_LIBRARY_PATH=$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
        $PY bench/py/torch_train.py --dim "$dim" --layers "$layers" --heads "$heads" --kv-heads "$kv" \
        --ffn "$ffn" --vocab "$vocab" --batch "$batch" --ctx "$ctx" --threads "$threads" \
        --steps "$tsteps" --warmup-steps 1 >"$work/$name.torch.json"
    $PY - "$work/$name.torch.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
print('pytorch    %8.1f tok/s  %8.1f tok/CPU-s                  %.2f s/step  peak RSS %.0f MB  (%s, %d params)' %
      (r['tok_per_s'], r['tok_per_cpu_s'], r['sec_per_step'], r['peak_rss_mb'], r['impl'], r['params']))
PYEOF
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
