"""check_sampler.py - llmos's sampler against a float64 numpy reference of
llama.cpp's default sampler chain, on fixed logits. Used by tests/t_sampler.sh.

    check_sampler.py SAMPLE_DUMP

The reference follows the order of llama.cpp's default chain
(common/common.h: penalties, dry, top-n-sigma, top-k, typical-p, top-p,
min-p, xtc, temperature; the ones llmos has, in that order) and each
sampler's definition in src/llama-sampling.cpp:
  repetition penalty: every distinct token among the last LAST_N has its
      logit divided by the penalty when positive, multiplied when <= 0;
  top-k: the K largest logits;
  top-p: softmax of what is left (temperature 1), the shortest prefix in
      descending order whose cumulative probability reaches P;
  min-p: logits >= the largest + ln(MIN_P) (p >= MIN_P x the top p);
  temperature: logits / T, then softmax; T = 0 is greedy (the argmax).
For each setting, two checks:
  1. the distribution llmos draws from (sampler_probs) equals the
     reference's: the same tokens kept, each probability within 1e-5;
  2. DRAWS seeded calls of sampler_sample (the path generation uses) agree
     with the reference's probabilities by a chi-square test (bins with an
     expected count under 5 pooled; p-value >= 1e-4), and no draw is a
     token the reference removed.
The logits are drawn so that no token lies within 1e-4 of a filter's
boundary (float32 and float64 then keep the same tokens).
"""
import subprocess
import sys

import numpy as np
import torch

V = 200
DRAWS = 20000
# name, temperature, top_k, top_p, min_p, repeat penalty, last_n
SETTINGS = [
    ('plain T=1', 1.0, 0, 1.0, 0.0, 1.0, 64),
    ('temperature 0.5', 0.5, 0, 1.0, 0.0, 1.0, 64),
    ('temperature 1.7', 1.7, 0, 1.0, 0.0, 1.0, 64),
    ('top-k 5', 1.0, 5, 1.0, 0.0, 1.0, 64),
    ('top-k 40, T 0.8', 0.8, 40, 1.0, 0.0, 1.0, 64),
    ('top-p 0.9', 1.0, 0, 0.9, 0.0, 1.0, 64),
    ('top-p 0.5, T 0.7', 0.7, 0, 0.5, 0.0, 1.0, 64),
    ('top-k 20, top-p 0.6, T 2', 2.0, 20, 0.6, 0.0, 1.0, 64),
    ('min-p 0.05', 1.0, 0, 1.0, 0.05, 1.0, 64),
    ('min-p 0.2, T 1.3', 1.3, 0, 1.0, 0.2, 1.0, 64),
    ('top-p 0.8, min-p 0.1, T 0.6', 0.6, 0, 0.8, 0.1, 1.0, 64),
    ('penalty 1.5 over 8', 1.0, 0, 1.0, 0.0, 1.5, 8),
    ('penalty 0.7 over 64', 1.0, 0, 1.0, 0.0, 0.7, 64),
    ('llama.cpp defaults, penalty 1.1', 0.8, 40, 0.95, 0.05, 1.1, 64),
    ('greedy (T 0)', 0.0, 0, 1.0, 0.0, 1.0, 64),
    ('greedy with penalty 3', 0.0, 0, 1.0, 0.0, 3.0, 64),
]


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def reference(logits, recent, temp, top_k, top_p, min_p, penalty, last_n):
    """Returns (probabilities over the vocabulary, the smallest distance of
    any kept/removed decision from its boundary)."""
    x = logits.astype(np.float64).copy()
    margin = np.inf
    if penalty != 1.0:
        for t in set(recent[-last_n:] if last_n > 0 else []):
            x[t] = x[t] / penalty if x[t] > 0 else x[t] * penalty
    if temp <= 0:
        p = np.zeros(len(x))
        order = np.argsort(-x, kind='stable')
        p[order[0]] = 1
        return p, x[order[0]] - x[order[1]]
    ids = np.argsort(-x, kind='stable')  # descending
    if 0 < top_k < len(ids):
        margin = min(margin, x[ids[top_k - 1]] - x[ids[top_k]])
        ids = ids[:top_k]
    if top_p < 1.0:
        cum = np.cumsum(softmax(x[ids]))
        n = int(np.argmax(cum >= top_p)) + 1
        margin = min(margin, np.abs(cum - top_p).min())
        ids = ids[:n]
    if min_p > 0:
        floor = x[ids[0]] + np.log(min_p)
        margin = min(margin, np.abs(x[ids] - floor).min())
        ids = ids[x[ids] >= floor]
    p = np.zeros(len(x))
    p[ids] = softmax(x[ids] / temp)
    return p, margin


