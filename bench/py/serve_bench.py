#!/usr/bin/env python3
"""serve_bench.py - one measurement of an OpenAI-compatible server's
throughput (bench/serve.sh runs it on llmos serve and on llama-server,
alternating).

    serve_bench.py URL STREAMS MAX_TOKENS EOS_ID [ROUNDS]

STREAMS clients at once each send ROUNDS (default 2) streaming
/v1/completions requests (a fixed prompt per client, temperature 0,
max_tokens MAX_TOKENS, the end-of-text token banned with logit_bias so
that every reply has MAX_TOKENS tokens on both servers). Prints one JSON
line: streams, the generated tokens (from each reply's usage when given,
else its chunks), the wall time, aggregate tok/s = tokens / wall time, and
the mean and median time to first token (from sending the request to the
first chunk with text).
"""
import json
import statistics
import sys
import threading
import time
import urllib.request

url, streams, max_tokens, eos = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 2
WORDS = ['Once upon a time', 'The capital of France', 'In the beginning', 'A small dog', 'The weather today',
         'My favourite book', 'Numbers are', 'The river']
ttft, tokens, errors = [], [], []
lock = threading.Lock()


def one(k, r):
    body = json.dumps({'prompt': '%s (%d, %d)' % (WORDS[k % len(WORDS)], k, r), 'max_tokens': max_tokens,
                       'temperature': 0, 'stream': True, 'logit_bias': {str(eos): -100},
                       'stream_options': {'include_usage': True}}).encode()
    req = urllib.request.Request(url + 'v1/completions', data=body, headers={'Content-Type': 'application/json'})
    t0 = time.time()
    first, n_chunks, usage = None, 0, None
    with urllib.request.urlopen(req, timeout=600) as resp:
        buf = b''
        for line in resp:
            buf += line
            if not line.strip():
                ev, buf = buf.decode().strip(), b''
                if not ev.startswith('data: ') or ev == 'data: [DONE]':
                    continue
                j = json.loads(ev[6:])
                if j.get('usage'):
                    usage = j['usage']['completion_tokens']
                for c in j.get('choices', []):
                    if c.get('text'):
                        n_chunks += 1
                        if first is None:
                            first = time.time() - t0
    with lock:
        ttft.append(first if first is not None else float('nan'))
        tokens.append(usage if usage else n_chunks)


def client(k):
    try:
        for r in range(rounds):
            one(k, r)
    except Exception as e:  # noqa: BLE001 - reported in the output
        with lock:
            errors.append(repr(e))


t0 = time.time()
ts = [threading.Thread(target=client, args=(k,)) for k in range(streams)]
for t in ts:
    t.start()
for t in ts:
    t.join()
wall = time.time() - t0
print(json.dumps({'streams': streams, 'requests': len(tokens), 'tokens': sum(tokens), 'wall_s': round(wall, 3),
                  'tok_per_s': round(sum(tokens) / wall, 2), 'ttft_mean_s': round(statistics.mean(ttft), 4) if ttft else None,
                  'ttft_median_s': round(statistics.median(ttft), 4) if ttft else None, 'errors': errors[:3]}))
