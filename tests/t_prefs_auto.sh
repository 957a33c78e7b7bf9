#!/usr/bin/env bash
# Automatic labelers: llmos prefs auto samples K answers from a (tiny,
# random) chat model and ranks them. The ranks are recomputed here:
#  - f1: SQuAD token F1 against the reference answer, written in Python;
#  - cmd: an external judge (a Python script scoring by answer length)
#    given JSON on stdin;
#  - arith: generated questions checked by Python's own arithmetic.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
# references made of the corpus' words, so that the random model's answers
# overlap them now and then (F1 differs between candidates)
"$PY" - <<'PY'
import json
ref = open('text.txt').read().replace('\n', ' ')
with open('qa.jsonl', 'w') as f:
    for i in range(6):
        f.write(json.dumps({'messages': [{'role': 'user', 'content': 'Tell me about item %d' % i},
                                         {'role': 'assistant', 'content': ref}]}) + '\n')
PY
"$LLMOS" prefs auto --model base.gguf --prompts qa.jsonl --store f1.jsonl --k 4 --limit 6 \
    --judge f1 --max-new 24 --temp 1.5 --threads 2 --quiet > f1.txt
cat > judge.py <<'PY'
import json, sys
d = json.load(sys.stdin)
assert d['prompt'][-1]['role'] == 'user' and 'answer' in d
print(len(d['answer']))
PY
"$LLMOS" prefs auto --model base.gguf --prompts chats.jsonl --store cmd.jsonl --k 3 --limit 3 \
    --judge "cmd:$PY $T/judge.py" --max-new 12 --threads 2 --quiet > cmd.txt
"$LLMOS" prefs auto --model base.gguf --arith 5 --store ar.jsonl --k 2 --max-new 8 --threads 2 --quiet > ar.txt
# a failing judge is an error naming the command
if "$LLMOS" prefs auto --model base.gguf --arith 1 --store bad.jsonl --judge "cmd:false" --quiet 2> err.txt; then exit 1; fi
grep -q "judge command 'false' failed" err.txt
"$PY" - <<'PY'
import json, re, string, collections
def norm(s):
    s = s.lower()
    s = ''.join(' ' if (c.isascii() and not c.isalnum()) else c for c in s)
    return [w for w in s.split() if w not in ('a', 'an', 'the')]
def f1(a, b):
    x, y = norm(a), norm(b)
    if not x or not y: return float(x == y)
    common = sum((collections.Counter(x) & collections.Counter(y)).values())
    if common == 0: return 0.0
    p, r = common / len(x), common / len(y)
    return 2 * p * r / (p + r)
def ranks(sc):
    return [1 + sum(1 for o in sc if o > s) for s in sc]
convs = [json.loads(l) for l in open('qa.jsonl')]
recs = [json.loads(l) for l in open('f1.jsonl')]
assert len(recs) == 6
assert any(len(set(r['ranks'])) > 1 for r in recs), 'every F1 tied: the check would be vacuous'

for c, r in zip(convs, recs):
    q = next(i for i, m in enumerate(c['messages']) if m['role'] == 'user')
    ref = c['messages'][q + 1]['content']
    assert r['prompt'] == c['messages'][:q + 1] and r['labeler'] == 'auto:f1'
    sc = [f1(a, ref) for a in r['candidates']]
    assert r['ranks'] == ranks(sc), (r['ranks'], sc)
recs = [json.loads(l) for l in open('cmd.jsonl')]
assert len(recs) == 3
for r in recs:
    assert r['labeler'] == 'auto:cmd'
    assert r['ranks'] == ranks([len(a) for a in r['candidates']])
recs = [json.loads(l) for l in open('ar.jsonl')]
assert len(recs) == 5
for r in recs:
    a, op, b = re.match(r'What is (\d+) ([-+*]) (\d+)\?', r['prompt'][0]['content']).groups()
    truth = eval(a + op + b)
    def score(ans):
        seg = ans[ans.rfind('=') + 1:] if '=' in ans else ans
        nums = re.findall(r'(?<![\w.,])-?\d[\d,]*(?:\.\d+)?', seg)
        if not nums: return -1
        v = float((nums[0] if '=' in ans else nums[-1]).replace(',', ''))
        return 1 if v == truth else 0
    assert r['ranks'] == ranks([score(x) for x in r['candidates']]), r
print('auto labelers ok')
PY
# winrate: a model against itself (greedy) ties on every prompt
"$LLMOS" prefs winrate --a base.gguf --b base.gguf --arith 4 --judge arith --max-new 8 --threads 2 > wr.txt
grep -q "prompts 4: .* win rate 0.500 (wins 0, ties 4, losses 0" wr.txt
# nothing to answer is an error naming the reason, not an empty success
for cmd in "prefs winrate --a base.gguf --b base.gguf --arith 4 --skip 4" \
           "prefs auto --model base.gguf --arith 3 --skip 5 --store none.jsonl"; do
    if "$LLMOS" $cmd 2> err.txt; then echo "no error from: $cmd"; exit 1; fi
    grep -q "leaves none of the" err.txt || { cat err.txt; exit 1; }
done
[ ! -e none.jsonl ]
