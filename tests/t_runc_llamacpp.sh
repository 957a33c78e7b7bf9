#!/usr/bin/env bash
# t_runc_llamacpp.sh - run.c's greedy text equals llama.cpp's.
#
# For random tiny llama models (GQA, MQA, MHA, and "odd" with dim 84, head
# dim 14, ffn 100; tied and untied output; rope bases 5000 to 500000) stored
# as F32 and F16, plus a "llama-bpe" variant
# with a merge removed (a word that is a token but that no merge sequence
# reaches: llama.cpp keeps it whole, ignore_merges), and for prompts with
# words, numbers, punctuation, contractions, newlines and runs of spaces:
# llama.cpp (node-llama-cpp, f32 KV cache, no flash attention) tokenizes the
# prompt and continues it greedily for N tokens; its ids are turned into bytes
# here (GPT-2 byte map undone, in Python from the vocabulary) and must equal
# `./run MODEL -p PROMPT -n N -t 0` byte for byte. A different tokenization of
# the prompt would change all that follows, so this also checks run.c's
# tokenizer. At a near tie (two tokens' float64 logits within 2e-3 of the
# logit scale) f32 rounding may pick either: a divergence is accepted there
# only, and at least half the prompts of each model must agree to the end.
# Also a model llmos makes itself (its trained llama-bpe tokenizer adds BOS).
# F16 files: llama.cpp rounds activations to f16 in F16 matmuls, run.c keeps
# them f32, so llama.cpp runs on an exact f32 copy of the f16 weights while
# run.c reads the F16 file itself.
set -eu
cd "$ROOT"
make -s run >/dev/null
$PY tests/py/gen_model.py "$T/m" --configs gqa,mqa,mha,odd --types f32,f16
# and a model llmos makes itself: trained llama-bpe tokenizer with specials and BOS, 2 pretraining steps
"$LLMOS" tokenizer train --vocab-size 400 --out "$T/tok.gguf" docs README.md >/dev/null 2>&1
"$LLMOS" data tokenize --tokenizer "$T/tok.gguf" --out "$T/data" --val-fraction 0.2 docs README.md >/dev/null 2>&1
"$LLMOS" pretrain --data "$T/data" --out "$T/own.gguf" --preset tiny --steps 2 >/dev/null 2>&1

cat >"$T/check.py" <<'PYEOF'
import json, os, subprocess, sys
import numpy as np
sys.path.insert(0, 'tests/py')
import gguf_py as G

N = 64  # the models' context is 128: prompts stay under 64 tokens
PROMPTS = ["The river ran past the old mill, and the miller counted",
           "He said \"it's 1234567\" -- DON'T;\n\n  x = [1]  {'k': 4.5}\tyou'll ?!  ",
           "a"]
# GPT-2's byte map, inverted: printable character -> byte
keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
INV, extra = {}, 0
for b in range(256):
    if b in keep:
        INV[chr(b)] = b
    else:
        INV[chr(256 + extra)] = b
        extra += 1

def rewrite(src, dst, kv_change=None, f32=False):
    r = G.Reader(src)
    kv = [(k, t, kv_change(k, v) if kv_change else v) for k, (t, v) in r.kv.items()]
    G.write(dst, kv, [(t['name'], G.T_F32 if f32 else t['type'], t['ne'],
                       G.dequantize(t['type'], t['data'], int(np.prod(t['ne']))).astype('<f4').tobytes()
                       if f32 else t['data']) for t in r.tensors])

d = sys.argv[1]
cases = []  # (model run.c reads, model llama.cpp reads, prompts)
for name in sorted(os.listdir(d)):
    m = os.path.join(d, name)
    if name.endswith('-f16.gguf'):  # llama.cpp gets the same values as f32
        rewrite(m, m[:-5] + '-as-f32.gguf', f32=True)
        cases.append((m, m[:-5] + '-as-f32.gguf', PROMPTS))
    elif name.endswith('-f32.gguf'):
        cases.append((m, m, PROMPTS))
