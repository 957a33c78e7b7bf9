#!/usr/bin/env bash
# The model `llmos pretrain` writes is a plain llama GGUF that llama.cpp
# (npm node-llama-cpp, tests/js/llamacpp.mjs) loads and runs: a short run on
# real text (our BPE tokenizer, tied and untied heads), then llama.cpp's
# logits at 40 positions against the float64 PyTorch reference computed
# from the same file (tests/py/train_ref.py, the reference the gradient
# test holds llmos's training forward to), and greedy text from llmos
# generate equal to llama.cpp's.
set -eu
cd "$ROOT"
[ -d tests/oracle/node_modules/node-llama-cpp ] || { echo "node-llama-cpp missing (scripts/install-deps.sh)"; exit 1; }
mapfile -t files < <(find /usr/share/common-licenses -type f | sort)
"$LLMOS" tokenizer train --vocab-size 600 --out "$T/tok.gguf" --threads 2 --quiet "${files[@]}"
"$LLMOS" data tokenize --tokenizer "$T/tok.gguf" --out "$T/data" "${files[@]}" 2>/dev/null
for head in tied untied; do
    "$LLMOS" pretrain --data "$T/data" --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 160 --ctx 64 \
        --batch 4 --steps 40 --lr 3e-3 --eval-every 0 --threads 2 --quiet --out "$T/$head.gguf" \
        $([ $head = untied ] && echo --untied)
    ids=$("$PY" -c "import random; random.seed(3); print(','.join(str(random.randrange(600)) for _ in range(40)))")
    node tests/js/llamacpp.mjs logits "$T/$head.gguf" --ids "$ids" --kv f32 --fa off >"$T/$head.lcpp.json"
    "$PY" - "$T/$head.gguf" "$ids" "$T/$head.lcpp.json" <<'PYEOF'
import json, sys, os
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import numpy as np, torch, train_ref
cfg, P = train_ref.load_params(sys.argv[1], torch.float64)
ids = [int(x) for x in sys.argv[2].split(',')]
with torch.no_grad():
    ref = train_ref.model_logits(cfg, P, torch.tensor([ids]))[0].numpy()
ll = np.array(json.load(open(sys.argv[3]))['logits'], dtype=np.float64)
assert ll.shape == ref.shape, (ll.shape, ref.shape)
err = np.abs(ll - ref).max() / np.abs(ref).max()
print('%s: llama.cpp vs torch float64 logits, max error %.2e of the logit scale' % (os.path.basename(sys.argv[1]), err))
assert err < 1e-4, err
PYEOF
    ours=$("$LLMOS" generate "$T/$head.gguf" --ids 5,6,7 -n 24 --temp 0 --print-ids -q)
    theirs=$(node tests/js/llamacpp.mjs greedy "$T/$head.gguf" --ids 5,6,7 -n 24 --kv f32 --fa off |
        "$PY" -c "import json,sys; print(','.join(map(str, json.load(sys.stdin)['ids'])))")
    echo "greedy: llmos $ours / llama.cpp $theirs"
    [ "$ours" = "$theirs" ] || [ "5,6,7,$ours" = "$theirs" ] || { echo "greedy continuations differ"; exit 1; }
done
