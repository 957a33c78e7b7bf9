#!/usr/bin/env bash
# t_runc_bad.sh - run.c on bad input: one line on stderr that names the file
# and the problem, exit status 1 (2 for bad usage), never a crash. run.c is
# built here with AddressSanitizer and UBSan (leak checking off: run.c keeps
# its process-lifetime buffers until exit, as llama2.c's run.c does).
#
# Files: missing, a directory, empty, bad magic, unsupported version,
# truncated at 14 places (inside the header, the metadata, the tensor infos,
# the tensor data), a Q8_0 file, a missing tensor, a wrong shape, a
# non-llama architecture, absurd counts, a non-gpt2 tokenizer, and 150 copies
# with random bytes of the header overwritten (any exit status but a crash).
set -eu
cd "$ROOT"
RUN="$T/run_asan"
gcc -std=c99 -O1 -g -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=undefined -o "$RUN" run.c -lm
export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
$PY tests/py/gen_model.py "$T/m" --configs mha --types f32,q8_0
good="$T/m/mha-f32.gguf"

fail=0
expect() { # status pattern file [args...]: exit status and a one-line "run: ..." message matching pattern
    local want=$1 pat=$2 rc=0
    shift 2
    "$RUN" "$@" -n 2 -t 0 >"$T/out" 2>"$T/err" || rc=$?
    local lines
    lines=$(wc -l <"$T/err")
    if [ "$rc" != "$want" ] || [ "$lines" != 1 ] || ! grep -q "^run: .*$pat" "$T/err"; then
        echo "FAIL: run $* -> exit $rc (want $want), stderr ($lines lines):"
        head -5 "$T/err"
        fail=1
    fi
}

# bad values and options: one line naming the option and the problem, exit 2
expect 2 "-n: '-1' is not a whole number in \[0, 2147483647\]" "$good" -n -1
expect 2 "--top-p: '2' is not a number in" "$good" --top-p 2
expect 2 "-t: 'nan' is not a number" "$good" -t nan
expect 2 "unknown option '--bogus'" "$good" --bogus 1
expect 2 "no model file given" -p x
expect 1 "cannot open '$T/nope.gguf': No such file" "$T/nope.gguf"
expect 1 "not a regular file" "$T"
: >"$T/empty.gguf"
expect 1 "'$T/empty.gguf': not a GGUF file" "$T/empty.gguf"
printf 'GGUX\3\0\0\0' | cat - "$good" >"$T/magic.gguf"
expect 1 "bad magic" "$T/magic.gguf"

$PY - "$good" "$T" <<'PYEOF'
import os, struct, sys
sys.path.insert(0, 'tests/py')
import gguf_py as G
src, T = sys.argv[1], sys.argv[2]
r = G.Reader(src)
raw = open(src, 'rb').read()
kv = [(k, t, v) for k, (t, v) in r.kv.items()]
ts = [(t['name'], t['type'], t['ne'], t['data']) for t in r.tensors]
def put(name, kv2=kv, ts2=ts):
    G.write(os.path.join(T, name + '.gguf'), kv2, ts2)
open(os.path.join(T, 'version.gguf'), 'wb').write(raw[:4] + struct.pack('<I', 99) + raw[8:])
open(os.path.join(T, 'counts.gguf'), 'wb').write(raw[:8] + struct.pack('<QQ', 1 << 60, 1 << 60) + raw[24:])
put('missing', ts2=[t for t in ts if t[0] != 'blk.1.ffn_up.weight'])
put('shape', kv2=[(k, t, 100 if k == 'llama.feed_forward_length' else v) for k, t, v in kv])
put('arch', kv2=[(k, t, 'gpt2' if k == 'general.architecture' else v) for k, t, v in kv])
put('tokmodel', kv2=[(k, t, 'llama' if k == 'tokenizer.ggml.model' else v) for k, t, v in kv])
# truncation points: in the counts, in the first key, in the token array,
# in the tensor infos, just before the data, in the first and last tensors
info_end = r.data_offset
for i, cut in enumerate([6, 12, 20, 30, 40, 200, 2000, info_end // 2, info_end - 40, info_end - 1,
                         info_end + 100, info_end + 5000, len(raw) // 2, len(raw) - 1]):
    open(os.path.join(T, 'trunc%02d.gguf' % i), 'wb').write(raw[:cut])
PYEOF
expect 1 "unsupported GGUF version 99" "$T/version.gguf"
expect 1 "corrupt header" "$T/counts.gguf"
expect 1 "missing tensor 'blk.1.ffn_up.weight'" "$T/missing.gguf"
expect 1 "tensor 'blk.0.ffn_down.weight' has shape \[192, 64\], expected \[100, 64\]" "$T/shape.gguf"
expect 1 "architecture 'gpt2' is not 'llama'" "$T/arch.gguf"
expect 1 "tokenizer is not 'gpt2'" "$T/tokmodel.gguf"
expect 1 "tensor 'token_embd.weight' has type 8; run.c reads F32 (0) and F16 (1)" "$T/m/mha-q8_0.gguf"
for f in "$T"/trunc*.gguf; do
    expect 1 "'$f': .*\(truncated\|past the end\|corrupt\)" "$f"
done
# bad usage: exit 2 with one line naming the problem (issue 14: the usage
# text alone said nothing of what was wrong); --help: exit 0
for args in "" "$good -n" "$good -n abc" "$good -n 2.5" "$good -s 1e30" "$good --bogus 1" "$good -t -1" "$good --top-p 0" "$good extra"; do
    rc=0
    # shellcheck disable=SC2086
    "$RUN" $args >/dev/null 2>"$T/err" || rc=$?
    if [ $rc != 2 ] || [ "$(wc -l < "$T/err")" != 1 ] || ! grep -q '^run: ' "$T/err"; then
        echo "FAIL: usage '$args' -> $rc: $(head -3 "$T/err")"; fail=1
    fi
done
"$RUN" --help | grep -q '^example: ./run model.gguf' || { echo "FAIL: --help"; fail=1; }

# random damage to the first 4 KiB (the header, metadata and tensor infos)
$PY - "$good" "$T" <<'PYEOF'
import os, random, sys
raw = bytearray(open(sys.argv[1], 'rb').read())
rng = random.Random(7)
for i in range(150):
    b = bytearray(raw)
    for _ in range(rng.choice([1, 2, 4, 8])):
        b[rng.randrange(4096)] = rng.randrange(256)
    open(os.path.join(sys.argv[2], 'fuzz%03d.gguf' % i), 'wb').write(b)
PYEOF
for f in "$T"/fuzz*.gguf; do
    rc=0
    "$RUN" "$f" -p "The river" -n 4 -t 0 >/dev/null 2>"$T/err" || rc=$?
    if [ $rc -gt 1 ] || grep -q 'Sanitizer\|runtime error' "$T/err" || { [ $rc = 1 ] && [ "$(wc -l <"$T/err")" != 1 ]; }; then
        echo "FAIL: $f -> exit $rc"
        head -5 "$T/err"
        fail=1
    fi
done
# and the sanitized build still generates from the good file
"$RUN" "$good" -p "The river" -n 8 -t 0 >"$T/out" 2>"$T/err" && grep -q '^The river' "$T/out" || { echo "FAIL: good file"; cat "$T/err"; fail=1; }
exit $fail