# llama-bpe, with the merge that makes the longest word token removed
src = os.path.join(d, 'mha-f32.gguf')
merges = list(G.Reader(src).kv['tokenizer.ggml.merges'][1][1])
gone = max((x for x in merges if x.replace(' ', '').lstrip('\u0120').isalpha()), key=len)
word = gone.replace(' ', '').replace('\u0120', ' ')
merges.remove(gone)
l3 = os.path.join(d, 'mha-llama-bpe.gguf')
rewrite(src, l3, lambda k, v: 'llama-bpe' if k == 'tokenizer.ggml.pre'
        else (G.STRING, merges) if k == 'tokenizer.ggml.merges' else v)
cases.append((l3, l3, ["The miller%s it." % word, "Hello\n\n\tWORLD's 12345 x  !!\r\n  y"]))
own = os.path.join(os.path.dirname(d), 'own.gguf')
cases.append((own, own, PROMPTS[:2]))

ids = {}
for _, oracle, prompts in cases:
    ids[oracle] = json.loads(subprocess.run(['node', 'tests/js/llamacpp.mjs', 'tokenize', oracle],
                                            input=json.dumps(prompts), capture_output=True, text=True,
                                            check=True).stdout)
    r = G.Reader(oracle)  # llama_tokenize(add_special) puts BOS first when add_bos_token is set
    if r.get('tokenizer.ggml.add_bos_token'):
        ids[oracle] = [[r.get('tokenizer.ggml.bos_token_id')] + i for i in ids[oracle]]
jobs = [dict(cmd='greedy', model=o, ids=i, n=N, kv='f32', fa=False) for _, o, _ in cases for i in ids[o]]
res = iter(json.loads(subprocess.run(['node', 'tests/js/llamacpp.mjs', 'batch'], input=json.dumps(jobs),
                                     capture_output=True, text=True, check=True).stdout))
bad = 0
for model, oracle, prompts in cases:
    r = G.Reader(model)
    tokens, types = r.kv['tokenizer.ggml.tokens'][1][1], r.kv['tokenizer.ggml.token_type'][1][1]
    eos = r.kv['tokenizer.ggml.eos_token_id'][1]
    piece = lambda i: b'' if types[i] in (2, 3, 4) else bytes(INV[ch] for ch in tokens[i])
    full, ref = 0, None
    for p, pid in zip(prompts, ids[oracle]):
        assert b''.join(piece(i) for i in pid) == p.encode(), 'llama.cpp tokens do not spell the prompt'
        g = next(res)['ids']
        got = subprocess.run(['./run', model, '-p', p, '-n', str(N), '-t', '0'], capture_output=True,
                             check=True).stdout
        want = p.encode() + b''.join(piece(i) for i in (g[:g.index(eos)] if eos in g else g)) + b'\n'
        name = '%s prompt %r (%d tokens)' % (os.path.basename(model), p[:20], len(pid))
        if got == want:
            full += 1
            print('ok %s: %d generated tokens equal' % (name, len(g)))
            continue
        # Where the texts part llama.cpp chose g[j]: accepted only at a near tie,
        # where run.c's choice (a token whose bytes continue run.c's text) and
        # llama.cpp's are both within 2e-3 x max|logit| of the best float64 logit.
        pos, j = len(p.encode()), 0
        while j < len(g) and got[:pos + len(piece(g[j]))] == want[:pos + len(piece(g[j]))]:
            pos, j = pos + len(piece(g[j])), j + 1
        if ref is None:
            import torch
            from ref_llama import Llama
            ref = Llama(model)
        with torch.no_grad():
            lg = ref.forward(pid + g[:j])[-1].numpy()
        tol, rest = 2e-3 * np.abs(lg).max(), got[pos:-1]
        near = [int(i) for i in np.flatnonzero(lg >= lg.max() - tol) if j < len(g) and i != g[j] and
                (rest.startswith(piece(i)) if i != eos else rest == b'')]
        if near and lg[g[j]] >= lg.max() - tol:
            print('ok %s: %d tokens equal, then a near tie (float64 logits %d: %.5f, %d: %.5f)'
                  % (name, j, g[j], lg[g[j]], near[0], lg[near[0]]))
        else:
            bad += 1
            print('MISMATCH %s after %d equal tokens: llama.cpp chose %s, run.c wrote %r'
                  % (name, j, g[j] if j < len(g) else 'nothing', rest[:24]))
    if full * 2 < len(prompts):
        print('%s: fewer than half the prompts equal to the end' % os.path.basename(model))
        bad += 1
sys.exit(1 if bad else 0)
PYEOF
$PY "$T/check.py" "$T/m"
