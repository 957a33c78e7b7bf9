"""torch_train.py - the PyTorch side of bench/train_speed.sh: the same llama
model as llmos pretrain (RMSNorm, RoPE on adjacent pairs, GQA, SwiGLU, tied
head; written out as in tests/py/train_ref.py), fp32, torch.optim.AdamW,
gradient clipping, on random tokens, timed per step after warm-up steps.

  torch_train.py --dim 384 --layers 6 --heads 6 --kv-heads 2 --ffn 1024 \
      --vocab 8192 --batch 8 --ctx 256 --threads 2 --steps 10 --warmup-steps 2

Prints one line of JSON: tokens/s, seconds per step, parameter count, peak RSS.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'py'))
import train_ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    for k, d in (('--dim', 384), ('--layers', 6), ('--heads', 6), ('--kv-heads', 2), ('--ffn', 1024),
                 ('--vocab', 8192), ('--batch', 8), ('--ctx', 256), ('--threads', 2), ('--steps', 10),
                 ('--warmup-steps', 2)):
        ap.add_argument(k, type=int, default=d)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    C, H = a.dim, a.heads
    cfg = dict(C=C, L=a.layers, H=H, KVH=a.kv_heads, F=a.ffn, eps=1e-5, base=10000.0, D=C // H, tied=True)
    D = C // H
    shapes = {'token_embd.weight': (a.vocab, C), 'output_norm.weight': (C,)}
    for l in range(a.layers):
        p = 'blk.%d.' % l
        shapes.update({p + 'attn_norm.weight': (C,), p + 'attn_q.weight': (H * D, C),
                       p + 'attn_k.weight': (a.kv_heads * D, C), p + 'attn_v.weight': (a.kv_heads * D, C),
                       p + 'attn_output.weight': (C, H * D), p + 'ffn_norm.weight': (C,),
                       p + 'ffn_gate.weight': (a.ffn, C), p + 'ffn_up.weight': (a.ffn, C),
                       p + 'ffn_down.weight': (C, a.ffn)})
    P = {}
    for n, s in shapes.items():
        t = torch.ones(s) if len(s) == 1 else torch.randn(s) * 0.02
        P[n] = t.requires_grad_(True)
    decay = [p for p in P.values() if p.dim() == 2]
    no_decay = [p for p in P.values() if p.dim() == 1]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=1e-3, betas=(0.9, 0.95))
    times, cpus = [], []
    for step in range(a.warmup_steps + a.steps):
        tok = torch.randint(0, a.vocab, (a.batch, a.ctx))
        tgt = torch.randint(0, a.vocab, (a.batch, a.ctx))
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss = train_ref.forward(cfg, P, tok, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if step >= a.warmup_steps:
            times.append(dt)
            cpus.append(dc)
    n_params = sum(p.numel() for p in P.values())
    sec = sum(times) / len(times)
    print(json.dumps({'impl': 'pytorch %s' % torch.__version__, 'params': n_params,
                      'tok_per_s': a.batch * a.ctx / sec, 'sec_per_step': sec,
                      'best_tok_per_s': a.batch * a.ctx / min(times), 'threads': a.threads,
                      'tok_per_cpu_s': a.batch * a.ctx / (sum(cpus) / len(cpus)),
                      'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                      'loss': float(loss)}))


if __name__ == '__main__':
    main()
