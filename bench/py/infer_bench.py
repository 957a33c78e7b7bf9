"""infer_bench.py - llmos against llama.cpp's llama-bench, on the same GGUF
files, cell by cell: prompt processing (pp128) and generation (tg128)
tokens/s for each model size, weight type and thread count. Called by
bench/infer.sh, which builds the tools and the models first.

    infer_bench.py --llmos BIN --llama-bench BIN --kernels-bench BIN --dir DIR
                   [--sizes 15M,110M] [--types f32,f16,q8_0,q4_0]
                   [--threads 1,2] [-r 5] [--depth 768] [--cpu]

Both engines run each cell right after each other with the same repetition
count; the machine may be shared, so the table shows the mean and the best
repetition of each, and the ratio of the bests (llmos / llama.cpp). Then the
roofline: generation as weight bytes read per second against the measured
read bandwidth (bytes per token = every weight matrix once, the token
embedding row excluded, KV cache not counted); prompt processing as FLOP/s
(2 x layer matrix parameters per token, plus the output head once per
prompt: only the last token's logits are computed) against the kernels'
own matmul speed on
the same shapes (kernels_bench, 128 tokens). Then generation deep in a
context (tg128 after --depth tokens, llama-bench's -d; both engines keep
K/V in f16), where the KV cache joins the bytes read per token. Last, each
engine's peak RSS. Prints markdown, with whether each cell meets issue 2's
bar.

Read bandwidth is measured before every cell (kernels_bench stream): the
machine's memory is shared with other virtual machines, and what one core
or two can read varied between ~30 and ~48 GB/s from hour to hour here.
The roofline divides by the highest figure of the run, by the figure
measured just before the cell, and by the 50 GB/s issue 2 quotes for this
machine kind.

With --cpu: instead, one thread, CPU time per prompt of 128 tokens and per
generated token for each engine (what a shared machine can still measure
fairly: the time a process waits for a core is not counted).
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys

SHAPES = {'15M': (288, 6, 768, 32000), '110M': (768, 12, 2048, 32000),  # C, L, F, V
          '110M-gqa': (768, 12, 2048, 32000)}
KV_DIM = {'15M': 288, '110M': 768, '110M-gqa': 192}  # kv heads x head dim
BYTES_PER_PARAM = {'f32': 4.0, 'f16': 2.0, 'bf16': 2.0, 'q8_0': 34 / 32, 'q4_0': 18 / 32}


def mat_params(size):
    C, L, F, V = SHAPES[size]
    return L * (2 * C * C + 2 * C * KV_DIM[size] + 3 * C * F) + V * C


def pp_flop(size):
    """FLOP per prompt token: every layer matrix for each token, the output
    head once per prompt (both engines compute only the last logits)."""
    C, L, F, V = SHAPES[size]
    return 2.0 * (L * (2 * C * C + 2 * C * KV_DIM[size] + 3 * C * F) + V * C / 128)


PEAK_RSS = {}  # (engine, size, type) -> largest peak RSS of its runs, MB


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write('infer_bench.py: %s failed:\n%s\n' % (' '.join(cmd), p.stderr[-2000:]))
        sys.exit(1)
    return p.stdout


def run_rss(cmd):
    """(stdout, peak RSS in MB) of one run of cmd."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write('infer_bench.py: %s failed\n' % ' '.join(cmd))
        sys.exit(1)
    return out, ru.ru_maxrss / 1024.0


def llama_cpp(bin_, path, threads, reps, pp=128, depth=0):
    """{'pp128': (mean, best), 'tg128': (mean, best)}"""
    out, rss = run_rss([bin_, '-m', path, '-p', str(pp), '-n', '128', '-d', str(depth), '-t', str(threads),
                        '-r', str(reps), '-o', 'jsonl'])
    key = ('llama.cpp', os.path.basename(path))
    if not depth:
        PEAK_RSS[key] = max(PEAK_RSS.get(key, 0), rss)
    res = {}
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith('{'):
            continue
        j = json.loads(line)
        name = 'pp%d' % j['n_prompt'] if j['n_prompt'] else 'tg%d' % j['n_gen']
        if j.get('n_depth'):
            name += ' @ d%d' % j['n_depth']
        res[name] = (j['avg_ts'], max(j['samples_ts']))
    return res


