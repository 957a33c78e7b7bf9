#!/usr/bin/env bash
# Mixture weights and determinism of llmos data build. Two JSONL sources of
# distinct documents: weight 3 must write every train document of 'a' exactly
# three times; weight 0.5 must keep about half of 'b' (a binomial bound);
# counts are recounted here from the output files. Two runs with one seed
# are byte-identical; another seed changes the split and order.
set -eu
$PY - "$T" <<'PY'
import json, random, sys
r = random.Random(5)
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau".split()
for name, n in (("a", 60), ("b", 400)):
    with open("%s/%s.jsonl" % (sys.argv[1], name), "w") as f:
        for i in range(n):
            f.write(json.dumps({"text": "%s document %d: " % (name, i) + " ".join(r.choice(words) for _ in range(60))}) + "\n")
PY
run() { "$LLMOS" data build --quiet --out "$1" --seed "$2" --val-fraction 0.1 --mix a=3,b=0.5 "$T/a.jsonl" "$T/b.jsonl" > /dev/null; }
run "$T/o1" 7
run "$T/o2" 7
run "$T/o3" 8
cmp "$T/o1/train.jsonl" "$T/o2/train.jsonl"
cmp "$T/o1/val.jsonl" "$T/o2/val.jsonl"
cmp "$T/o1/manifest.json" "$T/o2/manifest.json"
! cmp -s "$T/o1/train.jsonl" "$T/o3/train.jsonl"
$PY - "$T/o1" "$T/o3" <<'PY'
import json, sys, collections
def load(d):
    tr = [json.loads(l) for l in open(d + "/train.jsonl")]
    va = [json.loads(l) for l in open(d + "/val.jsonl")]
    return tr, va, json.load(open(d + "/manifest.json"))
tr, va, m = load(sys.argv[1])
src = {s["name"]: s for s in m["sources"]}
cnt = collections.Counter(d["text"] for d in tr)
val_texts = {d["text"] for d in va}
a_train = [t for t in cnt if t.startswith("a ")]
b_train = [t for t in cnt if t.startswith("b ")]
a_val = [t for t in val_texts if t.startswith("a ")]
b_val = [t for t in val_texts if t.startswith("b ")]
assert not (set(cnt) & val_texts), "a document in both train and val"
assert len(a_train) + len(a_val) == 60, (len(a_train), len(a_val))
assert all(cnt[t] == 3 for t in a_train), "weight 3: every train doc of a three times"
assert src["a"]["train_docs"] == 3 * len(a_train) == sum(cnt[t] for t in a_train)
assert all(cnt[t] == 1 for t in b_train)
b_pool = 400 - len(b_val)
frac = len(b_train) / b_pool
print("a: %d train docs x3, %d val; b: %d of %d train docs kept (%.3f), %d val" % (len(a_train), len(a_val), len(b_train), b_pool, frac, len(b_val)))
assert 0.40 < frac < 0.60, frac   # binomial(360, 0.5): 5 sigma is +-0.13
assert src["b"]["train_docs"] == len(b_train) and src["b"]["val_docs"] == len(b_val)
assert 0.05 < (len(a_val) + len(b_val)) / 460 < 0.16
# another seed: another split, the same documents in all
tr3, va3, m3 = load(sys.argv[2])
assert {d["text"] for d in va3} != val_texts
assert {d["text"] for d in tr3} | {d["text"] for d in va3} >= set(a_train) | set(a_val)
print("ok")
PY
echo "t_data_mix: ok"
