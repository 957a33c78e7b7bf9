#!/usr/bin/env bash
# `llmos label --web` in a real browser: Debian's Chromium, driven by npm
# playwright-core (tests/js/label_web.mjs), labels three prompts with K=3 on
# a tiny chat model: ranks the first by clicking C, A, B; writes an ideal
# answer for the second and picks B over A; flags the third as spam; skips
# the fourth (after clicking ranks). Before
# that, malformed judgements are posted by Python and must get 400 (or 409,
# 413, 415, 404, 405, or 403 for a Host that is not localhost) with a
# one-line JSON error and add nothing. Checked with Python's json module:
# the store's records (ranks as clicked, flags,
# ideal, labeler, model, time, the candidates the page showed), the SFT
# file, that the terminal front end samples the same candidates for the
# same prompts and seed, that a second server on the same port fails with
# one line and exit 1, and that SIGTERM stops the server cleanly (exit 0;
# under `make asan` also without leaks).
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium missing (scripts/install-deps.sh)"; exit 1; }
[ -d "$ROOT/tests/oracle/node_modules/playwright-core" ] || {
    echo "FAIL: playwright-core missing (scripts/install-deps.sh)"; exit 1; }
head -n 4 chats.jsonl > prompts.jsonl
printf '%s\n' '# Test guideline' '' 'Prefer **correct** answers.' '' '- first point' '- second point' \
    '  continued' '' '<script>window.pwned = 1</script> <img src=x onerror="window.pwned=2">' > guide.md
opts=(--model base.gguf --prompts prompts.jsonl --store store.jsonl --k 3 --max-new 10 --threads 2)

"$LLMOS" label --help | grep -q -- "--web"
rc=0; "$LLMOS" label --web --port 70000 "${opts[@]}" 2> badport.txt || rc=$?
[ "$rc" = 2 ] && [ "$(wc -l < badport.txt)" = 1 ] || { echo "FAIL: --port 70000 gave $rc"; cat badport.txt; exit 1; }
rc=0; "$LLMOS" label --port 8081 "${opts[@]}" 2> noweb.txt < /dev/null || rc=$?
[ "$rc" = 2 ] && grep -q "go with --web" noweb.txt || { echo "FAIL: --port without --web gave $rc"; exit 1; }

start_label_web server "${opts[@]}" --labeler alice --instructions guide.md
port=${url##*:}; port=${port%/}
echo "serving $url"

# the same port again: one line, exit 1
rc=0; "$LLMOS" label --web --port "$port" "${opts[@]}" --labeler carol > busy.out 2> busy.txt || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < busy.txt)" = 1 ] && grep -q "port $port: Address already in use" busy.txt || {
    echo "FAIL: a second server on port $port gave $rc"; cat busy.txt; exit 1; }

"$PY" - "$url" <<'PY'
import json, sys, urllib.request, urllib.error, os
url = sys.argv[1]
def call(path, body=None, ctype='application/json', method=None):
    req = urllib.request.Request(url + path, data=body, method=method)
    if body is not None and ctype: req.add_header('Content-Type', ctype)
    try:
        with urllib.request.urlopen(req, timeout=60) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, e.read()
code, task = call('api/task')
task = json.loads(task)
assert code == 200 and task['index'] == 0 and task['k'] == 3 and len(task['candidates']) == 3, task
J = lambda o: json.dumps(o).encode()
bad = [
    (b'not json', 400), (b'[]', 400), (b'', 400), (J({'index': 0, 'ranks': [1, 2]}), 400),
    (J({'index': 0, 'ranks': [1, 2, 4]}), 400), (J({'index': 0, 'ranks': [1, 2, -1]}), 400),
    (J({'index': 0, 'ranks': [1.5, 2, 3]}), 400), (J({'index': 0, 'ranks': ['1', 2, 3]}), 400),
    (J({'index': 0, 'ranks': [1, 2, 3], 'flags': ['bogus']}), 400),
    (J({'index': 0, 'ranks': [1, 2, 3], 'flags': 'skip'}), 400),
    (J({'index': 0, 'ranks': [1, 2, 3], 'extra': 1}), 400), (J({'index': 0, 'ranks': [0, 0, 0]}), 400),
    (J({'index': 0, 'ranks': [1, 0, 0]}), 400), (J({'index': 0, 'ranks': [1, 2, 3], 'ideal': 5}), 400),
    (J({'index': 0, 'ranks': [0, 0, 0], 'ideal': '  \n '}), 400), (J({'ranks': [1, 2, 3]}), 400),
    (J({'index': 'x', 'ranks': [1, 2, 3]}), 400), (J({'index': 1, 'ranks': [1, 2, 3]}), 409),
    (b'{"index": 0, "ranks": [1, 2, 3]', 400), (b'{"index": 0, "ranks": [1e400, 2, 3]}', 400),
    (b'x' * (2 << 20), 413),
]
for body, want in bad:
    code, out = call('api/judgement', body)
    assert code == want, (body[:80], code, out)
    assert out.count(b'\n') <= 1 and 'error' in json.loads(out), out
