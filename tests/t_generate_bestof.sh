#!/usr/bin/env bash
# llmos generate --best-of N --reward RM against PyTorch float64: for a chat
# model (one that stores a chat template) and a base model, every
# candidate's reward (r = logit[pos] - logit[neg] at the last token the
# reward model read) is recomputed by the reference forward from the ids
# llmos printed; the printed answer must be the argmax. The ids the reward
# model read are checked against the chat template (or prompt + continuation
# for the base model) by decoding them with the vocabulary, and the sampled
# ids against the candidate text. `llmos reward best-of` must pick the same
# answer. Then the usage errors.
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
make_reward_model 2
Q='What does "zebra" mean?'
SAMPLING=(-n 24 --temp 1 --seed 5)
"$LLMOS" generate chat.gguf --best-of 6 --reward rm.gguf -p "$Q" "${SAMPLING[@]}" -t 2 --print-rewards \
    > chat.out 2> chat.err
"$LLMOS" generate base.gguf --best-of 6 --reward rm.gguf -p "$Q" "${SAMPLING[@]}" -t 2 --print-rewards \
    > base.out 2> base.err
grep -q 'best of 6 (chat model)' chat.err
grep -q 'best of 6 (base model)' base.err
# the same sampler settings as generate's defaults with --temp 1 --seed 5
"$LLMOS" reward best-of --model chat.gguf --reward rm.gguf -p "$Q" -n 6 --max-new 24 --temp 1 --seed 5 \
    --threads 2 > reward.out
cmp chat.out reward.out

Q="$Q" "$PY" - <<'PY'
import json, os, sys
import numpy as np, torch
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'tests/py'))
import gguf_py, train_ref
Q = os.environ['Q']
r = gguf_py.Reader('rm.gguf')
pos, neg = int(r.get('reward.token_pos')), int(r.get('reward.token_neg'))
vocab = list(r.get('tokenizer.ggml.tokens')[1])
ttype = list(r.get('tokenizer.ggml.token_type')[1])
bos = int(r.get('tokenizer.ggml.bos_token_id'))
assert bool(r.get('tokenizer.ggml.add_bos_token'))
tid = {t: i for i, t in enumerate(vocab)}
user, asst, eot = tid['<|user|>'], tid['<|assistant|>'], tid['<|end_of_turn|>']
assert (pos, neg) == (user, asst), (pos, neg)
cfg, P = train_ref.load_params('rm.gguf', torch.float64)

# GPT-2's byte <-> printable character map, from its definition
keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
extra = [b for b in range(256) if b not in keep]
byte_of = {chr(b): b for b in keep}
byte_of.update({chr(256 + i): b for i, b in enumerate(extra)})

def decode(ids):
    assert all(ttype[i] == 1 for i in ids), ids
    return bytes(byte_of[c] for i in ids for c in vocab[i])

def sanitize(b):
    """Every byte not in a valid UTF-8 sequence becomes U+FFFD (candidates.h)."""
    out, i = [], 0
    while i < len(b):
        for n in (1, 2, 3, 4):
            try:
                out.append(b[i:i + n].decode('utf-8'))
                i += n
                break
            except UnicodeDecodeError:
                pass
        else:
            out.append('\ufffd')
            i += 1
    return ''.join(out)

def reward(ids):
    x = torch.tensor([ids], dtype=torch.int64)
    with torch.no_grad():
        lg = train_ref.model_logits(cfg, P, x)[0, -1]
    return (lg[pos] - lg[neg]).item()

worst = 0
for mode in ('chat', 'base'):
    cands = [json.loads(l) for l in open(mode + '.err', encoding='utf-8') if l.startswith('{')]
    assert [c['candidate'] for c in cands] == list(range(6)), mode
    ref = []
    for c in cands:
        s, ids, text = c['scored'], c['ids'], c['text']
        if mode == 'chat':
            # BOS <|user|> Q <|end_of_turn|> <|assistant|> answer <|end_of_turn|>
            assert s[:2] == [bos, user] and s[-1] == eot, s
            k = s.index(eot)
            assert decode(s[2:k]).decode() == Q and s[k + 1] == asst, s
            assert decode(s[k + 2:-1]) == text.encode(), (s, text)
            # the answer ends at a special token (end of turn, another role) or the budget
            body = ids[:-1] if ttype[ids[-1]] == 3 else ids
            assert ttype[ids[-1]] == 3 or len(ids) == 24, ids
        else:
            assert s[0] == bos and decode(s[1:]) == (Q + text).encode(), (s, text)
            body = [i for i in ids if ttype[i] != 3]
            # other special tokens are left out of the text; EOS/end of turn ends it
            assert len(ids) == 24 or ids[-1] in (eot, tid['<|end_of_text|>']), ids
        assert sanitize(decode(body)) == text, (ids, text)
        rr = reward(s)
        ref.append(rr)
        err = abs(rr - c['reward']) / max(1.0, abs(rr))
        assert err < 1e-4, (mode, c['candidate'], rr, c['reward'])
        worst = max(worst, err)
    best = int(np.argmax(ref))
    # the winner must be clear of every other distinct answer
    others = [ref[k] for k in range(6) if cands[k]['text'] != cands[best]['text']]
    assert others and ref[best] - max(others) > 1e-3, (mode, ref)
    out = open(mode + '.out', 'rb').read().decode('utf-8')
    want = (Q if mode == 'base' else '') + cands[best]['text'] + '\n'
    assert out == want, (mode, out, want, ref)
    print('%s: rewards %s, best %d' % (mode, ' '.join('%.4f' % v for v in ref), best))
print('best-of ok: worst relative reward error %.2e' % worst)
PY

# usage errors: one line, exit 2 (1 for a missing file)
expect() { # status command...
    local want=$1 rc=0; shift
    "$@" > /dev/null 2> err.txt || rc=$?
    [ "$rc" -eq "$want" ] || { echo "exit $rc, want $want: $*"; cat err.txt; exit 1; }
    [ "$(wc -l < err.txt)" -eq 1 ] || { echo "not one line: $*"; cat err.txt; exit 1; }
    cat err.txt
}
expect 2 "$LLMOS" generate chat.gguf --best-of 4 -p hi
grep -q -- '--reward' err.txt
expect 2 "$LLMOS" generate chat.gguf --best-of 0 --reward rm.gguf -p hi
expect 2 "$LLMOS" generate chat.gguf --best-of -3 --reward rm.gguf -p hi
expect 2 "$LLMOS" generate chat.gguf --best-of x --reward rm.gguf -p hi
expect 2 "$LLMOS" generate chat.gguf --reward rm.gguf -p hi
expect 2 "$LLMOS" generate chat.gguf --best-of 2 --reward rm.gguf --ids 1,2
expect 1 "$LLMOS" generate chat.gguf --best-of 2 --reward missing.gguf -p hi
grep -q "missing.gguf" err.txt
"$LLMOS" generate --help | grep -q -- '--best-of'
echo "errors ok"
