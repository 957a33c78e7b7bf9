#!/usr/bin/env bash
# SFT on several ranks is the same fine-tuning: 12 steps of 5 conversations
# on one process and on 2 ranks (rows split 2/3; each rank's mean loss
# weighted by its share of the batch's assistant targets) give the same
# loss at every step and the same final parameters within 1e-6 relative;
# ZeRO-1 gives 2-rank all-reduce's bits. The checkpoint of 2 ranks resumes
# on one process and continues the same curve.
set -eu
source "$ROOT/tests/mpi_run.sh"
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
common=(--model base.gguf --data chats.jsonl --val chats.jsonl --batch 5 --steps 12 --eval-every 4 --save-every 0
        --lr 1e-3 --quiet)
"$LLMOS" sft "${common[@]}" --threads 2 --out one.gguf
"${MPIRUN[@]}" -np 2 "$LLMOS" sft "${common[@]}" --threads 1 --out two.gguf
"${MPIRUN[@]}" -np 2 "$LLMOS" sft "${common[@]}" --threads 1 --zero --out zero.gguf
[ "$(grep -c '"loss"' two.log.jsonl)" -eq 12 ]
mpi_compare losses one.log.jsonl two.log.jsonl 1e-6
mpi_compare params one.ckpt.gguf two.ckpt.gguf 1e-6
mpi_compare params two.ckpt.gguf zero.ckpt.gguf 0
# the targets counted are the whole batch's, as on one process
cmp <(grep '"loss"' one.log.jsonl | sed 's/.*"rows"/"rows"/') <(grep '"loss"' two.log.jsonl | sed 's/.*"rows"/"rows"/')
"${MPIRUN[@]}" -np 2 "$LLMOS" sft "${common[@]}" --threads 1 --out r.gguf --stop-after 6
"$LLMOS" sft "${common[@]}" --threads 2 --out r.gguf --resume
mpi_compare losses one.log.jsonl r.log.jsonl 1e-6
mpi_compare params one.ckpt.gguf r.ckpt.gguf 1e-6
