#!/usr/bin/env bash
# t_tok_types.sh - token types (tokenizer.ggml.token_type) are honoured as
# llama.cpp honours them, in both directions (issue 14: a byte token marked
# control decoded to its text while the encoder used it as the byte). A
# tiny GPT-2 vocabulary with a token of every type (control on the byte
# "\u00c3", unknown on the space "\u0120", unused, undefined, user-defined,
# byte) encodes as llama.cpp encodes it (node-llama-cpp, the same file) and
# every token decodes to the piece llama.cpp gives it (special tokens shown).
# (llama.cpp reads a byte-type token of a BPE vocabulary as "<0xXX>" and
# refuses a file with a shorter one; llmos decodes such a token as normal.)
# A type outside 0..6 is refused with a message naming the token.
set -eu
cd "$ROOT"
CC=${CC:-cc}
SAN=""; [ -n "${LLMOS_ASAN:-}" ] && SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
$CC -std=c11 -D_GNU_SOURCE -O1 -g $SAN -Isrc -o "$T/tok_pieces" tests/c/tok_pieces.c src/tokenizer/*.c \
    src/io/gguf.c src/core/common.c src/core/types.c -fopenmp -lcjson -lm
$PY - "$T" <<'PY'
import os, sys
sys.path.insert(0, 'tests/py'); sys.path.insert(0, 'tests/fuzz')
import numpy as np
import gguf_py as G, gen_model, seeds
kv, ts = seeds.tiny_llama(np.random.default_rng(1))
bc = gen_model.byte_chars()
V = len(bc) + 4
for name, change in (('types', {0xC3: 3, 0x20: 2, ord('x'): 5, ord('y'): 0, ord('z'): 4}),
                     ('range', {ord('A'): 1195835393})):
    types = [1] * (V - 1) + [3]
    for b, ty in change.items():
        types[b] = ty
    kv2 = [(k, t, (G.I32, types) if k == 'tokenizer.ggml.token_type' else v) for k, t, v in kv]
    G.write(os.path.join(sys.argv[1], name + '.gguf'), kv2, ts)
PY
# encoding: the same ids as llama.cpp
printf '%s\n' '"caf\u00e9 the"' '"hello there"' '" the xyzq"' '"\u00c3\u00a9 \u00c3"' '"  x  y  "' > "$T/texts.jsonl"
"$LLMOS" tokenize "$T/types.gguf" --file "$T/texts.jsonl" --jsonl > "$T/ours.jsonl"
node tests/js/tok_oracle.mjs llamacpp "$T/types.gguf" < "$T/texts.jsonl" > "$T/lcpp.jsonl" 2> "$T/lcpp.err" ||
    { cat "$T/lcpp.err"; exit 1; }
$PY tests/py/cmp_ids.py "$T/texts.jsonl" "$T/ours.jsonl" "$T/lcpp.jsonl" llama.cpp
# decoding: every token's piece as llama.cpp's, and each encoded text back
"$T/tok_pieces" "$T/types.gguf" > "$T/pieces.hex"
n=$(wc -l < "$T/pieces.hex")
seq 0 $((n - 1)) | sed 's/.*/[&]/' > "$T/ids.jsonl"
cat "$T/ours.jsonl" >> "$T/ids.jsonl"
node tests/js/tok_oracle.mjs llamacpp "$T/types.gguf" --pieces < "$T/ids.jsonl" > "$T/lcpp-pieces.jsonl" 2> "$T/lcpp.err" ||
    { cat "$T/lcpp.err"; exit 1; }
$PY - "$T" <<'PY'
import json, sys
T = sys.argv[1]
ours = [bytes.fromhex(l.strip()) for l in open(T + '/pieces.hex')]
ids = [json.loads(l) for l in open(T + '/ids.jsonl')]
ref = [json.loads(l) for l in open(T + '/lcpp-pieces.jsonl')]
assert len(ref) == len(ids), (len(ref), len(ids))
bad = 0
for seq, want in zip(ids, ref):
    got = b''.join(ours[i] for i in seq).decode('utf-8', 'replace')
    if got != want:
        bad += 1
        if bad <= 5: print('ids %s: llmos %r, llama.cpp %r' % (seq, got, want))
if bad: sys.exit('%d of %d decodings differ from llama.cpp' % (bad, len(ids)))
print('%d tokens and %d texts decode as llama.cpp decodes them' % (len(ours), len(ids) - len(ours)))
PY
# a type out of range: refused, naming the token and the value
if "$LLMOS" tokenize "$T/range.gguf" hello > "$T/out" 2> "$T/err"; then echo "a token_type of 1195835393 was accepted"; exit 1; fi
grep -q "token_type of token 65 is 1195835393" "$T/err" || { cat "$T/err"; echo "the error does not name the token and type"; exit 1; }
[ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; echo "not one line"; exit 1; }
echo "out-of-range token_type refused: $(cat "$T/err")"
