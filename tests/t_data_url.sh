#!/usr/bin/env bash
# URL sources of llmos data build: file:// and http:// from a local server
# (python3 -m http.server on 127.0.0.1, killed at the end, at most 60 s).
# HTML, gzip'd text and JSONL come back as the same documents as from the
# files; a 404 and a refused connection are skipped and counted.
set -eu
FX=$ROOT/tests/fixtures/corpus/tree
timeout 60 $PY -u -m http.server --bind 127.0.0.1 --directory "$FX" 0 > "$T/http.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
port=
for _ in $(seq 100); do
    port=$(grep -o 'port [0-9]*' "$T/http.log" | head -1 | awk '{print $2}')
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ]
U=http://127.0.0.1:$port
"$LLMOS" data build --out "$T/url" --val-fraction 0 \
    "web=$U/web/three.html" "gz=$U/texts/five.txt.gz" "jl=$U/notes.jsonl?x=1" "file=file://$FX/texts/four.txt" \
    "$U/no-such-file.txt" "http://127.0.0.1:1/refused.txt" > "$T/summary.txt" 2> "$T/err.txt"
cat "$T/summary.txt" "$T/err.txt"
grep -q "no-such-file.txt': .*404" "$T/err.txt"
grep -q "refused.txt'" "$T/err.txt"
"$LLMOS" data build --quiet --out "$T/files" --val-fraction 0 "web=$FX/web/three.html" "gz=$FX/texts/five.txt.gz" \
    "jl=$FX/notes.jsonl" "file=$FX/texts/four.txt" > /dev/null 2>&1
$PY - "$T/url" "$T/files" <<'PY'
import json, sys
def load(d):
    return sorted((x["source"], x["text"]) for x in map(json.loads, open(d + "/train.jsonl")))
u, f = load(sys.argv[1]), load(sys.argv[2])
m = json.load(open(sys.argv[1] + "/manifest.json"))
assert m["skipped_inputs"]["failed URL"] == 2, m["skipped_inputs"]
assert m["skipped_inputs"]["bad format"] == 2, m["skipped_inputs"]  # the two bad JSONL lines
assert {s for s, _ in u} == {"web", "gz", "jl", "file"}, u
assert u == f, "URL and file sources differ"
assert any(t.startswith("The heron waits") for s, t in u if s == "web")
print("ok: %d documents from URLs" % len(u))
PY
echo "t_data_url: ok"
