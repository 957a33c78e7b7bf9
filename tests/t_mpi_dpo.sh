#!/usr/bin/env bash
# DPO on several ranks is the same preference tuning: 8 steps of 5 pairs on
# one process and on 2 ranks (pairs split 2/3; each rank's mean loss and
# statistics weighted by its share of the pairs) give the same loss (1e-5
# relative), reward accuracy and margin at every step and the same final
# parameters (1e-6 relative); rank 0 alone writes the reference cache and
# the log.
set -eu
source "$ROOT/tests/mpi_run.sh"
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
write_pairs pairs.jsonl 4
common=(--model base.gguf --data pairs.jsonl --steps 8 --batch 5 --lr 1e-4 --quiet)
"$LLMOS" dpo "${common[@]}" --threads 2 --out one.gguf >one.txt
"${MPIRUN[@]}" -np 2 "$LLMOS" dpo "${common[@]}" --threads 1 --out two.gguf >two.txt
cmp one.ref.bin two.ref.bin    # the reference log-probs: the same computation, one writer
[ "$(grep -c '"loss"' two.log.jsonl)" -eq 8 ] && [ "$(grep -c heldout_pairs two.txt)" -eq 1 ]
# the loss is softplus of a difference of two sums of ~100 token log-probs
# (policy minus reference): the cancellation costs a digit, hence 1e-5
mpi_compare losses one.log.jsonl two.log.jsonl 1e-5
mpi_compare params one.ckpt.gguf two.ckpt.gguf 1e-6
"$PY" - one.log.jsonl two.log.jsonl <<'PYEOF'
import json, sys
a, b = ([json.loads(l) for l in open(p) if '"acc"' in l] for p in sys.argv[1:])
for x, y in zip(a, b):
    assert x['acc'] == y['acc'] and x['pairs'] == y['pairs'], (x, y)
    assert abs(x['margin'] - y['margin']) <= 1e-5 * max(1e-3, abs(x['margin'])), (x, y)
print('dpo: accuracy and pairs equal at %d steps, margins within 1e-5' % len(a))
PYEOF
