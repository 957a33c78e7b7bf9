#!/usr/bin/env bash
# llmos data tokenize: JSONL documents (train.jsonl + val.jsonl, as `llmos
# data build` writes them) and a folder of text files become shards whose
# tokens are exactly llama.cpp's tokenization of each document (node-llama-cpp
# with the same tokenizer, tests/py/tok_attach.py), each preceded by BOS (the
# tokenizer adds one) and followed by the end-of-text id; val.jsonl's documents, and only they, land in val.bin; the
# header counts (tokens, documents, text bytes) are right; bad input gives a
# one-line error.
set -eu
cd "$T"
mapfile -t files < <(find /usr/share/common-licenses -type f | sort | head -6)
"$LLMOS" tokenizer train --vocab-size 700 --out tok.gguf --threads 2 --quiet "${files[@]}"
"$PY" - <<'PYEOF'
import json
docs = ["Hello world! It's a test.", "  indented\n\tcode(x) = 1 + 2;\n", "naïve café — 日本語 😀",
        "The GNU General Public License is a free, copyleft license.", "a" * 300, "x\n\ny"]
with open("train.jsonl", "w") as f:
    for d in docs[:4]:
        f.write(json.dumps({"text": d, "source": "t"}) + "\n")
with open("val.jsonl", "w") as f:
    for d in docs[4:]:
        f.write(json.dumps({"text": d}) + "\n")
import os
os.makedirs("texts", exist_ok=True)
open("texts/b.txt", "w").write("second file\nwith two lines\n")
open("texts/a.txt", "w").write("first file")
PYEOF
"$LLMOS" data tokenize --tokenizer tok.gguf --out data train.jsonl val.jsonl texts 2>err.txt
cat err.txt
"$PY" "$ROOT/tests/py/tok_attach.py" tok.gguf model.gguf
"$PY" - <<'PYEOF' >texts.json
import json
docs = [json.loads(l)["text"] for l in open("train.jsonl")] + [open("texts/a.txt").read(), open("texts/b.txt").read()]
vals = [json.loads(l)["text"] for l in open("val.jsonl")]
json.dump(docs + vals, open("texts.json", "w"))
print(json.dumps(docs + vals))
PYEOF
node "$ROOT/tests/js/llamacpp.mjs" tokenize model.gguf <texts.json >ids.json
"$PY" - <<'PYEOF'
import json, struct, sys, os
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py
import numpy as np
tok = gguf_py.Reader("tok.gguf")
eos = int(tok.get("tokenizer.ggml.eos_token_id"))
vocab = len(tok.get("tokenizer.ggml.tokens")[1])
texts = json.load(open("texts.json"))
ids = json.load(open("ids.json"))
def shard(p):
    b = open(p, "rb").read()
    assert b[:8] == b"LLMOSTOK"
    ver, width, n, voc, e, nbytes, ndocs = struct.unpack("<IIQIiQQ", b[8:48])
    assert ver == 1 and voc == vocab and e == eos, (ver, voc, e)
    return list(np.frombuffer(b[64:], dtype="<u2" if width == 2 else "<u4")), nbytes, ndocs
train, tb, td = shard("data/train-00000.bin")
val, vb, vd = shard("data/val.bin")
bos = int(tok.get("tokenizer.ggml.bos_token_id"))
assert tok.get("tokenizer.ggml.add_bos_token")
want_train = sum(([bos] + ids[i] + [eos] for i in range(6)), [])
want_val = sum(([bos] + ids[i] + [eos] for i in range(6, 8)), [])
assert train == want_train, (train[:40], want_train[:40])
assert val == want_val, (val, want_val)
assert td == 6 and vd == 2, (td, vd)
assert tb == sum(len(t.encode()) for t in texts[:6]) and vb == sum(len(t.encode()) for t in texts[6:]), (tb, vb)
print("shards: %d train + %d val tokens, identical to llama.cpp's tokenization" % (len(train), len(val)))
PYEOF
cmp tok.gguf data/tokenizer.gguf
# bad input: one clear line, exit 1
printf '{"text": "ok"}\n{"txt": 1}\n' >bad.jsonl
if "$LLMOS" data tokenize --tokenizer tok.gguf --out bad bad.jsonl 2>err; then exit 1; fi
grep -q "^llmos: bad.jsonl:2: no \"text\" string field$" err
if "$LLMOS" data tokenize --tokenizer tok.gguf --out bad missing.txt 2>err; then exit 1; fi
grep -q "^llmos: cannot open 'missing.txt'" err
