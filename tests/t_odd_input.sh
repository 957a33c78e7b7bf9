#!/usr/bin/env bash
# t_odd_input.sh - odd input gets a clear one-line error naming the thing
# and the problem, and leaves nothing behind (issue 14): a directory in
# place of a shard; `data tokenize --tokenizer F` where F holds no
# tokenizer; data tokenize on a 0-byte file and on an empty folder (no
# val.bin left); `generate --ids` on a model without a tokenizer (the ids
# were dropped and an empty line printed); `--ids 1,,2`; `label` with an
# empty prompts file.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
fails() { # pattern command...: exit non-zero, one line matching pattern
    local pat=$1; shift
    if "$LLMOS" "$@" > out.txt 2> err.txt; then echo "accepted: llmos $*"; exit 1; fi
    grep -q -- "$pat" err.txt || { cat err.txt; echo "llmos $*: the error does not say '$pat'"; exit 1; }
    [ "$(wc -l < err.txt)" -eq 1 ] || { cat err.txt; echo "llmos $*: not one line"; exit 1; }
    echo "ok: llmos $* -> $(cat err.txt)"
}
"$PY" "$ROOT/tests/py/train_data.py" data 97 20000 2000
# a directory where a shard should be
cp -r data dirshard && rm dirshard/train-00000.bin && mkdir dirshard/train-00000.bin
fails "train-00000.bin' is a directory, not a token shard" pretrain --data dirshard --dim 32 --layers 1 --heads 2 \
    --ffn 64 --ctx 16 --steps 1 --quiet --out x.gguf
# a tokenizer file without a tokenizer (a model made without one)
"$PY" - notok.gguf <<'PY'
import os, sys
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py as G
G.write(sys.argv[1], [('general.architecture', G.STRING, 'llama')], [])
PY
echo '{"text": "hello"}' > docs.jsonl
fails "notok.gguf" data tokenize --tokenizer notok.gguf --out d1 docs.jsonl
# a 0-byte file, an empty folder: errors, and no val.bin left
: > empty.txt
fails "no text" data tokenize --tokenizer tok.gguf --out d2 empty.txt
[ ! -e d2/val.bin ] || { echo "a val.bin was left by a failed tokenize"; exit 1; }
mkdir -p emptydir
fails "no training documents" data tokenize --tokenizer tok.gguf --out d3 emptydir
[ ! -e d3/val.bin ] || { echo "a val.bin was left by a failed tokenize of an empty folder"; exit 1; }
# a model without a tokenizer: --ids cannot be shown as text
"$PY" - base.gguf notokmodel.gguf <<'PY'
import os, sys
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py as G
r = G.Reader(sys.argv[1])
kv = [(k, t, v) for k, (t, v) in r.kv.items() if not k.startswith('tokenizer.')]
ts = [(t['name'], t['type'], t['ne'], t['data']) for t in r.tensors]
G.write(sys.argv[2], kv, ts)
PY
fails "no tokenizer" generate notokmodel.gguf --ids 1,2 -n 2
"$LLMOS" generate notokmodel.gguf --ids 1,2 -n 2 --print-ids --temp 0 > ids.txt 2>/dev/null
grep -q '^[0-9]' ids.txt || { cat ids.txt; echo "--print-ids printed no ids"; exit 1; }
# token lists
fails "bad token list '1,,2'" generate base.gguf --ids 1,,2 -n 1
fails "bad token list '1,'" generate base.gguf --ids 1, -n 1
# an empty prompts file
: > noprompts.jsonl
fails "no prompts" label --model base.gguf --prompts noprompts.jsonl --store s.jsonl --web --port 0
