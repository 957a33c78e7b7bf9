#!/usr/bin/env bash
# tests/fuzz/long.sh - the long fuzzing run (make fuzz-long): every libFuzzer
# harness for RUNS inputs (default 1,000,000) from the seed corpus of
# tests/fuzz/seeds.py, at low priority (nice), one after the other. Prints
# one line per harness: inputs run, coverage, and findings (the input that
# triggered one is kept in OUT). Exits 1 when any harness found something.
#   RUNS=1000000 OUT=/tmp/fuzz-long HARNESSES="fuzz_gguf fuzz_jsonl" tests/fuzz/long.sh
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-1000000}
OUT=${OUT:-$(mktemp -d /tmp/llmos-fuzz-long.XXXXXX)}
HARNESSES=${HARNESSES:-"fuzz_gguf fuzz_model fuzz_run fuzz_jsonl"}
mkdir -p "$OUT"
/usr/bin/python3 tests/fuzz/seeds.py "$OUT/seeds" "$OUT/seeds-jsonl" || exit 1
status=0
for h in $HARNESSES; do
    case $h in
        fuzz_jsonl) seeds="$OUT/seeds-jsonl tests/fuzz/regress-jsonl" max=8192 ;;
        fuzz_gguf) seeds=$OUT/seeds max=16384 ;;
        fuzz_run) seeds="$OUT/seeds tests/fuzz/regress-run" max=32768 ;;
        *) seeds=$OUT/seeds max=32768 ;;
    esac
    mkdir -p "$OUT/corpus-$h"
    cp "$BUILD/$h" "$OUT/$h.bin" || exit 1 # a rebuild during the run leaves it alone
    t0=$(date +%s)
    # -close_fd_mask=1: run.c prints the tokens it samples
    nice -n 19 "$OUT/$h.bin" -runs="$RUNS" -max_len=$max -seed=1 -close_fd_mask=1 -artifact_prefix="$OUT/$h-" \
        -print_final_stats=1 "$OUT/corpus-$h" $seeds > "$OUT/$h.log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$h.log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$OUT/$h.log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "$h: ${execs:-?} inputs in $(( $(date +%s) - t0 )) s, $cov, no finding"
    elif [ $rc -eq 72 ]; then # libFuzzer's exit status when interrupted (SIGINT, SIGTERM)
        echo "$h: interrupted after $(grep -o '^#[0-9]*' "$OUT/$h.log" | tail -1 | tr -d '#') inputs, $cov, no finding"
    else
        status=1
        echo "$h: FINDING after ${execs:-?} inputs (exit $rc): $(grep -m1 -E 'ERROR|broken promise|runtime error' "$OUT/$h.log")"
        ls "$OUT/$h-crash-"* "$OUT/$h-leak-"* "$OUT/$h-timeout-"* "$OUT/$h-oom-"* 2>/dev/null
    fi
done
echo "logs and corpora in $OUT"
exit $status
