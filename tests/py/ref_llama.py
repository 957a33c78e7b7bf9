"""ref_llama.py - float64 PyTorch forward of the 'llama' architecture, the
independent reference for llmos's engine. Reads a GGUF with gguf_py (not with
llmos's C code) and dequantizes every weight to float64, so that for a
quantized file the only difference left to llmos is its activation rounding.

    ref_llama.py MODEL --tokens 1,2,3 [--all]    -> {"tokens": [...], "logits": ...}
    ref_llama.py MODEL --tokens 1,2,3 --greedy N -> {"tokens": [...], "ids": [N ids]}
    --emulate: also round the way llama.cpp's CPU path does (see below)

With act=True the forward rounds only what both CPU engines (llmos and
llama.cpp) round before a matmul with a quantized weight: the activations,
quantized to the weight type's activation blocks (ACT_BLOCKS: q8_0 blocks
of 32 for q8_0 and q4_0) and dequantized, everything else in float64. The
engines then differ from it only by float32 arithmetic. wscale multiplies
every quantized weight (the tests measure what a 1% scale error does).

With emulate=True the forward rounds what llama.cpp's CPU backend rounds, to
measure how large that rounding's effect is on a given model (the tests use
it to size their tolerances): the input of every matmul is rounded to the
weight's "dot type" (f16 for f16 weights, bf16 for bf16, 32-element q8_0
blocks for q8_0 and q4_0), and the attention runs on an f16 KV cache (K, V,
the queries and the softmax probabilities rounded to f16).

The architecture as llama.cpp defines it:
  x = token_embd[token]
  per layer: h = x + Wo . attn(rope(Wq . n), rope(Wk . n), Wv . n), n = rmsnorm(x) * attn_norm
             x = h + Wdown . (silu(Wgate . m) * (Wup . m)),           m = rmsnorm(h) * ffn_norm
  logits = output . (rmsnorm(x) * output_norm), output = token_embd when absent
RMSNorm: x / sqrt(mean(x^2) + eps), eps = llama.attention.layer_norm_rms_epsilon.
RoPE rotates adjacent pairs (x[2i], x[2i+1]) of each head by pos * theta_i,
theta_i = base^(-2i/D), base = llama.rope.freq_base. Attention is causal with
scale 1/sqrt(D); query head h reads kv head h // (H / KVH).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py as G  # noqa: E402

torch.set_num_threads(1)

# The activation blocks each quantized weight type's dot product takes (a
# new quantized type is a row here).
ACT_BLOCKS = {G.T_Q8_0: 'q8_0', G.T_Q4_0: 'q8_0'}


def quantize_act(x, blocks):
    """x rounded as the engines round a matmul input for weights whose dot
    type is blocks, then dequantized (float64)."""
    if blocks == 'q8_0':  # 32 values: d = amax / 127 (stored as f16), q = round(x / d)
        b = x.reshape(-1, 32)
        d = b.abs().amax(dim=1, keepdim=True) / 127
        q = torch.round(b / torch.where(d == 0, torch.ones_like(d), d))
        return (q * d.to(torch.float16).to(torch.float64)).reshape(x.shape)
    raise ValueError('no activation rounding for %s' % blocks)


class Llama:
    def __init__(self, path, emulate=False, kv16=False, act=False, wscale=1.0):
        """emulate: round as llama.cpp's CPU path does (see round_act and
        kv_round); kv16: round only K and V to f16, as a KV cache of f16
        that computes attention in float (llmos's default cache) does;
        act: round only the inputs of quantized matmuls (see above);
        wscale: multiply every quantized weight by it."""
        self.emulate = emulate
        self.act = act
        self.kv16 = kv16
        self.wtype = {}
        r = G.Reader(path)
        arch = r.get('general.architecture')
        assert arch == 'llama', arch
        g = lambda k, d=None: r.get('llama.' + k, d)  # noqa: E731
        self.C = int(g('embedding_length'))
        self.L = int(g('block_count'))
        self.H = int(g('attention.head_count'))
        self.KVH = int(g('attention.head_count_kv', self.H))
        self.D = self.C // self.H
        self.eps = float(g('attention.layer_norm_rms_epsilon'))
        self.base = float(g('rope.freq_base', 10000.0))
        self.n_rot = int(g('rope.dimension_count', self.D))

        def w(name):
            a = r.tensor_f64(name)
            if a is None:
                return None
            t = torch.from_numpy(a)
            if r.tensor(name)['type'] in ACT_BLOCKS:
                t.mul_(wscale)
            self.wtype[t.data_ptr()] = r.tensor(name)['type']
            return t
        self.emb = w('token_embd.weight')                       # (V, C)
        self.out = w('output.weight')
        if self.out is None:
            self.out = self.emb                                  # tied
        self.out_norm = w('output_norm.weight')
        self.layers = []
        for l in range(self.L):
            p = 'blk.%d.' % l
            self.layers.append({k: w(p + k + '.weight') for k in (
                'attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output',
                'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down')})

    def round_act(self, x, wtype):
        """x rounded to the dot type llama.cpp pairs with weights of wtype."""
        if self.act:
            return quantize_act(x, ACT_BLOCKS[wtype]) if wtype in ACT_BLOCKS else x
        if not self.emulate or wtype == G.T_F32:
            return x
        if wtype == G.T_F16:
            return x.to(torch.float16).to(torch.float64)
        if wtype == G.T_BF16:
            return x.to(torch.float32).to(torch.bfloat16).to(torch.float64)
        return quantize_act(x, ACT_BLOCKS.get(wtype, 'q8_0'))

    def mm(self, x, w):
        """x @ w.T with x rounded for w's type when emulating."""
        return self.round_act(x, self.wtype.get(w.data_ptr(), G.T_F32)) @ w.T

    def kv_round(self, x):
        return x.to(torch.float16).to(torch.float64) if self.emulate else x

    def rmsnorm(self, x, wt):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + self.eps) * wt

    def rope(self, x):
        """x: (T, heads, D); rotates adjacent pairs of the first n_rot dims."""
        T = x.shape[0]
        i = torch.arange(0, self.n_rot, 2, dtype=torch.float64)
        theta = self.base ** (-i / self.n_rot)                  # (n_rot/2)
        ang = torch.arange(T, dtype=torch.float64)[:, None] * theta[None, :]
        cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
        x = x.clone()
        a, b = x[..., 0:self.n_rot:2].clone(), x[..., 1:self.n_rot:2].clone()
        x[..., 0:self.n_rot:2] = a * cos - b * sin
        x[..., 1:self.n_rot:2] = a * sin + b * cos
        return x

    def forward(self, tokens):
        """Logits for every position: (T, V) float64."""
        T = len(tokens)
        x = self.emb[torch.tensor(tokens, dtype=torch.long)]
        mask = torch.full((T, T), float('-inf'), dtype=torch.float64).triu(1)
        rep = self.H // self.KVH
        for lw in self.layers:
            n = self.rmsnorm(x, lw['attn_norm'])
            q = self.rope(self.mm(n, lw['attn_q']).view(T, self.H, self.D))
            k = self.rope(self.mm(n, lw['attn_k']).view(T, self.KVH, self.D))
            v = self.mm(n, lw['attn_v']).view(T, self.KVH, self.D)
            q, k, v = self.kv_round(q), self.kv_round(k), self.kv_round(v)
            if self.kv16 and not self.emulate:
                k, v = k.to(torch.float16).to(torch.float64), v.to(torch.float16).to(torch.float64)
            k = k.repeat_interleave(rep, dim=1)                  # head h -> kv h // rep
            v = v.repeat_interleave(rep, dim=1)
            att = torch.einsum('thd,shd->hts', q, k) / (self.D ** 0.5) + mask
            att = self.kv_round(torch.softmax(att, dim=-1))
            o = torch.einsum('hts,shd->thd', att, v).reshape(T, self.H * self.D)
            x = x + self.mm(o, lw['attn_output'])
            m = self.rmsnorm(x, lw['ffn_norm'])
            gate = self.mm(m, lw['ffn_gate'])
            x = x + self.mm(gate * torch.sigmoid(gate) * self.mm(m, lw['ffn_up']), lw['ffn_down'])
        return self.mm(self.rmsnorm(x, self.out_norm), self.out)


def main(argv):
    if len(argv) < 2 or argv[1] in ('-h', '--help'):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    path, tokens, all_pos, greedy, emulate = argv[1], None, False, 0, False
    i = 2
    while i < len(argv):
        if argv[i] == '--tokens':
            tokens = [int(t) for t in argv[i + 1].split(',')]
            i += 2
        elif argv[i] == '--emulate':
            emulate = True
            i += 1
        elif argv[i] == '--all':
            all_pos = True
            i += 1
        elif argv[i] == '--greedy':
            greedy = int(argv[i + 1])
            i += 2
        else:
            sys.stderr.write('ref_llama.py: unknown option %s\n' % argv[i])
            return 2
    m = Llama(path, emulate)
    with torch.no_grad():
        if greedy:
            seq = list(tokens)
            ids = []
            for _ in range(greedy):
                nxt = int(m.forward(seq)[-1].argmax())
                ids.append(nxt)
                seq.append(nxt)
            json.dump({'tokens': tokens, 'ids': ids}, sys.stdout)
        else:
            lg = m.forward(tokens)
            out = lg.tolist() if all_pos else lg[-1].tolist()
            json.dump({'tokens': tokens, 'logits': out}, sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
