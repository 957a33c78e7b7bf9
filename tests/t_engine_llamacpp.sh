#!/usr/bin/env bash
# t_engine_llamacpp.sh - the same random tiny models in llama.cpp (npm
# node-llama-cpp, tests/js/llamacpp.mjs) and in llmos: logits at 48
# positions close (llama.cpp's f32 path: f32 KV cache, no flash attention;
# q8_0 and q4_0, the same arithmetic in both, within 1e-5 of the logit scale
# at all but 2 positions; the other types within the tolerances of
# t_engine_torch; its default f16 KV cache, on the f32 files, within 5e-3),
# llmos's 64 greedy steps each llama.cpp's argmax on llmos's own prefix
# (a difference passes only on a near tie), and files written by
# `llmos quantize` load in llama.cpp and give the same logits; the
# generated vocabulary tokenizes a text suite as llama.cpp does.
set -eu
cd "$ROOT"
[ -d tests/oracle/node_modules/node-llama-cpp ] || { echo "node-llama-cpp missing (scripts/install-deps.sh)"; exit 1; }
$PY tests/py/gen_model.py "$T/m" --configs gqa,mqa,mha
$PY tests/py/gen_model.py "$T/m" --configs odd --types f32,f16,bf16
files=()
for c in gqa mqa mha; do
    for t in f32 f16 bf16 q8_0 q4_0; do files+=("$c-$t.gguf"); done
done
files+=(odd-f32.gguf odd-f16.gguf odd-bf16.gguf)
# our quantizer's files (t_gguf_roundtrip shows they equal gen_model's bytes;
# here they must load and run in llama.cpp)
for c in mqa; do
    for t in bf16 q4_0; do
        "$LLMOS" quantize "$T/m/$c-f32.gguf" "$T/m/$c-ours-$t.gguf" "$t" >/dev/null 2>&1
        files+=("$c-ours-$t.gguf")
    done
done
$PY tests/py/check_engine.py llamacpp "$LLMOS" "$T/m" "${files[@]}"
# the generated gpt2 vocabulary (pre-tokenizer "gpt-2") tokenizes a varied
# text suite exactly as llama.cpp does
$PY tests/py/check_tokenize.py "$LLMOS" "$T/m/gqa-f32.gguf"
