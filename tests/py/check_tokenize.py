"""check_tokenize.py - `llmos tokenize` and llama.cpp's tokenizer give the
same ids for a varied text suite on one GGUF vocabulary.

    check_tokenize.py LLMOS MODEL.gguf
"""
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))

TEXTS = [
    "", " ", "  ", "\n", "\n\n\n", "\t", "a", "The miller's daughter counted 12 sacks.",
    "Hello world", " Hello  world ", "hello\nworld\r\n", "don't we'll they're I'm you've he'd it's",
    "DON'T WE'LL", "1234567890 3.14159 -42 1,000,000", "x = [1, 2, 3]; y = {'k': 4.5}",
    "def add(a, b):\n    return a + b\n", "caf\u00e9 na\u00efve r\u00e9sum\u00e9", "\u00fcber \u00df",
    "\u4e2d\u6587\u5b57\u7b26", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\U0001F600\U0001F44D\U0001F3FD",
    "\u0645\u0631\u062d\u0628\u0627", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
    "<|endoftext|>", "a<|endoftext|>b", "!!!???...,,,;;;", "   leading and trailing   ",
    "tabs\tand\tnewlines\n\tmixed", "The river ran past the old mill, and the miller counted his sacks",
    "mill miller millers milling", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "'s 's 'S ' s", "\u00a0non-breaking\u2003em-space", "zero\u200bwidth",
]


def main(llmos, model):
    lc = subprocess.run(['node', os.path.join(ROOT, 'tests/js/llamacpp.mjs'), 'tokenize', model],
                        input=json.dumps(TEXTS), stdout=subprocess.PIPE, text=True, check=True)
    want = json.loads(lc.stdout)
    bad = 0
    for text, ids in zip(TEXTS, want):
        p = subprocess.run([llmos, 'tokenize', model, '--file', '-', '--ids'], input=text.encode('utf-8'),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            print('llmos tokenize failed on %r: %s' % (text, p.stderr.decode().strip()))
            bad += 1
            continue
        ours = [int(t) for t in p.stdout.split()]
        if ours != ids:
            print('DIFFERENT %r:\n  llmos     %s\n  llama.cpp %s' % (text, ours, ids))
            bad += 1
    print('tokenization: %d of %d texts identical to llama.cpp' % (len(TEXTS) - bad, len(TEXTS)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
