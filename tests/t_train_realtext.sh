#!/usr/bin/env bash
# End to end on real text: train a BPE tokenizer on Debian's license texts,
# tokenize them into shards (held-out documents for validation), pretrain a
# tiny model for 300 steps, and require the validation loss to end clearly
# (0.5 nats) below the unigram cross-entropy of the same validation tokens
# (tests/py/unigram.py: what a model ignoring context would reach). The
# final GGUF must carry the tokenizer and the loss curve must be drawn. With
# --bf16 the validation loss lands within 0.1 nats of fp32's.
set -eu
mapfile -t files < <(find /usr/share/common-licenses -type f | sort)
[ ${#files[@]} -ge 10 ] || { echo "too few license texts"; exit 1; }
"$LLMOS" tokenizer train --vocab-size 1024 --out "$T/tok.gguf" --threads 2 --quiet "${files[@]}"
"$LLMOS" data tokenize --tokenizer "$T/tok.gguf" --out "$T/data" --val-fraction 0.1 "${files[@]}"
[ -f "$T/data/val.bin" ] && [ -f "$T/data/train-00000.bin" ] && [ -f "$T/data/tokenizer.gguf" ]
(cd "$T" && "$LLMOS" pretrain --data data --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 192 \
    --ctx 64 --batch 8 --steps 300 --lr 3e-3 --eval-every 100 --eval-batches 16 --threads 2 \
    --out base.gguf --quiet)
uni=$("$PY" "$ROOT/tests/py/unigram.py" "$T/data")
val=$("$PY" -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if 'val_loss' in l][-1]['val_loss'])" "$T/base.log.jsonl")
echo "validation loss $val, unigram cross-entropy $uni"
"$PY" -c "import sys; v, u = map(float, sys.argv[1:]); sys.exit(0 if v < u - 0.5 else 1)" "$val" "$uni"
[ -s "$T/base.loss.png" ]
# mixed precision (bf16 matmuls, fp32 master weights) on CPUs that have it:
# the same run must land within noise of fp32
if grep -q avx512_bf16 /proc/cpuinfo; then
    (cd "$T" && "$LLMOS" pretrain --data data --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 192 \
        --ctx 64 --batch 8 --steps 300 --lr 3e-3 --eval-every 100 --eval-batches 16 --threads 2 \
        --out bf16.gguf --quiet --bf16)
    vb=$("$PY" -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if 'val_loss' in l][-1]['val_loss'])" "$T/bf16.log.jsonl")
    echo "bf16 validation loss $vb (fp32 $val)"
    "$PY" -c "import sys; b, f = map(float, sys.argv[1:]); sys.exit(0 if abs(b - f) < 0.1 and b != f else 1)" "$vb" "$val"
fi
"$PY" - "$T/base.gguf" <<'PYEOF'
import sys, os
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py
r = gguf_py.Reader(sys.argv[1])
assert r.get('general.architecture') == 'llama'
assert len(r.get('tokenizer.ggml.tokens')[1]) == 1024
assert r.get('llama.context_length') == 64 and r.get('llama.block_count') == 2
PYEOF
