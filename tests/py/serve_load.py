#!/usr/bin/env python3
"""tests/py/serve_load.py - a bounded load test of `llmos serve` (driven by
tests/serve_load.sh, not part of `make test`: it runs for a minute or more).

    serve_load.py URL SECONDS [CLIENTS]

First asks each of a few questions alone at temperature 0 (the reference
answers). Then CLIENTS threads (16) for SECONDS mix, at random: the same
questions whole and streamed (each answer must equal its reference: N
concurrent temperature-0 requests give the text they give one at a time),
streams dropped after their first bytes, json_schema replies (must parse
and hold the schema's fields), and bad requests (must get their status and
OpenAI's error shape). Every good request must be answered. At the end no
sequence may be left in a slot. Prints one line of counts; exit 1 with the
first problem.
"""
import json
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

url, seconds = sys.argv[1], float(sys.argv[2])
clients = int(sys.argv[3]) if len(sys.argv) > 3 else 16
host, port = url.split('//')[1].split('/')[0].rsplit(':', 1)
QS = ['What does "%s" mean?' % w for w in ['zebra', 'happy', 'Paris', 'Madrid', 'capital', 'horse', 'Spain']]
SCHEMA = {'type': 'object', 'properties': {'word': {'type': 'string', 'maxLength': 8}, 'n': {'type': 'integer'}},
          'required': ['word', 'n'], 'additionalProperties': False}


def post(path, body, timeout=300):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def chat(q, stream=False, **extra):
    body = {'messages': [{'role': 'user', 'content': q}], 'temperature': 0, 'max_tokens': 24, 'stream': stream}
    body.update(extra)
    code, out = post('v1/chat/completions', body)
    if code != 200:
        raise AssertionError('status %d for a good request: %s' % (code, out[:200]))
    if not stream:
        return json.loads(out)['choices'][0]['message']['content']
    text, done = '', False
    for ev in out.decode().split('\n\n'):
        if not ev.startswith('data: '):
            continue
        if ev[6:] == '[DONE]':
            done = True
            continue
        for c in json.loads(ev[6:])['choices']:
            text += c['delta'].get('content') or ''
    if not done:
        raise AssertionError('a stream without [DONE]')
    return text


def drop():
    s = socket.create_connection((host, int(port)))
    body = json.dumps({'messages': [{'role': 'user', 'content': random.choice(QS)}], 'stream': True,
                       'temperature': 1}).encode()
    s.sendall(b'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
              b'Content-Length: %d\r\n\r\n' % len(body) + body)
    s.recv(64)
    s.close()


BAD = [(b'{"messages": [', 400), (b'[]', 400), (json.dumps({'messages': 'x'}).encode(), 400),
       (json.dumps({'messages': [{'role': 'user', 'content': 'x'}], 'temperature': 'hot'}).encode(), 400),
       (json.dumps({'messages': [{'role': 'user', 'content': 'x'}], 'model': 'nope'}).encode(), 404),
       (json.dumps({'messages': [{'role': 'user', 'content': 'x'}], 'n': 99}).encode(), 400)]

ref = {q: chat(q) for q in QS}
counts = {'whole': 0, 'stream': 0, 'dropped': 0, 'json': 0, 'bad': 0}
problems = []
lock = threading.Lock()
end = time.time() + seconds


def client(k):
    rng = random.Random(k)
    try:
        while time.time() < end and not problems:
            a = rng.random()
            q = rng.choice(QS)
            if a < 0.3:
                got, kind = chat(q), 'whole'
                assert got == ref[q], ('whole answer differs under load', q, got, ref[q])
            elif a < 0.55:
                got, kind = chat(q, stream=True), 'stream'
                assert got == ref[q], ('streamed answer differs under load', q, got, ref[q])
            elif a < 0.7:
                drop()
                kind = 'dropped'
            elif a < 0.85:
                txt = chat(q, temperature=1, seed=rng.randrange(1 << 30), max_tokens=120,
                           response_format={'type': 'json_schema', 'json_schema': {'name': 's', 'schema': SCHEMA}})
                v = json.loads(txt)
                assert set(v) == {'word', 'n'} and isinstance(v['n'], int) and len(v['word']) <= 8, txt
                kind = 'json'
            else:
                body, want = rng.choice(BAD)
                code, out = post('v1/chat/completions', body)
                e = json.loads(out)['error']
                assert code == want and set(e) == {'message', 'type', 'param', 'code'}, (body, code, out)
                kind = 'bad'
            with lock:
                counts[kind] += 1
    except Exception as e:  # noqa: BLE001 - reported below
        with lock:
            problems.append(repr(e))


threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if problems:
    print('FAIL:', problems[0])
    sys.exit(1)
deadline = time.time() + 10
busy = 1
while busy and time.time() < deadline:
    with urllib.request.urlopen(url + 'metrics') as r:
        busy = [float(line.split()[1]) for line in r.read().decode().splitlines()
                if line.startswith('llmos_requests_processing ')][0]
    time.sleep(0.1)
if busy:
    print('FAIL: sequences still in slots after the load')
    sys.exit(1)
print('serve_load: %d clients, %.0f s: %s; every good request answered, answers equal the ones given alone'
      % (clients, seconds, ', '.join('%s %d' % kv for kv in counts.items())))
