#!/usr/bin/env bash
# Merging several labelers: three labelers rank the same prompts' candidates
# (noisy copies of one true order, some pick-the-better-of-two judgements,
# a flagged one). Checked against a computation here in Python/PyTorch:
#  - the merged pairs are the majority order of every candidate pair;
#  - the agreement rate and Cohen's kappa over comparisons two labelers
#    both made;
#  - the Bradley-Terry scores equal the maximum of the likelihood (with the
#    0.1 pseudo-wins prior) found by PyTorch's L-BFGS in float64.
set -eu
cd "$T"
"$PY" - <<'PY'
import json, random
random.seed(5)
rows = []
for p in range(12):
    cands = ['answer %d to question %d' % (c, p) for c in range(4)]
    truth = list(range(4)); random.shuffle(truth)     # truth[c] = true rank-1
    for lab in ['carol', 'alice', 'bob']:
        noisy = [t + random.gauss(0, 1.0) for t in truth]
        order = sorted(range(4), key=lambda c: noisy[c])
        ranks = [0] * 4
        for r, c in enumerate(order): ranks[c] = r + 1
        flags = []
        if (p + len(lab)) % 5 == 0:              # better of two
            a, b = random.sample(range(4), 2)
            ranks = [0] * 4; ranks[a], ranks[b] = (1, 2) if noisy[a] < noisy[b] else (2, 1)
        if p == 3 and lab == 'bob': flags = ['spam']
        rows.append({'labeler': lab, 'time': '2026-01-01T00:00:00Z', 'model': 'm.gguf',
                     'prompt': [{'role': 'user', 'content': 'question %d' % p}],
                     'candidates': cands, 'ranks': ranks, 'flags': flags})
with open('store.jsonl', 'w') as f:
    for r in rows: f.write(json.dumps(r) + '\n')
PY
"$LLMOS" prefs merge store.jsonl --out pairs.jsonl --ranked bt.jsonl > report.txt
cat report.txt
"$PY" - <<'PY'
import json, re, itertools
import torch
torch.set_default_dtype(torch.float64)
rows = [json.loads(l) for l in open('store.jsonl')]
rows = [r for r in rows if not r['flags']]
groups = {}
for r in rows: groups.setdefault(r['prompt'][0]['content'], []).append(r)
pairs, bt = [], []
agree = n = fa = fb = 0
for key, rs in groups.items():
    cands = []
    for r in rs:
        for c in r['candidates']:
            if c not in cands: cands.append(c)
    K = len(cands)
    rk = [[0] * K for _ in rs]
    for i, r in enumerate(rs):
        for c, k in zip(r['candidates'], r['ranks']): rk[i][cands.index(c)] = k
    W = [[sum(1 for x in rk if x[a] and x[b] and x[a] < x[b]) for b in range(K)] for a in range(K)]
    for a in range(K):
        for b in range(K):
            if W[a][b] > W[b][a]: pairs.append({'prompt': key, 'chosen': cands[a], 'rejected': cands[b]})
    for i, j in itertools.combinations(range(len(rs)), 2):
        if rs[i]['labeler'] == rs[j]['labeler']: continue
        A, B = (i, j) if rs[i]['labeler'] < rs[j]['labeler'] else (j, i)
        for a, b in itertools.combinations(range(K), 2):
            ka, kb = rk[A], rk[B]
            if not (ka[a] and ka[b] and kb[a] and kb[b]) or ka[a] == ka[b] or kb[a] == kb[b]: continue
            wa, wb = ka[a] < ka[b], kb[a] < kb[b]
            n += 1; agree += wa == wb; fa += wa; fb += wb
    # Bradley-Terry MAP with 0.1 pseudo-wins each way on compared pairs
    s = torch.zeros(K, requires_grad=True)
    opt = torch.optim.LBFGS([s], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn='strong_wolfe')
    def closure():
        opt.zero_grad()
        ll = 0
        for a in range(K):
            for b in range(K):
                if a != b and W[a][b] + W[b][a] > 0:
                    ll = ll + (W[a][b] + 0.1) * torch.nn.functional.logsigmoid(s[a] - s[b])
        loss = -ll
        loss.backward()
        return loss
    opt.step(closure)
    v = (s - s.mean()).detach().tolist()
    bt.append((key, cands, v))
got = [json.loads(l) for l in open('pairs.jsonl')]
assert got == pairs, (len(got), len(pairs))
rate = agree / n
pa, pb = fa / n, fb / n
pe = pa * pb + (1 - pa) * (1 - pb)
kappa = (rate - pe) / (1 - pe)
rep = open('report.txt').read()
m = re.search(r'agreement ([0-9.]+) over (\d+) comparisons, Cohen\'s kappa ([-0-9.]+)', rep)
assert int(m.group(2)) == n, (m.group(2), n)
assert abs(float(m.group(1)) - rate) < 1e-3 and abs(float(m.group(3)) - kappa) < 1e-3, (m.groups(), rate, kappa)
got_bt = [json.loads(l) for l in open('bt.jsonl')]
assert len(got_bt) == len(bt)
worst = 0
for g, (key, cands, v) in zip(got_bt, bt):
    assert g['prompt'] == key and g['candidates'] == cands
    worst = max(worst, max(abs(x - y) for x, y in zip(g['scores'], v)))
    order = sorted(range(len(v)), key=lambda i: -v[i])
    assert g['ranks'][order[0]] == 1
assert worst < 2e-3, worst
print('merge ok: %d pairs, agreement %.3f kappa %.3f over %d, BT max diff %.1e' % (len(pairs), rate, kappa, n, worst))
PY
