#!/usr/bin/env bash
# t_runc_lines.sh - run.c stays what it promises to be: one standalone C99
# file of at most 600 lines, including only C and POSIX headers (nothing from
# src/), built without a warning by the Makefile's command (-Wall -Wextra
# -fopenmp, here with -Werror) and also without OpenMP, linked to libm,
# libc and (optionally) libgomp only; both builds generate the same text.
set -eu
cd "$ROOT"
lines=$(wc -l <run.c)
echo "run.c: $lines lines"
[ "$lines" -le 600 ] || { echo "run.c has $lines lines, more than 600"; exit 1; }
if grep -n '^\s*#\s*include\s*"' run.c; then echo "run.c includes a project header"; exit 1; fi
allowed=" errno.h fcntl.h limits.h math.h omp.h stdarg.h stdint.h stdio.h stdlib.h string.h sys/mman.h sys/stat.h time.h unistd.h "
for h in $(sed -n 's/^\s*#\s*include\s*<\([^>]*\)>.*/\1/p' run.c); do
    case "$allowed" in *" $h "*) ;; *) echo "run.c includes <$h>, not in the allowed list"; exit 1 ;; esac
done
gcc -std=c99 -O2 -Wall -Wextra -Werror -fopenmp -o "$T/run_omp" run.c -lm
gcc -std=c99 -O2 -Wall -Wextra -Werror -Wno-unknown-pragmas -o "$T/run_plain" run.c -lm
libs=$(ldd "$T/run_omp" | awk '{print $1}' | sed 's/\.so.*//' | sort | tr '\n' ' ')
for l in $libs; do
    case $l in linux-vdso | /lib*/ld-linux* | /lib64/ld-linux* | libm | libc | libgomp) ;; *) echo "run links $l ($libs)"; exit 1 ;; esac
done
$PY tests/py/gen_model.py "$T/m" --configs gqa --types f32
a=$("$T/run_omp" "$T/m/gqa-f32.gguf" -p "The mill" -n 32 -t 0 2>/dev/null | od -An -tx1)
b=$("$T/run_plain" "$T/m/gqa-f32.gguf" -p "The mill" -n 32 -t 0 2>/dev/null | od -An -tx1)
[ "$a" = "$b" ] || { echo "the OpenMP and plain builds differ"; exit 1; }
# sampling at a temperature is seeded: the same seed gives the same text, top-p 1e-6 is greedy
c=$("$T/run_plain" "$T/m/gqa-f32.gguf" -p "The mill" -n 32 -t 0.9 -s 5 2>/dev/null)
[ "$c" = "$("$T/run_omp" "$T/m/gqa-f32.gguf" -p "The mill" -n 32 -t 0.9 -s 5 2>/dev/null)" ] || { echo "seeded runs differ"; exit 1; }
[ "$c" != "$("$T/run_omp" "$T/m/gqa-f32.gguf" -p "The mill" -n 32 -t 0.9 -s 6 2>/dev/null)" ] || { echo "seeds 5 and 6 agree"; exit 1; }
d=$("$T/run_omp" "$T/m/gqa-f32.gguf" -p "The mill" -n 32 -t 0.9 --top-p 0.000001 -s 5 2>/dev/null | od -An -tx1)
[ "$a" = "$d" ] || { echo "top-p 1e-6 is not greedy"; exit 1; }
echo ok
