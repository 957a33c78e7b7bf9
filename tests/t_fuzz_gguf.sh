#!/usr/bin/env bash
# t_fuzz_gguf.sh - builds the libFuzzer harnesses (make fuzz) and runs them
# for a bounded number of inputs from a seed corpus of generated files
# (tests/fuzz/seeds.py): fuzz_gguf on the GGUF reader (plus a writer round
# trip), fuzz_model on file -> model_load -> tokenizer -> forward, fuzz_run
# on run.c, fuzz_jsonl on the conversation and preference readers. Any
# finding (crash, ASan/UBSan report, broken promise) fails the test. The
# seeds include the inputs of earlier findings (regress-*). The long run:
# make fuzz-long (1M inputs each; docs/testing.md).
set -eu
cd "$ROOT"
RUNS=${FUZZ_RUNS:-20000}
MODEL_RUNS=${FUZZ_MODEL_RUNS:-5000}
RUN_RUNS=${FUZZ_RUN_RUNS:-1000}
JSONL_RUNS=${FUZZ_JSONL_RUNS:-3000}
command -v clang >/dev/null || { echo "clang missing (scripts/install-deps.sh)"; exit 1; }
make -s fuzz >/dev/null
$PY tests/fuzz/seeds.py "$T/seeds" "$T/seeds-jsonl"

fuzz() { # binary runs max_len [seeds]
    mkdir -p "$T/corpus-$1"
    if ! "build/$1" -runs="$2" -max_len="$3" -seed=1 -close_fd_mask=1 -artifact_prefix="$T/" \
            "$T/corpus-$1" ${4:-$T/seeds} >"$T/log-$1" 2>&1; then
        grep -v '^#' "$T/log-$1" | tail -n 40
        echo "$1: finding (see above; the input is in $T)"
        exit 1
    fi
    grep -q "Done $2 runs" "$T/log-$1" || { tail -n 20 "$T/log-$1"; echo "$1 did not finish $2 runs"; exit 1; }
    echo "$1: $2 runs, no finding ($(grep -o 'cov: [0-9]*' "$T/log-$1" | tail -1))"
}
fuzz fuzz_gguf "$RUNS" 16384
fuzz fuzz_model "$MODEL_RUNS" 32768
fuzz fuzz_run "$RUN_RUNS" 32768 "$T/seeds tests/fuzz/regress-run"
fuzz fuzz_jsonl "$JSONL_RUNS" 8192 "$T/seeds-jsonl tests/fuzz/regress-jsonl"
