/*
 * common.c - error messages, checked allocation, time, and file helpers
 * shared by every module. See common.h for the contracts.
 */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char g_err[1024];

int err_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof(g_err), fmt, ap);
    va_end(ap);
    /* one line, whatever a quoted input held (a role "a\nb" in a file) */
    for (char *p = g_err; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return -1;
}

int err_prefix(const char *prefix) {
    char tmp[sizeof(g_err)];
    memcpy(tmp, g_err, sizeof(tmp));
    size_t n = strlen(prefix);
    if (n > sizeof(g_err) / 2) n = sizeof(g_err) / 2;
    memcpy(g_err, prefix, n);
    memcpy(g_err + n, ": ", 2);
    memcpy(g_err + n + 2, tmp, sizeof(g_err) - n - 3);
    g_err[sizeof(g_err) - 1] = 0;
    return -1;
}

const char *err_msg(void) { return g_err[0] ? g_err : "unknown error"; }

/* Running out of memory is not a bug but the machine's limit: exit 1 with
 * a line (no abort, no core dump). Callers that can know their needs in
 * advance check them first (mem_check). */
static void oom(size_t n) {
    char a[32], b[32];
    fprintf(stderr, "llmos: out of memory allocating %s (%s available)\n", fmt_bytes((double)n, a, sizeof a),
            fmt_bytes(mem_available(), b, sizeof b));
    fflush(stdout);
    _exit(1);
}

/* A number from a file such as /sys/fs/cgroup/memory.max; NAN when absent or "max". */
static double read_number(const char *path) {
    FILE *f = fopen(path, "r");
    double v = NAN;
    if (f) {
        if (fscanf(f, "%lf", &v) != 1) v = NAN;
        fclose(f);
    }
    return v;
}

double mem_available(void) {
    double avail = INFINITY;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        double kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) avail = kb * 1024;
        fclose(f);
    }
    const double page = (double)sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double vm_pages = NAN;
        FILE *st = fopen("/proc/self/statm", "r");
        if (st) {
            if (fscanf(st, "%lf", &vm_pages) != 1) vm_pages = NAN;
            fclose(st);
        }
        const double left = (double)rl.rlim_cur - (isnan(vm_pages) ? 0 : vm_pages * page);
        avail = MIN(avail, MAX(left, 0));
    }
    const double max = read_number("/sys/fs/cgroup/memory.max"), cur = read_number("/sys/fs/cgroup/memory.current");
    if (!isnan(max) && !isnan(cur)) avail = MIN(avail, MAX(max - cur, 0));
    return avail;
}

int mem_check(const char *what, double bytes) {
    const double avail = mem_available();
    if (bytes <= avail) return 0;
    char a[32], b[32];
    return err_set("%s needs %s of memory; %s is available", what, fmt_bytes(bytes, a, sizeof a),
                   fmt_bytes(avail, b, sizeof b));
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) oom(count * size);
    return p;
}

void *xcalloc_aligned(size_t n) {
    char *p = xcalloc(1, n + 64 + sizeof(void *));
    char *a = (char *)(((uintptr_t)p + sizeof(void *) + 63) & ~(uintptr_t)63);
    memcpy(a - sizeof(void *), &p, sizeof(p));
    return a;
}

void xfree_aligned(void *a) {
    if (!a) return;
    void *p;
    memcpy(&p, (char *)a - sizeof(void *), sizeof(p));
    free(p);
}

