/*
 * common.h - what every llmos source file needs: error reporting, checked
 * allocation, timing, and whole-file helpers.
 *
 * Errors. A broken invariant is a bug: LLMOS_ASSERT aborts with file:line.
 * Bad input (a file, a request, an argument) is expected: the function that
 * finds it calls err_set("...") with a one-line message naming the thing and
 * the problem (git style: lowercase, problem first, subject quoted) and
 * returns -1 (or NULL). Callers pass the -1 up; only the CLI prints
 * err_msg() and decides to exit. The message buffer is per thread.
 *
 * Memory. xmalloc/xcalloc/xrealloc abort on out-of-memory (that is not
 * bad input, there is nothing sensible to do). Big arrays are allocated
 * once and carved; nothing in a hot loop allocates.
 */
#ifndef LLMOS_COMMON_H
#define LLMOS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LLMOS_VERSION "0.1.0"

#define LLMOS_ASSERT(c)                                                        \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__,         \
                    __LINE__, #c);                                             \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Sets the current error message (printf format; line breaks in it become
 * spaces, so that a message quoting input stays one line). Always returns
 * -1 so that `return err_set(...)` reads naturally. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prepends "prefix: " to the current message (for adding a file name). */
int err_prefix(const char *prefix);
const char *err_msg(void);

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Zeroed memory on a 64-byte (cache line, AVX-512 vector) boundary, so
 * that vector loads never straddle two lines; free it with xfree_aligned.
 * Large blocks come from calloc's fresh pages: pages never written cost no
 * memory. */
void *xcalloc_aligned(size_t n);
void xfree_aligned(void *p);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A malloc'd copy of s with every invalid UTF-8 sequence (overlong forms,
 * surrogates, values past U+10FFFF, a cut sequence, a stray byte) replaced
 * by U+FFFD, so that a model's text can go into JSON. */
char *utf8_sanitize(const char *s);

/* Memory this process can still take: the least of MemAvailable, what is
 * left under RLIMIT_AS and what is left under the cgroup's memory.max
 * (INFINITY when none is known). mem_check returns 0 when bytes fit, else
 * -1 with err_set "WHAT needs 5.2 GB of memory; 1.9 GB is available".
 * xmalloc and friends exit(1) with such a line when an allocation fails. */
double mem_available(void);
int mem_check(const char *what, double bytes);

/* Seconds since an arbitrary point, monotonic. */
double time_now(void);

/* Reads a whole file into a NUL-terminated malloc'd buffer (caller frees).
 * Returns NULL with err_set on failure. */
char *file_read_all(const char *path, size_t *len_out);

/* Atomic write: data goes to "path.tmp.PID", is fsync'd, then renamed over
 * path, and the directory is fsync'd. A crash leaves either the old file or
 * the new one, never a half-written one. Returns 0 or -1 with err_set. */
int file_write_atomic(const char *path, const void *data, size_t len);

/* The same for writers that stream: atomic_open gives a FILE* on a temporary
 * name; atomic_commit flushes, fsyncs and renames (returns 0/-1);
 * atomic_abort closes and removes the temporary. atomic_open (and so
 * file_write_atomic and gguf_writer_save) first removes the "path.tmp.PID"
 * files of processes that no longer exist (atomic_clean_stale): a writer
 * killed with -9 leaves its temporary behind, the next writer of the same
 * file clears it. A live process's temporary is left alone. */
typedef struct {
    FILE *f;
    char *path;
    char *tmp_path;
} atomic_file;
void atomic_clean_stale(const char *path);
int atomic_open(atomic_file *af, const char *path);
int atomic_commit(atomic_file *af);
void atomic_abort(atomic_file *af);

/* Parsing of numeric command-line values with range checks; on failure
 * err_set names the option. */
int parse_long(const char *opt, const char *s, long lo, long hi, long *out);
int parse_double(const char *opt, const char *s, double *out);
/* Parses sizes like "15M", "2.5k", "3B", "1e6" into a count. */
int parse_count(const char *opt, const char *s, double *out);

/* Human-readable formatting into a caller buffer: "1.23 GB", "15.2M". */
const char *fmt_bytes(double bytes, char *buf, size_t n);
const char *fmt_count(double count, char *buf, size_t n);
/* A duration for progress lines: "42s", "3m07s", "2h05m"; "?" when unknown
 * (negative, NaN or absurdly long). */
const char *fmt_duration(double seconds, char *buf, size_t n);

#endif
