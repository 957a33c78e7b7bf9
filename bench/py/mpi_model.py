"""What N data-parallel ranks would give: docs/distributed.md's model.

  mpi_model.py PARAMS TOKENS_PER_RANK_STEP COMPUTE_S BUSBW_GBPS LATENCY_US [OVERLAP]

PARAMS: the model's parameters (fp32 gradients: 4 bytes each);
TOKENS_PER_RANK_STEP and COMPUTE_S: one rank's tokens per step and the
seconds it computes them (forward, backward, AdamW), measured on one rank;
BUSBW_GBPS: the all-reduce bus bandwidth measured by bench/mpi_allreduce.c
(2 (N-1)/N x bytes / time); LATENCY_US: its time for a small (4 KB)
message; OVERLAP: the share of the all-reduce hidden behind backward
(0 = none; the buckets go out while backward runs on earlier layers, and
backward is about 2/3 of the compute, so at most that much time can hide).

A ring all-reduce moves 2 (N-1)/N x 4 PARAMS bytes through every rank's
link and takes 2 (N-1) latency steps; ZeRO-1's reduce-scatter plus
all-gather move the same bytes. The step of N ranks (weak scaling: the
per-rank batch fixed, the global batch N times larger):
  t_comm = 2 (N-1)/N x 4 PARAMS / busbw + 2 (N-1) x latency
  t_step = COMPUTE_S + max(0, t_comm - OVERLAP x 2/3 x COMPUTE_S)
  tokens/s = N x TOKENS_PER_RANK_STEP / t_step, efficiency = COMPUTE_S / t_step
AdamW's moments per rank: 8 PARAMS bytes plain, 8 PARAMS / N with ZeRO-1."""
import sys


def table(params, tok, compute, busbw, lat_us, overlap):
    print('%6s %10s %10s %12s %8s %12s' % ('ranks', 't_comm s', 't_step s', 'tokens/s', 'effic.', 'ZeRO-1 m+v'))
    for n in (1, 2, 8, 64, 512):
        comm = 0.0 if n == 1 else 2 * (n - 1) / n * 4 * params / (busbw * 1e9) + 2 * (n - 1) * lat_us * 1e-6
        step = compute + max(0.0, comm - overlap * 2 / 3 * compute)
        print('%6d %10.4f %10.4f %12.0f %7.0f%% %10.1f MB' % (n, comm, step, n * tok / step, 100 * compute / step,
                                                             8 * params / n / 1e6))


if __name__ == '__main__':
    a = [float(x) for x in sys.argv[1:]]
    table(a[0], a[1], a[2], a[3], a[4], a[5] if len(a) > 5 else 0.0)
