#!/usr/bin/env bash
# The 'tiny' preset (files present on every Debian system): every regular
# file of /usr/share/common-licenses (symlinks are aliases, not read twice)
# becomes one document, counted independently here; the copyright files
# share many license texts, so exact or near duplicates must be found.
set -eu
"$LLMOS" data build --preset tiny --out "$T/tiny" > "$T/summary.txt" 2> "$T/err.txt"
cat "$T/summary.txt"
$PY - "$T/tiny" <<'PY'
import json, os, sys
d = "/usr/share/common-licenses"
files = [f for f in sorted(os.listdir(d)) if not os.path.islink(os.path.join(d, f)) and os.path.isfile(os.path.join(d, f))
         and open(os.path.join(d, f), "rb").read().strip()]
m = json.load(open(sys.argv[1] + "/manifest.json"))
src = {s["name"]: s for s in m["sources"]}
assert src["licenses"]["docs_in"] == len(files), (src["licenses"]["docs_in"], len(files))
t = m["totals"]
assert t["kept_docs"] > 20 and t["train_bytes"] > 100000, t
assert t["exact_duplicates"] + t["near_duplicates"] >= 1, t
lines = [json.loads(l) for f in ("train.jsonl", "val.jsonl") for l in open(sys.argv[1] + "/" + f)]
assert any("GNU GENERAL PUBLIC LICENSE" in x["text"] for x in lines)
print("ok: %d license files, %d documents kept" % (len(files), t["kept_docs"]))
PY
echo "t_data_preset: ok"
