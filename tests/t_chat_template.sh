#!/usr/bin/env bash
# The chat template: llmos's rendering (text and tokens) of conversations
# equals what llama.cpp and node-llama-cpp make of the Jinja template the
# model file stores (tokenizer.chat_template): @huggingface/jinja renders
# the stored template, llama.cpp tokenizes the text with special tokens,
# and node-llama-cpp's JinjaTemplateChatWrapper renders the chat history.
set -eu
cd "$T"
cat > text.txt <<'TXT'
The zebra is an African wild horse with black and white stripes. Paris is the capital of France.
A helpful assistant answers questions clearly: "What does it mean?" It means this. Numbers: 12, 3.5.
Unicode too: café, naïve, Ångström, 東京. Code: def f(x): return x * 2  # comment
TXT
for i in 1 2 3 4 5 6; do cat text.txt; done > corpus.txt
"$LLMOS" tokenizer train --vocab-size 600 --out tok.gguf --quiet corpus.txt
# a random tiny base model with this tokenizer; `llmos sft` writes the
# assistant model, template included
"$PY" "$ROOT/tests/py/chat_model.py" tok.gguf base.gguf --ctx 128
echo '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}' > one.jsonl
"$LLMOS" sft --model base.gguf --data one.jsonl --out model.gguf --steps 1 --batch 1 --threads 2 --quiet
"$LLMOS" chat --print-template > tmpl.txt
cat > conv.jsonl <<'JSONL'
{"messages": [{"role": "user", "content": "What does \"zebra\" mean?"}]}
{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}]}
{"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hi there!\nHow are you?"}, {"role": "assistant", "content": "I am fine, thanks.\n\nAsk me anything."}, {"role": "user", "content": "Capital of France?"}]}
{"messages": [{"role": "user", "content": "  leading and trailing spaces  "}, {"role": "assistant", "content": "Unicode: café 東京 — ok"}, {"role": "user", "content": "x"}]}
{"messages": [{"role": "tool", "content": "{\"result\": 42}"}, {"role": "user", "content": "Quotes ' and \" and {{ braces }} and {% tags %}"}]}
JSONL
"$LLMOS" chat model.gguf --render conv.jsonl > ours.jsonl
node "$ROOT/tests/js/chat_template.mjs" model.gguf < conv.jsonl > theirs.jsonl
"$PY" - <<'PY'
import json
ours = [json.loads(l) for l in open('ours.jsonl')]
theirs = [json.loads(l) for l in open('theirs.jsonl')]
assert len(ours) == len(theirs) == 10, (len(ours), len(theirs))
n_wrapper = 0
for i, (a, b) in enumerate(zip(ours, theirs)):
    assert b['template_found'], 'llama.cpp did not find tokenizer.chat_template'
    assert a['text'] == b['text'], (i, a['text'], b['text'])
    assert a['ids'] == b['ids'], (i, a['ids'], b['ids'])
    if 'wrapper_ids' in b:
        n_wrapper += 1
        assert a['ids'] == b['wrapper_ids'], (i, a['ids'], b['wrapper_ids'])
    # the assistant mask: exactly the assistant contents and their end of turn
    if not a['generation_prompt']:
        continue
assert n_wrapper == 3, n_wrapper
# mask check on conversation 2 (user, assistant): only "Hello! How can I help?" + eot
a = ours[2]
ids, train = a['ids'], a['train']
k = train.index(1)
assert all(train[k:]) and not any(train[:k]), train
assert sum(train) >= 2
# the template llama.cpp read from the sft output is the one llmos prints
assert theirs[0]['template'] == open('tmpl.txt').read().rstrip('\n'), theirs[0]['template']
print('template ok: %d renderings equal llama.cpp and node-llama-cpp' % len(ours))
PY
