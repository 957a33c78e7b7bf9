#!/usr/bin/env bash
# bench/tok_train.sh - tokenizer training speed and compression.
#
#   bench/tok_train.sh [DIR]     (DIR: scratch folder, default /tmp/llmos-bench)
#
# 1. Builds 100 MB of real text and 10 MB of held-out text from Debian
#    packages (bench/tok_corpus.sh; installs them when missing).
# 2. Trains an 8,192-token vocabulary on the 100 MB with `llmos tokenizer
#    train` (2 threads) and with Debian's python3-sentencepiece in BPE mode
#    (same text and size, identity normalization, whitespace kept as is,
#    num_threads=2), timing both (wall clock); then a 32,768-token one with
#    llmos.
# 3. Bytes per token on the held-out text: our 8k and 32k vocabularies,
#    SentencePiece's 8k, and GPT-2's 50,257 (js-tiktoken).
# Prints a markdown table for docs/benchmarks.md ("Tokenizer training").
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
LLMOS=${LLMOS:-$ROOT/llmos}
PY=/usr/bin/python3
DIR=${1:-/tmp/llmos-bench}
THREADS=${THREADS:-2}
mkdir -p "$DIR"
bench/tok_corpus.sh "$DIR"
if ! $PY -c 'import sentencepiece' 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-sentencepiece >/dev/null
fi
train=$DIR/train.txt heldout=$DIR/heldout.txt
mb=$($PY -c "import os; print('%.1f' % (os.path.getsize('$train') / 1e6))")

# timed CMD...: runs CMD, sets WALL and CPU (user + system seconds, children included)
timed() {
    /usr/bin/time -f "%e %U %S" -o "$DIR/time.txt" "$@"
    read -r w u s < "$DIR/time.txt"
    WALL=$w CPU=$($PY -c "print('%.1f' % ($u + $s))")
}

echo "== llmos tokenizer train, 8192, $THREADS threads" >&2
timed "$LLMOS" tokenizer train --threads "$THREADS" --vocab-size 8192 --out "$DIR/ours8k.gguf" "$train"
ours8=$WALL ours8c=$CPU

echo "== llmos tokenizer train, 32768, $THREADS threads" >&2
timed "$LLMOS" tokenizer train --threads "$THREADS" --vocab-size 32768 --out "$DIR/ours32k.gguf" "$train"
ours32=$WALL ours32c=$CPU

echo "== sentencepiece BPE, 8192, $THREADS threads" >&2
cat > "$DIR/spm_train.py" <<'PY'
import sys
import sentencepiece as spm
spm.SentencePieceTrainer.train(input=sys.argv[1], model_prefix=sys.argv[2], model_type="bpe",
                               vocab_size=8192, normalization_rule_name="identity",
                               remove_extra_whitespaces=False, num_threads=int(sys.argv[3]),
                               minloglevel=1)
PY
timed $PY "$DIR/spm_train.py" "$train" "$DIR/spm8k" "$THREADS"
spm8=$WALL spm8c=$CPU

echo "== bytes per token on held-out text" >&2
bpt() { "$LLMOS" tokenizer info "$1" --text "$heldout" | sed -n 's/.*, \([0-9.]*\) bytes\/token.*/\1/p'; }
b8=$(bpt "$DIR/ours8k.gguf")
b32=$(bpt "$DIR/ours32k.gguf")
bspm=$($PY - "$DIR/spm8k.model" "$heldout" <<'PY'
import os, sys
import sentencepiece as spm
sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
text = open(sys.argv[2], "rb").read().decode("utf-8", "replace")
n = sum(len(sp.encode(line)) for line in text.split("\n"))
print("%.3f" % (os.path.getsize(sys.argv[2]) / n))
PY
)
bgpt2=$(node -e '
const path = require("path");
const { getEncoding } = require(path.resolve("tests/oracle/node_modules/js-tiktoken"));
const fs = require("fs");
const buf = fs.readFileSync(process.argv[1]);
const n = getEncoding("gpt2").encode(buf.toString("utf8"), [], []).length;
console.log((buf.length / n).toFixed(3));' "$heldout")

ratio=$($PY -c "print('%.0f' % ($spm8 / $ours8))")
ratioc=$($PY -c "print('%.0f' % ($spm8c / $ours8c))")
cat <<EOF2
| trainer (${mb} MB of text) | vocabulary | wall s | CPU s | held-out bytes/token |
|---|---|---|---|---|
| llmos tokenizer train ($THREADS threads) | 8,192 | $ours8 | $ours8c | $b8 |
| python3-sentencepiece 0.1.97 BPE (num_threads=$THREADS) | 8,192 | $spm8 | $spm8c | $bspm |
| llmos tokenizer train ($THREADS threads) | 32,768 | $ours32 | $ours32c | $b32 |
| GPT-2 (js-tiktoken, trained elsewhere) | 50,257 | - | - | $bgpt2 |

llmos is ${ratio}x faster than SentencePiece at 8,192 tokens (wall clock), ${ratioc}x in CPU time.
EOF2
