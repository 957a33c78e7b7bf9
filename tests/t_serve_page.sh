#!/usr/bin/env bash
# The chat page of `llmos serve` in a real browser: Debian's Chromium driven
# by npm playwright-core (tests/js/serve_page.mjs): a message typed and its
# reply streaming in, Stop (and the slot freed on the server), a reload that
# finds the conversation in localStorage, the system prompt sent, and an XSS
# payload in a reply shown as text. The model has a 16384-token context (and
# the page's request a logit_bias that bans ending the turn) so that the
# reply is still streaming when Stop is pressed.
set -eu
CTX=16384
source "$ROOT/tests/py/chat_setup.sh"
cd "$T"
[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium missing (scripts/install-deps.sh)"; exit 1; }
[ -d "$ROOT/tests/oracle/node_modules/playwright-core" ] || {
    echo "FAIL: playwright-core missing (scripts/install-deps.sh)"; exit 1; }
make_chat_model chat.gguf
start_serve server chat.gguf --threads 1
echo "serving $url"
node "$ROOT/tests/js/serve_page.mjs" "$url" "$T"
kill -TERM $pid
wait $pid || { echo "FAIL: SIGTERM did not stop the server cleanly"; cat server.err; exit 1; }
echo PASS
