#!/usr/bin/env bash
# A bounded load test of `llmos serve` under AddressSanitizer and UBSan (not
# part of `make test`: it takes a few minutes with the ASan build):
#
#   tests/serve_load.sh [SECONDS]       (default 60)
#
# Builds build-asan/llmos when missing, serves a tiny random chat model
# with 4 slots, runs tests/py/serve_load.py (16 clients mixing whole and
# streamed answers, dropped streams, JSON-schema replies and bad requests),
# then stops the server with SIGTERM: it must exit 0, with no leak and no
# sanitizer report.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -x build-asan/llmos ] || make BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
    LDFLAGS="-fsanitize=address,undefined" build-asan/llmos
export LLMOS=$ROOT/build-asan/llmos PY=/usr/bin/python3 ROOT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
T=$(mktemp -d)
export T
CTX=512
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
make_chat_model chat.gguf
start_serve server chat.gguf --parallel 4 --threads 2
echo "serving $url (ASan build)"
"$PY" "$ROOT/tests/py/serve_load.py" "$url" "${1:-60}" 16
kill -TERM $pid
rc=0; wait $pid || rc=$?
if [ "$rc" != 0 ] || grep -q "Sanitizer\|runtime error" server.err; then
    echo "FAIL: the server exited with $rc"; cat server.err; exit 1
fi
echo "serve_load.sh: clean exit, no sanitizer report"
rm -rf "$T"
