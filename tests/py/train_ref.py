"""train_ref.py - PyTorch references for llmos training (torch 1.13, written
out by hand: no F.scaled_dot_product_attention, no nn.RMSNorm).

  train_ref.py gradcheck DIR [--expect dim=32,layers=2,...]
      DIR/model.gguf + DIR/grads.gguf from `llmos pretrain --grad-dump DIR`:
      recomputes the loss and every parameter's gradient in float64 (and in
      float32) and compares them with llmos's. --expect names the shape the
      test asked for on llmos's command line (dim, layers, heads, kv_heads,
      ffn, vocab, ctx, batch, tied=0/1): the model and batch must have it,
      so an option that never reached the code fails.
  train_ref.py adamw INIT.gguf BATCHES LOG.jsonl --steps N --batch B --ctx T
          --accum A --lr F --warmup N --schedule S --min-ratio F --wd F
          --beta1 F --beta2 F --eps F --clip F
      replays llmos's batches (the --dump-batches file) through
      torch.optim.AdamW with the same schedule and clipping and compares the
      loss trajectory with LOG.jsonl.
  train_ref.py shard OUT.bin WIDTH VOCAB EOS IDS_FILE
      writes a token shard from the format's spec (for the data tests).

The model is llama as llama.cpp defines it: RMSNorm, RoPE on adjacent pairs
(x[2i], x[2i+1]) rotated by pos * base^(-2i/D), grouped KV heads (query
head h reads kv head h // (H/KVH)), SwiGLU, tied or separate output head.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py  # noqa: E402


def load_config(r):
    g = lambda k, d=None: r.get(k, d)  # noqa: E731
    C = int(g('llama.embedding_length'))
    H = int(g('llama.attention.head_count'))
    cfg = dict(C=C, L=int(g('llama.block_count')), H=H,
               KVH=int(g('llama.attention.head_count_kv', H)),
               F=int(g('llama.feed_forward_length')),
               eps=float(g('llama.attention.layer_norm_rms_epsilon', 1e-5)),
               base=float(g('llama.rope.freq_base', 10000.0)))
    cfg['D'] = C // H
    cfg['tied'] = r.tensor('output.weight') is None
    return cfg


def param_names(cfg):
    names = ['token_embd.weight', 'output_norm.weight']
    if not cfg['tied']:
        names.append('output.weight')
    for l in range(cfg['L']):
        for s in ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output',
                  'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down']:
            names.append('blk.%d.%s.weight' % (l, s))
    return names


def load_params(path, dtype):
    r = gguf_py.Reader(path)
    cfg = load_config(r)
    P = {n: torch.tensor(r.tensor_f64(n), dtype=dtype, requires_grad=True)
         for n in param_names(cfg)}
    return cfg, P


def rmsnorm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, base):
    # x (B, T, nh, D): rotate (x[2i], x[2i+1]) by t * base^(-2i/D)
    B, T, nh, D = x.shape
    i = torch.arange(0, D, 2, dtype=torch.float64)
    theta = torch.arange(T, dtype=torch.float64)[:, None] * base ** (-i / D)  # (T, D/2)
    c = torch.cos(theta).to(x.dtype)[None, :, None, :]
    s = torch.sin(theta).to(x.dtype)[None, :, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * c - b * s, a * s + b * c], dim=-1).reshape(B, T, nh, D)


def forward(cfg, P, tokens, targets, mask=None):
    """Mean cross-entropy over targets >= 0, weighted by mask."""
    logits = model_logits(cfg, P, tokens)
    B, T = tokens.shape
    tg = targets.reshape(-1)
    w = (tg >= 0).to(logits.dtype)
    if mask is not None:
        w = w * mask.reshape(-1).to(logits.dtype)
    nll = torch.nn.functional.cross_entropy(logits.reshape(B * T, -1), tg.clamp(min=0),
                                            reduction='none')
    return (nll * w).sum() / w.sum()


def model_logits(cfg, P, tokens):
    """Logits (B, T, V) of token rows (B, T), each starting at position 0."""
    B, T = tokens.shape
    H, KVH, D = cfg['H'], cfg['KVH'], cfg['D']
    x = P['token_embd.weight'][tokens]
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    for l in range(cfg['L']):
        p = lambda s: P['blk.%d.%s.weight' % (l, s)]  # noqa: E731
        xn = rmsnorm(x, p('attn_norm'), cfg['eps'])
        q = rope((xn @ p('attn_q').T).view(B, T, H, D), cfg['base'])
        k = rope((xn @ p('attn_k').T).view(B, T, KVH, D), cfg['base'])
        v = (xn @ p('attn_v').T).view(B, T, KVH, D)
        k = k.repeat_interleave(H // KVH, dim=2)
        v = v.repeat_interleave(H // KVH, dim=2)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, H, T, D)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        att = att.masked_fill(causal, float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H * D)
        h = x + y @ p('attn_output').T
        xn2 = rmsnorm(h, p('ffn_norm'), cfg['eps'])
        g = xn2 @ p('ffn_gate').T
        u = xn2 @ p('ffn_up').T
        x = h + (torch.nn.functional.silu(g) * u) @ p('ffn_down').T
    xf = rmsnorm(x, P['output_norm.weight'], cfg['eps'])
    out = P['token_embd.weight'] if cfg['tied'] else P['output.weight']
    return xf @ out.T


def gradcheck(d):
    gr = gguf_py.Reader(os.path.join(d, 'grads.gguf'))
    B, T = int(gr.get('test.batch')), int(gr.get('test.ctx'))
    tokens = torch.tensor(np.array(gr.get('test.tokens')[1], dtype=np.int64)).view(B, T)
    targets = torch.tensor(np.array(gr.get('test.targets')[1], dtype=np.int64)).view(B, T)
    mask = torch.tensor(np.array(gr.get('test.mask')[1], dtype=np.float64)).view(B, T)
    c_loss = float(gr.get('test.loss'))
    worst = {}
    ok = True
    for dtype, tol in ((torch.float64, 1e-5), (torch.float32, 1e-4)):
        cfg, P = load_params(os.path.join(d, 'model.gguf'), dtype)
        loss = forward(cfg, P, tokens, targets, mask)
        loss.backward()
        lerr = abs(loss.item() - c_loss) / abs(loss.item())
        print('%s: loss torch %.9f llmos %.9f rel err %.2e' % (dtype, loss.item(), c_loss, lerr))
        if dtype == torch.float64 and lerr > 1e-6:
            print('FAIL: loss differs by %.2e relative (limit 1e-6)' % lerr)
            ok = False
        for n, p in P.items():
            ref = p.grad.detach().double().numpy()
            ours = gr.tensor_f64(n)
            if ours.shape != ref.shape:
                print('FAIL: %s: shape %s vs %s' % (n, ours.shape, ref.shape))
                ok = False
                continue
            scale = np.linalg.norm(ref)
            if scale == 0:
                print('FAIL: %s: zero reference gradient (the test would be vacuous)' % n)
                ok = False
                continue
            err = np.linalg.norm(ours - ref) / scale
            emax = np.abs(ours - ref).max() / np.abs(ref).max()
            worst[(dtype, n)] = max(err, emax)
            if dtype == torch.float64 and max(err, emax) > tol:
                print('FAIL: %s: gradient differs by %.2e relative (limit %g)' % (n, max(err, emax), tol))
                ok = False
        w = max((v, k[1]) for k, v in worst.items() if k[0] == dtype)
        print('%s: %d gradients, worst relative error %.2e (%s)' % (dtype, len(P), w[0], w[1]))
    return ok


def check_expect(d, spec):
    """The model and batch of dump DIR d against the options the test passed
    (spec 'dim=32,layers=2,...'); returns the mismatches as strings."""
    r = gguf_py.Reader(os.path.join(d, 'model.gguf'))
    gr = gguf_py.Reader(os.path.join(d, 'grads.gguf'))
    cfg = load_config(r)
    have = dict(dim=cfg['C'], layers=cfg['L'], heads=cfg['H'], kv_heads=cfg['KVH'], ffn=cfg['F'],
                vocab=r.tensor_f64('token_embd.weight').shape[0], tied=int(cfg['tied']),
                batch=int(gr.get('test.batch')), ctx=int(gr.get('test.ctx')))
    bad = []
    for kv in spec.split(','):
        k, v = kv.split('=')
        if have[k] != int(v):
            bad.append('%s is %s, the test asked for %s' % (k, have[k], v))
    return bad


def dump_batch(gr):
    """The batch of a --grad-dump's grads.gguf (reader gr): rows B, length T,
    tokens and targets as (B, T) int arrays, and llmos's loss."""
    B, T = int(gr.get('test.batch')), int(gr.get('test.ctx'))
    tokens = np.array(gr.get('test.tokens')[1]).reshape(B, T)
    targets = np.array(gr.get('test.targets')[1]).reshape(B, T)
    return B, T, tokens, targets, float(gr.get('test.loss'))


