"""make_bytes_cases.py - byte strings that are not (all) UTF-8, framed as
u32 little-endian length + bytes, for the pre-tokenizer comparison with
llama.cpp (tests/cc) and the round-trip checks.

Each case mixes ASCII words, spaces, newlines, digits and apostrophes,
valid multi-byte characters (letters, marks, CJK, emoji, NBSP) and invalid
pieces: stray continuation bytes, lead bytes without their continuation,
truncated sequences, overlong forms (C0 A0 is an overlong space), encoded
surrogates, bytes F8..FF, and NUL. Sequences that decode past U+10FFFF
(lead bytes F1..F7 with three continuation bytes) are left out: llama.cpp
throws on them instead of tokenizing.

usage: make_bytes_cases.py OUT [N] [SEED]
"""
import random
import struct
import sys

VALID = ['a', 'b', 'Z', 's', 't', 'e', 'l', 'd', 'm', 'r', 'v', '1', '7', ' ', ' ', '  ', '\n', '\r\n', '\t', "'",
         '.', '!', '(', 'é', '\u0301', '中', '😀', '\u00a0', '\u3000', '٣', 'ß', 'Ж', 'the', ' word', "'s", "'LL"]
INVALID = [b'\x80', b'\xbf', b'\x9f\x9f', b'\xc0', b'\xc1', b'\xc3', b'\xe2\x82', b'\xe4', b'\xf0\x9f', b'\xf0\x9f\x98',
           b'\xf8', b'\xfe', b'\xff', b'\xc0\xa0', b'\xc0\x80', b'\xe0\x80\xa0', b'\xed\xa0\x80', b'\xed\xbf\xbf',
           b'\x00', b'\x00\x00', b'\xc1\xb3', b'\xc1\xac', b'\xc1\xa5']


def make(rnd):
    parts = []
    for _ in range(rnd.randint(1, 30)):
        if rnd.random() < 0.3:
            parts.append(rnd.choice(INVALID))
        else:
            parts.append(rnd.choice(VALID).encode())
    return b''.join(parts)


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    cases = [b'', b'\x00', b'\xff', b'a\xffb', b' \xff', b'  \xff', b"'\xff", b'\xc0\xa0x', b'x\xc0\xa0\xc0\xa0y',
             b'\n\xc0\x8a\n', b"'\xc1\xb3", b"'\xc1\xac\xc1\xac", b"'\xc1\xb2e", b'12\xff34', b'\xe2\x96\x81\xe2\x96']
    cases += [make(rnd) for _ in range(n)]
    with open(out, 'wb') as f:
        for c in cases:
            f.write(struct.pack('<I', len(c)) + c)


if __name__ == '__main__':
    main()
