#!/usr/bin/env bash
# --epochs of sft, dpo and reward train must be a number in (0, 1e6]: the
# step count is ceil(epochs x steps per epoch) as an int64, and --epochs
# 1e300 overflowed that conversion (undefined; on x86 INT64_MIN, so the run
# silently trained 1 step). Out-of-range values get one line naming the
# option and exit 2 and write nothing; a valid value still trains the
# expected number of steps (2 epochs of the 40 conversations, none held out,
# in batches of 16: 2 x ceil(40 / 16) = 6 steps).
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
write_pairs pairs.jsonl
for cmd in "sft --data chats.jsonl" "dpo --data pairs.jsonl" "reward train --data pairs.jsonl"; do
    for e in 1e300 0 -2 nan; do
        rc=0
        # shellcheck disable=SC2086
        "$LLMOS" $cmd --model base.gguf --out out.gguf --epochs "$e" --threads 1 > out.txt 2> err.txt || rc=$?
        [ "$rc" = 2 ] || { echo "FAIL: $cmd --epochs $e gave exit $rc"; cat err.txt; exit 1; }
        [ "$(grep -c . err.txt)" = 1 ] && grep -q -- "--epochs" err.txt ||
            { echo "FAIL: $cmd --epochs $e:"; cat err.txt; exit 1; }
        [ ! -e out.gguf ] && [ ! -e out.log.jsonl ] || { echo "FAIL: $cmd --epochs $e wrote files"; exit 1; }
    done
done
"$LLMOS" sft --model base.gguf --data chats.jsonl --out sft.gguf --epochs 2 --batch 16 --threads 1 --quiet \
    --eval-every 0 > out.txt 2> err.txt
steps=$(grep -c '"loss"' sft.log.jsonl || true)
n=$(grep -c . chats.jsonl)
want=$("$PY" -c "import math; print(math.ceil(2 * math.ceil($n / 16)))")
echo "sft --epochs 2: $steps steps (want $want)"
[ "$steps" = "$want" ] || { echo "FAIL: $steps steps, want $want"; cat err.txt; exit 1; }
