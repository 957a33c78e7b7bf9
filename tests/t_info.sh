#!/usr/bin/env bash
# t_info.sh - `llmos info` on a random GQA model (tests/py/gen_model.py:
# dim 96, 2 layers, 4 heads, 2 kv heads, ctx 128) against the file as
# Python's GGUF reader sees it: the parameter count N (sum of the tensors'
# elements), tensor data bytes, and the f16 KV cache per token and at the
# full context (2 x layers x kv dims x 2 bytes).
set -eu
cd "$ROOT"
$PY tests/py/gen_model.py "$T/m" --configs gqa --types q8_0 >/dev/null
$LLMOS info "$T/m/gqa-q8_0.gguf" >"$T/info"
cat "$T/info"
$PY - "$T/m/gqa-q8_0.gguf" "$T/info" <<'PY'
import re, sys
sys.path.insert(0, 'tests/py')
import gguf_py as G
r = G.Reader(sys.argv[1])
info = open(sys.argv[2]).read()
n = 0
for t in r.tensors:
    e = 1
    for d in t['ne']:
        e *= d
    n += e
assert re.search(r'^parameters: +N = \S+ \(%d\)$' % n, info, re.M), ('N', n)
L, kvh, H, C = (int(r.get('llama.' + k)) for k in ('block_count', 'attention.head_count_kv', 'attention.head_count', 'embedding_length'))
ctx = int(r.get('llama.context_length'))
per = 2 * L * kvh * (C // H) * 2
def fmt(b):  # llmos's decimal units, two decimals
    for u, s in ((1e9, 'GB'), (1e6, 'MB'), (1e3, 'KB')):
        if b >= u:
            return '%.2f %s' % (b / u, s)
    return '%d B' % b
want = 'kv cache:       2 x %d layers x %d kv dims x 2 bytes (f16) = %s per token, %s at ctx %d' % (
    L, kvh * (C // H), fmt(per), fmt(per * ctx), ctx)
assert want in info, (want, info)
print('ok: N = %d, kv cache %d bytes per token' % (n, per))
PY
