# tests/py/chat_setup.sh - sourced by the chat and training tests: in $T, a small
# tokenizer trained by llmos (tok.gguf, with the chat special tokens), a
# random tiny llama carrying it (base.gguf, context $CTX, default 128) and
# a few conversations (chats.jsonl) in the common JSONL form; and two
# helpers the preference tests share: write_pairs and make_chat_model.
CTX=${CTX:-128}
cat > "$T/text.txt" <<'TXT'
The zebra is an African wild horse with black and white stripes. Paris is the capital of France.
A helpful assistant answers questions clearly: "What does it mean?" It means this. Numbers: 12, 3.5.
What is the capital of Spain? The capital of Spain is Madrid. What does "happy" mean? Feeling joy.
TXT
for i in 1 2 3 4 5 6 7 8; do cat "$T/text.txt"; done > "$T/corpus.txt"
"$LLMOS" tokenizer train --vocab-size 400 --out "$T/tok.gguf" --quiet "$T/corpus.txt"
"$PY" "$ROOT/tests/py/chat_model.py" "$T/tok.gguf" "$T/base.gguf" --ctx "$CTX"
"$PY" - "$T/chats.jsonl" <<'PY'
import json, random, sys
random.seed(7)
words = ['zebra', 'horse', 'capital', 'France', 'Paris', 'Spain', 'Madrid', 'happy', 'stripes']
with open(sys.argv[1], 'w') as f:
    for i in range(40):
        w = random.choice(words)
        msgs = []
        if i % 5 == 0:
            msgs.append({'role': 'system', 'content': 'You are a helpful assistant.'})
        msgs.append({'role': 'user', 'content': 'What does "%s" mean? (question %d)' % (w, i)})
        msgs.append({'role': 'assistant', 'content': 'The word "%s" means something %d.' % (w, i)})
        if i % 3 == 0:
            msgs.append({'role': 'user', 'content': 'Use it in a sentence.'})
            msgs.append({'role': 'assistant', 'content': 'Here: the %s is %s.' % (w, random.choice(words))})
        f.write(json.dumps({'messages': msgs}) + '\n')
PY

# write_pairs FILE [K]: 60 preference pairs ({"prompt", "chosen", "rejected"})
# on the corpus's words, the chosen answer in one style and the rejected in
# another (a preference a reward model or DPO can learn); with K, every K-th
# prompt carries a system turn (messages form instead of strings).
write_pairs() {
    "$PY" - "$1" "${2:-0}" <<'PY'
import json, random, sys
random.seed(11)
words = ['zebra', 'horse', 'capital', 'France', 'Paris', 'Spain', 'Madrid', 'happy', 'stripes']
every = int(sys.argv[2])
with open(sys.argv[1], 'w') as f:
    for i in range(60):
        w = random.choice(words)
        p = 'What does "%s" mean? (%d)' % (w, i)
        c = 'The word "%s" means something %d.' % (w, i)
        r = 'Paris Paris %s %s!' % (random.choice(words), random.choice(words))
        if every and i % every == 0:
            p = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': p}]
            c, r = [{'role': 'assistant', 'content': c}], [{'role': 'assistant', 'content': r}]
        f.write(json.dumps({'prompt': p, 'chosen': c, 'rejected': r}) + '\n')
PY
}

# make_chat_model FILE: base.gguf's weights with the chat template stored
# (as sft writes it), so that llmos treats it as a chat model.
make_chat_model() {
    "$LLMOS" chat --print-template | tr -d '\n' > "$T/tmpl.txt"
    "$PY" "$ROOT/tests/py/chat_model.py" "$T/tok.gguf" "$1" --ctx "$CTX" --template "$T/tmpl.txt"
}

# start_server NAME READY ARGS...: `llmos ARGS` in the background (stdout
# NAME.txt, stderr NAME.err), killed when the test exits; waits until stdout
# has a line matching READY and sets pid and url (the loopback URL printed).
# pids collects every server started. Fails if the server exits first.
start_server() {
    local name=$1 ready=$2; shift 2
    "$LLMOS" "$@" > "$name.txt" 2> "$name.err" &
    pid=$!
    pids="${pids:-} $pid"
    trap 'for p in $pids; do kill -KILL $p 2>/dev/null || true; done' EXIT
    for _ in $(seq 1 600); do
        grep -q "$ready" "$name.txt" && break
        kill -0 $pid 2>/dev/null || { echo "FAIL: the server exited"; cat "$name.txt" "$name.err"; exit 1; }
        sleep 0.1
    done
    url=$(grep -m1 -o 'http://127\.0\.0\.1:[0-9]*/' "$name.txt") || {
        echo "FAIL: no URL printed"; cat "$name.txt"; exit 1; }
}

# start_label_web NAME ARGS...: `llmos label --web --port 0 ARGS`, started as above.
start_label_web() { local name=$1; shift; start_server "$name" "serving http://" label --web --port 0 "$@"; }

# start_serve NAME ARGS...: `llmos serve --port 0 ARGS`, started as above
# once the model is loaded.
start_serve() { local name=$1; shift; start_server "$name" "ready" serve --port 0 "$@"; }

# make_reward_model THREADS: chat.gguf and pairs.jsonl as above, and rm.gguf,
# a reward model trained on them for one epoch (its output in train.txt).
make_reward_model() {
    make_chat_model chat.gguf
    write_pairs pairs.jsonl
    "$LLMOS" reward train --model base.gguf --data pairs.jsonl --out rm.gguf --epochs 1 --batch 6 --lr 1e-3 \
        --threads "$1" --quiet > train.txt
}
