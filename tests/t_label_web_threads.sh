#!/usr/bin/env bash
# `llmos label --web --threads 1` samples on one thread: the sampler thread
# runs the model with the thread count of --threads, not OpenMP's default
# (a new thread does not inherit the main thread's omp_set_num_threads, so
# it ran with OMP_NUM_THREADS / all cores, and the model state made for 1
# thread then shared its attention scratch between threads). With
# OMP_NUM_THREADS=4 the process must hold only main, the HTTP thread and
# the sampler once candidates are ready (counted in /proc/PID/task).
set -eu
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
head -n 3 chats.jsonl > prompts.jsonl
OMP_NUM_THREADS=4 start_label_web server --model base.gguf --prompts prompts.jsonl --store store.jsonl \
    --k 2 --max-new 8 --threads 1
# the first prompt's candidates are ready when /api/task answers; the
# sampler then prepares the second
"$PY" - "$url" <<'PY'
import json, sys, time, urllib.request
t = json.load(urllib.request.urlopen(sys.argv[1] + 'api/task', timeout=60))
assert not t['done'] and len(t['candidates']) == 2, t
time.sleep(1)
PY
n=$(ls /proc/$pid/task | wc -l)
names=$(cat /proc/$pid/task/*/comm | sort | uniq -c | tr '\n' ' ')
kill -INT $pid
rc=0; wait $pid || rc=$?
trap - EXIT
[ "$rc" = 0 ] || { echo "FAIL: the server exited with $rc on SIGINT"; cat server.err; exit 1; }
[ "$n" -le 3 ] || { echo "FAIL: $n threads with --threads 1 ($names)"; exit 1; }
echo "ok: $n threads ($names)"
