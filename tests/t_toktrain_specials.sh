#!/usr/bin/env bash
# tokenizer train: special tokens. Trained on chat transcripts where the
# specials' text is the most frequent thing in the input, the tokenizer
# still holds each special once, as a control token at the end of the
# vocabulary (defaults, then --special ones, in order), with bos/eos/eot
# set; ordinary text never turns into a special token, in llmos or in
# llama.cpp, while parsing specials finds every one of them.
set -eu
cd "$T"
$PY - <<'PY'
import random
r = random.Random(3)
qs = ["What is 2+2?", "Name a color.", "Translate 'cat'.", "Who wrote Hamlet?", "Say hi."]
out = []
for i in range(20000):
    q = r.choice(qs)
    out.append("<|begin_of_text|><|system|>You are helpful.<|end_of_turn|><|user|>%s<|end_of_turn|>"
               "<|assistant|>Answer %d.<|end_of_turn|><|tool|><|image|> <|audio|><|end_of_text|>\n" % (q, i))
open("chats.txt", "w").write("".join(out))
PY
$LLMOS tokenizer train --quiet --vocab-size 600 --special "<|image|>,<|audio|>" --out tok.gguf chats.txt
$PY "$ROOT/tests/py/tok_dump.py" tokens tok.gguf > tokens.txt
$PY - <<'PY'
specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|end_of_turn|>", "<|system|>", "<|user|>",
            "<|assistant|>", "<|tool|>", "<|image|>", "<|audio|>"]
rows = [l.split() for l in open("tokens.txt")]
assert len(rows) == 600, len(rows)
for i, (id_, ty, hx) in enumerate(rows[-9:]):
    assert ty == "3" and bytes.fromhex(hx).decode() == specials[i], (id_, ty, hx)
sp = {s.encode() for s in specials}
for id_, ty, hx in rows[:-9]:
    assert ty == "1", "token %s has type %s" % (id_, ty)
    assert bytes.fromhex(hx) not in sp, "ordinary token %s equals a special" % id_
# the text around the specials was merged into long tokens: training did happen
assert max(len(bytes.fromhex(h)) for _, _, h in rows[:-9]) >= 6
PY
$LLMOS tokenizer info tok.gguf > info.txt
grep -q '591  "<|begin_of_text|>" (bos)' info.txt
grep -q '592  "<|end_of_text|>" (eos)' info.txt
grep -q '593  "<|end_of_turn|>" (eot)' info.txt
grep -q '599  "<|audio|>"' info.txt
grep -q 'vocabulary:  600 tokens (335 merges, 9 special)' info.txt

# ordinary text: no special ids; parsed: every special found (llmos)
head -n 200 chats.txt > sample.txt
n_user=$(grep -o '<|user|>' sample.txt | wc -l)
$LLMOS tokenize tok.gguf --ids --file sample.txt | tr ' ' '\n' > plain.ids
$LLMOS tokenize tok.gguf --ids --special --file sample.txt | tr ' ' '\n' > parsed.ids
[ "$(awk '$1 >= 591' plain.ids | wc -l)" -eq 0 ] || { echo "llmos: special ids from ordinary text"; exit 1; }
[ "$(grep -c '^595$' parsed.ids)" -eq "$n_user" ] || { echo "llmos: <|user|> not parsed $n_user times"; exit 1; }

# the same in llama.cpp
$PY "$ROOT/tests/py/tok_attach.py" tok.gguf model.gguf
$PY -c 'import json; print(json.dumps(open("sample.txt").read().split("\n")))' > lines.json
node "$ROOT/tests/js/llamacpp.mjs" tokenize model.gguf < lines.json > lc.json
node "$ROOT/tests/js/llamacpp.mjs" tokenize model.gguf --special < lines.json > lc_sp.json
$PY - "$n_user" <<'PY'
import json, sys
plain = [t for ids in json.load(open("lc.json")) for t in ids]
parsed = [t for ids in json.load(open("lc_sp.json")) for t in ids]
assert not [t for t in plain if t >= 591], "llama.cpp: special ids from ordinary text"
assert parsed.count(595) == int(sys.argv[1]), "llama.cpp: <|user|> count"
assert parsed.count(598) == int(sys.argv[1]), "llama.cpp: <|image|> count"
PY
echo ok
