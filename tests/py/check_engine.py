"""check_engine.py - compares llmos's engine with the independent references
on the random tiny models of gen_model.py. Used by tests/t_engine_torch.sh and
tests/t_engine_llamacpp.sh.

    check_engine.py torch    LLMOS MODELDIR FILE...
    check_engine.py llamacpp LLMOS MODELDIR FILE...

Errors are relative to the logit scale: max |ours - ref| / max |ref| over
all positions and the whole vocabulary.

Quantized files (q8_0, q4_0: the types in ref_llama.ACT_BLOCKS). Both CPU
engines quantize each matmul's input to q8_0 blocks and otherwise compute
in float32, so the reference for them is the float64 forward that rounds
exactly those inputs (ref_llama act=True), and llama.cpp runs the same
arithmetic as llmos. Both agree with llmos to ~1e-7 of the logit scale
(measured: 2e-8 to 1.2e-7) at every position but one in a few files: there
an activation lies on a q8_0 rounding boundary, float32 and float64 (or two
summation orders) round it to neighbouring steps, and that position's
logits move by up to ~8e-3 (measured). So the check is per position: at
most MAX_FLIP_POS positions may exceed TIGHT (1e-5 of the logit scale),
and none may exceed half of what a 1% error in every quantized weight's
scale does to this file (measured per file with the reference at
wscale=1.01: 2.4e-2 to 4.8e-2). A 1% scale error, a wrong block's scale or
wrong nibble order moves every position and fails; the test asserts that
its own bound is below the 1% effect. Both KV cache types are checked.

Tolerances of the other types. f32: 1e-4 (activations and weights are f32; what is left is
float32 summation order, ~1e-6 measured). Other types: the reference takes
the dequantized weights, so the only error left is how the engine rounds
activations. A llama.cpp-style CPU engine rounds each matmul input to the
weight's dot type (f16 for f16: 2^-11 relative; bf16: 2^-8; q8_0 blocks
for q8_0 and q4_0: amax/254 per element) and keeps K/V in f16. Those random
models amplify rounding differently (their attention is sharp), so rather
than one constant per type the budget is measured per file: the float64
reference run once more with exactly that rounding emulated (ref_llama.py
--emulate; it reproduces llama.cpp's own error to ~1e-3 of itself). The
tolerance is 2 x that budget + 1e-4: an engine that rounds like llama.cpp or
less passes, a wrong block layout or scale (errors of order 1) does not.

KV cache. llmos keeps K and V in f16 by default, as llama.cpp does, and
computes attention from them in f32; --cache-type f32 keeps them in f32.
The f32 files are checked both ways: with an f32 cache against the exact
reference (1e-4), and with the default f16 cache against the reference
that rounds K and V to f16 and nothing else. What is left there is
summation order and the elements that f32 and float64 round to
neighbouring halves, which these sharp random models amplify (up to 0.47
of the rounding's own effect measured); the tolerance, half the
rounding's effect (|kv16 reference - exact|) + 1e-4, passes that and
fails an engine that does not round K/V (its error is the whole effect).
The other types run the default cache; their budgets already include f16
K/V rounding.

Greedy runs are compared token by token over the whole length: the
reference's logits are computed on llmos's own continuation (teacher
forcing), so every step is checked even after a near tie. At each step
llmos's token must be the reference's argmax, or within the tolerance of
it (x logit scale): a near tie, counted and reported. For quantized files
a q8_0 rounding boundary met during generation moves one step's logits as
it moves one position's in the logits check, so the tolerance is the same
(half a 1% scale error's effect) but at most MAX_FLIP_POS steps may use it.
"""
import json
import os
import random
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gguf_py as G  # noqa: E402
from ref_llama import ACT_BLOCKS, Llama  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
N_PROMPT = 48
N_GEN = 64
F32_TOL = 1e-4
TIGHT = 1e-5        # quantized files: llmos vs the act reference and llama.cpp
MAX_FLIP_POS = 2    # positions allowed above TIGHT (q8_0 rounding boundaries)
SCALE_ERR = 1.01    # the scale error the quantized bound must catch


