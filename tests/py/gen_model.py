"""gen_model.py - random tiny 'llama' GGUF models for the engine tests.

    gen_model.py OUTDIR [--configs gqa,mqa,mha,odd] [--types f32,f16,bf16,q8_0,q4_0]
    gen_model.py --ties OUTDIR   (files whose values sit on rounding edges)

writes OUTDIR/<config>-<type>.gguf for each pair. Each model has a gpt2-style
byte-level BPE vocabulary (the 256 GPT-2 byte characters, merges learned here
by a tiny BPE on a built-in text, and an <|endoftext|> control token used as
BOS and EOS), 2 layers and a context of 128. Weights are drawn from a seeded
generator, so the same command gives the same files. 2-D weights are stored
in the requested type (quantized by gguf_py's ggml-layout quantizers); norm
vectors stay f32, as llama.cpp's quantizer keeps them.

Configs:
  gqa  dim  96, 4 heads, 2 kv heads (head dim 24), ffn 256, untied output,
       rope base 5000, rms eps 1e-5
  mqa  dim 160, 5 heads, 1 kv head  (head dim 32), ffn 224, tied output,
       rope base 500000, rms eps 1e-6
  mha  dim  64, 2 heads, 2 kv heads (head dim 32), ffn 192, untied output,
       rope base 10000, rms eps 1e-5
  odd  dim  84, 6 heads, 3 kv heads (head dim 14), ffn 100, tied output,
       rope base 20000: rows of 84, 42 and 100 elements, no multiple of a
       SIMD width (f32, f16 and bf16 only: blocks need multiples of 32)
"""
import collections
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py as G  # noqa: E402

CONFIGS = {
    'gqa': dict(dim=96, n_heads=4, n_kv=2, ffn=256, tied=False, base=5000.0, eps=1e-5, seed=1),
    'mqa': dict(dim=160, n_heads=5, n_kv=1, ffn=224, tied=True, base=500000.0, eps=1e-6, seed=2),
    'mha': dict(dim=64, n_heads=2, n_kv=2, ffn=192, tied=False, base=10000.0, eps=1e-5, seed=3),
    # rows that are no multiple of any SIMD width (float types only)
    'odd': dict(dim=84, n_heads=6, n_kv=3, ffn=100, tied=True, base=20000.0, eps=1e-5, seed=4),
}
N_LAYERS = 2
CTX = 128
N_MERGES = 200

TEXT = """
The river ran past the old mill, and the miller counted his sacks of grain
every morning before the sun came over the hill. Numbers mattered to him:
12 sacks on Monday, 15 on Tuesday, 9 when the rain came. He wrote them in a
book with a blue cover, and his daughter read the book at night, adding the
columns again to check them. "Nothing is lost," she said, "if it is written
down twice." The mill wheel turned; the water fell; the stones ground the
wheat into flour that went to the town in carts pulled by two grey horses.
In the winter the river froze at the edges and the wheel turned slowly, and
the miller told stories about the summer when the water was so low that the
wheel stopped for thirty-one days. Children came to listen. They asked why
the water moves, where it goes, and whether the sea is full. The answers
were not always right, but they were always kind, and that was enough.
def add(a, b): return a + b  # code, too: x = [1, 2, 3]; y = {'k': 4.5}
"""


# ---------------------------------------------------------------------------
# Tokenizer: GPT-2's byte-to-unicode map and a tiny BPE trainer.

