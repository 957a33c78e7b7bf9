#!/usr/bin/env bash
# The main job end to end at CI size (scripts/main.sh --preset quick): corpus,
# tokenizer, shards, pretraining, dreams from llmos and run.c, bits per byte
# and the report (with the held-out text compressed by the model, checked to
# decompress). The base model must end clearly (0.5 nats) below the
# unigram cross-entropy of the validation tokens (tests/py/unigram.py: what a
# model ignoring context reaches), and beat xz -9 on the held-out text.
set -eu
cd "$ROOT"
./scripts/main.sh --preset quick --skip-deps --out "$T/out" > "$T/log" 2>&1 || { tail -n 30 "$T/log"; exit 1; }
o=$T/out
for f in report.md base.gguf base.loss.png samples.txt perplexity.json chat.gguf eval.txt; do
    [ -s "$o/$f" ] || { echo "missing $o/$f"; exit 1; }
done
uni=$("$PY" "$ROOT/tests/py/unigram.py" "$o/shards")
val=$("$PY" -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if 'val_loss' in l][-1]['val_loss'])" "$o/base.log.jsonl")
echo "validation loss $val nats/token, unigram cross-entropy $uni"
"$PY" -c "import sys; v, u = map(float, sys.argv[1:]); sys.exit(0 if v < u - 0.5 else 1)" "$val" "$uni"
# samples: three unconditional, three prompted from llmos, one from run.c, each with text
n=$(grep -c '^--- ' "$o/samples.txt")
[ "$n" -eq 7 ] || { echo "expected 7 samples, got $n"; exit 1; }
awk '/^--- run.c/ { on = 1; next } on && NF { words += NF } END { exit !(words >= 5) }' "$o/samples.txt"
# the assistant stage ran: the fine-tuned model answers in the assistant's
# form (reply closed by end-of-turn) more often than the base model
"$PY" - "$o/eval.txt" <<'PYEOF'
import re, sys
rows = {m.group(1): (int(m.group(2)), float(m.group(3))) for m in
        re.finditer(r'(\S*(?:base|chat)\.gguf)\s+(\d+)\s+([\d.]+)%', open(sys.argv[1], errors='replace').read())}
(nb, fb), = [v for k, v in rows.items() if k.endswith('base.gguf')]
(nc, fc), = [v for k, v in rows.items() if k.endswith('chat.gguf')]
print(f"assistant form: base {fb}%, chat {fc}% of {nc} held-out questions")
sys.exit(0 if nb == nc >= 20 and fc > fb else 1)
PYEOF
# the model compresses the held-out text better than xz -9
"$PY" - "$o/report.md" <<'PYEOF'
import re, sys
r = open(sys.argv[1], errors='replace').read()
xz = float(re.search(r'\| xz -9 \| \d+ \| ([\d.]+) \|', r).group(1))
model = float(re.search(r'\| the model \(llmos perplexity, ctx \d+\) \| - \| ([\d.]+)', r).group(1))
print(f"bits per byte: model {model}, xz -9 {xz}")
sys.exit(0 if model < xz else 1)
PYEOF
# the model as a real compressor: the report's row is the size of val.llmz,
# which decompresses to the held-out text byte for byte
z=$(stat -c %s "$o/val.llmz")
grep -qE "^\| compressed with the model .*\| $z \| [0-9.]+ \|$" "$o/report.md" ||
    { echo "no 'compressed with the model' row of $z bytes in the report"; grep 'compressed' "$o/report.md"; exit 1; }
"$LLMOS" decompress "$o/base.gguf" "$o/val.llmz" - -q | cmp - "$o/val.txt"
