#!/usr/bin/env bash
# bench/serve.sh [--model FILE] [--streams 1,4,16] [--max-tokens 64] [--threads 2]
#
# `llmos serve` beside llama.cpp's llama-server on the same GGUF file:
# aggregate generated tokens/s and time to first token with 1, 4 and 16
# concurrent streaming clients (bench/py/serve_bench.py: /v1/completions,
# temperature 0, end of text banned so every reply has --max-tokens
# tokens). Both servers get 16 slots of 512 tokens and the same threads;
# the two are measured alternately, cell by cell, and the load average is
# printed beside each pair (the machine may be shared). Prints the
# markdown table docs/benchmarks.md holds.
#
# The default model is the 15M benchmark model in f16 (bench/infer.sh's,
# made by bench/py/make_bench_models.py in $BENCH_DIR). llama-server comes
# from $LLAMA_CPP_DIR/build/bin (built from the llama.cpp release that
# node-llama-cpp bundles, as bench/llama_bench.sh builds llama-bench).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=/usr/bin/python3
dir=${BENCH_DIR:-$HOME/.cache/llmos/bench}
model="" streams=1,4,16 max_tokens=64 threads=2
while [ $# -gt 0 ]; do
    case $1 in
    --model) model=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --max-tokens) max_tokens=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "bench/serve.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
[ -x ./llmos ] || make -j2 >&2
server=${LLAMA_CPP_DIR:-$HOME/.cache/llmos/llama.cpp}/build/bin/llama-server
[ -x "$server" ] || { echo "bench/serve.sh: $server is missing (build llama.cpp's llama-server target)" >&2; exit 1; }
if [ -z "$model" ]; then
    mkdir -p "$dir"
    [ -s "$dir/llama2-tok.gguf" ] ||
        ./llmos tokenizer import --llama tests/oracle/node_modules/llama-tokenizer-js --out "$dir/llama2-tok.gguf" >&2
    [ -s "$dir/15M-f32.gguf" ] || $PY bench/py/make_bench_models.py "$dir/llama2-tok.gguf" "$dir" --sizes 15M >&2
    [ -s "$dir/15M-f16.gguf" ] || ./llmos quantize "$dir/15M-f32.gguf" "$dir/15M-f16.gguf" f16 >&2
    model=$dir/15M-f16.gguf
fi
eos=$(./llmos info "$model" --meta | awk '$1 == "tokenizer.ggml.eos_token_id" {print $2}')
[ -n "$eos" ] || { echo "bench/serve.sh: $model has no end-of-text token" >&2; exit 1; }
ctx=$((16 * 512))
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

# start NAME CMD...: the server in the background; waits for /health
start() {
    local name=$1 port=$2; shift 2
    "$@" > "$tmp/$name.log" 2>&1 &
    pids="$pids $!"
    eval "${name}_pid=$!"
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "bench/serve.sh: $name did not start:" >&2; tail -5 "$tmp/$name.log" >&2; exit 1
}
free_port() { $PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
p1=$(free_port) p2=$(free_port)
start llmos "$p1" ./llmos serve "$model" --port "$p1" --parallel 16 --ctx 512 --threads "$threads"
start llama "$p2" "$server" -m "$model" --port "$p2" --host 127.0.0.1 -np 16 -c "$ctx" -t "$threads" --no-webui

echo "model: $(basename "$model"), $threads threads, 16 slots of 512 tokens, $max_tokens tokens per reply, 2 requests per client"
echo
echo "| streams | llmos tok/s | llama-server tok/s | ratio | llmos TTFT (median) | llama-server TTFT (median) | load average |"
echo "|---:|---:|---:|---:|---:|---:|---|"
for n in ${streams//,/ }; do
    a=$($PY bench/py/serve_bench.py "http://127.0.0.1:$p1/" "$n" "$max_tokens" "$eos")
    b=$($PY bench/py/serve_bench.py "http://127.0.0.1:$p2/" "$n" "$max_tokens" "$eos")
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    $PY - "$a" "$b" "$load" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for x, name in ((a, 'llmos'), (b, 'llama-server')):
    if x['errors']: sys.exit('bench/serve.sh: %s: %s' % (name, x['errors']))
print('| %d | %.1f | %.1f | %.2f | %.0f ms | %.0f ms | %s |' % (a['streams'], a['tok_per_s'], b['tok_per_s'],
      a['tok_per_s'] / b['tok_per_s'], a['ttft_median_s'] * 1000, b['ttft_median_s'] * 1000, sys.argv[3]))
PY
done
