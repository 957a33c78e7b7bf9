"""bpe_ref.py - a plain byte-level BPE trainer, written from the algorithm's
definition and independent of llmos's C code, to check `llmos tokenizer
train`: before every merge it recounts every adjacent pair over every word.

Only for ASCII text: it pre-tokenizes with the GPT-4 style pattern written
with ASCII classes (letters A-Za-z, digits 0-9, whitespace [ \\t\\n\\r\\f\\v]),
which on ASCII input splits exactly as the Unicode pattern does. Rules it
shares with llmos (train.h): each file is one document; pieces longer than
256 bytes are counted as 256-byte parts; pairs are counted at every
adjacent position; the next merge is the pair with the highest count, then
the smallest merged byte sequence, then the shorter left part; a word merges
its occurrences left to right without overlap; pairs seen fewer than
min_count times are never merged.

usage: bpe_ref.py N_MERGES MIN_COUNT FILE...   prints one merge per line as
the hex of the left and right parts ("6120 62").
"""
import collections
import re
import sys

PAT = re.compile(rb"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]{1,3}"
                 rb"| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
MAX_PIECE = 256


def count_words(paths):
    counts = collections.Counter()
    for p in paths:
        data = open(p, 'rb').read()
        assert max(data, default=0) < 128, f'{p}: not ASCII'
        pos = 0
        for m in PAT.finditer(data):
            assert m.start() == pos, 'pattern left a gap'
            pos = m.end()
            piece = m.group()
            for i in range(0, len(piece), MAX_PIECE):
                counts[piece[i:i + MAX_PIECE]] += 1
        assert pos == len(data)
    return counts


def train(counts, n_merges, min_count):
    words = [[[bytes([b]) for b in w], c] for w, c in counts.items() if len(w) > 1]
    merges = []
    while len(merges) < n_merges:
        pairs = collections.Counter()
        for syms, c in words:
            for p in zip(syms, syms[1:]):
                pairs[p] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p[0] + p[1], len(p[0])))
        if pairs[best] < min_count:
            break
        a, b = best
        merges.append(best)
        for w in words:
            if a not in w[0]:
                continue
            syms, out, i = w[0], [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            w[0] = out
        words = [w for w in words if len(w[0]) > 1]  # single symbols hold no pairs
    return merges


def main():
    n_merges, min_count = int(sys.argv[1]), int(sys.argv[2])
    for a, b in train(count_words(sys.argv[3:]), n_merges, min_count):
        print(a.hex(), b.hex())


if __name__ == '__main__':
    main()
