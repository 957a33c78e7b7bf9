#!/usr/bin/env bash
# llmos eval: a model fine-tuned to answer "Hello! I am llmos." replies in
# the assistant form (answer + end of turn) on questions it never saw, the
# random base model does not; the token F1 and exact-match figures equal an
# independent SQuAD-style computation in Python over the --out file.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
"$PY" - <<'PY'
import json
train = ['What does "zebra" mean?', 'Where is Paris?', 'Hi', 'What is the capital of Spain?',
         'Tell me a story.', 'What does "happy" mean?', 'Why?', 'Numbers: 12, 3.5']
held = ['What is a horse?', 'Where is Madrid?', 'Hello there', 'What are stripes?',
        'Is France big?', 'What does "capital" mean?']
def w(path, qs, ans):
    with open(path, 'w') as f:
        for q in qs:
            f.write(json.dumps({'messages': [{'role': 'user', 'content': q},
                                             {'role': 'assistant', 'content': ans}]}) + '\n')
w('hello.jsonl', train, 'Hello! I am llmos.')
w('held.jsonl', held, 'Hello, I am the llmos assistant.')
PY
"$LLMOS" sft --model base.gguf --data hello.jsonl --out hello.gguf --steps 40 --batch 8 --lr 3e-3 \
    --warmup 0 --schedule constant --threads 2 --quiet
"$LLMOS" eval base.gguf hello.gguf --data held.jsonl --max-new 24 --out eval.jsonl --show 0 --threads 2 --quiet > table.txt
cat table.txt
"$PY" - <<'PY'
import json, re, string
rows = {}
for line in open('table.txt'):
    p = line.split()
    if p and p[0].endswith('.gguf'):
        rows[p[0]] = dict(n=int(p[1]), form=float(p[2].rstrip('%')), f1=float(p[3]), exact=float(p[4].rstrip('%')))
def norm(s):
    s = s.lower()
    s = ''.join(ch if (ch.isalnum() and ord(ch) < 128) or ord(ch) >= 128 else ' ' for ch in s)
    return [w for w in s.split() if w not in ('a', 'an', 'the')]
def f1(a, b):
    a, b = norm(a), norm(b)
    if not a or not b:
        return float(a == b)
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    if common == 0:
        return 0.0
    p, r = common / len(a), common / len(b)
    return 2 * p * r / (p + r)
qs = [json.loads(l) for l in open('eval.jsonl')]
assert len(qs) == 6, len(qs)
for m in ('base.gguf', 'hello.gguf'):
    ans = [next(x for x in q['answers'] if x['model'] == m) for q in qs]
    mine = sum(f1(a['reply'], q['reference']) for a, q in zip(ans, qs)) / len(qs)
    ex = 100 * sum(norm(a['reply']) == norm(q['reference']) for a, q in zip(ans, qs)) / len(qs)
    form = 100 * sum(a['form'] for a in ans) / len(qs)
    assert abs(mine - rows[m]['f1']) < 1e-3, (m, mine, rows[m])
    assert abs(ex - rows[m]['exact']) < 0.1 and abs(form - rows[m]['form']) < 0.1, (m, ex, form, rows[m])
    for a, q in zip(ans, qs):
        assert abs(a['f1'] - f1(a['reply'], q['reference'])) < 1e-3, (a, q['reference'])
assert rows['hello.gguf']['form'] >= 80 and rows['base.gguf']['form'] <= 20, rows
assert rows['hello.gguf']['f1'] > 0.4 > rows['base.gguf']['f1'], rows
print('eval ok')
PY
