#!/usr/bin/env bash
# t_label_web_limits.sh - the label page under 100 half-sent requests from
# one client (issue 14: about 1,085 of them starved a new request): the
# server closes the connections past its per-client limit at once and,
# once the client lets go, answers a normal request. (The idle timeout is
# long, 600 s, because a request may wait that long for candidates.)
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
head -n 3 chats.jsonl > prompts.jsonl
start_label_web server --model base.gguf --prompts prompts.jsonl --store store.jsonl --k 2 --max-new 4 --threads 1
"$PY" - "$url" <<'PY'
import json, socket, sys, time, urllib.error, urllib.parse, urllib.request
url = sys.argv[1]
host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
socks = []
for i in range(100):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b'GET /api/task HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ')  # never finished
    socks.append(s)
def closed(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b''
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
time.sleep(1)
early = [s for s in socks if closed(s, 0.05)]
print('%d of 100 half-sent connections closed at once (per-client limit)' % len(early))
assert len(early) >= 50, 'the server kept %d half-sent connections from one client' % (100 - len(early))
for s in socks:
    s.close()
# The server notices the closed sockets on its next poll: a new request may be
# refused (reset) for a moment, but must be answered within a few seconds.
for attempt in range(20):
    try:
        t = json.load(urllib.request.urlopen(url + 'api/task', timeout=60))
        break
    except (ConnectionResetError, urllib.error.URLError) as e:
        last = e
        time.sleep(0.5)
else:
    raise SystemExit('no answer 10 s after the client let go: %s' % last)
assert 'candidates' in t or t.get('done'), t
print('a new request is answered')
PY
kill -INT $pid
rc=0; wait $pid || rc=$?
trap - EXIT
[ "$rc" = 0 ] || { echo "FAIL: the server exited with $rc on SIGINT"; cat server.err; exit 1; }