code, out = call('api/judgement', J({'index': 0, 'ranks': [1, 2, 3]}), ctype='text/plain')
assert code == 415, code
for path, method, want in [('api/judgement', 'GET', 405), ('api/task', 'POST', 405), ('nope', 'GET', 404)]:
    code, out = call(path, b'{}' if method == 'POST' else None, method=method)
    assert code == want and 'error' in json.loads(out), (path, code, out)
# another name for this machine (DNS rebinding) is refused; localhost is fine
for host, want in [('evil.example', 403), ('evil.example:80', 403), ('127.0.0.1.evil.example', 403),
                   ('localhost', 200), ('[::1]:1', 200)]:
    req = urllib.request.Request(url + 'api/info', headers={'Host': host})
    try: code = urllib.request.urlopen(req, timeout=60).status
    except urllib.error.HTTPError as e: code = e.code
    assert code == want, (host, code)
assert not os.path.exists('store.jsonl') or os.path.getsize('store.jsonl') == 0, 'a bad request wrote'
code, again = call('api/task')
assert json.loads(again)['candidates'] == task['candidates'], 'the task changed'
print('bad requests ok: %d refused, nothing written' % (len(bad) + 7))
PY

node "$ROOT/tests/js/label_web.mjs" "$url" "$T"

kill -TERM $pid
rc=0; wait $pid || rc=$?
trap - EXIT
cat server.txt
[ "$rc" = 0 ] || { echo "FAIL: the server exited $rc after SIGTERM"; cat server.err; exit 1; }
grep -q "stopped by SIGTERM; 4 judgements saved to store.jsonl" server.txt

# the terminal front end, another labeler: same prompts and seed, same candidates
printf '\ns\ns\ns\ns\n' | "$LLMOS" label "${opts[@]}" --labeler bob > bob.txt

"$PY" - <<'PY'
import json, re
recs = [json.loads(l) for l in open('store.jsonl')]
convs = [json.loads(l) for l in open('prompts.jsonl')]
shown = json.load(open('shown.json'))
first_user = lambda c: c['messages'][:next(i for i, m in enumerate(c['messages']) if m['role'] == 'user') + 1]
a = [r for r in recs if r['labeler'] == 'alice']
b = [r for r in recs if r['labeler'] == 'bob']
assert len(a) == 4 and len(b) == 4 and len(recs) == 8, len(recs)
keys = ['labeler', 'time', 'model', 'prompt', 'candidates', 'ranks', 'flags']
for i, r in enumerate(a):
    assert list(r)[:7] == keys, list(r)
    assert r['model'] == 'base.gguf' and re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', r['time']), r
    assert r['prompt'] == first_user(convs[i]), (i, r['prompt'])
    assert r['prompt'] == shown[i]['prompt'], 'the page showed another prompt'
    assert r['candidates'] == shown[i]['candidates'], 'the page showed other candidates'
    assert r['candidates'] == b[i]['candidates'], 'terminal and web sampled different candidates'
assert a[0]['ranks'] == [2, 3, 1] and a[0]['flags'] == [] and 'ideal' not in a[0]
assert a[1]['ranks'] == [2, 1, 0] and a[1]['flags'] == [] and a[1]['ideal'] == 'It means a striped horse.'
assert a[2]['ranks'] == [0, 0, 0] and a[2]['flags'] == ['spam'] and 'ideal' not in a[2]
assert a[3]['ranks'] == [0, 0, 0] and a[3]['flags'] == ['skip'] and 'ideal' not in a[3]
assert [r['flags'] for r in b] == [['skip']] * 4
assert len(set(a[0]['candidates'])) > 1
sft = [json.loads(l) for l in open('store.sft.jsonl')]
assert sft == [{'messages': first_user(convs[1]) + [{'role': 'assistant', 'content': 'It means a striped horse.'}],
                'labeler': 'alice'}], sft
print('web label ok: 4 judgements as clicked, same candidates as the terminal')
PY
"$LLMOS" chat base.gguf --render store.sft.jsonl > /dev/null

# alice again, on the page: everything is judged; SIGINT stops it
start_label_web again "${opts[@]}" --labeler alice
grep -q "serving .* 4 judged before" again.txt || { echo "FAIL: restart"; cat again.txt again.err; exit 1; }
"$PY" - "$url" <<'PY'
import json, sys, urllib.request
t = json.loads(urllib.request.urlopen(sys.argv[1] + 'api/task', timeout=60).read())
assert t['done'] and t['judged'] == 4 and t['judged_session'] == 0 and t['total'] == 4, t
PY
kill -INT $pid
rc=0; wait $pid || rc=$?
trap - EXIT
[ "$rc" = 0 ] && grep -q "stopped by SIGINT; 0 judgements" again.txt || { echo "FAIL: SIGINT gave $rc"; cat again.txt again.err; exit 1; }
