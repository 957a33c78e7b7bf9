#!/usr/bin/env bash
# bench/run.sh - what `make bench` runs: every benchmark in the list below,
# one after the other, each printing the markdown its docs/benchmarks.md
# section holds. Benchmarks take minutes and want an idle machine; timing
# never belongs in tests/. Add a new benchmark script to BENCHES.
#   bench/run.sh [NAME...]   runs only the named ones (e.g. infer)
set -u
cd "$(dirname "$0")/.."
BENCHES="infer tok_train tok_encode"
[ $# -gt 0 ] && BENCHES="$*"
rc=0
for b in $BENCHES; do
    [ -f "bench/$b.sh" ] || { echo "bench/run.sh: no bench/$b.sh" >&2; rc=1; continue; }
    echo "## bench/$b.sh"
    bash "bench/$b.sh" || { echo "bench/run.sh: bench/$b.sh failed" >&2; rc=1; }
done
exit $rc
