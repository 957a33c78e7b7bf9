#!/usr/bin/env bash
# t_stale_tmp.sh - the temporaries a writer killed with -9 leaves behind
# ("FILE.tmp.PID", issue 14: sft's checkpoint-sized ones, data tokenize's
# val.bin.tmp.PID) are removed by the next writer of the same file, in every
# command (they all write through atomic_open); the temporary of a process
# that is still alive is left alone.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
sleep 300 & live=$!
trap 'kill $live 2>/dev/null || true' EXIT
true & dead=$!; wait $dead
litter() { for f in "$@"; do echo junk > "$f.tmp.$dead"; echo busy > "$f.tmp.$live"; done; }
check() { # what files...
    for f in "${@:2}"; do
        [ ! -e "$f.tmp.$dead" ] || { echo "$1: '$f.tmp.$dead' (a dead writer's) was left behind"; exit 1; }
        [ -e "$f.tmp.$live" ] || { echo "$1: '$f.tmp.$live' (a live process's) was removed"; exit 1; }
    done
    echo "$1: stale temporaries removed, the live one kept"
}
# data tokenize
"$PY" -c "import json; [print(json.dumps({'text': 'The zebra is a horse. ' * 20})) for _ in range(30)]" > docs.jsonl
mkdir -p shards; litter shards/val.bin
"$LLMOS" data tokenize --tokenizer tok.gguf --out shards docs.jsonl 2>/dev/null
check "data tokenize" shards/val.bin
# pretrain
litter pt.gguf pt.ckpt.gguf
"$LLMOS" pretrain --data shards --dim 32 --layers 1 --heads 2 --ffn 64 --ctx 16 --batch 2 --steps 2 \
    --save-every 1 --eval-every 0 --threads 1 --quiet --out pt.gguf
check pretrain pt.gguf pt.ckpt.gguf
# sft
litter chat.gguf chat.ckpt.gguf
"$LLMOS" sft --model base.gguf --data chats.jsonl --steps 2 --batch 2 --threads 1 --quiet --out chat.gguf > /dev/null
check sft chat.gguf chat.ckpt.gguf
# dpo
write_pairs pairs.jsonl
litter dpo.gguf dpo.ckpt.gguf
"$LLMOS" dpo --model chat.gguf --data pairs.jsonl --steps 1 --batch 2 --threads 1 --quiet --out dpo.gguf > /dev/null
check dpo dpo.gguf dpo.ckpt.gguf