def grad_error(P, gr):
    """The worst relative L2 error of llmos's gradients (gr: the reader of
    its grads.gguf) against the autograd gradients in P after backward().
    Every reference gradient must be non-zero, or the check would be vacuous."""
    worst = 0
    for name, p in P.items():
        g_ref = p.grad.detach().double().numpy()
        scale = np.linalg.norm(g_ref)
        assert scale > 0, name
        worst = max(worst, np.linalg.norm(gr.tensor_f64(name) - g_ref) / scale)
    return worst


def lr_at(step, a):
    if a.warmup > 0 and step <= a.warmup:
        return a.lr * step / a.warmup
    if a.schedule == 'constant' or a.steps <= a.warmup:
        return a.lr
    p = min(1.0, (step - a.warmup) / (a.steps - a.warmup))
    lo = a.lr * a.min_ratio
    if a.schedule == 'linear':
        return a.lr - (a.lr - lo) * p
    return lo + (a.lr - lo) * 0.5 * (1 + math.cos(math.pi * p))


def adamw(a):
    torch.set_num_threads(2)
    cfg, P = load_params(a.init, torch.float64)
    decay = [p for p in P.values() if p.dim() == 2]
    no_decay = [p for p in P.values() if p.dim() == 1]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': a.wd},
                             {'params': no_decay, 'weight_decay': 0.0}],
                            lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_at(e + 1, a) / a.lr)
    raw = np.fromfile(a.batches, dtype=np.int32)
    per = a.batch * a.ctx
    assert raw.size == a.steps * a.accum * 2 * per, 'batch file has %d ints' % raw.size
    ours = [json.loads(l) for l in open(a.log)]
    ours = {o['step']: o['loss'] for o in ours if 'loss' in o}
    worst = 0.0
    for s in range(a.steps):
        opt.zero_grad()
        total = 0.0
        for m in range(a.accum):
            base = (s * a.accum + m) * 2 * per
            tok = torch.tensor(raw[base:base + per].astype(np.int64)).view(a.batch, a.ctx)
            tgt = torch.tensor(raw[base + per:base + 2 * per].astype(np.int64)).view(a.batch, a.ctx)
            loss = forward(cfg, P, tok, tgt) / a.accum
            loss.backward()
            total += loss.item()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(list(P.values()), a.clip)
        opt.step()
        sched.step()
        diff = abs(total - ours[s + 1])
        worst = max(worst, diff)
        print('step %2d loss torch %.7f llmos %.7f diff %.1e' % (s + 1, total, ours[s + 1], diff))
    print('worst loss difference over %d steps: %.2e' % (a.steps, worst))
    return worst <= 1e-4