def sh(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError('%s: exit %d: %s' % (' '.join(args[:3]), p.returncode, p.stderr.strip()[-500:]))
    return p.stdout


def prompt_ids(vocab, eos, n, seed):
    r = random.Random(seed)
    return [r.choice([i for i in range(vocab) if i != eos]) for _ in range(n)]


class File:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-5]
        rd = G.Reader(path)
        self.vocab = len(rd.get('tokenizer.ggml.tokens')[1])
        self.eos = int(rd.get('tokenizer.ggml.eos_token_id'))
        self.ftype = self.name.split('-')[-1]
        self.quant = rd.tensor('blk.0.attn_q.weight')['type'] in ACT_BLOCKS
        self.prompt = prompt_ids(self.vocab, self.eos, N_PROMPT, 11)
        with torch.no_grad():
            self.ref = Llama(path)
            self.exact = self.ref.forward(self.prompt).numpy()
            self.scale = float(np.abs(self.exact).max())
            self.ref16 = Llama(path, kv16=True) if self.ftype == 'f32' else None
            if self.quant:
                self.act = {c: Llama(path, act=True, kv16=c == 'f16') for c in ('f32', 'f16')}
                self.want = {c: r.forward(self.prompt).numpy() for c, r in self.act.items()}
                off = Llama(path, act=True, wscale=SCALE_ERR).forward(self.prompt).numpy()
                self.e_scale = self.rel(off, self.want['f32'])
                self.budget = self.e_scale
                self.tol = self.e_scale / 2
                if self.tol <= TIGHT:
                    raise RuntimeError('%s: a %g scale error moves the logits by only %.2e' % (
                        self.name, SCALE_ERR, self.e_scale))
            elif self.ftype == 'f32':
                self.budget = 0.0
                self.tol = F32_TOL
            else:
                emu = Llama(path, emulate=True).forward(self.prompt).numpy()
                self.budget = float(np.abs(emu - self.exact).max()) / self.scale
                self.tol = 2 * self.budget + 1e-4

    def rel(self, a, b=None):
        b = self.exact if b is None else b
        a = np.asarray(a, dtype=np.float64)
        if a.shape != b.shape:
            raise RuntimeError('%s: logits shape %s, expected %s' % (self.name, a.shape, b.shape))
        return float(np.abs(a - b).max()) / self.scale

    def check_quant(self, ours, want):
        """Quantized files: (ok, worst relative error, positions above TIGHT)."""
        e = np.abs(np.asarray(ours, dtype=np.float64) - want).max(axis=1) / self.scale
        n_out = int((e > TIGHT).sum())
        return n_out <= MAX_FLIP_POS and e.max() <= self.tol, float(e.max()), n_out

    def ref_logits(self, ids, ref=None):
        with torch.no_grad():
            return (ref or self.ref).forward(ids).numpy()


def llmos_logits(llmos, path, ids, all_pos=True, cache='f16'):
    args = [llmos, 'logits', path, '--tokens', ','.join(map(str, ids)), '--cache-type', cache]
    out = json.loads(sh(args + (['--all'] if all_pos else [])))
    if out.get('tokens') != ids:
        raise RuntimeError('llmos logits echoed tokens %s' % out.get('tokens'))
    return np.asarray(out['logits'], dtype=np.float64)


def llmos_greedy(llmos, path, ids, n, cache='f16'):
    out = sh([llmos, 'generate', path, '--ids', ','.join(map(str, ids)), '-n', str(n),
              '--temp', '0', '--print-ids', '--cache-type', cache]).strip()
    return [int(t) for t in out.replace(',', ' ').split()] if out else []


def compare_greedy(ours, teacher_logits, prompt_len, gap_tol, eos, n, max_ties=None):
    """ours: our generated ids; teacher_logits: reference logits over
    prompt + ours (teacher forcing). Every step is checked; at most max_ties
    near ties (None: any number). Returns (ok, description)."""
    ties, worst = [], 0.0
    for k, tok in enumerate(ours):
        lg = teacher_logits[prompt_len - 1 + k]
        best = int(lg.argmax())
        if tok != best:
            gap = float(lg[best] - lg[tok])
            if gap > gap_tol:
                return False, 'DIFFERENT at step %d (gap %.2e > %.2e)' % (k, gap, gap_tol)
            ties.append(k)
            worst = max(worst, gap)
    if len(ours) < n and (not ours or ours[-1] != eos):
        return False, 'SHORT: %d of %d tokens' % (len(ours), n)
    if not ties:
        return True, 'same %d/%d' % (len(ours), n)
    if max_ties is not None and len(ties) > max_ties:
        return False, 'DIFFERENT: %d near ties (at most %d), at %s' % (len(ties), max_ties, ties)
    return True, 'same %d/%d but %d near ties (gap <= %.2e) at %s' % (
        len(ours) - len(ties), n, len(ties), worst, ties)


def run_torch(llmos, files):
    fails = 0
    print('%-14s %10s %10s %10s %10s  %s' % ('file', 'scale', 'err', 'budget', 'tol', 'greedy'))
    print('(quantized files: budget = what a %g scale error does, err = the worst position)' % SCALE_ERR)
    for f in files:
        runs = [('f16', f.exact, None, f.budget, f.tol)]
        if f.quant:
            runs = [(c, f.want[c], f.act[c], f.budget, f.tol) for c in ('f32', 'f16')]
        elif f.ftype == 'f32':
            with torch.no_grad():
                want16 = f.ref16.forward(f.prompt).numpy()
            b16 = f.rel(want16)
            runs = [('f32', f.exact, None, 0.0, f.tol), ('f16', want16, f.ref16, b16, b16 / 2 + 1e-4)]
        for cache, want, ref, budget, tol in runs:
            ours = llmos_logits(llmos, f.path, f.prompt, cache=cache)
            err = f.rel(ours, want)
            max_ties, note = None, ''
            if f.quant:
                ok, err, n_out = f.check_quant(ours, want)
                max_ties = MAX_FLIP_POS
                note = ' (%d positions > %.0e)' % (n_out, TIGHT)
            else:
                ok = err <= tol
            last = llmos_logits(llmos, f.path, f.prompt, all_pos=False, cache=cache)
            last_err = float(np.abs(last - ours[-1]).max()) / f.scale
            ok = ok and last_err <= max(tol, 1e-5)
            # generation (one token at a time through the KV cache) vs float64
            p = f.prompt[:8]
            gen = llmos_greedy(llmos, f.path, p, N_GEN, cache=cache)
            g_ok, desc = compare_greedy(gen, f.ref_logits(p + gen, ref), len(p), tol * f.scale,
                                        f.eos, N_GEN, max_ties) if gen else (False, 'EMPTY')
            ok = ok and g_ok
            fails += not ok
            print('%-14s %10.3f %10.2e %10.2e %10.2e  %s%s%s%s' % (
                f.name + ' kv' + cache, f.scale, err, budget, tol, desc, note,
                '' if last_err <= max(tol, 1e-5) else
                '  LAST-ONLY logits differ: %.2e' % last_err, '' if ok else '  FAIL'))
    return fails