void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) oom(n);
    return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n) {
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

double time_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

char *file_read_all(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set("cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        err_set("cannot read '%s': %s", path, strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    if (len_out) *len_out = len;
    return buf;
}

static void fsync_dir_of(const char *path) {
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

void atomic_clean_stale(const char *path) {
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? path + (slash - dir) + 1 : path;
    if (slash) *slash = 0;
    const char *d = slash ? (*dir ? dir : "/") : ".";
    DIR *dp = opendir(d);
    if (dp) {
        const size_t bl = strlen(base);
        struct dirent *de;
        while ((de = readdir(dp))) {
            const char *tail = de->d_name + bl;
            if (strncmp(de->d_name, base, bl) || strncmp(tail, ".tmp.", 5)) continue;
            char *end;
            long pid = strtol(tail + 5, &end, 10);
            if (*end || end == tail + 5 || pid <= 0) continue; /* not one of ours */
            if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
            char *p = xmalloc(strlen(d) + strlen(de->d_name) + 2);
            sprintf(p, "%s/%s", d, de->d_name);
            unlink(p);
            free(p);
        }
        closedir(dp);
    }
    free(dir);
}

int atomic_open(atomic_file *af, const char *path) {
    memset(af, 0, sizeof(*af));
    atomic_clean_stale(path);
    size_t n = strlen(path) + 32;
    af->path = xstrdup(path);
    af->tmp_path = xmalloc(n);
    snprintf(af->tmp_path, n, "%s.tmp.%d", path, (int)getpid());
    af->f = fopen(af->tmp_path, "wb");
    if (!af->f) {
        err_set("cannot write '%s': %s", af->tmp_path, strerror(errno));
        free(af->path);
        free(af->tmp_path);
        af->path = af->tmp_path = NULL;
        return -1;
    }
    return 0;
}

int atomic_commit(atomic_file *af) {
    int rc = 0;
    if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) != 0)
        rc = err_set("cannot write '%s': %s", af->path, strerror(errno));
    if (fclose(af->f) != 0 && rc == 0)
        rc = err_set("cannot write '%s': %s", af->path, strerror(errno));
    af->f = NULL;
    if (rc == 0 && rename(af->tmp_path, af->path) != 0)
        rc = err_set("cannot rename '%s' to '%s': %s", af->tmp_path, af->path,
                     strerror(errno));
    if (rc != 0) unlink(af->tmp_path);
    else fsync_dir_of(af->path);
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    return rc;
}

void atomic_abort(atomic_file *af) {
    if (af->f) fclose(af->f);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->path);
    free(af->tmp_path);
    memset(af, 0, sizeof(*af));
}

int file_write_atomic(const char *path, const void *data, size_t len) {
    atomic_file af;
    if (atomic_open(&af, path) != 0) return -1;
    if (len && fwrite(data, 1, len, af.f) != len) {
        err_set("cannot write '%s': %s", path, strerror(errno));
        atomic_abort(&af);
        return -1;
    }
    return atomic_commit(&af);
}

int parse_long(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return err_set("option '%s': '%s' is not an integer", opt, s);
    if (v < lo || v > hi)
        return err_set("option '%s': %ld is out of range [%ld, %ld]", opt, v,
                       lo, hi);
    *out = v;
    return 0;
}

int parse_double(const char *opt, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return err_set("option '%s': '%s' is not a number", opt, s);
    *out = v;
    return 0;
}

int parse_count(const char *opt, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return err_set("option '%s': '%s' is not a count", opt, s);
    switch (*end) {
    case 0: break;
    case 'k': case 'K': v *= 1e3; end++; break;
    case 'm': case 'M': v *= 1e6; end++; break;
    case 'g': case 'G': case 'b': case 'B': v *= 1e9; end++; break;
    case 't': case 'T': v *= 1e12; end++; break;
    default: end = (char *)"x";
    }
    if (*end) return err_set("option '%s': '%s' is not a count (use e.g. 15M)", opt, s);
    *out = v;
    return 0;
}

const char *fmt_bytes(double b, char *buf, size_t n) {
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) b /= 1000, i++;
    snprintf(buf, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
    return buf;
}

const char *fmt_count(double c, char *buf, size_t n) {
    const char *u[] = {"", "K", "M", "B", "T"};
    int i = 0;
    while (c >= 1000 && i < 4) c /= 1000, i++;
    snprintf(buf, n, i ? "%.2f%s" : "%.0f%s", c, u[i]);
    return buf;
}

const char *fmt_duration(double s, char *buf, size_t n) {
    if (!(s >= 0) || s > 1e7) snprintf(buf, n, "?");
    else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(fmod(s, 3600) / 60));
    else if (s >= 60) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%ds", (int)s);
    return buf;
}

char *utf8_sanitize(const char *s) {
    size_t n = strlen(s);
    char *o = xmalloc(3 * n + 1), *w = o;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : (c >> 4) == 14 ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && len == 3) /* no overlong forms, no surrogates */
            ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);
        if (ok && len == 4) ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
        if (ok) {
            memcpy(w, p + i, len);
            w += len, i += len;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3, i++;
        }
    }
    *w = 0;
    return o;
}
