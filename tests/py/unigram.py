"""unigram.py - the cross-entropy (nats/token) of a unigram model fitted on a
shard folder's training tokens (add-one smoothing), measured on its val.bin:
the loss a model that ignores context would reach. Reads the shard format
from its spec (src/data/shard.h).

  unigram.py DATA_DIR
"""
import glob
import os
import struct
import sys

import numpy as np


def read_shard(path):
    b = open(path, 'rb').read()
    assert b[:8] == b'LLMOSTOK', path
    ver, width, n, vocab = struct.unpack('<IIQI', b[8:28])
    return np.frombuffer(b[64:64 + n * width], dtype='<u2' if width == 2 else '<u4'), vocab


def main():
    d = sys.argv[1]
    counts = None
    for p in sorted(glob.glob(os.path.join(d, 'train-*.bin'))):
        ids, vocab = read_shard(p)
        c = np.bincount(ids, minlength=vocab).astype(np.float64)
        counts = c if counts is None else counts + c
    p = (counts + 1) / (counts.sum() + len(counts))
    val, _ = read_shard(os.path.join(d, 'val.bin'))
    print('%.6f' % float(-np.log(p[val[1:]]).mean()))


if __name__ == '__main__':
    main()
