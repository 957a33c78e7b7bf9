#!/usr/bin/env bash
# bench/llama_bench.sh [ARGS...] - runs llama.cpp's llama-bench with ARGS,
# building it first when missing. The source is the llama.cpp release that
# node-llama-cpp bundles (tests/oracle/node_modules/node-llama-cpp/llama/
# gitRelease.bundle, commit de3ff81); it is cloned and built outside the
# repository, in $LLAMA_CPP_DIR (default ~/.cache/llmos/llama.cpp), with
# cmake: Release, native CPU, no curl, no server; about 6 minutes on 2 cores.
#   bench/llama_bench.sh --path     prints the llama-bench binary's path
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
dir=${LLAMA_CPP_DIR:-$HOME/.cache/llmos/llama.cpp}
bin=$dir/build/bin/llama-bench
if [ ! -x "$bin" ]; then
    bundle=$ROOT/tests/oracle/node_modules/node-llama-cpp/llama/gitRelease.bundle
    [ -f "$bundle" ] || { echo "llama_bench.sh: $bundle is missing (run scripts/install-deps.sh)" >&2; exit 1; }
    command -v cmake >/dev/null || { echo "llama_bench.sh: cmake is missing (apt-get install cmake)" >&2; exit 1; }
    [ -d "$dir/.git" ] || git clone -q "$bundle" "$dir" >&2
    echo "llama_bench.sh: building llama-bench in $dir (a few minutes)" >&2
    cmake -S "$dir" -B "$dir/build" -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF \
        -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON >"$dir/build.log" 2>&1
    nice -n 10 cmake --build "$dir/build" --target llama-bench -j2 >>"$dir/build.log" 2>&1 ||
        { tail -20 "$dir/build.log" >&2; exit 1; }
fi
if [ "${1:-}" = "--path" ]; then echo "$bin"; exit 0; fi
exec "$bin" "$@"
