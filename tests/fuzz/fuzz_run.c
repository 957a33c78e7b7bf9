/*
 * fuzz_run.c - libFuzzer harness for run.c, the standalone run file: the
 * input is a GGUF file that run.c's own reader, tokenizer and model loader
 * take in; a file they accept must encode a fixed prompt to valid ids, run
 * the forward pass over it and sample and print tokens. run.c ends the
 * program on bad input (die -> exit(1)); here exit returns to the harness
 * through longjmp, and the allocations and the mapping of that input are
 * released, so that each input starts clean.
 *
 *   make fuzz && build/fuzz_run -runs=100000 CORPUS_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FUZZ_NAME "fuzz_run"
#include "fuzz_check.h"

static jmp_buf g_jmp;
static void *g_blocks[1 << 16];
static int g_n_blocks;
static void *g_map;
static size_t g_map_len;

static void fuzz_exit(int status) { longjmp(g_jmp, 1 + status); }
/* run.c allocates through calloc only: each block is remembered; blocks
 * past 256 MB fail as on a machine without the memory */
static void *fuzz_calloc(size_t n, size_t size) {
    if (size && n > ((size_t)256 << 20) / size) return NULL;
    void *p = calloc(n, size);
    CHECK(g_n_blocks < (int)(sizeof g_blocks / sizeof g_blocks[0]));
    if (p) g_blocks[g_n_blocks++] = p;
    return p;
}
static void fuzz_free(void *p) {
    for (int i = g_n_blocks - 1; i >= 0; i--)
        if (g_blocks[i] == p) {
            g_blocks[i] = g_blocks[--g_n_blocks];
            break;
        }
    free(p);
}
static void *fuzz_mmap(void *a, size_t len, int prot, int flags, int fd, off_t off) {
    void *m = mmap(a, len, prot, flags, fd, off);
    if (m != MAP_FAILED) g_map = m, g_map_len = len;
    return m;
}

#define exit(s) fuzz_exit(s)
#define calloc(n, s) fuzz_calloc(n, s)
#define free(p) fuzz_free(p)
#define mmap(a, l, p, f, d, o) fuzz_mmap(a, l, p, f, d, o)
#define main run_main
#include "../../run.c"
#undef exit
#undef calloc
#undef free
#undef mmap

static int g_fd = -1;
static char g_file[64];
volatile float g_sink;

static void release(void) {
    while (g_n_blocks) free(g_blocks[--g_n_blocks]);
    if (g_map) munmap(g_map, g_map_len);
    g_map = NULL;
}

static void run_input(void) {
    static Gguf g;
    static Tokenizer tok;
    static Config c;
    static Weights w;
    static State s;
    g = gguf_open(g_file);
    tokenizer_init(&tok, &g), model_load(&g, tok.n, &c, &w);
    static const char prompt[] = "Hello, world! caf\xc3\xa9 12";
    int *ids = xcalloc(2 * sizeof prompt + 2, sizeof(int)), n = encode(&tok, prompt, ids);
    for (int i = 0; i < n; i++) CHECK(ids[i] >= 0 && ids[i] < tok.n);
    /* the forward pass only for small models: the fuzzer may make big ones */
    if ((int64_t)c.C * c.V > (1 << 22) || (int64_t)c.C * c.F > (1 << 22) || c.L > 8 || n == 0) return;
    int T = n + 2 < c.ctx ? n + 2 : c.ctx;
    state_init(&s, &c, T);
    char *piece = xcalloc(tok.max_len + 1, 1);
    int token = ids[0];
    for (int pos = 0; pos < T; pos++) {
        float *logits = forward(&c, &w, &s, token, pos);
        g_sink += logits[0];
        token = pos + 1 < n ? ids[pos + 1] : sample(logits, c.V, pos % 2 ? 0.8f : 0.0f, 0.9f);
        CHECK(token >= 0 && token < c.V);
        if (token < tok.n) print_token(&tok, token, piece);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_fd < 0) {
        g_fd = memfd_create("fuzz_run.gguf", 0);
        CHECK(g_fd >= 0);
        snprintf(g_file, sizeof g_file, "/proc/self/fd/%d", g_fd);
        CHECK(freopen("/dev/null", "w", stdout) != NULL);
        rng_state = 1;
    }
    CHECK(ftruncate(g_fd, 0) == 0);
    CHECK(pwrite(g_fd, data, size, 0) == (ssize_t)size);
    if (setjmp(g_jmp) == 0) run_input();
    release();
    return 0;
}
