#!/usr/bin/env bash
# t_oom.sh - runs that do not fit in memory are refused before they
# allocate, with one line saying how much they need and how much is
# available, and exit 1 (issue 14: they aborted with a core dump). Under a
# 4 GB address-space limit (ulimit -v): pretrain with a huge batch or
# width, sft with a huge batch, generate with a 16M-token context.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
[ -n "${LLMOS_ASAN:-}" ] && { echo "SKIP: AddressSanitizer reserves more address space than the limit"; exit 0; }
"$PY" "$ROOT/tests/py/train_data.py" data 97 20000 2000
refused() { # command...
    local rc=0
    (ulimit -v 4000000; exec "$LLMOS" "$@") > out.txt 2> err.txt || rc=$?
    [ "$rc" = 1 ] || { cat err.txt; echo "llmos $*: exit $rc (expected 1)"; exit 1; }
    grep -q "needs .* of memory; .* is available" err.txt || { cat err.txt; echo "llmos $*: no needed/available line"; exit 1; }
    [ "$(wc -l < err.txt)" -eq 1 ] || { cat err.txt; echo "llmos $*: not one line"; exit 1; }
    echo "refused: llmos $* -> $(cat err.txt)"
}
small=(--data data --layers 2 --heads 2 --ffn 128 --steps 1 --save-every 0 --eval-every 0 --threads 1 --quiet)
refused pretrain "${small[@]}" --dim 64 --ctx 64 --batch 10000 --out a.gguf
refused pretrain "${small[@]}" --dim 10000 --ctx 16 --batch 2 --out b.gguf
refused sft --model base.gguf --data chats.jsonl --batch 10000 --steps 1 --threads 1 --quiet --out c.gguf
refused generate base.gguf -p hello --ctx 16777216 -n 1
# what fits still runs under the same limit
(ulimit -v 4000000; exec "$LLMOS" generate base.gguf -p hello -n 2 --ctx 64) > /dev/null
echo "a run that fits still runs"