def llamacpp_batch(jobs):
    p = subprocess.run(['node', os.path.join(ROOT, 'tests/js/llamacpp.mjs'), 'batch'],
                       input=json.dumps(jobs), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError('llamacpp.mjs: %s' % p.stderr.strip()[-1000:])
    return json.loads(p.stdout)


def run_llamacpp(llmos, files):
    """llama.cpp on its f32 path (f32 KV cache, no flash attention) vs
    llmos with an f32 cache, and on its default path (f16 KV cache) vs
    llmos's default (f16 cache)."""
    jobs = []
    ours = {}
    for f in files:
        p = f.prompt[:8]
        gen = llmos_greedy(llmos, f.path, p, N_GEN, cache='f32')
        ours[f.name] = (llmos_logits(llmos, f.path, f.prompt, cache='f32'), gen,
                        llmos_logits(llmos, f.path, f.prompt) if f.ftype == 'f32' else None)
        jobs += [dict(cmd='logits', model=f.path, ids=f.prompt, kv='f32', fa=False),
                 dict(cmd='greedy', model=f.path, ids=p, n=N_GEN, kv='f32', fa=False),
                 dict(cmd='logits', model=f.path, ids=p + gen, kv='f32', fa=False)]
        if f.ftype == 'f32':  # llama.cpp's default path, on the f32 files
            jobs.append(dict(cmd='logits', model=f.path, ids=f.prompt, kv='f16', fa='auto'))
    res = llamacpp_batch(jobs)
    for r in res:
        if 'error' in r:
            raise RuntimeError('llama.cpp: %s' % r['error'])
    fails = 0
    print('%-14s %10s %10s %10s %10s %10s  %s' % ('file', 'scale', 'err', 'tol', 'err(f16kv)',
                                                   'tol', 'greedy vs llama.cpp'))
    res = iter(res)
    for f in files:
        lc, lc_greedy, lc_teacher = next(res), next(res), next(res)
        our_logits, gen, our16 = ours[f.name]
        lc_logits = np.asarray(lc['logits'])
        err = f.rel(our_logits, lc_logits)
        max_ties, note = None, ''
        if f.quant:  # the same arithmetic: TIGHT but at q8_0 rounding boundaries
            ok, err, n_out = f.check_quant(our_logits, lc_logits)
            max_ties = MAX_FLIP_POS
            note = ' (%d positions > %.0e)' % (n_out, TIGHT)
        else:
            ok = err <= f.tol
        # both default paths keep K/V in f16 (llama.cpp also rounds q and the
        # attention weights to f16 for its f16 dot products)
        err16, tol16 = float('nan'), 5e-3
        if f.ftype == 'f32':
            err16 = f.rel(our16, np.asarray(next(res)['logits']))
        same_prefix = 0
        for a, b in zip(gen, lc_greedy['ids']):
            if a != b:
                break
            same_prefix += 1
        g_ok, desc = compare_greedy(gen, np.asarray(lc_teacher['logits']), 8, f.tol * f.scale,
                                    f.eos, N_GEN, max_ties)
        identical = gen == lc_greedy['ids']
        ok = ok and not err16 > tol16 and g_ok
        fails += not ok
        print('%-14s %10.3f %10.2e %10.2e %10s %10s  %s; %s%s%s' % (
            f.name, f.scale, err, TIGHT if f.quant else f.tol,
            '-' if err16 != err16 else '%.2e' % err16, '-' if err16 != err16 else '%.2e' % tol16,
            'llama.cpp\'s own run identical' if identical else
            'llama.cpp\'s own run: first %d identical' % same_prefix, desc, note, '' if ok else '  FAIL'))
    return fails


def main(argv):
    mode, llmos, mdir = argv[1], argv[2], argv[3]
    files = [File(os.path.join(mdir, n)) for n in argv[4:]]
    try:
        fails = run_torch(llmos, files) if mode == 'torch' else run_llamacpp(llmos, files)
    except RuntimeError as e:
        print('error: %s' % e)
        return 1
    print('%d of %d files outside tolerance' % (fails, len(files)))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
