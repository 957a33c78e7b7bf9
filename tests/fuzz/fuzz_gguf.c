/*
 * fuzz_gguf.c - libFuzzer harness for the GGUF reader (src/io/gguf.c).
 *
 * Each input is put in an in-memory file (memfd) and opened with gguf_open,
 * exactly as a model file on disk would be. A file the reader rejects must
 * come back as NULL with a message; a file it accepts must keep every
 * promise gguf.h makes: every tensor and every numeric array lies inside the
 * mapping, every string is NUL-terminated at its length, and writing the
 * file back with the writer and reading that gives the same keys, tensor
 * names, shapes, types and bytes. A broken promise aborts (a finding).
 *
 *   make fuzz && build/fuzz_gguf -runs=1000000 CORPUS_DIR
 */
#include "core/common.h"
#include "core/types.h"
#include "io/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_gguf: broken promise at %s:%d: %s\n", __FILE__, \
                    __LINE__, #c);                                                 \
            abort();                                                               \
        }                                                                          \
    } while (0)

static const size_t g_elem_size[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static int inside(const gguf_file *g, const void *p, uint64_t n) {
    const uint8_t *b = p;
    return b >= g->map && n <= g->map_size && (uint64_t)(b - g->map) <= g->map_size - n;
}

static void check_str(const gguf_str *s) {
    CHECK(s->s != NULL);
    CHECK(s->s[s->len] == 0);
}

/* Touches everything the reader exposes; returns a checksum so nothing is
 * optimized away. */
static uint64_t check_file(const gguf_file *g) {
    uint64_t sum = 0;
    CHECK(g->version == 2 || g->version == 3);
    CHECK(g->alignment && !(g->alignment & (g->alignment - 1)));
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        CHECK(kv->key != NULL);
        CHECK(gguf_find(g, kv->key) == kv);
        CHECK((unsigned)kv->type < GGUF_TYPE_COUNT);
        if (kv->type == GGUF_STRING) check_str(&kv->v.str);
        if (kv->type != GGUF_ARRAY) continue;
        if (kv->arr_type == GGUF_STRING) {
            CHECK(kv->n == 0 || kv->strs != NULL);
            for (uint64_t j = 0; j < kv->n; j++) check_str(&kv->strs[j]), sum += kv->strs[j].len;
        } else {
            CHECK(kv->arr_type < GGUF_TYPE_COUNT && kv->arr_type != GGUF_ARRAY);
            CHECK(kv->n <= g->map_size);
            CHECK(kv->n == 0 || inside(g, kv->arr, kv->n * g_elem_size[kv->arr_type]));
            for (uint64_t j = 0; j < kv->n; j++) sum += (uint64_t)gguf_arr_i(kv, j) + (uint64_t)(gguf_arr_f(kv, j) != 0);
        }
    }
    int64_t v;
    double f;
    if (gguf_find(g, "llama.block_count")) {
        (void)gguf_get_int(g, "llama.block_count", &v);
        (void)gguf_get_float(g, "llama.block_count", &f);
    }
    (void)gguf_get_str(g, "general.architecture");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        CHECK(t->name != NULL);
        CHECK(t->n_dims >= 1 && t->n_dims <= GGUF_MAX_DIMS);
        CHECK(type_supported(t->type));
        for (int d = 0; d < GGUF_MAX_DIMS; d++) CHECK(t->ne[d] >= 1);
        int64_t nel = gguf_tensor_nelems(t);
        CHECK(nel > 0 && nel % type_block_size(t->type) == 0);
        CHECK(t->size == type_row_bytes(t->type, t->ne[0]) * (uint64_t)(nel / t->ne[0]));
        CHECK(inside(g, t->data, t->size));
        CHECK(gguf_find_tensor(g, t->name) == t);
        const uint8_t *p = t->data;
        if (t->size) sum += p[0] + p[t->size - 1];
    }
    return sum;
}

/* Writes g back and reads the result: same content. */
static void check_roundtrip(const gguf_file *g, const char *tmp) {
    gguf_writer *w = gguf_writer_from_file(g, 1);
    CHECK(gguf_writer_save(w, tmp) == 0);
    gguf_writer_free(w);
    gguf_file *h = gguf_open(tmp);
    if (!h) {
        fprintf(stderr, "fuzz_gguf: written file does not read back: %s\n", err_msg());
        abort();
    }
    CHECK(h->n_kv == g->n_kv && h->n_tensors == g->n_tensors);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        CHECK(!strcmp(h->kv[i].key, g->kv[i].key));
        CHECK(h->kv[i].type == g->kv[i].type && h->kv[i].n == g->kv[i].n);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *a = &g->tensors[i], *b = &h->tensors[i];
        CHECK(!strcmp(a->name, b->name) && a->type == b->type && a->size == b->size);
        CHECK(!memcmp(a->ne, b->ne, sizeof a->ne));
        CHECK(!memcmp(a->data, b->data, a->size));
    }
    check_file(h);
    gguf_close(h);
}

static int g_fd = -1;
static char g_path[64], g_tmp[128];
volatile uint64_t g_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_fd < 0) {
        g_fd = memfd_create("fuzz.gguf", 0);
        CHECK(g_fd >= 0);
        snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
        snprintf(g_tmp, sizeof g_tmp, "/dev/shm/fuzz_gguf.%d.gguf", (int)getpid());
    }
    CHECK(ftruncate(g_fd, 0) == 0);
    CHECK(pwrite(g_fd, data, size, 0) == (ssize_t)size);
    gguf_file *g = gguf_open(g_path);
    if (!g) {
        const char *m = err_msg();
        CHECK(m && *m && !strchr(m, '\n'));
        return 0;
    }
    g_sink += check_file(g);
    check_roundtrip(g, g_tmp);
    gguf_close(g);
    unlink(g_tmp);
    return 0;
}
