#!/usr/bin/env bash
# t_engine_torch.sh - llmos's forward pass equals an independent float64
# PyTorch reference (tests/py/ref_llama.py, reading GGUF with numpy) on
# random tiny llama models (tests/py/gen_model.py): GQA, MQA and MHA, tied
# and untied output, dims 96/160/64, rope bases 5000/500000/10000, in f32,
# f16, bf16, q8_0 and q4_0; and dim 84 / ffn 100 (no SIMD-width multiple)
# in f32, f16 and bf16. Checks `llmos logits --all` at 48 positions, the
# last-position form, and 64 greedy steps of `llmos generate` (the KV-cache
# path), every step checked. f32 within 1e-4 of the logit scale; f16 and
# bf16 within a budget measured from their rounding; q8_0 and q4_0 against
# the reference that rounds the matmul inputs as the engines do, within
# 1e-5 at all but 2 positions (q8_0 rounding boundaries) and everywhere
# within half of what a 1% scale error does to the file (see
# tests/py/check_engine.py). The default KV cache is f16; the f32 and
# quantized files also run with --cache-type f32.
# A few files run again on the portable kernels and row math.
set -eu
cd "$ROOT"
$PY tests/py/gen_model.py "$T/m" --configs gqa,mqa,mha
$PY tests/py/gen_model.py "$T/m" --configs odd --types f32,f16,bf16
files=()
for c in gqa mqa mha; do
    for t in f32 f16 bf16 q8_0 q4_0; do files+=("$c-$t.gguf"); done
done
files+=(odd-f32.gguf odd-f16.gguf odd-bf16.gguf)
$PY tests/py/check_engine.py torch "$LLMOS" "$T/m" "${files[@]}"
# the portable C kernels and row math (f16 KV conversion included) on a few
LLMOS_KERNELS=portable LLMOS_VECMATH=portable \
    $PY tests/py/check_engine.py torch "$LLMOS" "$T/m" gqa-f32.gguf mqa-q4_0.gguf odd-f16.gguf
