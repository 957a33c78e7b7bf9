"""tok_dump.py - prints a byte-level BPE tokenizer GGUF's merges or tokens as
hex bytes, undoing GPT-2's byte-to-unicode mapping (written here from its
definition: printable bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF stand for
themselves, the other bytes in order for U+0100, U+0101, ...).

usage: tok_dump.py merges FILE.gguf   one merge per line: "LEFTHEX RIGHTHEX"
       tok_dump.py tokens FILE.gguf   one token per line: "ID TYPE HEX"
                                      (control tokens: their text's hex)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_py  # noqa: E402


def unicode_to_byte():
    printable = (list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD))
                 + list(range(0xAE, 0x100)))
    table, n = {}, 0
    for b in range(256):
        if b in printable:
            table[chr(b)] = b
        else:
            table[chr(256 + n)] = b
            n += 1
    return table


def main():
    what, path = sys.argv[1], sys.argv[2]
    kv = gguf_py.Reader(open(path, 'rb').read()).kv
    inv = unicode_to_byte()
    dec = lambda s: bytes(inv[ch] for ch in s)  # noqa: E731
    if what == 'merges':
        for m in kv['tokenizer.ggml.merges'][1][1]:
            a, b = m.split(' ')
            print(dec(a).hex(), dec(b).hex())
    else:
        toks, types = kv['tokenizer.ggml.tokens'][1][1], kv['tokenizer.ggml.token_type'][1][1]
        for i, (t, ty) in enumerate(zip(toks, types)):
            print(i, int(ty), (t.encode() if ty == 3 else dec(t)).hex())


if __name__ == '__main__':
    main()
