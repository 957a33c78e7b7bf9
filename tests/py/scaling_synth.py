"""Synthetic runs for tests/t_scaling_fit.sh: losses drawn from a known law
L = E + A/N^alpha + B/D^beta (times lognormal noise), written as pretrain-style
logs (a config record, step records, a final validation record), one per run.

usage: scaling_synth.py OUTDIR SIGMA SEED [isoflop]
grid mode: 6 sizes x 5 token counts; isoflop mode: 4 budgets x 7 sizes each.
"""
import json, math, os, sys
import numpy as np

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
out, sigma, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
iso = len(sys.argv) > 4 and sys.argv[4] == 'isoflop'
rng = np.random.default_rng(seed)
os.makedirs(out, exist_ok=True)

def law(n, d):
    return E + A / n ** ALPHA + B / d ** BETA

runs = []
if iso:
    for C in (1e18, 1e19, 1e20, 1e21):
        # the true optimum, by a dense scan of the iso-FLOP line
        ns = np.exp(np.linspace(math.log(1e6), math.log(1e11), 20001))
        nopt = ns[np.argmin(law(ns, C / (6 * ns)))]
        for f in np.exp(np.linspace(math.log(1 / 8), math.log(8), 7)):
            n = nopt * f
            runs.append((n, C / (6 * n)))
else:
    for n in np.geomspace(2e7, 2e9, 6):
        for d in np.geomspace(4e8, 4e10, 5):
            runs.append((n, d))
for i, (n, d) in enumerate(runs):
    loss = law(n, d) * math.exp(sigma * rng.standard_normal())
    with open(os.path.join(out, 'run%02d.log.jsonl' % i), 'w') as f:
        f.write(json.dumps({'step': 0, 'event': 'config', 'params': n * 1.1,
                            'non_embedding_params': n, 'tokens_planned': d}) + '\n')
        f.write(json.dumps({'step': 1000, 'loss': loss * 1.01, 'tokens': d}) + '\n')
        f.write(json.dumps({'step': 1000, 'val_loss': loss, 'val_bpb': loss / math.log(2) / 4}) + '\n')