def write_shard(path, width, vocab, eos, ids):
    ids = np.asarray(ids)
    hdr = b'LLMOSTOK' + struct.pack('<IIQIiQQ', 1, width, ids.size, vocab, eos, ids.size * 4, 1)
    hdr += b'\0' * (64 - len(hdr))
    with open(path, 'wb') as f:
        f.write(hdr + ids.astype('<u2' if width == 2 else '<u4').tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode')
    ap.add_argument('args', nargs='*')
    for k, d in (('--steps', 20), ('--batch', 2), ('--ctx', 8), ('--accum', 1), ('--warmup', 0)):
        ap.add_argument(k, type=int, default=d)
    for k, d in (('--lr', 1e-3), ('--min-ratio', 0.1), ('--wd', 0.1), ('--beta1', 0.9),
                 ('--beta2', 0.95), ('--eps', 1e-8), ('--clip', 1.0)):
        ap.add_argument(k, type=float, default=d)
    ap.add_argument('--schedule', default='cosine')
    ap.add_argument('--expect', default='')
    a = ap.parse_args()
    if a.mode == 'gradcheck':
        bad = check_expect(a.args[0], a.expect) if a.expect else []
        for b in bad:
            print('FAIL: %s' % b)
        ok = gradcheck(a.args[0]) and not bad
    elif a.mode == 'adamw':
        a.init, a.batches, a.log = a.args
        ok = adamw(a)
    elif a.mode == 'shard':
        out, width, vocab, eos, ids_file = a.args
        write_shard(out, int(width), int(vocab), int(eos), np.loadtxt(ids_file, dtype=np.int64).reshape(-1))
        ok = True
    else:
        ap.error('unknown mode')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
