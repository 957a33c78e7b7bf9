"""seeds.py - writes a seed corpus for the GGUF fuzzer: small files (under
4 KB) that together use every metadata value type, arrays of each element
type, every tensor type, 1 to 4 dimensions, a custom alignment, version 2,
and a tiny llama model with a tokenizer (and variants of it that fuzz_model
once found faults with: regress-*.gguf).

    seeds.py OUTDIR [JSONL_OUTDIR]

JSONL_OUTDIR gets the seeds of fuzz_jsonl: a conversation file, a judgement
store (with a torn last line), and files in the pairs, hh and ranked
formats.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'py'))
import gguf_py as G  # noqa: E402
import gen_model  # noqa: E402


def all_kv():
    return [
        ('general.architecture', G.STRING, 'llama'),
        ('u8', G.U8, 200), ('i8', G.I8, -100), ('u16', G.U16, 60000), ('i16', G.I16, -30000),
        ('u32', G.U32, 4000000000), ('i32', G.I32, -2000000000), ('f32', G.F32, 1.5),
        ('bool', G.BOOL, True), ('str', G.STRING, 'h\u00e9llo'), ('u64', G.U64, 2 ** 63 + 5),
        ('i64', G.I64, -2 ** 62), ('f64', G.F64, -2.25),
        ('a.u8', G.ARRAY, (G.U8, [1, 2, 3])), ('a.i32', G.ARRAY, (G.I32, [-1, 5])),
        ('a.f32', G.ARRAY, (G.F32, [0.5, -1e30])), ('a.str', G.ARRAY, (G.STRING, ['a', '', 'bc'])),
        ('a.u64', G.ARRAY, (G.U64, [7])), ('a.f64', G.ARRAY, (G.F64, [3.0, 4.0])),
        ('a.bool', G.ARRAY, (G.BOOL, [1, 0])), ('a.empty', G.ARRAY, (G.I16, [])),
    ]


def tensors(rng):
    out = []
    for i, (tn, tt) in enumerate(G.TYPE_IDS.items()):
        ne = [32, 2] if i % 2 else [64]
        x = rng.standard_normal(int(np.prod(ne))).astype(np.float32)
        out.append(('t.' + tn, tt, ne, G.quantize(tt, x)))
    out.append(('t.4d', G.T_F32, [1, 2, 1, 3], np.arange(6, dtype='<f4').tobytes()))
    return out


def tiny_llama(rng, quant=None):
    bc = gen_model.byte_chars()
    merges = [(bc[ord('h')], bc[ord('e')]), (bc[ord(' ')], bc[ord('t')]),
              (bc[ord(' ')] + bc[ord('t')], bc[ord('h')] + bc[ord('e')])]
    vocab = bc + [a + b for a, b in merges] + ['<|endoftext|>']
    C, V, F = 32, len(vocab), 64
    kv = [('general.architecture', G.STRING, 'llama'),
          ('llama.context_length', G.U32, 16), ('llama.embedding_length', G.U32, C),
          ('llama.block_count', G.U32, 1), ('llama.feed_forward_length', G.U32, F),
          ('llama.attention.head_count', G.U32, 2), ('llama.attention.head_count_kv', G.U32, 1),
          ('llama.rope.freq_base', G.F32, 5000.0),
          ('llama.attention.layer_norm_rms_epsilon', G.F32, 1e-5),
          ('tokenizer.ggml.model', G.STRING, 'gpt2'), ('tokenizer.ggml.pre', G.STRING, 'gpt-2'),
          ('tokenizer.ggml.tokens', G.ARRAY, (G.STRING, vocab)),
          ('tokenizer.ggml.token_type', G.ARRAY, (G.I32, [1] * (V - 1) + [3])),
          ('tokenizer.ggml.merges', G.ARRAY, (G.STRING, ['%s %s' % m for m in merges])),
          ('tokenizer.ggml.bos_token_id', G.U32, V - 1), ('tokenizer.ggml.eos_token_id', G.U32, V - 1)]
    shapes = {'token_embd.weight': [C, V], 'output_norm.weight': [C],
              'blk.0.attn_norm.weight': [C], 'blk.0.attn_q.weight': [C, C],
              'blk.0.attn_k.weight': [C, C // 2], 'blk.0.attn_v.weight': [C, C // 2],
              'blk.0.attn_output.weight': [C, C], 'blk.0.ffn_norm.weight': [C],
              'blk.0.ffn_gate.weight': [C, F], 'blk.0.ffn_up.weight': [C, F],
              'blk.0.ffn_down.weight': [F, C]}
    ts = []
    for name, ne in shapes.items():
        tt = (quant if quant is not None else G.T_Q4_0) if len(ne) == 2 else G.T_F32
        x = rng.standard_normal(int(np.prod(ne))).astype(np.float32)
        ts.append((name, tt, ne, G.quantize(tt, x)))
    return kv, ts


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(7)
    G.write(os.path.join(outdir, 'empty.gguf'), [], [])
    G.write(os.path.join(outdir, 'kv.gguf'), all_kv(), [])
    G.write(os.path.join(outdir, 'tensors.gguf'), [('general.alignment', G.U32, 32)], tensors(rng))
    G.write(os.path.join(outdir, 'align64.gguf'), [('general.alignment', G.U32, 64)], tensors(rng)[:3])
    G.write(os.path.join(outdir, 'v2.gguf'), all_kv()[:4], tensors(rng)[:1], version=2)
    kv, ts = tiny_llama(rng)
    G.write(os.path.join(outdir, 'llama.gguf'), kv, ts)
    G.write(os.path.join(outdir, 'llama-f16.gguf'), *tiny_llama(rng, G.T_F16))  # what run.c reads
    # regression seeds from fuzz_model's findings (issue 14): a byte token
    # of type control ("\u00c3", so that "caf\u00e9" decoded as "caf\u00c3\u00a9"),
    # one of type unknown ("\u0120", the space), and a type out of range
    bc = gen_model.byte_chars()
    for name, changes in (('regress-type3-byte', {0xC3: 3}), ('regress-type2-space', {0x20: 2}),
                          ('regress-type-range', {0x41: 1195835393})):
        types = [1] * (len(bc) + 3) + [3]
        for b, ty in changes.items():
            types[b] = ty
        kv2 = [(k, t, (G.I32, types) if k == 'tokenizer.ggml.token_type' else v) for k, t, v in kv]
        G.write(os.path.join(outdir, name + '.gguf'), kv2, ts)


def jsonl_seeds(outdir):
    os.makedirs(outdir, exist_ok=True)
    msgs = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'caf\u00e9?'},
            {'role': 'assistant', 'content': 'A place.\n'}]
    store = {'labeler': 'a', 'time': '2026-01-01T00:00:00Z', 'model': 'm.gguf', 'prompt': msgs[1:2],
             'candidates': ['x', 'y', 'z'], 'ranks': [2, 1, 0], 'flags': ['unsafe'], 'ideal': 'w',
             'source': {'format': 'pairs', 'line': '{}'}}
    files = {
        'conv.jsonl': [{'messages': msgs}, {'messages': msgs[1:], 'extra': 1}],
        'store.jsonl': [store, dict(store, flags=[], ranks=[1, 1, 2])],
        'pairs.jsonl': [{'prompt': 'q', 'chosen': 'a', 'rejected': 'b'},
                        {'prompt': msgs[:2], 'chosen': msgs[2:], 'rejected': [{'role': 'assistant', 'content': 'n'}]}],
        'hh.jsonl': [{'chosen': '\n\nHuman: q\n\nAssistant: a', 'rejected': '\n\nHuman: q\n\nAssistant: b'}],
        'ranked.jsonl': [{'prompt': 'q', 'candidates': ['a', 'b', 'c'], 'ranks': [3, 1, 2]}],
    }
    for name, lines in files.items():
        with open(os.path.join(outdir, name), 'w') as f:
            f.write(''.join(json.dumps(x) + '\n' for x in lines))
    with open(os.path.join(outdir, 'store.jsonl'), 'a') as f:
        f.write(json.dumps(store)[:40])  # a writer killed mid-line


if __name__ == '__main__':
    main(sys.argv[1])
    if len(sys.argv) > 2:
        jsonl_seeds(sys.argv[2])
