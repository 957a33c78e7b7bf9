#!/usr/bin/env bash
# t_bench.sh - `llmos bench` (the llama-bench counterpart): pp and tg rows
# in its CSV form, the -d depth form ("tg8 @ d32"), generation alone (-p 0,
# a one-token batch state), and one-line errors for a depth past the
# model's context and a bad thread list, --cache-type f32, and a bad
# --cache-type refused by every command that takes it. Speed itself is
# bench/infer.sh's.
set -eu
cd "$ROOT"
$PY tests/py/gen_model.py "$T/m" --configs gqa --types f32,q8_0 >/dev/null
m=$T/m/gqa-f32.gguf
$LLMOS bench "$m" -p 16 -n 8 -d 32 -t 1,2 -r 2 --csv >"$T/out"
cat "$T/out"
$PY - "$T/out" <<'PY'
import sys
rows = [l.strip().split(',') for l in open(sys.argv[1])]
names = [(r[2], r[3]) for r in rows]
assert names == [('1', 'pp16 @ d32'), ('1', 'tg8 @ d32'), ('2', 'pp16 @ d32'), ('2', 'tg8 @ d32')], names
for r in rows:
    assert r[0] == 'gqa-f32.gguf' and r[1] == 'f32', r
    mean, sd, best = float(r[4]), float(r[5]), float(r[6])
    assert 0 < mean <= best and sd >= 0, r
PY
$LLMOS bench "$T/m/gqa-q8_0.gguf" -p 0 -n 4 -t 1 -r 1 --csv >"$T/tg"
grep -q '^gqa-q8_0.gguf,q8_0,1,tg4,' "$T/tg"
[ "$(wc -l <"$T/tg")" = 1 ]
set +e
$LLMOS bench "$m" -p 0 -n 16 -d 120 -r 1 2>"$T/err"; rc=$?
set -e
[ $rc = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "depth 120 and a test of 16 tokens exceed the model's context of 128" "$T/err"
set +e
$LLMOS bench "$m" -t 0 2>"$T/err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "bench: -t wants thread counts" "$T/err"
# the KV cache type: both run, anything else is refused before loading
$LLMOS bench "$m" -p 8 -n 4 -d 16 -t 1 -r 1 --cache-type f32 --csv | grep -q '^gqa-f32.gguf,f32,1,tg4 @ d16,'
for cmd in "bench $m" "generate $m -n 1" "logits $m --tokens 1" "perplexity $m $m" "chat $m -p x"; do
    set +e
    $LLMOS $cmd --cache-type q8_0 2>"$T/err"; rc=$?
    set -e
    [ $rc = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q -- "--cache-type wants f16 or f32 (got 'q8_0')" "$T/err" \
        || { echo "llmos $cmd --cache-type q8_0: exit $rc: $(cat "$T/err")"; exit 1; }
done
echo ok
