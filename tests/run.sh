#!/usr/bin/env bash
# tests/run.sh - runs every test and ends with "N passed, N failed, N skipped".
#
# A test is either a C unit-test binary (tests/unit/test_*.c, built by make
# into $UNIT_DIR) or a script tests/t_*.sh. Each exits 0 on success and 77
# (automake's code) when it cannot run here, for a reason it prints last
# (a CPU without the instructions a kernel path needs); anything else is a
# failure. A failure shows the test's output; a skip shows its last line.
# A test skips only for hardware this machine lacks: on a CPU that has the
# feature, not running the path is a failure. `tests/run.sh PATTERN` runs the tests
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
pass=0 fail=0 skip=0 failed=() skipped=()
scratch=$(mktemp -d /tmp/llmos-tests.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

run_one() { # name command...
    local name=$1; shift
    if [[ "$pattern" == =* ]]; then [ "$name" = "${pattern#=}" ] || return
    elif [ -n "$pattern" ] && [[ "$name" != *"$pattern"* ]]; then return; fi
    export T="$scratch/$name"
    mkdir -p "$T"
    local t0=$SECONDS out rc=0
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
        pass=$((pass + 1))
        printf 'PASS %-40s %3ds\n' "$name" $((SECONDS - t0))
    elif [ "$rc" -eq 77 ]; then
        local why
        why=$(printf '%s\n' "$out" | sed '/^$/d' | tail -n 1)
        skip=$((skip + 1))
        skipped+=("$name: $why")
        printf 'SKIP %-40s %3ds  %s\n' "$name" $((SECONDS - t0)) "$why"
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
for s in "${skipped[@]}"; do echo "skipped $s"; done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
