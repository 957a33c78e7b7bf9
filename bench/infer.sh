#!/usr/bin/env bash
# bench/infer.sh [--sizes 15M,110M] [--types f32,f16,q8_0,q4_0] [--threads 1,2] [-r 5]
#                [--depth 768] [--deep-sizes 110M,110M-gqa] [--cpu]
#
# Inference speed, llmos against llama.cpp's llama-bench on the same files:
# pp128 and tg128 tokens/s for the "15M" (dim 288, 6 layers, 6 heads, ffn
# 768) and "110M" (dim 768, 12 layers, 12 heads, ffn 2048) llama models with
# Llama 2's 32000-token vocabulary and random weights, in f32, f16, q8_0 and
# q4_0, on 1 and 2 threads; then the rooflines; then generation after 768
# tokens of context on the 110M and on "110M-gqa" (the same with 3 kv heads,
# grouped as Llama 3's). Prints the markdown that
# docs/benchmarks.md ("Inference") holds. --cpu: the 1-thread CPU-time
# comparison instead (for a machine others are using).
#
# What it makes, outside the repository (kept between runs):
#   $LLAMA_CPP_DIR (~/.cache/llmos/llama.cpp)  llama-bench (bench/llama_bench.sh)
#   $BENCH_DIR (~/.cache/llmos/bench)           the models: bench/py/make_bench_models.py
#                                               writes f32, `llmos quantize` the rest
# The machine should be otherwise idle: both engines read the same memory.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=/usr/bin/python3
dir=${BENCH_DIR:-$HOME/.cache/llmos/bench}
[ -x ./llmos ] || make -j2 >&2
llama_bench=$(bench/llama_bench.sh --path)

mkdir -p build/bench
cc -O2 -std=c11 -D_GNU_SOURCE -fopenmp -Isrc -o build/bench/kernels_bench bench/kernels_bench.c \
    build/src/core/kernels.o build/src/core/kernels_x86.o build/src/core/types.o build/src/core/common.o -lm

mkdir -p "$dir"
if [ ! -s "$dir/llama2-tok.gguf" ]; then
    ./llmos tokenizer import --llama tests/oracle/node_modules/llama-tokenizer-js --out "$dir/llama2-tok.gguf" >&2
fi
for size in 15M 110M 110M-gqa; do
    [ -s "$dir/$size-f32.gguf" ] || $PY bench/py/make_bench_models.py "$dir/llama2-tok.gguf" "$dir" --sizes $size >&2
    for t in f16 bf16 q8_0 q4_0; do
        [ -s "$dir/$size-$t.gguf" ] || ./llmos quantize "$dir/$size-f32.gguf" "$dir/$size-$t.gguf" $t >&2
    done
done

exec $PY bench/py/infer_bench.py --llmos ./llmos --llama-bench "$llama_bench" \
    --kernels-bench build/bench/kernels_bench --dir "$dir" "$@"
