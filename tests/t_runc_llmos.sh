#!/usr/bin/env bash
# t_runc_llmos.sh - the golden end-to-end check: at temperature 0 the
# standalone run.c prints exactly what `llmos generate --temp 0` prints (the
# prompt, the generated text, a newline), byte for byte. run.c keeps its KV
# cache in f32 (the plainest form), so llmos runs with --cache-type f32
# here; its default f16 cache is checked against PyTorch and llama.cpp in
# t_engine_torch.sh and t_engine_llamacpp.sh.
#
# Models: the random tiny llama models of tests/py/gen_model.py (GQA, MQA,
# MHA, and "odd" with dim 84, head dim 14, ffn 100; tied and untied; F32 and
# F16), a copy of one with the "llama-bpe" (GPT-4 style) pre-tokenizer, and
# a model llmos makes itself (a BPE tokenizer trained on docs/ with its
# special tokens and BOS, two pretraining steps of the tiny preset). Prompts: words, numbers, punctuation,
# contractions, newlines, runs of spaces and tabs, non-ASCII letters, one
# character; -n 0; and a run that fills the 128-token context (both stop
# there). llama.cpp agreement is t_runc_llamacpp.sh's job; this one ties the
# two engines of this project together.
set -eu
cd "$ROOT"
make -s run >/dev/null
$PY tests/py/gen_model.py "$T/m" --configs gqa,mqa,mha,odd --types f32,f16
$PY - "$T/m" <<'PYEOF'
import os, sys
sys.path.insert(0, 'tests/py')
import gguf_py as G
r = G.Reader(os.path.join(sys.argv[1], 'gqa-f32.gguf'))
kv = [(k, t, 'llama-bpe' if k == 'tokenizer.ggml.pre' else v) for k, (t, v) in r.kv.items()]
G.write(os.path.join(sys.argv[1], 'gqa-llama-bpe.gguf'), kv, [(t['name'], t['type'], t['ne'], t['data']) for t in r.tensors])
PYEOF

mkdir -p "$T/own"
"$LLMOS" tokenizer train --vocab-size 400 --out "$T/own/tok.gguf" docs README.md >/dev/null 2>&1
"$LLMOS" data tokenize --tokenizer "$T/own/tok.gguf" --out "$T/own/data" --val-fraction 0.2 docs README.md >/dev/null 2>&1
"$LLMOS" pretrain --data "$T/own/data" --out "$T/m/own.gguf" --preset tiny --steps 2 >/dev/null 2>&1

prompts=(
    "The river ran past the old mill, and the miller counted"
    $'He said "it\'s 1234567" -- DON\'T;\n\n  x = [1]  {\'k\': 4.5}\tyou\'ll ?!  '
    "Café naïve ЖЗИ über"
    "a"
)
fail=0 n=0
check() { # model prompt n_tokens
    local want got
    want=$("$LLMOS" generate "$1" -p "$2" -n "$3" --temp 0 -t 1 -q --cache-type f32 | od -An -tx1) || { echo "llmos failed on $1"; fail=1; return; }
    got=$(OMP_NUM_THREADS=1 ./run "$1" -p "$2" -n "$3" -t 0 2>/dev/null | od -An -tx1) || { echo "run failed on $1"; fail=1; return; }
    n=$((n + 1))
    if [ "$want" != "$got" ]; then
        echo "MISMATCH $(basename "$1") -n $3 prompt: $(printf %q "$2")"
        diff <(echo "$want") <(echo "$got") | head -6
        fail=1
    fi
}
for m in "$T"/m/*.gguf; do
    for p in "${prompts[@]}"; do check "$m" "$p" 64; done
done
check "$T/m/mha-f32.gguf" "The river" 0
check "$T/m/own.gguf" "" 64                         # just BOS
check "$T/m/own.gguf" "<|end_of_text|> <|user|>" 64 # special tokens' text is plain text
check "$T/m/mqa-f16.gguf" "The river ran past the old mill" 200 # stops when the context is full
echo "$n comparisons, failures: $fail"
exit $fail
