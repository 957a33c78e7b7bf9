"""tok_attach.py - makes a runnable tiny llama model around a tokenizer GGUF
(a GGUF with only tokenizer.ggml.* keys, as `llmos tokenizer train` writes),
so that llama.cpp, which loads models rather than bare tokenizers, can
tokenize with it. The weights are gen_model.py's random 'mha' config sized to
the tokenizer's vocabulary; every key of the tokenizer file is copied as is.

usage: tok_attach.py TOKENIZER.gguf OUT.gguf
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py as G  # noqa: E402
import gen_model  # noqa: E402


def main():
    src, dst = sys.argv[1], sys.argv[2]
    r = G.Reader(src)
    tok_kv = [(k, t, v) for k, (t, v) in r.kv.items()]
    vocab = len(r.kv['tokenizer.ggml.tokens'][1][1])
    eos = r.kv.get('tokenizer.ggml.eos_token_id', (G.U32, 0))[1]
    cfg = gen_model.CONFIGS['mha']
    kv = gen_model.model_kv('tok', cfg, vocab, 'f32') + tok_kv
    tensors = []
    for name, a in gen_model.make_weights(cfg, vocab, eos).items():
        tensors.append((name, G.T_F32, list(reversed(a.shape)), G.quantize(G.T_F32, a)))
    G.write(dst, kv, tensors)


if __name__ == '__main__':
    main()
