#!/usr/bin/env bash
# pretrain --tokens beyond 1e15 is a usage error (one line naming --tokens,
# exit 2, nothing written): the count becomes an int64, and 1e30 overflowed
# to INT64_MIN, which read as "not given", so the run silently trained the
# default budget. A valid --tokens still sets the step count: 2000 tokens
# in steps of batch 4 x ctx 16 = 64 tokens -> 2000 / 64 = 31 steps.
set -eu
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000 > /dev/null
args=(--data "$T/data" --dim 32 --layers 2 --heads 4 --kv-heads 2 --ffn 64 --ctx 16 --batch 4 --threads 1
      --eval-every 0 --quiet)
for t in 1e30 2e15 5000T; do
    rc=0
    "$LLMOS" pretrain "${args[@]}" --tokens "$t" --out "$T/big.gguf" --stop-after 1 > "$T/out.txt" 2> "$T/err.txt" ||
        rc=$?
    [ "$rc" = 2 ] && [ "$(grep -c . "$T/err.txt")" = 1 ] && grep -q -- "--tokens" "$T/err.txt" ||
        { echo "FAIL: --tokens $t gave exit $rc"; cat "$T/err.txt"; exit 1; }
    [ ! -e "$T/big.ckpt.gguf" ] && [ ! -e "$T/big.log.jsonl" ] || { echo "FAIL: --tokens $t wrote files"; exit 1; }
done
"$LLMOS" pretrain "${args[@]}" --tokens 2000 --out "$T/ok.gguf"
steps=$(grep -c '"loss"' "$T/ok.log.jsonl" || true)
[ "$steps" = 31 ] || { echo "FAIL: --tokens 2000 ran $steps steps, want 31"; exit 1; }
