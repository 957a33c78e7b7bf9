#!/usr/bin/env bash
# t_fuzz_gguf.sh - builds the libFuzzer harness on the GGUF reader
# (tests/fuzz/fuzz_gguf.c) and runs it for a bounded number of inputs from a
# seed corpus of generated files. Any finding (crash, ASan/UBSan report,
# broken reader promise, writer round trip that does not read back) fails.
# The long run (1,000,000 inputs) is done by hand:
#   make fuzz && build/fuzz_gguf -runs=1000000 CORPUS tests-seeds
set -eu
cd "$ROOT"
RUNS=${FUZZ_RUNS:-20000}
command -v clang >/dev/null || { echo "clang missing (scripts/install-deps.sh)"; exit 1; }
make -s fuzz BUILD="$T/build" >/dev/null
$PY tests/fuzz/seeds.py "$T/seeds"
mkdir -p "$T/corpus"
if ! "$T/build/fuzz_gguf" -runs="$RUNS" -max_len=16384 -seed=1 -artifact_prefix="$T/" \
        "$T/corpus" "$T/seeds" >"$T/log" 2>&1; then
    tail -n 40 "$T/log"
    echo "fuzz_gguf: finding (see above)"
    exit 1
fi
grep -q "Done $RUNS runs" "$T/log" || { tail -n 20 "$T/log"; echo "fuzzer did not finish $RUNS runs"; exit 1; }
echo "fuzz_gguf: $RUNS runs, no finding"
