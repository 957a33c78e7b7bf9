#!/usr/bin/env bash
# llmos scaling sweep is resumable: a tiny sweep (3 runs) is stopped inside
# its first run (the --stop-after hook exits as a kill would, after a
# checkpoint), then run again: the stopped run resumes from its checkpoint,
# the others train, and the resumed run's log equals, step for step, that of
# an uninterrupted `llmos pretrain` with the configuration the manifest
# records. A third call skips every finished run and trains nothing.
set -eu
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 20000 2000
"$LLMOS" scaling sweep --data "$T/data" --budget 5e9 --levels 1 --per-level 3 --ctx 16 --batch 4 \
    --min-steps 16 --threads 2 --out "$T/sw" --stop-after 25 >"$T/out1" 2>"$T/err1"
grep -q "stopped inside c0-d32l1" "$T/err1" || { cat "$T/err1"; exit 1; }
[ -f "$T/sw/c0-d32l1.ckpt.gguf" ] && [ ! -f "$T/sw/c0-d32l1.gguf" ] && [ ! -e "$T/sw/c0-d48l1.log.jsonl" ]
# the second call keeps the plan (a different budget is ignored)
"$LLMOS" scaling sweep --budget 1e12 --out "$T/sw" --threads 2 >"$T/out2" 2>"$T/err2"
grep -q "continuing the sweep" "$T/err2"
grep -q "c0-d32l1 .*resuming from its checkpoint" "$T/err2" || { cat "$T/err2"; exit 1; }
for r in c0-d32l1 c0-d48l1 c0-d64l1; do [ -f "$T/sw/$r.gguf" ]; done
[ ! -e "$T/sw/holdout-d64l2.gguf" ]
# the uninterrupted reference run, from the manifest's record of run 1
"$PY" - "$T/sw/sweep.jsonl" >"$T/args" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
plan = lines[0]
r = [l for l in lines if l.get('event') == 'run' and l['run'] == 'c0-d32l1'][0]
print(' '.join(str(x) for x in [
    '--dim', r['dim'], '--layers', r['layers'], '--heads', r['heads'], '--kv-heads', r['kv_heads'],
    '--ffn', r['ffn'], '--ctx', plan['ctx'], '--batch', r['batch'], '--tokens', r['tokens'],
    '--lr', plan['lr'], '--seed', plan['seed'], '--eval-batches', plan['eval_batches'],
    '--eval-every', 1 << 30]))
PYEOF
# shellcheck disable=SC2046
"$LLMOS" pretrain --data "$T/data" $(cat "$T/args") --threads 2 --quiet --out "$T/ref.gguf"
"$PY" - "$T/ref.log.jsonl" "$T/sw/c0-d32l1.log.jsonl" "$T/sw/sweep.jsonl" <<'PYEOF'
import json, sys
def rows(p):
    return [(o['step'], o.get('loss'), o.get('grad_norm'), o.get('val_loss'))
            for o in map(json.loads, open(p)) if 'loss' in o or 'val_loss' in o]
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert len(a) > 30 and a == b, 'logs differ: %s' % [x for x in a if x not in b][:3]
assert a[-1][3] is not None, 'no final validation loss'
done = [json.loads(l) for l in open(sys.argv[3]) if '"done"' in l]
assert sorted(d['run'] for d in done) == ['c0-d32l1', 'c0-d48l1', 'c0-d64l1'], done
print('resumed run: %d log rows identical to an uninterrupted run' % len(a))
PYEOF
# a third call trains nothing
before=$(stat -c %Y "$T"/sw/*.gguf | sort | tr '\n' ' ')
"$LLMOS" scaling sweep --out "$T/sw" --threads 2 >"$T/out3" 2>"$T/err3"
[ "$(grep -c "skipped" "$T/err3")" = 3 ]
[ "$(stat -c %Y "$T"/sw/*.gguf | sort | tr '\n' ' ')" = "$before" ]
# a new sweep needs data and a budget
set +e; "$LLMOS" scaling sweep --out "$T/new" 2>"$T/err4"; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "data DIR is required" "$T/err4"
