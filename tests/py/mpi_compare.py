"""Compares two training runs for the MPI tests (tests/t_mpi_*.sh).

  mpi_compare.py losses A.log.jsonl B.log.jsonl TOL   every step's loss (and
      every val_loss) present in both, |a - b| <= TOL * |a|; TOL 0: equal bits
      (the logs print 9 significant digits, a float's round trip)
  mpi_compare.py params A.gguf B.gguf TOL   every tensor of A (weights, and
      optim.* moments in checkpoints) against B's: TOL 0: identical bytes;
      else the relative L2 difference of all parameters together,
      |a - b| / |a| <= TOL (the moments: 10 TOL), with the worst tensor's
      figure printed
Reads GGUF with the test suite's own reader (tests/py/gguf_py.py)."""
import json, math, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py
import numpy as np


def log_rows(path):
    rows = {}
    for line in open(path):
        o = json.loads(line)
        for k in ('loss', 'val_loss'):
            if k in o:
                rows[(o['step'], k)] = o[k]
    return rows


def losses(a_path, b_path, tol):
    a, b = log_rows(a_path), log_rows(b_path)
    assert a.keys() == b.keys(), 'the logs hold different steps: %s' % sorted(a.keys() ^ b.keys())[:5]
    worst = 0.0
    for k in sorted(a):
        x, y = a[k], b[k]
        rel = abs(x - y) / abs(x)
        worst = max(worst, rel)
        assert (x == y) if tol == 0 else rel <= tol, '%s at step %d: %r vs %r (relative %.3g)' % (k[1], k[0], x, y, rel)
    print('losses: %d values, worst relative difference %.3g' % (len(a), worst))


def tensors(path):
    r = gguf_py.Reader(path)
    return {t['name']: np.frombuffer(t['data'], dtype=np.float32).astype(np.float64) for t in r.tensors}


def params(a_path, b_path, tol):
    a, b = tensors(a_path), tensors(b_path)
    assert a.keys() == b.keys(), 'different tensors: %s' % sorted(a.keys() ^ b.keys())
    for group in ('weights', 'moments'):
        names = [n for n in a if n.startswith('optim.') == (group == 'moments')]
        if not names:
            continue
        if tol == 0:
            bad = [n for n in names if not np.array_equal(a[n], b[n])]
            assert not bad, '%s differ: %s' % (group, bad[:5])
            print('%s: %d tensors bit-identical' % (group, len(names)))
            continue
        num = sum(float(((a[n] - b[n]) ** 2).sum()) for n in names)
        den = sum(float((a[n] ** 2).sum()) for n in names)
        rel = math.sqrt(num / den)
        worst = max(names, key=lambda n: np.abs(a[n] - b[n]).max() / max(np.abs(a[n]).max(), 1e-30))
        wv = np.abs(a[worst] - b[worst]).max() / max(np.abs(a[worst]).max(), 1e-30)
        print('%s: relative L2 difference %.3g (worst tensor %s: max |a-b| / max |a| = %.3g)' % (group, rel, worst, wv))
        limit = tol if group == 'weights' else 10 * tol  # the moments: 10x (v is a square)
        assert rel <= limit, 'the %s differ by %.3g relative (> %g)' % (group, rel, limit)


if __name__ == '__main__':
    what, a, b, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    {'losses': losses, 'params': params}[what](a, b, tol)
