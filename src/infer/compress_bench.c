/*
 * compress_bench.c - the model beside xz, zstd and zpaq (compress_bench.h).
 * The peers run with fork and exec in a temporary folder, stdin and stdout
 * redirected to files, so that no shell quoting is involved.
 */
#include "compress_bench.h"

#include "../core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Runs argv in dir with stdin from in and stdout to out (names in dir, or
 * NULL for /dev/null). Returns the exit status (127: could not run it),
 * the wall time in *secs and the CPU time (user + system) in *cpu. */
static int run_in(const char *dir, char *const argv[], const char *in, const char *out, double *secs,
                  double *cpu) {
    const double t0 = time_now();
    const pid_t pid = fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        if (chdir(dir)) _exit(127);
        const int fi = open(in ? in : "/dev/null", O_RDONLY);
        const int fo = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600) : open("/dev/null", O_WRONLY);
        const int fe = open("/dev/null", O_WRONLY);
        if (fi < 0 || fo < 0 || fe < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0) _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
    *secs = time_now() - t0;
    *cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static size_t size_of(const char *dir, const char *name) { /* dir: under 1024 bytes */
    char p[1100];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) ? 0 : (size_t)st.st_size;
}

/* 1 when dir/a and dir/b hold the same bytes. */
static int same_file(const char *dir, const char *a, const char *b) {
    char pa[1100], pb[1100];
    snprintf(pa, sizeof(pa), "%s/%s", dir, a);
    snprintf(pb, sizeof(pb), "%s/%s", dir, b);
    size_t na, nb;
    char *x = file_read_all(pa, &na), *y = file_read_all(pb, &nb);
    const int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

int compress_bench(const model *m, const uint8_t *in, size_t len, const compress_opts *o,
                   compress_bench_result *r) {
    memset(r, 0, sizeof(*r));
    r->in_bytes = len;
    uint8_t *code = NULL, *back = NULL;
    size_t code_len, back_len;
    double t0 = time_now(), c0 = cpu_now();
    if (compress_bytes(m, in, len, o, &code, &code_len, &r->st)) return -1;
    r->enc_s = time_now() - t0;
    r->enc_cpu = cpu_now() - c0;
    t0 = time_now(), c0 = cpu_now();
    compress_stats ds;
    if (decompress_bytes(m, code, code_len, o, &back, &back_len, &ds)) {
        free(code);
        return -1;
    }
    r->dec_s = time_now() - t0;
    r->dec_cpu = cpu_now() - c0;
    r->out_bytes = code_len;
    const int same = back_len == len && !memcmp(back, in, len);
    free(code);
    free(back);
    if (!same) return err_set("the model's round trip changed the input (a bug)");

    const char *tmp = getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/llmos-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return err_set("cannot make a temporary folder '%s': %s", dir, strerror(errno));
    char inpath[1100];
    snprintf(inpath, sizeof(inpath), "%s/in", dir);
    if (file_write_atomic(inpath, in, len)) return -1;
    static const char *const names[COMPRESS_BENCH_PEERS] = {"xz -9", "zstd -19", "zpaq -m5"};
    char *xz_c[] = {"xz", "-9", "-c", NULL}, *xz_d[] = {"xz", "-d", "-c", NULL};
    char *zs_c[] = {"zstd", "-19", "-q", "-c", NULL}, *zs_d[] = {"zstd", "-d", "-q", "-c", NULL};
    char *zp_c[] = {"zpaq", "a", "in.zpaq", "in", "-m5", NULL};
    char *zp_d[] = {"zpaq", "x", "in.zpaq", "in", "-to", "back", "-force", NULL};
    for (int k = 0; k < COMPRESS_BENCH_PEERS; k++) {
        compress_peer *p = &r->peers[k];
        p->name = names[k];
        char *const *enc = k == 0 ? xz_c : k == 1 ? zs_c : zp_c;
        char *const *dec = k == 0 ? xz_d : k == 1 ? zs_d : zp_d;
        const char *packed = k == 0 ? "in.xz" : k == 1 ? "in.zst" : "in.zpaq";
        int rc = run_in(dir, enc, k < 2 ? "in" : NULL, k < 2 ? packed : NULL, &p->enc_s, &p->enc_cpu);
        if (!rc) rc = run_in(dir, dec, k < 2 ? packed : NULL, k < 2 ? "back" : NULL, &p->dec_s, &p->dec_cpu);
        if (rc == 127)
            snprintf(p->why, sizeof(p->why), "not installed ('%s' did not run)", enc[0]);
        else if (rc)
            snprintf(p->why, sizeof(p->why), "'%s' failed (exit status %d)", enc[0], rc);
        else if (!same_file(dir, "in", "back"))
            snprintf(p->why, sizeof(p->why), "'%s' did not give the input back", enc[0]);
        else
            p->ok = 1, p->bytes = size_of(dir, packed);
        const char *junk[] = {packed, "back"};
        for (size_t i = 0; i < ARRAY_LEN(junk); i++) {
            char f[1100];
            snprintf(f, sizeof(f), "%s/%s", dir, junk[i]);
            unlink(f);
        }
    }
    unlink(inpath);
    rmdir(dir);
    return 0;
}
