#!/usr/bin/env bash
# Preference formats: byte-exact round trips and conversions checked
# against files written by Python's json module (the common tools' writer).
# 1. import -> export in the same format gives back the input bytes, for
#    json.dumps files and for oddly formatted ones (compact, raw UTF-8).
# 2. llmos's own writer (--canonical) equals json.dumps for pairs (plain and
#    conversational), HH-RLHF and ranked; conversions between formats equal
#    the conversion done here in Python (HH transcripts built and split by
#    hand, K ranked answers expanded to pairs).
# 3. a torn last line in the store is skipped with a warning, and the next
#    append cuts it off (prefs.h).
set -eu
cd "$T"
"$PY" - <<'PY'
import json, random
random.seed(3)
texts = ['Paris.', 'It is "quoted" \\ and\nmulti-line', 'caf\u00e9 \u2014 na\u00efve', 'emoji \U0001F600 ok',
         'tab\there', 'ctrl \x01 \x7f', 'The capital of France is Paris.', 'I do not know.', 'Madrid']
prompts = ['What is the capital of France?', 'Say something "odd"\n\twith tabs', 'Qu\u00e9 tal?',
           'Two plus two?']
pairs, conv, hh, ranked, expect_hh, expect_pairs_from_ranked = [], [], [], [], [], []
for i in range(30):
    p = random.choice(prompts)
    c, r = random.sample(texts, 2)
    pairs.append({'prompt': p, 'chosen': c, 'rejected': r})
    msgs = [{'role': 'user', 'content': p}]
    if i % 3 == 0:
        msgs = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'},
                {'role': 'assistant', 'content': 'Hello!'}] + msgs
    conv.append({'prompt': msgs, 'chosen': [{'role': 'assistant', 'content': c}],
                 'rejected': [{'role': 'assistant', 'content': r}]})
    h = '\n\nHuman: ' + p + ('\n\nAssistant: ok\n\nHuman: more?' if i % 4 == 0 else '')
    hh.append({'chosen': h + '\n\nAssistant: ' + c, 'rejected': h + '\n\nAssistant: ' + r})
    expect_hh.append({'chosen': '\n\nHuman: ' + p + '\n\nAssistant: ' + c,
                      'rejected': '\n\nHuman: ' + p + '\n\nAssistant: ' + r})
    k = random.randint(2, 4)
    cands = random.sample(texts, k)
    ranks = [random.randint(1, 3) for _ in range(k)]
    ranked.append({'prompt': p, 'candidates': cands, 'ranks': ranks})
    order = sorted(range(k), key=lambda a: (ranks[a], a))
    for a in order:
        for b in range(k):
            if ranks[b] > ranks[a]:
                expect_pairs_from_ranked.append({'prompt': p, 'chosen': cands[a], 'rejected': cands[b]})
def dump(name, rows, **kw):
    with open(name, 'w') as f:
        for r in rows: f.write(json.dumps(r, **kw) + '\n')
dump('pairs.jsonl', pairs); dump('conv.jsonl', conv); dump('hh.jsonl', hh); dump('ranked.jsonl', ranked)
dump('pairs_odd.jsonl', pairs, ensure_ascii=False, separators=(',', ':'))
dump('expect_hh.jsonl', expect_hh)
dump('expect_pairs_from_ranked.jsonl', expect_pairs_from_ranked)
dump('expect_conv_pairs.jsonl', [{'prompt': r['prompt'], 'chosen': r['chosen'], 'rejected': r['rejected']} for r in pairs])
PY
for f in pairs conv hh ranked pairs_odd; do
    fmt=$f; [ $f = conv ] && fmt=pairs; [ $f = pairs_odd ] && fmt=pairs
    "$LLMOS" prefs import --format $fmt --store s_$f.jsonl --labeler bob $f.jsonl 2>/dev/null
    "$LLMOS" prefs export --format $fmt s_$f.jsonl > back_$f.jsonl
    cmp $f.jsonl back_$f.jsonl
    if [ $f != pairs_odd ]; then  # our writer equals json.dumps
        "$LLMOS" prefs export --canonical --format $fmt $([ $f = conv ] && echo --conversational) s_$f.jsonl > canon_$f.jsonl
        cmp $f.jsonl canon_$f.jsonl
    fi
done
# store -> store is exact too, and a re-import of a store keeps each line
"$LLMOS" prefs export --format store s_hh.jsonl --out st2.jsonl
cmp s_hh.jsonl st2.jsonl
"$LLMOS" prefs import --format store --store st3.jsonl st2.jsonl 2>/dev/null
cmp s_hh.jsonl st3.jsonl
# conversions
"$LLMOS" prefs export --canonical --format hh s_pairs.jsonl > pairs_as_hh.jsonl
cmp expect_hh.jsonl pairs_as_hh.jsonl
"$LLMOS" prefs export --canonical --format pairs s_ranked.jsonl > ranked_as_pairs.jsonl
cmp expect_pairs_from_ranked.jsonl ranked_as_pairs.jsonl
"$LLMOS" prefs export --canonical --format pairs --unicode s_pairs_odd.jsonl > odd_canon.jsonl
"$PY" - <<'PY'
import json
a = [json.loads(l) for l in open('pairs_odd.jsonl')]
b = open('odd_canon.jsonl').read()
assert b == ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in a)
PY
"$LLMOS" prefs export --canonical --format pairs s_hh.jsonl > hh_as_pairs.jsonl
"$PY" - <<'PY'
import json, re
hh = [json.loads(l) for l in open('hh.jsonl')]
got = [json.loads(l) for l in open('hh_as_pairs.jsonl')]
assert len(got) == len(hh)
for h, g in zip(hh, got):
    turns = re.split(r'\n\n(Human|Assistant): ', h['chosen'])[1:]
    msgs = [{'role': 'user' if turns[i] == 'Human' else 'assistant', 'content': turns[i + 1]}
            for i in range(0, len(turns), 2)]
    prompt = msgs[:-1]
    want_prompt = prompt[0]['content'] if len(prompt) == 1 else prompt
    assert g['prompt'] == want_prompt, (g, prompt)
    assert h['chosen'].endswith('Assistant: ' + (g['chosen'] if isinstance(g['chosen'], str) else g['chosen'][0]['content']))
print('formats ok')
PY
# errors name the file and line
printf '{"chosen": "\\n\\nHuman: a\\n\\nAssistant: b", "rejected": "\\n\\nHuman: x\\n\\nAssistant: c"}\n' > bad.jsonl
if "$LLMOS" prefs import --format hh --store sb.jsonl bad.jsonl 2> err.txt; then exit 1; fi
grep -q "bad.jsonl:1: chosen and rejected must share" err.txt
[ ! -e sb.jsonl ]
# torn last line: skipped with a warning; the next append cuts it off
cp s_pairs.jsonl torn.jsonl
head -c 100 s_pairs.jsonl | tr -d '\n' >> torn.jsonl
"$LLMOS" prefs export --format pairs torn.jsonl > torn_out.jsonl 2> warn.txt
grep -q "torn last line" warn.txt
cmp pairs.jsonl torn_out.jsonl
"$LLMOS" prefs import --format pairs --store torn.jsonl pairs.jsonl 2> warn2.txt
grep -q "cutting off a torn last line" warn2.txt
"$LLMOS" prefs export --format pairs torn.jsonl > torn_out2.jsonl 2> warn3.txt
[ ! -s warn3.txt ]
cat pairs.jsonl pairs.jsonl | cmp - torn_out2.jsonl
echo ok
