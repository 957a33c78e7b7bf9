"""train_data.py - synthetic inputs for the training tests, written from the
formats' specifications with no llmos code: a token-shard folder
(train-00000.bin, val.bin, see src/data/shard.h) of pseudo-random but
learnable token streams, and a minimal tokenizer GGUF (tokenizer.ggml.*
keys only) whose vocabulary size fixes the model's.

  train_data.py DIR VOCAB N_TRAIN N_VAL [SEED]
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py  # noqa: E402


def write_shard(path, vocab, eos, ids, text_bytes):
    ids = np.asarray(ids)
    width = 2 if vocab <= 65536 else 4
    hdr = b'LLMOSTOK' + struct.pack('<IIQIiQQ', 1, width, ids.size, vocab, eos, text_bytes,
                                    int((ids == eos).sum()))
    hdr += b'\0' * (64 - len(hdr))
    with open(path, 'wb') as f:
        f.write(hdr + ids.astype('<u2' if width == 2 else '<u4').tobytes())


def stream(rng, n, vocab, eos):
    # documents of a noisy repeating pattern: predictable enough to learn
    out = []
    while len(out) < n:
        period = int(rng.integers(3, 7))
        pat = rng.integers(1, vocab, size=period)
        for _ in range(int(rng.integers(5, 40))):
            out.extend(pat if rng.random() > 0.1 else rng.integers(1, vocab, size=period))
        out.append(eos)
    return np.array(out[:n])


def main():
    d, vocab, ntr, nva = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    eos = 0
    write_shard(os.path.join(d, 'train-00000.bin'), vocab, eos, stream(rng, ntr, vocab, eos), ntr * 3)
    write_shard(os.path.join(d, 'val.bin'), vocab, eos, stream(rng, nva, vocab, eos), nva * 3)
    toks = ['<eos>'] + ['t%d' % i for i in range(1, vocab)]
    kv = [('general.architecture', gguf_py.STRING, 'llama'),
          ('tokenizer.ggml.model', gguf_py.STRING, 'gpt2'),
          ('tokenizer.ggml.tokens', gguf_py.ARRAY, (gguf_py.STRING, toks)),
          ('tokenizer.ggml.token_type', gguf_py.ARRAY, (gguf_py.I32, [3] + [1] * (vocab - 1))),
          ('tokenizer.ggml.merges', gguf_py.ARRAY, (gguf_py.STRING, [])),
          ('tokenizer.ggml.eos_token_id', gguf_py.U32, eos)]
    gguf_py.write(os.path.join(d, 'tokenizer.gguf'), kv, [])


if __name__ == '__main__':
    main()
