#!/usr/bin/env bash
# `llmos serve` on a free loopback port, talked to by the official `openai`
# npm client (tests/js/serve_api.mjs: streaming equals non-streaming at
# temperature 0, usage against `llmos tokenize`, n and seed, stop strings,
# logprobs, json_schema replies validated by ajv, tool calls) and by
# Python's urllib: every error's status and {"error": {message, type,
# param, code}} shape, /tokenize against `llmos tokenize`, /detokenize,
# /apply-template, /metrics, the key, a client that disconnects (its slot
# is free at once), concurrent temperature-0 requests against the same
# requests one at a time, 429 from a full queue, and a clean SIGTERM.
set -eu
CTX=1024
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
[ -d "$ROOT/tests/oracle/node_modules/openai" ] && [ -d "$ROOT/tests/oracle/node_modules/ajv" ] || {
    echo "FAIL: openai or ajv missing from tests/oracle (scripts/install-deps.sh)"; exit 1; }
make_chat_model chat.gguf

"$LLMOS" serve --help | grep -q -- "--parallel"
rc=0; "$LLMOS" serve chat.gguf --port 70000 2> badport.txt || rc=$?
[ "$rc" = 2 ] && [ "$(wc -l < badport.txt)" = 1 ] || { echo "FAIL: --port 70000 gave $rc"; exit 1; }
rc=0; "$LLMOS" serve missing.gguf --port 0 > /dev/null 2> missing.txt || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < missing.txt)" = 1 ] || { echo "FAIL: a missing model gave $rc"; cat missing.txt; exit 1; }

start_serve server chat.gguf --parallel 2 --threads 2 --api-key sekret
echo "serving $url"

# the prompt tokens of the test's conversation, by `llmos tokenize` of the rendered template
"$PY" - "$url" > rendered.txt <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + 'apply-template', data=json.dumps({'messages': [
    {'role': 'system', 'content': 'You are a helpful assistant.'},
    {'role': 'user', 'content': 'What does "zebra" mean?'}]}).encode(),
    headers={'Content-Type': 'application/json', 'Authorization': 'Bearer sekret'})
sys.stdout.write(json.load(urllib.request.urlopen(req))['prompt'])
PY
grep -q '<|assistant|>$' rendered.txt || { echo "FAIL: apply-template: $(cat rendered.txt)"; exit 1; }
"$LLMOS" tokenize chat.gguf --file rendered.txt --special --bos --json > template_ids.json
"$PY" -c "import json; print(json.dumps({'template_ids': json.load(open('template_ids.json'))['ids']}))" > checks.json

node "$ROOT/tests/js/serve_api.mjs" "$url" sekret checks.json

"$PY" - "$url" "$LLMOS" <<'PY'
import json, sys, subprocess, threading, time, urllib.request, urllib.error, socket
url, llmos = sys.argv[1], sys.argv[2]
H = {'Content-Type': 'application/json', 'Authorization': 'Bearer sekret'}
def call(path, body=None, headers=H, method=None, raw=False):
    data = body if raw or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, e.read()
def err(path, body, status, param=None, code=None, headers=H, raw=False, contains=()):
    got, out = call(path, body, headers, raw=raw)
    assert got == status, (path, body if not raw else body[:60], got, out)
    e = json.loads(out)['error']
    assert set(e) == {'message', 'type', 'param', 'code'}, e
    assert isinstance(e['message'], str) and e['message'] and isinstance(e['type'], str), e
    assert e['param'] == param, (e, param)
    if code: assert e['code'] == code, (e, code)
    for c in contains: assert c in e['message'], (e, c)
    return e
