#!/usr/bin/env bash
# bench/prefs_arith.sh - the preference loop end to end on one checkable task
# family (2-digit arithmetic), small enough for a laptop CPU:
#   tokenizer + random tiny llama -> llmos sft on arithmetic answers ->
#   llmos prefs auto (K=4 samples per question, ranked by the arithmetic
#   checker) -> llmos dpo -> held-out questions: pass@1 before and after and
#   the win rate of the DPO model over its SFT start (greedy answers).
# Usage: bench/prefs_arith.sh [WORKDIR]   (default /tmp/llmos-prefs-arith)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LLMOS=${LLMOS:-$ROOT/llmos}
PY=/usr/bin/python3
W=${1:-/tmp/llmos-prefs-arith}
N_SFT=${N_SFT:-6000} SFT_STEPS=${SFT_STEPS:-3000} N_PREF=${N_PREF:-10000} DPO_EPOCHS=${DPO_EPOCHS:-2}
BETA=${BETA:-0.1} DPO_LR=${DPO_LR:-1e-4}
mkdir -p "$W" && cd "$W"
"$PY" - <<'PY'
import json, random
random.seed(1234)
def q():
    a, b, op = random.randrange(100), random.randrange(100), random.choice('+-*')
    return a, op, b, eval('%d%s%d' % (a, op, b))
lines = []
with open('sft.jsonl', 'w') as f:
    for i in range(int(__import__('os').environ.get('N_SFT', 6000))):
        a, op, b, c = q()
        f.write(json.dumps({'messages': [{'role': 'user', 'content': 'What is %d %s %d?' % (a, op, b)},
                                         {'role': 'assistant', 'content': '%d %s %d = %d.' % (a, op, b, c)}]}) + '\n')
        lines.append('What is %d %s %d? %d %s %d = %d.' % (a, op, b, a, op, b, c))
open('corpus.txt', 'w').write('\n'.join(lines * 2) + '\n')
PY
"$LLMOS" tokenizer train --vocab-size 320 --out tok.gguf --quiet corpus.txt
"$PY" "$ROOT/tests/py/chat_model.py" tok.gguf base.gguf --ctx 64
t0=$SECONDS
"$LLMOS" sft --model base.gguf --data sft.jsonl --out chat.gguf --steps "$SFT_STEPS" --batch 32 --lr 3e-3 \
    --eval-every 200 --quiet
echo "sft: $((SECONDS - t0)) s"; t0=$SECONDS
rm -f prefs.jsonl
"$LLMOS" prefs auto --model chat.gguf --arith "$N_PREF" --k 4 --temp 1.0 --judge arith --max-new 16 \
    --store prefs.jsonl --quiet | tee auto.txt
echo "prefs auto: $((SECONDS - t0)) s"; t0=$SECONDS
"$LLMOS" dpo --model chat.gguf --data prefs.jsonl --out dpo.gguf --epochs "$DPO_EPOCHS" --batch 16 --lr "$DPO_LR" --beta "$BETA" \
    --eval-every 50 --quiet | tee dpo.txt
echo "dpo: $((SECONDS - t0)) s"; t0=$SECONDS
# held out: questions N_PREF..N_PREF+799 of the same generator (prefs used 0..N_PREF-1)
"$LLMOS" prefs winrate --a chat.gguf --b dpo.gguf --arith $((N_PREF + 800)) --skip "$N_PREF" --judge arith \
    --max-new 16 | tee winrate.txt
echo "winrate: $((SECONDS - t0)) s"
# reward model on the same judgements, best-of-16 against best-of-1
t0=$SECONDS
"$LLMOS" reward train --model chat.gguf --data prefs.jsonl --out rm.gguf --epochs 2 --batch 16 --lr 1e-4 \
    --eval-every 100 --quiet | tee rm.txt
"$LLMOS" reward best-of --model chat.gguf --reward rm.gguf --arith $((N_PREF + 400)) --skip "$N_PREF" \
    --judge arith -n 16 --max-new 16 | tee bestof.txt
echo "reward + best-of: $((SECONDS - t0)) s"; t0=$SECONDS
# RL from the SFT model (held out: questions N_PREF .. N_PREF+399)
"$LLMOS" rl --model chat.gguf --arith "$N_PREF" --judge arith --out rl.gguf --steps 200 --prompts-per-step 8 \
    --group 8 --eval 400 --eval-k 8 --eval-every 100 --max-new 16 --lr 1e-4 --quiet | tee rl.txt
echo "rl: $((SECONDS - t0)) s"
