#!/usr/bin/env bash
# t_compress_roundtrip.sh - `llmos compress` / `decompress` give back every
# byte string exactly, whatever the thread count and the kernel path.
# tests/py/compress_ref.py writes over 100 inputs: empty, single bytes, every
# byte value, random binary of many lengths, long runs, invalid UTF-8, NULs,
# text in 14 scripts, code, JSON, and a 1 MB mix (4 chunks of 256 KiB). Each
# is compressed with 1 thread on the CPU's best path and decompressed with 2
# threads on another path (LLMOS_KERNELS=portable; avx2 for the 1 MB input
# when the CPU has it, as portable is slow), byte-identical. Compressing
# again with 2 threads on the AVX2 path gives the same file. Streams through
# stdin and stdout work too, and a SentencePiece vocabulary with byte
# fallback (a leading space added to each chunk) round-trips a quarter of
# the inputs.
set -eu
cd "$ROOT"
$PY tests/py/compress_ref.py models "$T/m"
n=$($PY tests/py/compress_ref.py inputs "$T/in")
[ "$n" -ge 100 ] || { echo "only $n inputs"; exit 1; }
M=$T/m/micro-f32.gguf
mkdir -p "$T/z" "$T/back"
avx2=0; grep -qw avx2 /proc/cpuinfo && avx2=1
bad=0
other=portable
for f in "$T"/in/*; do
    b=$(basename "$f")
    "$LLMOS" compress "$M" "$f" "$T/z/$b" -t 1 -q
    case "$b" in *-one-megabyte) [ "$avx2" = 1 ] && other=avx2 ;; *) other=portable ;; esac
    LLMOS_KERNELS=$other "$LLMOS" decompress "$M" "$T/z/$b" "$T/back/$b" -t 2 -q
    cmp -s "$f" "$T/back/$b" || { echo "round trip changed $b ($other)"; bad=$((bad + 1)); }
done
echo "$n inputs round-tripped (1 thread, the best path -> 2 threads, another path)"
# the encoder's output itself does not depend on the path or the threads
if [ "$avx2" = 1 ]; then
    for f in "$T"/in/*-one-megabyte "$T"/in/*-all-bytes "$T"/in/*-script-all "$T"/in/*-random-5000 "$T"/in/*-prose-x10; do
        b=$(basename "$f")
        LLMOS_KERNELS=avx2 "$LLMOS" compress "$M" "$f" "$T/z/$b.avx2" -t 2 -q
        cmp -s "$T/z/$b" "$T/z/$b.avx2" || { echo "avx2 / 2 threads coded $b differently"; bad=$((bad + 1)); }
    done
fi
# stdin and stdout
for f in "$T"/in/*-all-bytes "$T"/in/*-empty "$T"/in/*-invalid-utf8-mix; do
    "$LLMOS" compress "$M" - - -q < "$f" | "$LLMOS" decompress "$M" - - -q | cmp -s - "$f" ||
        { echo "stdin/stdout round trip changed $(basename "$f")"; bad=$((bad + 1)); }
done
# a SentencePiece vocabulary with byte fallback
S=$T/m/spm-f32.gguf
ns=0 i=0
for f in "$T"/in/*; do
    i=$((i + 1))
    case "$f" in *-one-megabyte) continue ;; esac
    [ $((i % 4)) -eq 0 ] || continue
    b=$(basename "$f")
    "$LLMOS" compress "$S" "$f" "$T/z/$b.spm" -t 2 -q
    "$LLMOS" decompress "$S" "$T/z/$b.spm" "$T/back/$b.spm" -t 1 -q
    cmp -s "$f" "$T/back/$b.spm" || { echo "spm round trip changed $b"; bad=$((bad + 1)); }
    ns=$((ns + 1))
done
echo "$ns inputs round-tripped with a SentencePiece vocabulary"
[ "$bad" -eq 0 ]
