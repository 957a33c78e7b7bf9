#!/usr/bin/env bash
# tests/run.sh - runs every test and ends with "N passed, N failed".
#
# A test is either a C unit-test binary (tests/unit/test_*.c, built by make
# into $UNIT_DIR) or a script tests/t_*.sh. Each exits 0 on success; its
# output is shown only when it fails. `tests/run.sh PATTERN` runs the tests
# whose names contain PATTERN. Environment: LLMOS (the binary under test),
# UNIT_DIR, and TMPDIR-style scratch in $T (a fresh folder per test).
set -u
cd "$(dirname "$0")/.."
export LLMOS=${LLMOS:-$PWD/llmos}
export UNIT_DIR=${UNIT_DIR:-$PWD/build/tests}
export ROOT=$PWD
export PY=/usr/bin/python3
# The oracles run on the Node.js that tests/oracle/package.json pins (Debian 12's is too old).
[ -x tests/oracle/node_modules/.bin/node ] && export PATH="$PWD/tests/oracle/node_modules/.bin:$PATH"
pattern=${1:-}
pass=0 fail=0 failed=()
scratch=$(mktemp -d /tmp/llmos-tests.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

run_one() { # name command...
    local name=$1; shift
    [ -n "$pattern" ] && [[ "$name" != *"$pattern"* ]] && return
    export T="$scratch/$name"
    mkdir -p "$T"
    local t0=$SECONDS out
    if out=$("$@" 2>&1); then
        pass=$((pass + 1))
        printf 'PASS %-40s %3ds\n' "$name" $((SECONDS - t0))
    else
        fail=$((fail + 1))
        failed+=("$name")
        printf 'FAIL %-40s %3ds\n' "$name" $((SECONDS - t0))
        printf '%s\n' "$out" | tail -n 40 | sed 's/^/    /'
    fi
}

for bin in "$UNIT_DIR"/test_*; do
    [ -x "$bin" ] || continue
    case "$bin" in *.d) continue ;; esac
    run_one "$(basename "$bin")" "$bin"
done
for t in tests/t_*.sh; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t" .sh)" bash "$t"
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