msgs = [{'role': 'user', 'content': 'Hi'}]
C = 'v1/chat/completions'
err(C, b'{"messages": [', 400, raw=True, code='invalid_json')
err(C, b'[1, 2]', 400, raw=True)
err(C, {'messages': msgs, 'temperature': 'hot'}, 400, 'temperature')
err(C, {'messages': msgs, 'temperature': 3}, 400, 'temperature')
err(C, {'messages': msgs, 'max_tokens': 1.5}, 400, 'max_tokens')
err(C, {'messages': msgs, 'n': 0}, 400, 'n')
err(C, {'messages': msgs, 'stream': 'yes'}, 400, 'stream')
err(C, {'messages': msgs, 'stop': [1]}, 400, 'stop')
err(C, {'messages': msgs, 'top_logprobs': 2}, 400, 'top_logprobs')
err(C, {'messages': msgs, 'bogus_field': 1}, 400, 'bogus_field', 'unknown_parameter')
err(C, {'messages': msgs, 'logit_bias': {'x': 1}}, 400, 'logit_bias')
err(C, {'messages': msgs, 'logit_bias': {'5': 101}}, 400, 'logit_bias')
err(C, {'messages': 'hi'}, 400, 'messages')
err(C, {'messages': [{'role': 'wizard', 'content': 'x'}]}, 400, 'messages')
err(C, {'messages': msgs, 'model': 'gpt-9'}, 404, 'model', 'model_not_found')
err(C, {'messages': msgs, 'response_format': {'type': 'json_schema', 'json_schema': {'name': 'x',
    'schema': {'type': 'string', 'pattern': '^a'}}}}, 400, 'response_format', contains=('pattern',))
err(C, {'messages': msgs, 'tools': [{'type': 'function', 'function': {'name': 'f'}}],
        'tool_choice': {'type': 'function', 'function': {'name': 'g'}}}, 400, 'tools')
long_text = "zebra " * 1200
e = err(C, {'messages': [{'role': 'user', 'content': long_text}]}, 400, 'messages', 'context_length_exceeded')
n_long = int(subprocess.run([llmos, 'tokenize', 'chat.gguf', '<|user|>' + long_text + '<|end_of_turn|><|assistant|>',
                             '--special', '--bos', '--ids'], capture_output=True, text=True, check=True).stdout.split().__len__())
assert "1024" in e["message"] and str(n_long) in e['message'], (e, n_long)
err('v1/completions', {'prompt': long_text}, 400, 'prompt', 'context_length_exceeded')
err('v1/completions', {'prompt': [1, 100000]}, 400, 'prompt')
err(C, {'messages': msgs}, 401, code='invalid_api_key', headers={'Content-Type': 'application/json'})
err(C, {'messages': msgs}, 401, code='invalid_api_key', headers={'Content-Type': 'application/json', 'Authorization': 'Bearer nope'})
err(C, b'{"messages": "' + b'x' * (9 << 20) + b'"}', 413, raw=True, code='request_too_large')
err('nope', None, 404)
got, out = call(C, None, method='GET'); assert got == 405, got
got, out = call('health', headers={}); assert got == 200 and json.loads(out) == {'status': 'ok'}, out
# a foreign Host (DNS rebinding) is refused
got, out = call('v1/models', headers={**H, 'Host': 'evil.example'}); assert got == 403, got
# the page, without a key
got, out = call('', headers={}); assert got == 200 and b'<title>llmos chat</title>' in out

# /tokenize and /detokenize against `llmos tokenize`
text = 'The zebra is an African wild horse.<|user|>'
got, out = call('tokenize', {'content': text, 'with_pieces': True})
toks = json.loads(out)['tokens']
ref = json.loads(subprocess.run([llmos, 'tokenize', 'chat.gguf', text, '--special', '--json'], capture_output=True,
                                text=True, check=True).stdout)
assert [t['id'] for t in toks] == ref['ids'] and [t['piece'] for t in toks] == ref['pieces'], (toks, ref)
got, out = call('tokenize', {'content': 'x', 'add_special': 'yes'}); assert got == 400
got, out = call('detokenize', {'tokens': ref['ids']})
assert got == 200 and json.loads(out)['content'] == text, out
got, out = call('detokenize', {'tokens': [-1]}); assert got == 400 and json.loads(out)['error']['param'] == 'tokens'