def case(seed, setting):
    """Logits and recent tokens for one setting, redrawn until no token sits
    within 1e-4 of a boundary."""
    rng = np.random.default_rng(seed)
    while True:
        logits = (rng.standard_normal(V) * 2.5).astype(np.float32)
        # recent tokens: some repeated, from high and low logits, some outside
        # a short window
        recent = [int(t) for t in rng.choice(V, 24)] + [int(np.argmax(logits))] * 2
        p, margin = reference(logits, recent, *setting[1:])
        if margin > 1e-4:
            return logits, recent, p


def chi_square(counts, p, n):
    exp = p * n
    big = exp >= 5
    obs_b, exp_b = list(counts[big]), list(exp[big])
    if exp[~big].sum() > 0:
        obs_b.append(counts[~big].sum())
        exp_b.append(exp[~big].sum())
    obs_b, exp_b = np.array(obs_b, dtype=np.float64), np.array(exp_b)
    df = len(obs_b) - 1
    if df < 1:
        return 0.0, 0, 1.0
    chi2 = float(((obs_b - exp_b) ** 2 / exp_b).sum())
    pval = float(torch.special.gammaincc(torch.tensor(df / 2.0, dtype=torch.float64),
                                         torch.tensor(chi2 / 2.0, dtype=torch.float64)))
    return chi2, df, pval


def main(argv):
    dump = argv[1]
    fails = 0
    print('%-34s %5s %10s %8s %4s %9s' % ('setting', 'kept', 'max|dp|', 'chi2', 'df', 'p-value'))
    for i, st in enumerate(SETTINGS):
        logits, recent, want = case(1000 + i, st)
        _, temp, top_k, top_p, min_p, penalty, last_n = st
        inp = '%d\n%s\n%d\n%s\n' % (V, ' '.join('%.9g' % v for v in logits), len(recent),
                                    ' '.join(map(str, recent)))
        args = [dump, repr(temp), str(top_k), repr(top_p), repr(min_p), repr(penalty),
                str(last_n), str(77 + i), str(DRAWS)]
        out = subprocess.run(args, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        if out.returncode != 0:
            print('%s: sample_dump exit %d: %s' % (st[0], out.returncode, out.stderr.strip()))
            return 1
        lines = out.stdout.split('\n')
        got = np.array(lines[0].split(), dtype=np.float64)
        counts = np.array(lines[1].split(), dtype=np.int64)
        why = []
        if not np.array_equal(got > 0, want > 0):
            why.append('keeps %d tokens, the reference %d (%d differ)' % (
                (got > 0).sum(), (want > 0).sum(), (np.logical_xor(got > 0, want > 0)).sum()))
        dp = float(np.abs(got - want).max())
        if dp > 1e-5:
            why.append('probabilities differ by %.3g' % dp)
        stray = int(counts[want == 0].sum())
        if stray:
            why.append('%d draws of tokens the reference removed' % stray)
        chi2, df, pval = chi_square(counts, want, DRAWS)
        if pval < 1e-4:
            why.append('draws do not follow the reference (chi-square p %.2g)' % pval)
        fails += bool(why)
        print('%-34s %5d %10.2e %8.1f %4d %9.3g  %s' % (st[0], (want > 0).sum(), dp, chi2, df, pval,
                                                      'ok' if not why else 'FAIL: ' + '; '.join(why)))
    print('%d of %d settings differ from the reference' % (fails, len(SETTINGS)))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
