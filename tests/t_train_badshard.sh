#!/usr/bin/env bash
# Bad token shards give one clear line naming the file and the problem
# (exit 1), never a crash: truncated, wrong magic, token ids beyond the
# vocabulary, garbage after the tokens, a vocabulary mismatch, no shards.
set -eu
"$PY" "$ROOT/tests/py/train_data.py" "$T/good" 97 5000 500
run() { # dir expected-substring
    if "$LLMOS" pretrain --data "$1" --tokenizer "$T/good/tokenizer.gguf" --preset tiny \
        --steps 2 --out "$T/x.gguf" --quiet 2>"$T/err"; then
        echo "FAIL: $1 was accepted"; exit 1
    fi
    rc=$?
    [ "$(wc -l <"$T/err")" -eq 1 ] || { echo "FAIL: not one line:"; cat "$T/err"; exit 1; }
    grep -q -- "$2" "$T/err" || { echo "FAIL: expected '$2' in:"; cat "$T/err"; exit 1; }
    echo "ok: $(cat "$T/err")"
}
mk() { rm -rf "$T/$1"; cp -r "$T/good" "$T/$1"; }
mk trunc
head -c 5000 "$T/good/train-00000.bin" >"$T/trunc/train-00000.bin"
run "$T/trunc" "train-00000.bin: truncated"
mk magic
printf 'NOTATOKN' | dd of="$T/magic/train-00000.bin" conv=notrunc status=none
run "$T/magic" "not a token shard (bad magic"
mk vocab
printf '\xff\x7f' | dd of="$T/vocab/val.bin" bs=1 seek=100 conv=notrunc status=none
run "$T/vocab" "val.bin: token 18 has id 32767, beyond the vocabulary (97 tokens)"
mk tail
printf 'xyz' >>"$T/tail/train-00000.bin"
run "$T/tail" "train-00000.bin: 3 bytes of garbage after"
mk short
head -c 20 "$T/good/train-00000.bin" >"$T/short/train-00000.bin"
run "$T/short" "not a token shard"
mkdir -p "$T/empty"
run "$T/empty" "no token shards"
"$PY" "$ROOT/tests/py/train_data.py" "$T/other" 200 5000 500
cp "$T/other/train-00000.bin" "$T/good2-train.bin"
mk mism
cp "$T/good2-train.bin" "$T/mism/train-00000.bin"
run "$T/mism" "made for a vocabulary of 200 tokens, the tokenizer has 97"
