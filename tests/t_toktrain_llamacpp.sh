#!/usr/bin/env bash
# tokenizer train: a trained tokenizer tokenizes exactly as llama.cpp does
# with it. The tokenizer (2,000 tokens, two extra specials) is learned from
# real Python sources and multilingual text; llama.cpp (node-llama-cpp) loads
# it inside a tiny random llama model (tests/py/tok_attach.py) and both
# tokenize a suite: prose, code, numbers, whitespace runs, contractions,
# emoji, CJK, combining marks, right-to-left scripts, the text of special
# tokens (as ordinary text, and parsed as specials), about 1 MB of held-out
# real files.
set -eu
cd "$T"
$PY - <<'PY'
import json, random
r = random.Random(5)
words = ["the", "of", "naïve", "café", "e\u0301", "日本語", "中文", "한국어", "Ελληνικά", "русский",
         "עברית", "العربية", "😀", "👍🏽", "🇫🇷", "  ", "\t", "\n", "\r\n", "12345", "don't", "IT'S"]
open("multi.txt", "w").write(" ".join(r.choice(words) for _ in range(200000)))
cases = [
    "", " ", "  ", "\n", "\r\n", "\n\n\n", " \n \n", "\t\tx", "a  b   c    d",
    "Hello world! It's a test, isn't it? I'm sure we'll see; they've done it, I'd say.",
    "DON'T SHOUT. We'RE fine. O'Neil's dog's bone.",
    "1 12 123 1234 12345 123456 3.14159 1,000,000 2024-01-01 0x1F 1e-9 ½ ² ٣",
    "def f(x):\n    return x ** 2  # square\n\n\tif (a && b) { c[i] += 1; }",
    "    indented\n        more\n\t\ttabs   \n   trailing   ",
    "😀😃 👍🏽 👨‍👩‍👧 🇫🇷🇯🇵 ✨",
    "日本語のテキストです。中文文本。한국어 텍스트.",
    "e\u0301 a\u0308 n\u0303 \u0915\u094d\u0937 ﬁ Å Å",
    "עברית ועוד العربية والمزيد русский текст Ελληνικά",
    "<|user|> hi <|end_of_turn|><|assistant|>hello<|end_of_text|><|image|> <|audio|>",
    "<|begin_of_text|><|system|>be brief<|end_of_turn|>",
    "<|user|<|user|>> <| user |> <||>",
    "\u00a0nbsp\u2003em\u3000ideographic\u200bzw",
    "a" * 300 + " " + "-" * 300 + " " * 300 + "x",
]
for path in ["/usr/lib/python3.11/textwrap.py", "/usr/lib/python3.11/this.py",
             "/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0"]:
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        continue
    cases += text.split("\n\n")
# about 1 MB more of held-out real text: other standard library modules
import glob
more = 0
for path in sorted(glob.glob("/usr/lib/python3.11/*.py")):
    if more > 1_000_000:
        break
    text = open(path, encoding="utf-8", errors="replace").read()
    cases += text.split("\n\n")
    more += len(text)
json.dump(cases, open("cases.json", "w"))
with open("cases.jsonl", "w") as f:
    for c in cases:
        f.write(json.dumps(c) + "\n")
print(len(cases), "cases,", sum(len(c) for c in cases), "chars")
PY
$LLMOS tokenizer train --quiet --vocab-size 2000 --special "<|image|>,<|audio|>" --out tok.gguf \
    multi.txt /usr/lib/python3.11/json /usr/lib/python3.11/email /usr/lib/python3.11/asyncio
$PY "$ROOT/tests/py/tok_attach.py" tok.gguf model.gguf
node "$ROOT/tests/js/llamacpp.mjs" tokenize model.gguf < cases.json > lc.json
node "$ROOT/tests/js/llamacpp.mjs" tokenize model.gguf --special < cases.json > lc_sp.json
$LLMOS tokenize tok.gguf --jsonl --file cases.jsonl > ours.jsonl
$LLMOS tokenize tok.gguf --jsonl --special --file cases.jsonl > ours_sp.jsonl
$PY - <<'PY'
import json
cases = json.load(open("cases.json"))
first_special = 2000 - 9
for ours_f, lc_f, special in (("ours.jsonl", "lc.json", False), ("ours_sp.jsonl", "lc_sp.json", True)):
    ours = [json.loads(l) for l in open(ours_f)]
    lc = json.load(open(lc_f))
    assert len(ours) == len(lc) == len(cases), (len(ours), len(lc), len(cases))
    bad = [i for i in range(len(cases)) if ours[i] != lc[i]]
    for i in bad[:5]:
        print("differs (special=%s): %r\n  llmos     %s\n  llama.cpp %s" % (special, cases[i][:80], ours[i][:30], lc[i][:30]))
    assert not bad, "%d of %d cases differ" % (len(bad), len(cases))
    n_sp = sum(t >= first_special for ids in ours for t in ids)
    if special:
        assert n_sp >= 10, "special tokens were not parsed"
    else:
        assert n_sp == 0, "ordinary text produced %d special tokens" % n_sp
print("ok:", len(cases), "cases,", sum(len(x) for x in lc), "tokens")
PY
