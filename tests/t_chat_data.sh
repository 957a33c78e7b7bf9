#!/usr/bin/env bash
# llmos data chats: 100k+ valid conversations from the Debian reference
# data; the same command gives the same files; no subject appears in both
# the training and the held-out file; questions come in several phrasings;
# facts agree with the source files read independently here (elements,
# capitals); an unknown source is refused.
set -eu
cd "$T"
"$LLMOS" data chats --out chats.jsonl > table.txt
cat table.txt
for k in 1 2; do
    "$LLMOS" data chats --out small$k.jsonl --sources elements,countries,acronyms,perlfaq --quiet > /dev/null
done
cmp small1.jsonl small2.jsonl
cmp small1.heldout.jsonl small2.heldout.jsonl
"$PY" - <<'PY'
import collections, gzip, json, re, zlib
def load(p):
    return [json.loads(l) for l in open(p, encoding='utf-8')]
tr, he = load('chats.jsonl'), load('chats.heldout.jsonl')
assert len(tr) + len(he) >= 100000, (len(tr), len(he))
assert 0.02 < len(he) / (len(tr) + len(he)) < 0.08, len(he)
roles = {'system', 'user', 'assistant', 'tool'}
for c in tr + he:
    m = c['messages']
    assert m and all(x['role'] in roles and x['content'].strip() for x in m), c
    assert any(x['role'] == 'assistant' for x in m), c
    assert m[0]['role'] == 'user' and m[-1]['role'] == 'assistant', c
held = {c['subject'].lower() for c in he}
trained = {c['subject'].lower() for c in tr}
assert not held & trained, list(held & trained)[:5]
src = collections.Counter(c['source'] for c in tr + he)
for s in ['wordnet', 'gcide', 'elements', 'countries', 'acronyms', 'perlfaq', 'pythonfaq', 'units', 'airports']:
    assert src[s] > 0, (s, src)
multi = sum(len(c['messages']) > 2 for c in tr)
assert multi > 10000, multi
# phrasings of the definition question
starts = collections.Counter(re.sub(r'"[^"]*"', 'X', c['messages'][0]['content'])[:12]
                             for c in tr if c['source'] == 'wordnet')
assert len([k for k, v in starts.items() if v > 1000]) >= 6, starts.most_common(12)
# facts: elements from the dictd file, capitals from miscfiles
raw = open('/usr/share/dictd/elements.dict.dz', 'rb').read()
txt = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw).decode('utf-8', 'replace')
el = {m.group(1): (m.group(2), m.group(3)) for m in
      re.finditer(r'\n\n([a-z]+)\nSymbol: (\w+)\nAtomic number: (\d+)\n', txt)}
checked = 0
for c in tr + he:
    if c['source'] != 'elements':
        continue
    name = c['subject']
    sym, num = el[name]
    for x in c['messages']:
        if x['role'] != 'assistant':
            continue
        head = x['content'][:70]  # the answer itself, before any description
        for n in re.findall(r'atomic number (\d+)', head):
            assert n == num, (name, x['content'], num)
            checked += 1
        for s in re.findall(r'(?:symbol for \w+ is |\(symbol |^)([A-Z][a-z]?)(?:\.|,| is the symbol)', head):
            assert s == sym, (name, x['content'], sym)
            checked += 1
caps = {}
for l in gzip.open('/usr/share/misc/countries.gz', 'rt', encoding='utf-8'):
    p = l.rstrip('\n').split(':')
    if len(p) == 5 and not l.startswith('#'):
        caps[p[4]] = True
for c in tr + he:
    for x in c['messages']:
        m = re.match(r'The capital of (.+) is (.+)\.$', x['content'])
        if m:
            assert m.group(2) in caps, x['content']
            checked += 1
assert checked > 200, checked
print('chats ok: %d + %d held out, %d multi-turn, %d facts checked' % (len(tr), len(he), multi, checked))
PY
if "$LLMOS" data chats --out x.jsonl --sources wordnet,nosuch 2> err.txt; then echo "FAIL: unknown source accepted"; exit 1; fi
grep -q "unknown source 'nosuch'" err.txt
[ ! -e x.jsonl ]
echo ok
