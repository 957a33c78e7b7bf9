#!/usr/bin/env bash
# llmos data build on the fixture tree (tests/fixtures/corpus/tree): planted
# exact duplicates (2), a near duplicate (1) and bad inputs (binary, empty,
# a truncated gzip, two bad JSONL lines) must be counted exactly; the Jaccard similarities of
# the planted pairs are computed independently here in Python; the text of
# HTML, man, POD, gzip'd, JSONL and Latin-1 inputs must come out clean.
set -eu
FX=$ROOT/tests/fixtures/corpus/tree
"$LLMOS" data build --out "$T/out" --val-fraction 0.2 --license tree=CC0-1.0 "$FX" > "$T/summary.txt" 2> "$T/err.txt"
cat "$T/summary.txt"
grep -q "skipped '.*blob.txt': binary" "$T/err.txt"
grep -q "skipped '.*empty.txt': empty" "$T/err.txt"
grep -q "skipped '.*broken.txt.gz': cannot decompress" "$T/err.txt"
$PY - "$FX" "$T/out" <<'PY'
import json, re, sys, gzip, os
fx, out = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(out, "manifest.json")))
src = m["sources"][0]
docs = [json.loads(l) for f in ("train.jsonl", "val.jsonl") for l in open(os.path.join(out, f))]

# independent reference: word 5-shingles and their exact Jaccard similarity
def shingles(t):
    w = re.findall(r"[a-z0-9\x80-\uffff]+", t.lower())
    return {tuple(w[i:i + 5]) for i in range(len(w) - 4)}
def jac(a, b):
    a, b = shingles(a), shingles(b)
    return len(a & b) / len(a | b)
rd = lambda p: open(os.path.join(fx, p), encoding="utf-8").read()
j_near = jac(rd("texts/two.md"), rd("texts/two-near.rst"))
j_half = jac(rd("texts/four.txt"), rd("texts/four-half.txt"))
print("Jaccard planted near duplicate %.3f, half-related pair %.3f" % (j_near, j_half))
assert 0.8 <= j_near < 1.0 and j_half < 0.5, (j_near, j_half)
norm = lambda t: " ".join(t.lower().split())
assert norm(rd("texts/one.txt")) == norm(rd("texts/sub/one-copy.txt"))

assert src["name"] == "tree" and src["license"] == "CC0-1.0", src
assert src["docs_in"] == 16, src["docs_in"]
assert src["exact_duplicates"] == 2, src
assert src["near_duplicates"] == 1, src
assert src["encoding_repaired"] == 1, src
# the MinHash estimate (128 permutations: standard error ~0.03) brackets the true Jaccard
h = m["near_duplicates_by_similarity"]
assert len(h) == 1 and h[0]["docs"] == 1 and h[0]["min"] - 0.07 <= j_near <= h[0]["max"] + 0.07, (h, j_near)
sk = m["skipped_inputs"]
assert sk["binary"] == 1 and sk["empty"] == 1 and sk["bad format"] == 3, sk
assert src["kept_docs"] == 16 - 3 == len(docs), (src["kept_docs"], len(docs))
assert src["train_docs"] + src["val_docs"] == len(docs) and src["val_docs"] >= 1
assert sum(1 for _ in open(os.path.join(out, "val.jsonl"))) == src["val_docs"]
assert all(d["source"] == "tree" and d["license"] == "CC0-1.0" for d in docs)
texts = [d["text"] for d in docs]
# exactly one of each duplicate group survives, the half-related pair both
assert sum(norm(t) == norm(rd("texts/one.txt")) for t in texts) == 1
assert sum("zebra" in t for t in texts) + sum(norm(t) == norm(rd("texts/two.md")) for t in texts) == 1
four = norm(rd("texts/four.txt")); half = norm(rd("texts/four-half.txt"))
assert any(norm(t) == four for t in texts) and any(norm(t) == half for t in texts)
alltext = "\n".join(texts)
# HTML: markup, scripts, styles, navigation and footer removed, entities decoded
html = [t for t in texts if t.startswith("The heron waits")]
assert len(html) == 1, [t[:40] for t in texts]
h = html[0]
for bad in ("<", "NAVIGATION-LINK", "navigationMarker", "FOOTER-BOILERPLATE", "color:red", "&amp;", "&nbsp;"):
    assert bad not in h, bad
assert "\ndef heron():\n    return  'waits'\n" in h, h
assert "& the heron waits by the water!" in h and "- first item\n- second item" in h, h[-300:]
# man page and POD without markup
assert "tool - polishes stones by the river" in alltext
assert "It never breaks a stone\u2014 it only listens" in alltext
assert "guide - walking by the river with $lantern" in alltext
assert "The guide knows every path > every bridge, see the map." in alltext
assert "    verbatim lantern code\n\nAFTER TWO BLANK LINES\n\nStill a heading." in alltext
assert "=head" not in alltext and "not pod" not in alltext
# Latin-1 bytes decoded, gzip read, JSONL text read
assert "Caf\u00e9 na\u00efve fa\u00e7ade." in alltext
five = gzip.open(os.path.join(fx, "texts/five.txt.gz")).read().decode()
assert any(norm(t) == norm(five) for t in texts)
jl = [json.loads(l) for l in open(os.path.join(fx, "notes.jsonl")) if l.startswith("{")]
assert any(norm(t) == norm(jl[0]["text"]) for t in texts)
assert "unknown extension" not in alltext
# dictd: one document per entry (the alias read once, the info entry left out),
# braces removed, GCIDE accent codes as combining marks
assert sum(t.startswith("heron\n") for t in texts) == 1 and "dictfmt" not in alltext
assert "see egret. Pronounced he\u0304r\"on, not he\u0301ron." in alltext
assert "from the wind and rain." in alltext
for t in texts:
    assert t == t.strip() and "\r" not in t and "\n\n\n" not in t
print("ok: %d documents, 2 exact + 1 near duplicates removed" % len(docs))
PY
# bad usage and bad input: one-line errors, no crash, no output written
set +e
"$LLMOS" data build --out "$T/none" > /dev/null 2> "$T/e1"; rc1=$?
"$LLMOS" data build --out "$T/none" --mix nosuch=2 "$FX/texts/one.txt" > /dev/null 2> "$T/e2"; rc2=$?
"$LLMOS" data build --out "$T/none" "$T/does-not-exist" > /dev/null 2> "$T/e3"; rc3=$?
"$LLMOS" data build --out "$T/none" --preset nosuch > /dev/null 2> "$T/e4"; rc4=$?
set -e
cat "$T/e1" "$T/e2" "$T/e3" "$T/e4"
[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 1 ] && [ $rc4 -eq 1 ]
grep -q "no source named 'nosuch'" "$T/e2"
grep -q "does-not-exist" "$T/e3" && grep -q "no documents" "$T/e3"
grep -q "unknown preset 'nosuch'" "$T/e4"
[ ! -e "$T/none" ]
echo "t_data_build: ok"
