#!/usr/bin/env bash
# The scaling-law fitter against losses drawn from a known law (Chinchilla's
# constants E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28; the generator is
# tests/py/scaling_synth.py, written as pretrain logs with a config record):
#   - no noise, 6 x 5 grid of (N, D): every constant back within 0.1%
#   - 0.4% lognormal noise: alpha and beta within 0.05, E within 0.2, the 95%
#     bootstrap intervals of alpha and beta contain the truth, and the law
#     extrapolated 10x beyond the grid in N and/or D within 3% of the truth
#     (the tolerances hold for noise seeds 1-8; the worst seeds were 0.035,
#     0.021, 0.12 and 2.4%)
#   - iso-FLOP runs (4 budgets x 7 sizes): approach 2 finds each budget's best
#     N within 10% of the true optimum (a dense scan of the law) and the
#     exponent of N_opt(C) within 0.02 of beta/(alpha+beta) = 0.4516
#   - predict: the law's value, and the compute-optimal split checked against a
#     dense scan of the iso-FLOP line
#   - the three pictures are PNG files; bad inputs give one-line errors
set -eu
S="$ROOT/tests/py/scaling_synth.py"
"$PY" "$S" "$T/exact" 0 1
"$PY" "$S" "$T/noisy" 0.004 3
"$PY" "$S" "$T/iso" 0 1 isoflop
"$LLMOS" scaling fit "$T"/exact/*.log.jsonl --bootstrap 0 --out "$T/exact.json" --no-plots >"$T/exact.txt"
"$LLMOS" scaling fit "$T"/noisy/*.log.jsonl --bootstrap 40 --out "$T/noisy.json" --plots "$T/png" >"$T/noisy.txt"
"$LLMOS" scaling fit "$T"/iso/*.log.jsonl --bootstrap 0 --out "$T/iso.json" --no-plots >"$T/iso.txt"
grep -q "approach 2" "$T/iso.txt"
for f in loss_vs_compute isoflop residuals; do
    [ "$(head -c 4 "$T/png/$f.png" | od -An -c | tr -d ' ')" = '211PNG' ] || { echo "bad $f.png"; exit 1; }
done
"$LLMOS" scaling predict --fit "$T/noisy.json" --n 3e8 --d 7e9 >"$T/pred.json"
"$LLMOS" scaling predict --fit "$T/noisy.json" --compute 1e21 >"$T/opt.json"
"$PY" - "$T" <<'PYEOF'
import json, math, sys
import numpy as np
T = sys.argv[1]
E, A, B, al, be = 1.69, 406.4, 410.7, 0.34, 0.28
law = lambda f, n, d: f['E'] + f['A'] / n ** f['alpha'] + f['B'] / d ** f['beta']
truth = dict(E=E, A=A, B=B, alpha=al, beta=be)
x = json.load(open(T + '/exact.json'))
for k, v in truth.items():
    assert abs(x[k] - v) <= 1e-3 * v, ('exact', k, x[k], v)
n = json.load(open(T + '/noisy.json'))
assert abs(n['alpha'] - al) < 0.05 and abs(n['beta'] - be) < 0.05, n
assert abs(n['E'] - E) < 0.2, n
for k in ('alpha', 'beta'):
    lo, hi = n['ci95'][k]
    assert lo <= truth[k] <= hi and hi - lo > 1e-3, (k, lo, hi)
for N, D in ((2e10, 4e11), (2e10, 4e9), (2e8, 4e11)):
    rel = law(n, N, D) / law(truth, N, D) - 1
    assert abs(rel) < 0.03, ('extrapolation', N, D, rel)
# predict
p = json.load(open(T + '/pred.json'))
assert abs(p['loss'] - law(n, 3e8, 7e9)) < 1e-5, p
o = json.load(open(T + '/opt.json'))
C = 1e21
assert abs(6 * o['N_opt'] * o['D_opt'] / C - 1) < 1e-4, o
ns = np.exp(np.linspace(math.log(1e6), math.log(1e12), 400001))
best = ns[np.argmin(law(n, ns, C / (6 * ns)))]
assert abs(o['N_opt'] / best - 1) < 1e-3, (o, best)
# approach 2
i = json.load(open(T + '/iso.json'))
groups = [g for g in i['isoflop'] if g['valid']]
assert len(groups) == 4, i['isoflop']
for g in groups:
    C = g['C']
    true_n = ns[np.argmin(law(truth, ns, C / (6 * ns)))]
    assert abs(g['N_opt'] / true_n - 1) < 0.10, (C, g['N_opt'], true_n)
assert abs(i['approach2_a'] - be / (al + be)) < 0.02, i['approach2_a']
print('fit: exact %s; noisy alpha %.3f beta %.3f E %.3f; approach 2 a %.4f' %
      ({k: round(x[k], 4) for k in truth}, n['alpha'], n['beta'], n['E'], i['approach2_a']))
PYEOF
# bad inputs
if "$LLMOS" scaling fit "$T/nothing" 2>"$T/err"; then exit 1; fi
grep -q "cannot open '$T/nothing'" "$T/err"
if "$LLMOS" scaling fit "$T"/exact/run0[0-3].log.jsonl 2>"$T/err"; then exit 1; fi
grep -q "at least 5 runs" "$T/err"
echo '{"E":1}' >"$T/bad.json"
if "$LLMOS" scaling predict --fit "$T/bad.json" --n 1e6 --d 1e8 2>"$T/err"; then exit 1; fi
grep -q "not a scaling fit" "$T/err"
set +e; "$LLMOS" scaling predict --n 1e6 2>/dev/null; rc=$?; set -e
[ "$rc" = 2 ]
