"""cmp_ids.py - compares token ids from two tokenizers over a JSONL suite.

usage: cmp_ids.py SUITE.jsonl OURS.jsonl REF.jsonl NAME
Each file has one line per case (a JSON string in SUITE, a JSON array of ids
in the others). Prints the number of cases and bytes compared; on any
difference prints the first few cases (text, both id lists from the first
difference) and exits 1.
"""
import json
import sys


def main():
    suite, ours, ref, name = sys.argv[1:5]
    def lines(path):  # split on \n only: the texts may hold U+2028 and friends
        return [x for x in open(path, encoding='utf-8').read().split('\n') if x]
    texts, a, b = lines(suite), lines(ours), lines(ref)
    if not (len(texts) == len(a) == len(b)):
        print('%s: line counts differ: suite %d, llmos %d, %s %d' % (name, len(texts), len(a), name, len(b)))
        sys.exit(1)
    bad = [i for i in range(len(a)) if json.loads(a[i]) != json.loads(b[i])]
    n_bytes = sum(len(json.loads(t).encode('utf-8')) for t in texts)
    if bad:
        print('%s: %d of %d cases differ' % (name, len(bad), len(texts)))
        for i in bad[:5]:
            x, y = json.loads(a[i]), json.loads(b[i])
            k = next((j for j in range(min(len(x), len(y))) if x[j] != y[j]), min(len(x), len(y)))
            print('  case %d: %r' % (i + 1, json.loads(texts[i])[:120]))
            print('    llmos from token %d: %s' % (k, x[k:k + 12]))
            print('    %s from token %d: %s' % (name, k, y[k:k + 12]))
        sys.exit(1)
    print('%s: identical ids on %d cases, %d bytes' % (name, len(texts), n_bytes))


if __name__ == '__main__':
    main()
