#!/usr/bin/env bash
# bench/prefs_main.sh - stage 3 on the assistant made by the main job
# (scripts/main.sh): preferences from the automatic f1 labeler (K answers per
# question, ranked by token F1 against the reference answer), then
#   DPO          -> held-out reward accuracy, and the win rate of the DPO
#                   model over its SFT start on held-out questions (greedy
#                   answers, judged by the same checker; a tie counts one half)
#   reward model -> held-out pair accuracy, best-of-16 against best-of-1
#   RL           -> held-out pass@1 / pass@8 (F1 >= PASS) before and after
# Training prompts come from MAIN/chats.jsonl; held-out ones from
# MAIN/chats.heldout.jsonl (held out by subject when main.sh made them).
#
# Usage: bench/prefs_main.sh [MAIN_OUT] [WORKDIR]   (defaults: out, /tmp/llmos-prefs-main)
# Knobs (environment): N_PREF (3000 prompts) K (4) N_HELD (400)
#   DPO_STEPS (500) DPO_LR (2e-5) BETA (0.1) RM_STEPS (500) RM_LR (1e-4)
#   RL_STEPS (150) RL_LR (2e-5) PASS (0.5) STAGES ("dpo rm rl")
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LLMOS=${LLMOS:-$ROOT/llmos}
PY=/usr/bin/python3
MAIN=$(cd "${1:-out}" && pwd)
W=${2:-/tmp/llmos-prefs-main}
N_PREF=${N_PREF:-3000} K=${K:-4} N_HELD=${N_HELD:-400}
DPO_STEPS=${DPO_STEPS:-500} DPO_LR=${DPO_LR:-2e-5} BETA=${BETA:-0.1}
RM_STEPS=${RM_STEPS:-500} RM_LR=${RM_LR:-1e-4}
RL_STEPS=${RL_STEPS:-150} RL_LR=${RL_LR:-2e-5} PASS=${PASS:-0.5}
STAGES=${STAGES:-"dpo rm rl"}
CHAT=$MAIN/chat.gguf
for f in "$CHAT" "$MAIN/chats.jsonl" "$MAIN/chats.heldout.jsonl"; do
    [ -f "$f" ] || { echo "prefs_main.sh: '$f' is missing: run ./scripts/main.sh --out $MAIN first" >&2; exit 1; }
done
mkdir -p "$W" && cd "$W"
echo "assistant: $CHAT ($(stat -c %s "$CHAT") bytes); work dir $W"

# A seeded sample of both files (each is ordered by source).
"$PY" - "$MAIN" "$N_PREF" "$N_HELD" <<'PY'
import random, sys
main, n_pref, n_held = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for src, dst, n in (('chats.jsonl', 'train.jsonl', n_pref), ('chats.heldout.jsonl', 'heldout.jsonl', n_held)):
    lines = open('%s/%s' % (main, src), encoding='utf-8').readlines()
    random.Random(7).shuffle(lines)
    open(dst, 'w', encoding='utf-8').writelines(lines[:n])
PY
t() { echo "$1: $((SECONDS - t0)) s"; t0=$SECONDS; }
t0=$SECONDS
rm -f prefs.jsonl
"$LLMOS" prefs auto --model "$CHAT" --prompts train.jsonl --k "$K" --temp 1.0 --judge f1 --max-new 64 \
    --store prefs.jsonl --quiet | tee auto.txt
t "prefs auto"
case " $STAGES " in *" dpo "*)
    "$LLMOS" dpo --model "$CHAT" --data prefs.jsonl --out dpo.gguf --steps "$DPO_STEPS" --batch 16 \
        --lr "$DPO_LR" --beta "$BETA" --eval-every 100 --quiet | tee dpo.txt
    t "dpo"
    "$LLMOS" prefs winrate --a "$CHAT" --b dpo.gguf --prompts heldout.jsonl --judge f1 --max-new 64 | tee winrate.txt
    t "winrate" ;;
esac
case " $STAGES " in *" rm "*)
    "$LLMOS" reward train --model "$CHAT" --data prefs.jsonl --out rm.gguf --steps "$RM_STEPS" --batch 16 \
        --lr "$RM_LR" --eval-every 100 --quiet | tee rm.txt
    t "reward train"
    "$LLMOS" reward best-of --model "$CHAT" --reward rm.gguf --prompts heldout.jsonl --judge f1 -n 16 \
        --max-new 64 | tee bestof.txt
    t "best-of-16" ;;
esac
case " $STAGES " in *" rl "*)
    "$LLMOS" rl --model "$CHAT" --prompts train.jsonl --heldout heldout.jsonl --judge f1 --pass "$PASS" \
        --steps "$RL_STEPS" --prompts-per-step 8 --group 8 --eval 200 --eval-k 8 --eval-every 50 \
        --max-new 64 --lr "$RL_LR" --out rl.gguf | tee rl.txt
    t "rl" ;;
esac