# logit_bias: +100 makes token 65 every greedy choice, -100 bans it
got, out = call(C, {'messages': msgs, 'temperature': 0, 'max_tokens': 5, 'logit_bias': {'65': 100}})
forced = json.loads(out)['choices'][0]['message']['content']
got, out = call('detokenize', {'tokens': [65] * 5})
assert forced == json.loads(out)['content'], (forced, out)
got, out = call(C, {'messages': msgs, 'temperature': 0, 'max_tokens': 8, 'logprobs': True,
                    'logit_bias': {'65': -100}})
piece = json.loads(call('detokenize', {'tokens': [65]})[1])['content']
assert all(t['token'] != piece for t in json.loads(out)['choices'][0]['logprobs']['content'])

# concurrent temperature-0 requests give what the same requests give one at a time
qs = ['What does "%s" mean?' % w for w in ['zebra', 'happy', 'Paris', 'Madrid', 'capital', 'horse']]
def ask(q, stream=False):
    got, out = call(C, {'messages': [{'role': 'user', 'content': q}], 'temperature': 0, 'max_tokens': 16})
    assert got == 200, out
    return json.loads(out)['choices'][0]['message']['content']
alone = [ask(q) for q in qs]
together = [None] * len(qs)
def worker(i): together[i] = ask(qs[i])
ts = [threading.Thread(target=worker, args=(i,)) for i in range(len(qs))]
for t in ts: t.start()
for t in ts: t.join()
assert together == alone, (together, alone)

# a client that goes away frees its slot at once: two greedy streams that
# would run to the end of the context (~1000 tokens each, the tiny model never
# ends a reply at temperature 0) are dropped after their first bytes
def metric(name):
    got, out = call('metrics')
    for line in out.decode().splitlines():
        if line.startswith(name + ' '): return float(line.split()[1])
    raise AssertionError(name)
gen0 = metric('llmos_tokens_generated_total')
for _ in range(2):
    s = socket.create_connection((url.split('//')[1].split(':')[0], int(url.rsplit(':', 1)[1].strip('/'))))
    body = json.dumps({'messages': msgs, 'stream': True, 'temperature': 0}).encode()
    s.sendall(b'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sekret\r\n'
              b'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
    assert b'200' in s.recv(100)
    s.close()
deadline = time.time() + 5
while metric('llmos_requests_processing') > 0 and time.time() < deadline: time.sleep(0.05)
assert metric('llmos_requests_processing') == 0, 'a disconnected client still holds its slot'
gen = metric('llmos_tokens_generated_total')
assert gen - gen0 < 600, ('tokens generated for clients that left', gen - gen0)
assert metric('llmos_completions_total') >= 40
print('errors, tokenize, concurrency, disconnects: ok')
PY

# a full queue: 429 with OpenAI's shape
start_serve full chat.gguf --queue 0 --threads 1
"$PY" - "$url" <<'PY'
import json, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1] + 'v1/chat/completions', data=json.dumps({'messages': [
    {'role': 'user', 'content': 'Hi'}]}).encode(), headers={'Content-Type': 'application/json'})
try: urllib.request.urlopen(req); raise SystemExit('FAIL: no 429')
except urllib.error.HTTPError as e:
    assert e.code == 429 and json.loads(e.read())['error']['code'] == 'queue_full', e.code
PY
kill -TERM $pid
wait $pid || { echo "FAIL: the second server did not exit cleanly"; cat full.err; exit 1; }

pid=${pids%% *}; pid=${pids# }; pid=${pid%% *}
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ "$rc" = 0 ] && grep -q "stopped by SIGTERM" server.txt || { echo "FAIL: SIGTERM gave $rc"; cat server.err; exit 1; }
echo "PASS"
