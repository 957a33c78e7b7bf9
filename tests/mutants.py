"""tests/mutants.py - plants deliberate faults in llmos, one at a time, and
reports which tests catch each (`make mutants`). Every fault must be caught.

    python3 tests/mutants.py [--baseline] [--only NAME,...] [--list]

Each mutant is one exact text replacement in one source file (it must match
exactly once, so a mutant that no longer applies fails loudly rather than
testing nothing) and a short list of the tests that should catch it. The
script copies the working tree (and its build/ folder, for incremental
builds) to a scratch folder, then for each mutant applies it, runs `make`,
runs each listed test with tests/run.sh, and restores the file. Nothing in
the working tree changes. --baseline first runs every listed test on the
unmutated copy (a test that fails without a fault proves nothing).
A build that fails counts as not caught: a fault must compile to count.

A mutant is a row of MUTANTS: (name, file, text, replacement, tests).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

MUTANTS = [
    ('q4_0 scale x1.01', 'src/core/kernels_x86.c',
     '        __m512 DW = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));',
     '        __m512 DW = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk)),\n'
     '                                  _mm512_set1_ps(q4 ? 1.01f : 1.0f));',
     ['test_kernels', 't_engine_torch']),
    ('wrong block scale', 'src/core/kernels_x86.c',
     '        __m512 DW = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));',
     '        __m512 DW = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(blk + (b + 1 < nb ? bb : 0))));',
     ['test_kernels', 't_engine_torch']),
    ('q4_0 dequantizer scale x1.01', 'src/core/types.c',
     '                dst[i * QK + j] = ((b[i].qs[j] & 0xf) - 8) * d;\n'
     '                dst[i * QK + j + QK / 2] = ((b[i].qs[j] >> 4) - 8) * d;',
     '                dst[i * QK + j] = ((b[i].qs[j] & 0xf) - 8) * d * 1.01f;\n'
     '                dst[i * QK + j + QK / 2] = ((b[i].qs[j] >> 4) - 8) * d * 1.01f;',
     ['test_kernels']),
    ('temperature ignored', 'src/infer/sample.c',
     'expf((s->cands[i].logit - max) / p->temperature)',
     'expf((s->cands[i].logit - max) / 1.0f)',
     ['t_sampler']),
    ('top-k ignored', 'src/infer/sample.c',
     'if (p->top_k > 0 && p->top_k < V) {',
     'if (0 && p->top_k > 0 && p->top_k < V) {',
     ['t_sampler']),
    ('top-p ignored', 'src/infer/sample.c',
     'if (p->top_p < 1.0f) {',
     'if (0 && p->top_p < 1.0f) {',
     ['t_sampler']),
    ('min-p ignored', 'src/infer/sample.c',
     'if (p->min_p > 0) {',
     'if (0 && p->min_p > 0) {',
     ['t_sampler']),
    ('repetition penalty ignored', 'src/infer/sample.c',
     'if (p->repeat_penalty != 1.0f) {',
     'if (0 && p->repeat_penalty != 1.0f) {',
     ['t_sampler']),
    ('temperature after top-p', 'src/infer/sample.c',
     'z += (s->cands[i].prob = expf(s->cands[i].logit - max));',
     'z += (s->cands[i].prob = expf((s->cands[i].logit - max) / p->temperature));',
     ['t_sampler']),
    ('DPO beta ignored', 'src/train/dpo.c',
     'dpo_stats st = dpo_loss(pol, ref, (size_t)np, beta, coef);',
     'dpo_stats st = dpo_loss(pol, ref, (size_t)np, 0.1, coef);',
     ['t_dpo_grad']),
    ('RoPE pairing (NeoX halves)', 'src/model/model.c',
     '            const float a = p[i], b = p[i + 1];\n'
     '            p[i] = a * cs[i] - b * cs[i + 1];\n'
     '            p[i + 1] = a * cs[i + 1] + b * cs[i];',
     '            const float a = p[i / 2], b = p[i / 2 + D / 2];\n'
     '            p[i / 2] = a * cs[i] - b * cs[i + 1];\n'
     '            p[i / 2 + D / 2] = a * cs[i + 1] + b * cs[i];',
     ['t_engine_torch']),
    ('attention scale 1/D', 'src/model/model.c',
     '    const float scale = 1.0f / sqrtf((float)D);',
     '    const float scale = 1.0f / (float)D;',
     ['t_engine_torch']),
    ('training attention scale 1/D', 'src/core/attention.c',
     '    const float scale = 1.0f / sqrtf((float)D);\n    float *kT = scratch;',
     '    const float scale = 1.0f / (float)D;\n    float *kT = scratch;',
     ['t_train_grad']),
    ('AdamW bias correction dropped', 'src/train/optim.c',
     '    const float step_size = (float)(lr / bc1);\n    const float bc2_sqrt = (float)sqrt(bc2);',
     '    const float step_size = (float)lr;\n    const float bc2_sqrt = 1.0f;',
     ['t_train_adamw']),
    ('SFT mask shifted by one', 'src/train/sft.c',
     'tgt[b * T + t] = tr[t + 1] ? ids[t + 1] : -1;',
     'tgt[b * T + t] = tr[t] ? ids[t + 1] : -1;',
     ['t_sft_mask']),
    ('chat template roles swapped', 'src/tokenizer/chat.c',
     '    chat_tokens_push(ct, f->role[m->role], 0);',
     '    chat_tokens_push(ct, f->role[m->role == CHAT_USER ? CHAT_ASSISTANT : m->role == CHAT_ASSISTANT ? CHAT_USER : m->role], 0);',
     ['t_chat_template']),
]


def sh(args, cwd, log=None):
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if log is not None:
        log.write(p.stdout)
    return p.returncode, p.stdout


def run_test(work, name):
    """'caught' / 'passed' / 'skipped' for tests/run.sh NAME in work."""
    _, out = sh(['bash', 'tests/run.sh', '=' + name], work)
    last = out.strip().split('\n')[-1]
    result = {'1 passed, 0 failed, 0 skipped': 'passed', '0 passed, 1 failed, 0 skipped': 'caught',
              '0 passed, 0 failed, 1 skipped': 'skipped'}.get(last)
    if not result:
        raise RuntimeError('tests/run.sh %s did not run exactly one test: %s' % (name, last))
    return result


def main(argv):
    baseline = '--baseline' in argv
    only = None
    if '--only' in argv:
        only = set(argv[argv.index('--only') + 1].split(','))
    if '--list' in argv:
        for m in MUTANTS:
            print('%-32s %-26s %s' % (m[0], m[1], ' '.join(m[4])))
        return 0
    mutants = [m for m in MUTANTS if only is None or m[0] in only]
    work = tempfile.mkdtemp(prefix='llmos-mutants.')
    log = open(os.path.join(work, 'mutants.log'), 'w')
    try:
        files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True, check=True).stdout.split('\n')
        for f in files:
            src = os.path.join(ROOT, f)
            if not f or not os.path.isfile(src) or os.path.islink(src):
                continue
            os.makedirs(os.path.dirname(os.path.join(work, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(work, f))
        if os.path.isdir(os.path.join(ROOT, 'build')):
            shutil.copytree(os.path.join(ROOT, 'build'), os.path.join(work, 'build'), symlinks=True)
        nm = os.path.join(ROOT, 'tests/oracle/node_modules')
        if os.path.exists(nm):
            os.symlink(os.path.realpath(nm), os.path.join(work, 'tests/oracle/node_modules'))
        print('scratch copy: %s' % work, flush=True)
        rc, out = sh(['make', '-j2'], work, log)
        if rc:
            print(out[-3000:])
            print('the unmutated copy does not build')
            return 1
        if baseline:
            for t in sorted({t for m in mutants for t in m[4]}):
                st = run_test(work, t)
                print('baseline %-24s %s' % (t, st), flush=True)
                if st != 'passed':
                    print('a test must pass without a fault to show anything')
                    return 1
        rows, missed = [], 0
        for name, path, old, new, tests in mutants:
            p = os.path.join(work, path)
            orig = open(p).read()
            if orig.count(old) != 1:
                print('%s: the text to replace occurs %d times in %s' % (name, orig.count(old), path))
                rows.append((name, path, 'does not apply', []))
                missed += 1
                continue
            t0 = time.time()
            open(p, 'w').write(orig.replace(old, new))
            try:
                rc, out = sh(['make', '-j2'], work, log)
                if rc:
                    print(out[-2000:])
                    results = [(t, 'does not build') for t in tests]
                else:
                    results = [(t, run_test(work, t)) for t in tests]
            finally:
                open(p, 'w').write(orig)
                os.utime(p)
            caught = [t for t, s in results if s == 'caught']
            missed += not caught
            rows.append((name, path, 'caught' if caught else 'MISSED', results))
            print('%-32s %-8s %s (%ds)' % (name, 'caught' if caught else 'MISSED',
                                          ', '.join('%s %s' % r for r in results), time.time() - t0),
                  flush=True)
        print()
        print('| fault | file | tests run (result) | verdict |')
        print('|---|---|---|---|')
        for name, path, verdict, results in rows:
            print('| %s | %s | %s | %s |' % (name, path, ', '.join('%s (%s)' % r for r in results),
                                              verdict))
        print()
        print('%d mutants, %d caught, %d missed' % (len(rows), len(rows) - missed, missed))
        return 1 if missed else 0
    finally:
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
