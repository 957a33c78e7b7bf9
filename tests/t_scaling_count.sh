#!/usr/bin/env bash
# Exact counters (llmos scaling count) against hand counts, and against real
# files: a model written by `llmos pretrain` and its `llmos quantize` copies,
# counted tensor by tensor with the independent Python GGUF reader.
set -eu
count() { "$LLMOS" scaling count "$@"; }
# A: dim 64, 2 layers, 4 heads of 16, 2 kv heads, ffn 192, vocab 1000, tied, ctx 64
#   per layer: norms 2*64 = 128, wq 64*64 = 4096, wk 64*32 = 2048, wv 2048,
#              wo 4096, gate/up/down 3*64*192 = 36864              -> 49280
#   non-embedding 2*49280 + 64 (final norm) = 98624; + 1000*64 = 162624
#   FLOPs/token: matmul weights 2*(4096+2048+2048+4096+36864) + 1000*64
#                = 162304, x6 = 973824; attention 6*2*64*(64+1) = 49920
#                -> 1023744
#   bytes: f32 162624*4 = 650496; 1-D tensors 320 floats = 1280 bytes;
#          f16 162304*2 + 1280 = 325888; q8_0 162304/32*34 + 1280 = 173728;
#          q4_0 162304/32*18 + 1280 = 92576
# B: dim 48, 1 layer, 3 heads of 16, 3 kv heads, ffn 128, vocab 300, untied, ctx 32
#   per layer: 96 + 4*48*48 + 3*48*128 = 96 + 9216 + 18432 = 27744
#   non-embedding 27744 + 48 = 27792; + 2*300*48 = 56592
#   FLOPs/token: (9216 + 18432 + 300*48)*6 = 252288; attention 6*1*48*33 = 9504
#                -> 261792
#   q8_0: only ffn_down has rows of 128 (a multiple of 32): 48*128 = 6144
#         -> 6144/32*34 = 6528; the rest f32: (56592-6144)*4 = 201792 -> 208320
#   q4_0: 6144/32*18 = 3456 + 201792 = 205248; f16: (56592-144)*2 + 144*4 = 113472
# C: Llama 3 8B (dim 4096, 32 layers, 32 heads, 8 kv heads, ffn 14336, vocab
#    128256, untied, ctx 8192): 8030261248 parameters (Meta's published 8.03B)
#   per layer 8192 + 2*4096^2 + 2*4096*1024 + 3*4096*14336 = 218112000
#   non-embedding 32*218112000 + 4096 = 6979588096
#   FLOPs/token 6*(32*(2*4096^2 + 2*4096*1024 + 3*4096*14336) + 128256*4096)
#               + 6*32*4096*8193 = 45027950592 + 6443237376 = 51471187968
count --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 192 --vocab 1000 --ctx 64 >"$T/a.json"
count --dim 48 --layers 1 --heads 3 --kv-heads 3 --ffn 128 --vocab 300 --ctx 32 --untied >"$T/b.json"
count --dim 4096 --layers 32 --heads 32 --kv-heads 8 --ffn 14336 --vocab 128256 --ctx 8192 --untied >"$T/c.json"
"$PY" - "$T" <<'PYEOF'
import json, sys
T = sys.argv[1]
want = {
    'a': dict(params=162624, non_embedding_params=98624, flops_per_token=1023744,
              bytes=dict(f32=650496, f16=325888, bf16=325888, q8_0=173728, q4_0=92576)),
    'b': dict(params=56592, non_embedding_params=27792, flops_per_token=261792,
              bytes=dict(f32=226368, f16=113472, bf16=113472, q8_0=208320, q4_0=205248)),
    'c': dict(params=8030261248, non_embedding_params=6979588096, flops_per_token=51471187968),
}
for k, w in want.items():
    got = json.load(open('%s/%s.json' % (T, k)))
    for key, v in w.items():
        assert got[key] == v, (k, key, got[key], v)
print('hand counts: ok')
PYEOF
# a real model and its quantized copies
"$PY" "$ROOT/tests/py/train_data.py" "$T/data" 97 4000 800
"$LLMOS" pretrain --data "$T/data" --dim 48 --layers 2 --heads 3 --kv-heads 1 --ffn 96 --ctx 16 --batch 2 \
    --steps 2 --eval-every 0 --untied --threads 1 --quiet --out "$T/m.gguf"
count "$T/m.gguf" >"$T/m.json"
for ty in f16 q8_0 q4_0; do "$LLMOS" quantize "$T/m.gguf" "$T/m-$ty.gguf" $ty >/dev/null 2>&1; done
"$PY" - "$T" <<'PYEOF'
import json, os, sys
sys.path.insert(0, os.environ['ROOT'] + '/tests/py')
import gguf_py, numpy as np
T = sys.argv[1]
c = json.load(open(T + '/m.json'))
r = gguf_py.Reader(T + '/m.gguf')
total = sum(int(np.prod(t['ne'])) for t in r.tensors)
emb = sum(int(np.prod(t['ne'])) for t in r.tensors if t['name'] in ('token_embd.weight', 'output.weight'))
assert c['params'] == total and c['non_embedding_params'] == total - emb, (c, total, emb)
assert c['vocab'] == 97 and c['tied'] is False and c['ctx'] == 16, c
for ty in ('f32', 'f16', 'q8_0', 'q4_0'):
    f = gguf_py.Reader(T + ('/m.gguf' if ty == 'f32' else '/m-%s.gguf' % ty))
    b = sum(len(t['data']) for t in f.tensors)
    assert c['bytes'][ty] == b, (ty, c['bytes'][ty], b)
print('real model: %d parameters (%d non-embedding), bytes per type as in the files' % (total, total - emb))
PYEOF
# bad input
if count --dim 50 --heads 3 --vocab 10 2>"$T/err"; then exit 1; fi
grep -q "not a multiple" "$T/err"
if count "$T/none.gguf" 2>"$T/err"; then exit 1; fi
grep -q "none.gguf" "$T/err"
