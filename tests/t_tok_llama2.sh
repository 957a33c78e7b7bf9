#!/usr/bin/env bash
# t_tok_llama2.sh - Llama 2's SentencePiece vocabulary (npm
# llama-tokenizer-js 1.2.2, imported with scores -(rank of the first merge
# producing the token)) as a GGUF 'llama' vocabulary encodes the suite
# exactly as llama.cpp does with the same file (hand-made cases and about 3
# MB of real text), and as llama-tokenizer-js itself on the hand-made cases
# and 1 MB of real text. Then <s> </s> with --special against llama.cpp.
set -eu
cd "$ROOT"
[ -d tests/oracle/node_modules/llama-tokenizer-js ] || { echo "npm oracles missing (scripts/install-deps.sh)"; exit 1; }
"$LLMOS" tokenizer import --llama tests/oracle/node_modules/llama-tokenizer-js --out "$T/llama2.gguf" >/dev/null
$PY tests/py/tok_for_llamacpp.py "$T/llama2.gguf" "$T/llama2-lcpp.gguf"
$PY tests/py/make_tok_suite.py "$T/suite.jsonl" --mb 3
"$LLMOS" tokenize "$T/llama2.gguf" --file "$T/suite.jsonl" --jsonl > "$T/ours.jsonl"
node tests/js/tok_oracle.mjs llamacpp "$T/llama2-lcpp.gguf" < "$T/suite.jsonl" > "$T/lcpp.jsonl" 2> "$T/lcpp.err" ||
    { cat "$T/lcpp.err"; exit 1; }
$PY tests/py/cmp_ids.py "$T/suite.jsonl" "$T/ours.jsonl" "$T/lcpp.jsonl" llama.cpp

$PY tests/py/make_tok_suite.py "$T/small.jsonl" --mb 1 >/dev/null
"$LLMOS" tokenize "$T/llama2.gguf" --file "$T/small.jsonl" --jsonl > "$T/ours-small.jsonl"
node tests/js/tok_oracle.mjs llama-js < "$T/small.jsonl" > "$T/ljs.jsonl"
$PY tests/py/cmp_ids.py "$T/small.jsonl" "$T/ours-small.jsonl" "$T/ljs.jsonl" llama-tokenizer-js

printf '%s\n' '"<s>"' '"<s>Hello</s>"' '"a <s> b</s>c"' '"</s></s>"' '"<unk> x"' > "$T/special.jsonl"
for mode in "" --special; do
    "$LLMOS" tokenize "$T/llama2.gguf" --file "$T/special.jsonl" --jsonl $mode > "$T/ours-sp.jsonl"
    node tests/js/tok_oracle.mjs llamacpp "$T/llama2-lcpp.gguf" $mode < "$T/special.jsonl" > "$T/lcpp-sp.jsonl" 2>/dev/null
    $PY tests/py/cmp_ids.py "$T/special.jsonl" "$T/ours-sp.jsonl" "$T/lcpp-sp.jsonl" "llama.cpp${mode:+ $mode}"
done
