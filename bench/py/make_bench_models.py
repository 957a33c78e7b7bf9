"""make_bench_models.py - the benchmark models: llama-architecture GGUF files
of the sizes the inference benchmarks use, with random weights, in f32.

    make_bench_models.py TOKENIZER.gguf OUTDIR [--sizes 15M,110M]

writes OUTDIR/<size>-f32.gguf. The tokenizer's keys (Llama 2's 32000-token
vocabulary, as `llmos tokenizer import --llama` writes it) are copied in, so
llama.cpp loads the files. bench/infer.sh quantizes them with
`llmos quantize`; the same files go to llama-bench and to `llmos bench`.

Sizes (the llama2.c "stories" shapes):
  15M       dim 288, 6 layers, 6 heads, ffn 768, vocab 32000
  110M      dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000
  110M-gqa  the 110M with 3 kv heads (4 query heads each, as Llama 3's
            grouping), context 4096: for generation deep in a context
Untied output head, context 1024 unless said, rope base 10000, rms eps 1e-5. Weights
are normal(0, 0.02) from a fixed seed (norms are 1), so repeated runs write
the same bytes.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'py'))
import gguf_py as G  # noqa: E402

SIZES = {
    '15M': dict(dim=288, layers=6, heads=6, ffn=768),
    '110M': dict(dim=768, layers=12, heads=12, ffn=2048),
    '110M-gqa': dict(dim=768, layers=12, heads=12, kv_heads=3, ffn=2048, ctx=4096),
}


def build(size, tok_kv, vocab, seed):
    c = SIZES[size]
    C, L, H, F = c['dim'], c['layers'], c['heads'], c['ffn']
    KVH, ctx = c.get('kv_heads', H), c.get('ctx', 1024)
    rng = np.random.default_rng(seed)

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(0.02))

    ones = np.ones(C, dtype=np.float32)
    tensors = [('token_embd.weight', mat(vocab, C))]
    for layer in range(L):
        p = 'blk.%d.' % layer
        tensors += [
            (p + 'attn_norm.weight', ones), (p + 'attn_q.weight', mat(C, C)),
            (p + 'attn_k.weight', mat(KVH * C // H, C)), (p + 'attn_v.weight', mat(KVH * C // H, C)),
            (p + 'attn_output.weight', mat(C, C)), (p + 'ffn_norm.weight', ones),
            (p + 'ffn_gate.weight', mat(F, C)), (p + 'ffn_up.weight', mat(F, C)),
            (p + 'ffn_down.weight', mat(C, F)),
        ]
    tensors += [('output_norm.weight', ones), ('output.weight', mat(vocab, C))]
    kv = [
        ('general.architecture', G.STRING, 'llama'),
        ('general.name', G.STRING, 'llmos-bench-' + size),
        ('general.file_type', G.U32, 0),
        ('llama.vocab_size', G.U32, vocab),
        ('llama.context_length', G.U32, ctx),
        ('llama.embedding_length', G.U32, C),
        ('llama.block_count', G.U32, L),
        ('llama.feed_forward_length', G.U32, F),
        ('llama.rope.dimension_count', G.U32, C // H),
        ('llama.attention.head_count', G.U32, H),
        ('llama.attention.head_count_kv', G.U32, KVH),
        ('llama.rope.freq_base', G.F32, 10000.0),
        ('llama.attention.layer_norm_rms_epsilon', G.F32, 1e-5),
    ] + tok_kv
    out = []
    for name, a in tensors:
        out.append((name, G.T_F32, list(reversed(a.shape)), np.ascontiguousarray(a).tobytes()))
    return kv, out


def main(argv):
    if len(argv) < 3 or argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if len(argv) > 1 else 2
    tok_path, outdir = argv[1], argv[2]
    sizes = list(SIZES)
    if '--sizes' in argv:
        sizes = argv[argv.index('--sizes') + 1].split(',')
    for s in sizes:
        if s not in SIZES:
            print('make_bench_models.py: unknown size %r (have %s)' % (s, ', '.join(SIZES)), file=sys.stderr)
            return 2
    r = G.Reader(tok_path)
    tok_kv = [(k, t, v) for k, (t, v) in r.kv.items() if k.startswith('tokenizer.')]
    vocab = len(r.kv['tokenizer.ggml.tokens'][1][1])
    os.makedirs(outdir, exist_ok=True)
    for s in sizes:
        kv, tensors = build(s, tok_kv, vocab, seed=1000 + list(SIZES).index(s))
        path = os.path.join(outdir, '%s-f32.gguf' % s)
        tmp = path + '.tmp.%d' % os.getpid()
        G.write(tmp, kv, tensors)
        os.replace(tmp, path)
        print('wrote %s (%.0f MB)' % (path, os.path.getsize(path) / 1e6))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