def byte_chars():
    """The 256 printable characters GPT-2 uses for bytes, indexed by byte."""
    keep = list(range(ord('!'), ord('~') + 1)) + list(range(0xa1, 0xac + 1)) + \
        list(range(0xae, 0xff + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def learn_merges(text, n_merges):
    bc = byte_chars()
    words = collections.Counter(
        re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", text))
    seqs = {w: [bc[b] for b in w.encode('utf-8')] for w in words}
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, n in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        for w in words:
            s, out, i = seqs[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


def tokenizer_kv():
    bc = byte_chars()
    merges = learn_merges(TEXT, N_MERGES)
    tokens = list(bc) + [a + b for a, b in merges]
    assert len(set(tokens)) == len(tokens)
    eot = len(tokens)
    tokens.append('<|endoftext|>')
    types = [1] * eot + [3]
    kv = [
        ('tokenizer.ggml.model', G.STRING, 'gpt2'),
        ('tokenizer.ggml.pre', G.STRING, 'gpt-2'),
        ('tokenizer.ggml.tokens', G.ARRAY, (G.STRING, tokens)),
        ('tokenizer.ggml.token_type', G.ARRAY, (G.I32, types)),
        ('tokenizer.ggml.merges', G.ARRAY, (G.STRING, ['%s %s' % m for m in merges])),
        ('tokenizer.ggml.bos_token_id', G.U32, eot),
        ('tokenizer.ggml.eos_token_id', G.U32, eot),
        ('tokenizer.ggml.add_bos_token', G.BOOL, False),
    ]
    return kv, len(tokens), eot


# ---------------------------------------------------------------------------
# Weights

FILE_TYPE = {'f32': 0, 'f16': 1, 'q4_0': 2, 'q8_0': 7, 'bf16': 32}  # llama_ftype


def make_weights(cfg, vocab, eot):
    """Float32 weights as numpy arrays shaped (out, in), i.e. ne reversed."""
    rng = np.random.default_rng(cfg['seed'])
    C, H, KVH, F = cfg['dim'], cfg['n_heads'], cfg['n_kv'], cfg['ffn']
    D = C // H

    def mat(rows, cols, gain=1.0):
        return (rng.standard_normal((rows, cols)) * gain / np.sqrt(cols)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    w = collections.OrderedDict()
    emb = rng.standard_normal((vocab, C)).astype(np.float32)
    # the end-of-text token stays quiet: a small row keeps its logit near 0
    # (tied) or its embedding inert, so greedy runs rarely stop early.
    emb[eot] *= 0.01
    w['token_embd.weight'] = emb
    for l in range(N_LAYERS):
        p = 'blk.%d.' % l
        w[p + 'attn_norm.weight'] = norm(C)
        w[p + 'attn_q.weight'] = mat(H * D, C, 2.0)
        w[p + 'attn_k.weight'] = mat(KVH * D, C, 2.0)
        w[p + 'attn_v.weight'] = mat(KVH * D, C)
        w[p + 'attn_output.weight'] = mat(C, H * D)
        w[p + 'ffn_norm.weight'] = norm(C)
        w[p + 'ffn_gate.weight'] = mat(F, C)
        w[p + 'ffn_up.weight'] = mat(F, C)
        w[p + 'ffn_down.weight'] = mat(C, F)
    w['output_norm.weight'] = norm(C)
    if not cfg['tied']:
        out = mat(vocab, C, 4.0)
        out[eot] *= 0.01
        w['output.weight'] = out
    return w


def model_kv(name, cfg, vocab, ftype):
    C, H = cfg['dim'], cfg['n_heads']
    return [
        ('general.architecture', G.STRING, 'llama'),
        ('general.name', G.STRING, 'test-' + name),
        ('general.file_type', G.U32, FILE_TYPE[ftype]),
        ('llama.vocab_size', G.U32, vocab),
        ('llama.context_length', G.U32, CTX),
        ('llama.embedding_length', G.U32, C),
        ('llama.block_count', G.U32, N_LAYERS),
        ('llama.feed_forward_length', G.U32, cfg['ffn']),
        ('llama.rope.dimension_count', G.U32, C // H),
        ('llama.attention.head_count', G.U32, H),
        ('llama.attention.head_count_kv', G.U32, cfg['n_kv']),
        ('llama.rope.freq_base', G.F32, cfg['base']),
        ('llama.attention.layer_norm_rms_epsilon', G.F32, cfg['eps']),
    ]


def build(name, ftype):
    """Returns (kv, tensors) for config `name` stored as `ftype`."""
    cfg = CONFIGS[name]
    tkv, vocab, eot = tokenizer_kv()
    kv = model_kv(name, cfg, vocab, ftype) + tkv
    tt = G.TYPE_IDS[ftype]
    tensors = []
    for tname, a in make_weights(cfg, vocab, eot).items():
        ne = list(reversed(a.shape))
        t = tt if a.ndim == 2 else G.T_F32
        tensors.append((tname, t, ne, G.quantize(t, a)))
    return kv, tensors


def ties_tensor():
    """A (4, 64) f32 matrix whose values sit on the rounding edges of every
    type: q8_0 blocks scaled to d = 1 holding exact halves (roundf rounds
    them away from zero), q4_0 blocks scaled to d = 1, values halfway between
    neighbouring f16 and bf16 numbers (ties to even), f16 subnormals and
    values past the f16 range."""
    halves = [127.0] + [k + 0.5 for k in range(-8, 8)] + [-(k + 0.5) for k in range(15)]
    q4 = [-8.0] + [k + 0.5 for k in range(-8, 7)] + [float(k) for k in range(-8, 8)]
    f16_ties = [1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 2049.0, 2051.0, 6e-8, 3e-8,
                -6e-5, 65519.0, 65520.0, 70000.0, -1e6]
    bf16_ties = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 257.0, 259.0, 1e-40, 3e38, -3e38]
    row3 = (f16_ties + bf16_ties + [0.0] * 64)[:64]
    rows = [halves + halves[::-1], q4 + q4[::-1], [0.0] * 32 + halves, row3]
    return np.array(rows, dtype=np.float32)


def write_ties(outdir, types):
    """OUTDIR/ties-<type>.gguf: ties_tensor() stored as each type, with a
    norm-like 1-D tensor that stays f32."""
    a = ties_tensor()
    for t in types:
        tt = G.TYPE_IDS[t]
        kv = [('general.architecture', G.STRING, 'ties'), ('general.file_type', G.U32, FILE_TYPE[t])]
        tensors = [('ties.weight', tt, [64, 4], G.quantize(tt, a)),
                   ('ties_norm.weight', G.T_F32, [64], G.quantize(G.T_F32, a[0]))]
        G.write(os.path.join(outdir, 'ties-%s.gguf' % t), kv, tensors)


def main(argv):
    if len(argv) < 2 or argv[1] in ('-h', '--help'):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    if argv[1] == '--ties':
        os.makedirs(argv[2], exist_ok=True)
        write_ties(argv[2], ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'])
        return 0
    outdir = argv[1]
    configs = ['gqa', 'mqa', 'mha']  # 'odd' only when asked for, in float types
    types = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0']
    i = 2
    while i < len(argv):
        if argv[i] == '--configs':
            configs = argv[i + 1].split(',')
            i += 2
        elif argv[i] == '--types':
            types = argv[i + 1].split(',')
            i += 2
        else:
            sys.stderr.write('gen_model.py: unknown option %s\n' % argv[i])
            return 2
    os.makedirs(outdir, exist_ok=True)
    for c in configs:
        for t in types:
            if G.BLOCK[G.TYPE_IDS[t]][0] > 1 and (CONFIGS[c]['dim'] % 32 or CONFIGS[c]['ffn'] % 32):
                sys.stderr.write('gen_model.py: %s rows do not fit %s blocks\n' % (c, t))
                return 2
            kv, tensors = build(c, t)
            G.write(os.path.join(outdir, '%s-%s.gguf' % (c, t)), kv, tensors)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