def llmos(bin_, path, threads, reps, pp=128, depth=0):
    out, rss = run_rss([bin_, 'bench', path, '-p', str(pp), '-n', '128', '-d', str(depth), '-t', str(threads),
                        '-r', str(reps), '--csv'])
    key = ('llmos', os.path.basename(path))
    if not depth:
        PEAK_RSS[key] = max(PEAK_RSS.get(key, 0), rss)
    res, kpath = {}, ''
    for line in out.splitlines():
        f = line.split(',')
        if len(f) >= 8:
            res[f[3]] = (float(f[4]), float(f[6]))
            kpath = f[7]
    return res, kpath


def cpu_seconds(cmd):
    """CPU time (user + system) the command's process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_table(a, sizes, types):
    """One thread, CPU time per unit of work, for a machine others share:
    time a descheduled process waits is not counted. Each engine runs pp128
    (r runs) and tg128 (r runs); a run of one generated token measures the
    fixed cost (loading, warm-up), which is subtracted."""
    print('| model | type | llama.cpp ms/pp128 | llmos ms/pp128 | pp llmos / llama.cpp speed |'
          ' llama.cpp ms/token (tg) | llmos ms/token (tg) | tg llmos / llama.cpp speed |')
    print('| ----- | ---- | ---: | ---: | ---: | ---: | ---: | ---: |')
    r = str(a.r)
    for size in sizes:
        for tt in types:
            path = os.path.join(a.dir, '%s-%s.gguf' % (size, tt))
            lc = [a.llama_bench, '-m', path, '-t', '1']
            lm = [a.llmos, 'bench', path, '-t', '1', '--csv']
            # llama.cpp: process CPU time, less that of a run doing almost
            # nothing (its loading is an mmap: small and steady). llama-bench
            # warms up with the whole prompt but with ONE generated token, so
            # the fixed run (-n 1) is loading + 2 tokens, a tg run loading +
            # 1 + 128 r tokens and a pp run loading + (r + 1) prompts.
            fixed = cpu_seconds(lc + ['-p', '0', '-n', '1', '-r', '1'])
            pp = cpu_seconds(lc + ['-p', '128', '-n', '0', '-r', r])
            tg = cpu_seconds(lc + ['-p', '0', '-n', '128', '-r', r])
            tok = (tg - fixed) / (a.r * 128 - 1)
            lpp, ltg = (pp - fixed + 2 * tok) / (a.r + 1) * 1e3, tok * 1e3
            # llmos: its own CPU time around each timed run (loading copies
            # the weights into huge pages, a cost too variable to subtract)
            mpp = mtg = None
            for line in run(lm + ['-p', '128', '-n', '128', '-r', r]).splitlines():
                f = line.split(',')
                if len(f) >= 9:
                    ms = 1e3 / float(f[8])
                    if f[3] == 'pp128':
                        mpp = ms * 128
                    else:
                        mtg = ms
            print('| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |' %
                  (size, tt, lpp, mpp, lpp / mpp, ltg, mtg, ltg / mtg), flush=True)


BW = {}  # threads -> every stream figure of the run, GB/s


def stream_bw(kb, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([kb, 'stream', '512'], stdout=subprocess.PIPE, text=True, env=env).stdout
    bw = float(re.search(r'([\d.]+) GB/s', out).group(1))
    BW.setdefault(threads, []).append(bw)
    return bw


def kv_bytes(size, depth):
    """Bytes of f16 K and V one generated token reads at depth (mean
    position of tg128 after depth tokens)."""
    C, L, F, V = SHAPES[size]
    return L * 2 * (depth + 64) * KV_DIM[size] * 2


def kernel_peak(kb, size, ttype, threads):
    C, L, F, V = SHAPES[size]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([kb, 'model', str(C), str(F), str(L), str(V), ttype, '128', '2'],
                         stdout=subprocess.PIPE, text=True, env=env).stdout
    return float(re.search(r'([\d.]+) GFLOP/s', out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--llmos', required=True)
    ap.add_argument('--llama-bench', required=True)
    ap.add_argument('--kernels-bench', required=True)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--sizes', default='15M,110M')
    ap.add_argument('--types', default='f32,f16,q8_0,q4_0')
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('-r', type=int, default=5)
    ap.add_argument('--depth', type=int, default=768, help='context depth of the deep table (0: none)')
    ap.add_argument('--deep-sizes', default='110M,110M-gqa', help='models of the deep table')
    ap.add_argument('--cpu', action='store_true', help='the 1-thread CPU-time table only')
    a = ap.parse_args()
    sizes, types = a.sizes.split(','), a.types.split(',')
    if a.cpu:
        cpu_table(a, sizes, types)
        return
    threads = [int(t) for t in a.threads.split(',')]

    rows, deep, kpath = [], [], ''
    for size in sizes:
        for tt in types:
            path = os.path.join(a.dir, '%s-%s.gguf' % (size, tt))
            for t in threads:
                cell_bw = stream_bw(a.kernels_bench, t)
                lc = llama_cpp(a.llama_bench, path, t, a.r)
                lm, kpath = llmos(a.llmos, path, t, a.r)
                for test in ('pp128', 'tg128'):
                    rows.append((size, tt, t, test, lc[test], lm[test], cell_bw))
                    print('%-5s %-5s %d %s  llama.cpp %8.1f (best %8.1f)  llmos %8.1f (best %8.1f)' %
                          (size, tt, t, test, lc[test][0], lc[test][1], lm[test][0], lm[test][1]),
                          file=sys.stderr, flush=True)

    if a.depth:
        for size in a.deep_sizes.split(','):
            for tt in types:
                path = os.path.join(a.dir, '%s-%s.gguf' % (size, tt))
                for t in threads:
                    cell_bw = stream_bw(a.kernels_bench, t)
                    name = 'tg128 @ d%d' % a.depth
                    lc = llama_cpp(a.llama_bench, path, t, a.r, pp=0, depth=a.depth)[name]
                    lm = llmos(a.llmos, path, t, a.r, pp=0, depth=a.depth)[0][name]
                    deep.append((size, tt, t, lc, lm, cell_bw))
                    print('%-5s %-5s %d %s  llama.cpp %8.1f (best %8.1f)  llmos %8.1f (best %8.1f)' %
                          (size, tt, t, name, lc[0], lc[1], lm[0], lm[1]), file=sys.stderr, flush=True)

    bw = {t: max(BW[t]) for t in threads}
    print('Read bandwidth (kernels_bench stream, 512 MiB, before each cell): %s. The rooflines use the'
          ' highest.' % '; '.join('%d thread%s %.1f-%.1f GB/s' % (t, 's' if t > 1 else '', min(BW[t]), max(BW[t]))
                                  for t in threads))
    print('llmos kernel path: %s.\n' % kpath)
    print('Bar (issue 2): pp128 at least 0.8x llama.cpp, tg128 at least 1x (ratio of the bests).\n')
    print('| model | type | threads | test | llama.cpp t/s (best) | llmos t/s (best) | llmos / llama.cpp | bar |')
    print('| ----- | ---- | ------: | ---- | -------------------: | ---------------: | ----------------: | --- |')
    for size, tt, t, test, lc, lm, _ in rows:
        ratio = lm[1] / lc[1]
        bar = 0.8 if test.startswith('pp') else 1.0
        print('| %s | %s | %d | %s | %.1f (%.1f) | %.1f (%.1f) | %.2f | %s |' %
              (size, tt, t, test, lc[0], lc[1], lm[0], lm[1], ratio, 'met' if ratio >= bar else 'NOT met'))

    print('\nGeneration roofline: weight bytes read per second (best tg128) against the read bandwidth:'
          ' the run\'s highest ("bw"), the figure measured just before the cell, and the 50 GB/s issue 2'
          ' quotes.\n')
    print('| model | type | threads | MB/token | bandwidth limit t/s | llama.cpp GB/s (% of bw) | llmos GB/s (% of bw) | 85% | bw before the cell | llmos % of it | llmos % of 50 GB/s |')
    print('| ----- | ---- | ------: | -------: | ------------------: | -----------------------: | -------------------: | --- | ---: | ---: | ---: |')
    for size, tt, t, test, lc, lm, cbw in rows:
        if test != 'tg128':
            continue
        b = mat_params(size) * BYTES_PER_PARAM[tt]
        pct = 100 * lm[1] * b / 1e9 / bw[t]
        print('| %s | %s | %d | %.1f | %.0f | %.1f (%.0f%%) | %.1f (%.0f%%) | %s | %.1f | %.0f%% | %.0f%% |' %
              (size, tt, t, b / 1e6, bw[t] * 1e9 / b, lc[1] * b / 1e9, 100 * lc[1] * b / 1e9 / bw[t],
               lm[1] * b / 1e9, pct, 'met' if pct >= 85 else 'NOT met', cbw, 100 * lm[1] * b / 1e9 / cbw,
               100 * lm[1] * b / 50e9))

    if deep:
        print('\nGeneration deep in a context: tg128 after %d tokens (llama-bench -d, llmos bench -d; both'
              ' engines\' default f16 KV cache). MB/token: the weights plus the K and V read at the mean'
              ' position.\n' % a.depth)
        print('| model | type | threads | MB/token | llama.cpp t/s (best) | llmos t/s (best) | llmos / llama.cpp | llmos GB/s (% of bw) | bw before the cell | llmos % of it |')
        print('| ----- | ---- | ------: | -------: | -------------------: | ---------------: | ----------------: | -------------------: | ---: | ---: |')
        for size, tt, t, lc, lm, cbw in deep:
            b = mat_params(size) * BYTES_PER_PARAM[tt] + kv_bytes(size, a.depth)
            print('| %s | %s | %d | %.1f | %.1f (%.1f) | %.1f (%.1f) | %.2f | %.1f (%.0f%%) | %.1f | %.0f%% |' %
                  (size, tt, t, b / 1e6, lc[0], lc[1], lm[0], lm[1], lm[1] / lc[1], lm[1] * b / 1e9,
                   100 * lm[1] * b / 1e9 / bw[t], cbw, 100 * lm[1] * b / 1e9 / cbw))

    print('\nPrompt-processing roofline: matmul FLOP/s (best pp128; per token 2 x the layer matrices\''
          ' parameters, plus the output head once per prompt) against llmos\'s kernels alone on the'
          ' same matrices (kernels_bench, 128 tokens).\n')
    print('| model | type | threads | kernel peak GFLOP/s | llama.cpp GFLOP/s | llmos GFLOP/s (% of peak) |')
    print('| ----- | ---- | ------: | ------------------: | ----------------: | ------------------------: |')
    for size, tt, t, test, lc, lm, _ in rows:
        if test != 'pp128':
            continue
        fl = pp_flop(size)
        peak = kernel_peak(a.kernels_bench, size, tt, t)
        print('| %s | %s | %d | %.0f | %.0f | %.0f (%.0f%%) |' %
              (size, tt, t, peak, lc[1] * fl / 1e9, lm[1] * fl / 1e9, 100 * lm[1] * fl / 1e9 / peak))

    print('\nPeak RSS of a bench run (weights, KV cache for 128 tokens, scratch) and the file size, MiB.\n')
    print('| model | type | file | llama.cpp | llmos |')
    print('| ----- | ---- | ------: | -----------: | -------: |')
    for size in sizes:
        for tt in types:
            f = '%s-%s.gguf' % (size, tt)
            print('| %s | %s | %.0f | %.0f | %.0f |' % (size, tt, os.path.getsize(os.path.join(a.dir, f)) / 2**20,
                                                       PEAK_RSS[('llama.cpp', f)], PEAK_RSS[('llmos', f)]))


if __name__ == '__main__':
    main()
