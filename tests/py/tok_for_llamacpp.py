"""tok_for_llamacpp.py - makes a tokenizer GGUF loadable by llama.cpp
(vocabulary only): llama.cpp wants an architecture and its hyperparameters
even when it reads only the vocabulary, so this copies every key of IN and
adds general.architecture = llama with small hyperparameters. No tensors.
--pre NAME replaces tokenizer.ggml.pre (e.g. llama-bpe, to check the Llama 3
pre-tokenizer with GPT-2's vocabulary); both llmos and llama.cpp then read
the same file.

usage: tok_for_llamacpp.py IN.gguf OUT.gguf [--pre NAME]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py as G  # noqa: E402


def main():
    src, dst = sys.argv[1], sys.argv[2]
    pre = sys.argv[sys.argv.index('--pre') + 1] if '--pre' in sys.argv else None
    r = G.Reader(src)
    kv = [('general.architecture', G.STRING, 'llama')]
    kv += [('llama.' + k, G.U32, v) for k, v in (
        ('context_length', 2048), ('embedding_length', 64), ('block_count', 1),
        ('feed_forward_length', 128), ('attention.head_count', 2),
        ('attention.head_count_kv', 2), ('rope.dimension_count', 32))]
    kv.append(('llama.attention.layer_norm_rms_epsilon', G.F32, 1e-5))
    for k, (t, v) in r.kv.items():
        if k == 'general.architecture':
            continue
        if k == 'tokenizer.ggml.pre' and pre:
            v = pre
        kv.append((k, t, v))
    if pre and 'tokenizer.ggml.pre' not in r.kv:
        kv.append(('tokenizer.ggml.pre', G.STRING, pre))
    G.write(dst, kv, [])


if __name__ == '__main__':
    main()
