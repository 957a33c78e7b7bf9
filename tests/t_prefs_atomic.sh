#!/usr/bin/env bash
# t_prefs_atomic.sh - `prefs import` adds all or nothing (issue 14): on a
# full disk (a 64 KB tmpfs in a user namespace, when the kernel allows one)
# and past a file size limit (ulimit -f, always), the import fails with the
# system's reason and the store's name, and the store keeps its exact bytes;
# a bad line in the second of two inputs adds nothing from the first; input
# that is not UTF-8 is refused naming the file and line.
set -eu
cd "$T"
"$PY" - <<'PY'
import json
with open('big.jsonl', 'w') as f:
    for i in range(3000):
        f.write(json.dumps({'prompt': 'question %d' % i, 'chosen': 'a good answer %d' % i,
                            'rejected': 'a bad answer %d' % i}) + '\n')
with open('small.jsonl', 'w') as f:
    f.write(json.dumps({'prompt': 'q', 'chosen': 'yes', 'rejected': 'no'}) + '\n')
PY
"$LLMOS" prefs import --format pairs --store store.jsonl small.jsonl 2>/dev/null
cp store.jsonl before.jsonl
unchanged() { cmp -s before.jsonl "$1" || { echo "$2: the store changed ($(wc -c < "$1") bytes, was $(wc -c < before.jsonl))"; exit 1; }; }

# past the file size limit (SIGXFSZ ignored, so the write fails with EFBIG)
if (trap '' XFSZ; ulimit -f 16; exec "$LLMOS" prefs import --format pairs --store store.jsonl big.jsonl) 2> err.txt; then
    echo "an import past the file size limit succeeded"; exit 1
fi
grep -q "store.jsonl': File too large (nothing was added)" err.txt || { cat err.txt; echo "the error does not say why or name the store"; exit 1; }
unchanged store.jsonl "file size limit"
echo "file size limit: $(tail -1 err.txt)"

# a full disk
mkdir -p mnt
if unshare -rm true 2>/dev/null; then
    unshare -rm sh -c 'mount -t tmpfs -o size=64k none mnt && cp before.jsonl mnt/store.jsonl &&
        { "$0" prefs import --format pairs --store mnt/store.jsonl big.jsonl 2> err2.txt; echo $? > rc.txt; } &&
        cp mnt/store.jsonl after.jsonl' "$LLMOS"
    [ "$(cat rc.txt)" = 1 ] || { cat err2.txt; echo "an import on a full disk exited $(cat rc.txt)"; exit 1; }
    grep -q "mnt/store.jsonl': No space left on device (nothing was added)" err2.txt ||
        { cat err2.txt; echo "the error does not say 'No space left on device' naming the store"; exit 1; }
    unchanged after.jsonl "full disk"
    echo "full disk: $(tail -1 err2.txt)"
else
    echo "SKIP full disk: no user namespaces here (the file size limit above checks the same path)"
fi

# two inputs, the second bad at line 2: nothing from the first is added
printf '%s\n' '{"prompt": "q2", "chosen": "a", "rejected": "b"}' '{"prompt": "q3", "chosen": "a"}' > bad.jsonl
if "$LLMOS" prefs import --format pairs --store store.jsonl small.jsonl bad.jsonl 2> err3.txt; then
    echo "an import with a bad line succeeded"; exit 1
fi
grep -q "bad.jsonl:2:" err3.txt || { cat err3.txt; echo "the error does not name bad.jsonl:2"; exit 1; }
unchanged store.jsonl "bad second input"

# not UTF-8
printf '{"prompt": "caf\xe9", "chosen": "a", "rejected": "b"}\n' > latin1.jsonl
if "$LLMOS" prefs import --format pairs --store store.jsonl latin1.jsonl 2> err4.txt; then
    echo "an import of invalid UTF-8 succeeded"; exit 1
fi
grep -q "latin1.jsonl:1: not valid UTF-8 (byte 0xE9" err4.txt || { cat err4.txt; echo "no UTF-8 error naming the line"; exit 1; }
unchanged store.jsonl "invalid UTF-8"
echo ok
