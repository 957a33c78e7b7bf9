/*
 * gguf.c - GGUF v3 reader (mmap, fully validated) and writer (atomic).
 * The format is described at the top of gguf.h.
 */
#include "gguf.h"

#include "../core/common.h"
#include "../core/types.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */

typedef struct {
    const uint8_t *p;
    size_t size, pos;
    const char *path;
} cursor;

static const size_t g_scalar_size[GGUF_TYPE_COUNT] = {
    [GGUF_U8] = 1, [GGUF_I8] = 1, [GGUF_U16] = 2, [GGUF_I16] = 2,
    [GGUF_U32] = 4, [GGUF_I32] = 4, [GGUF_F32] = 4, [GGUF_BOOL] = 1,
    [GGUF_U64] = 8, [GGUF_I64] = 8, [GGUF_F64] = 8,
};

static const char *g_type_names[GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
    "array", "u64", "i64", "f64",
};

const char *gguf_type_name(gguf_type t) {
    return (unsigned)t < GGUF_TYPE_COUNT ? g_type_names[t] : "unknown";
}

static int need(cursor *c, size_t n, const char *what) {
    if (n > c->size - c->pos)
        return err_set("truncated while reading %s (offset %zu, need %zu bytes, file has %zu)",
                       what, c->pos, n, c->size);
    return 0;
}

static int rd(cursor *c, void *dst, size_t n, const char *what) {
    if (need(c, n, what)) return -1;
    memcpy(dst, c->p + c->pos, n);
    c->pos += n;
    return 0;
}

static int rd_str(cursor *c, gguf_str *s, const char *what) {
    uint64_t len;
    if (rd(c, &len, 8, what)) return -1;
    if (len > c->size - c->pos)
        return err_set("%s: string length %llu extends past end of file (offset %zu)",
                       what, (unsigned long long)len, c->pos);
    s->s = xstrndup((const char *)c->p + c->pos, len);
    s->len = len;
    c->pos += len;
    return 0;
}

static uint64_t scalar_bits(const uint8_t *p, gguf_type t) {
    uint64_t v = 0;
    memcpy(&v, p, g_scalar_size[t]);
    return v;
}

static void widen(gguf_kv *kv, const uint8_t *p) {
    uint64_t b = scalar_bits(p, kv->type);
    switch (kv->type) {
    case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64: case GGUF_BOOL:
        kv->v.u = b; break;
    case GGUF_I8: kv->v.i = (int8_t)b; break;
    case GGUF_I16: kv->v.i = (int16_t)b; break;
    case GGUF_I32: kv->v.i = (int32_t)b; break;
    case GGUF_I64: kv->v.i = (int64_t)b; break;
    case GGUF_F32: { float f; memcpy(&f, p, 4); kv->v.f = f; } break;
    case GGUF_F64: memcpy(&kv->v.f, p, 8); break;
    default: break;
    }
}

static int read_kv(cursor *c, gguf_kv *kv) {
    gguf_str key;
    if (rd_str(c, &key, "metadata key")) return -1;
    kv->key = key.s;
    uint32_t t;
    if (rd(c, &t, 4, "metadata value type")) return -1;
    if (t >= GGUF_TYPE_COUNT)
        return err_set("key '%s': unknown value type %u", kv->key, t);
    kv->type = t;
    kv->n = 1;
    if (t == GGUF_STRING) return rd_str(c, &kv->v.str, kv->key);
    if (t != GGUF_ARRAY) {
        if (need(c, g_scalar_size[t], kv->key)) return -1;
        widen(kv, c->p + c->pos);
        c->pos += g_scalar_size[t];
        return 0;
    }
    uint32_t at;
    uint64_t n;
    if (rd(c, &at, 4, kv->key) || rd(c, &n, 8, kv->key)) return -1;
    if (at >= GGUF_TYPE_COUNT || at == GGUF_ARRAY)
        return err_set("key '%s': unsupported array element type %u", kv->key, at);
    kv->arr_type = at;
    kv->n = n;
    if (at == GGUF_STRING) {
        /* every string needs at least 8 bytes of length */
        if (n > (c->size - c->pos) / 8)
            return err_set("key '%s': array of %llu strings extends past end of file",
                           kv->key, (unsigned long long)n);
        kv->strs = xcalloc(n, sizeof(gguf_str));
        for (uint64_t i = 0; i < n; i++)
            if (rd_str(c, &kv->strs[i], kv->key)) return -1;
        return 0;
    }
    size_t es = g_scalar_size[at];
    if (n > (c->size - c->pos) / es)
        return err_set("key '%s': array of %llu elements extends past end of file",
                       kv->key, (unsigned long long)n);
    kv->arr = c->p + c->pos;
    c->pos += n * es;
    return 0;
}

static int read_tensor_info(cursor *c, gguf_tensor *t) {
    gguf_str name;
    if (rd_str(c, &name, "tensor name")) return -1;
    t->name = name.s;
    if (rd(c, &t->n_dims, 4, t->name)) return -1;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return err_set("tensor '%s': %u dimensions (1 to %d allowed)", t->name,
                       t->n_dims, GGUF_MAX_DIMS);
    for (int i = 0; i < GGUF_MAX_DIMS; i++) t->ne[i] = 1;
    uint64_t nel = 1;
    for (uint32_t i = 0; i < t->n_dims; i++) {
        uint64_t d;
        if (rd(c, &d, 8, t->name)) return -1;
        if (d == 0 || d > (1ull << 40) || nel > (1ull << 50) / d)
            return err_set("tensor '%s': absurd dimension %llu", t->name,
                           (unsigned long long)d);
        t->ne[i] = (int64_t)d;
        nel *= d;
    }
    if (rd(c, &t->type, 4, t->name) || rd(c, &t->offset, 8, t->name)) return -1;
    if (!type_supported(t->type))
        return err_set("tensor '%s': unsupported type %u", t->name, t->type);
    int bs = type_block_size(t->type);
    if (t->ne[0] % bs)
        return err_set("tensor '%s': row of %lld elements is not a multiple of the %s block size %d",
                       t->name, (long long)t->ne[0], type_name(t->type), bs);
    t->size = type_row_bytes(t->type, t->ne[0]) * (nel / (uint64_t)t->ne[0]);
    return 0;
}

const gguf_kv *gguf_find(const gguf_file *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (!strcmp(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

static int parse(gguf_file *g) {
    cursor c = {g->map, g->map_size, 0, g->path};
    uint32_t magic;
    if (rd(&c, &magic, 4, "magic")) return -1;
    if (magic != GGUF_MAGIC) return err_set("not a GGUF file (bad magic)");
    if (rd(&c, &g->version, 4, "version")) return -1;
    if (g->version != 2 && g->version != 3)
        return err_set("unsupported GGUF version %u (2 and 3 are read)", g->version);
    if (rd(&c, &g->n_tensors, 8, "tensor count") || rd(&c, &g->n_kv, 8, "key count"))
        return -1;
    /* every kv needs >= 12 bytes, every tensor info >= 28 */
    if (g->n_kv > g->map_size / 12)
        return err_set("key count %llu does not fit in a file of %zu bytes (truncated or corrupt)",
                       (unsigned long long)g->n_kv, g->map_size);
    if (g->n_tensors > g->map_size / 28)
        return err_set("tensor count %llu does not fit in a file of %zu bytes (truncated or corrupt)",
                       (unsigned long long)g->n_tensors, g->map_size);
    g->kv = xcalloc(g->n_kv, sizeof(gguf_kv));
    for (uint64_t i = 0; i < g->n_kv; i++) {
        if (read_kv(&c, &g->kv[i])) return -1;
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(g->kv[j].key, g->kv[i].key))
                return err_set("duplicate key '%s'", g->kv[i].key);
    }
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *al = gguf_find(g, "general.alignment");
    if (al) {
        if (al->type != GGUF_U32 || al->v.u == 0 || (al->v.u & (al->v.u - 1)))
            return err_set("general.alignment must be a power-of-two u32");
        g->alignment = al->v.u;
    }
    g->tensors = xcalloc(g->n_tensors, sizeof(gguf_tensor));
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (read_tensor_info(&c, &g->tensors[i])) return -1;
    g->data_offset = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors && g->data_offset > g->map_size)
        return err_set("tensor data starts past end of file");
    uint64_t avail = g->map_size > g->data_offset ? g->map_size - g->data_offset : 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return err_set("tensor '%s': offset %llu is not aligned to %llu", t->name,
                           (unsigned long long)t->offset, (unsigned long long)g->alignment);
        if (t->offset > avail || t->size > avail - t->offset)
            return err_set("tensor '%s' extends past end of file (offset %llu, size %llu)",
                           t->name, (unsigned long long)(g->data_offset + t->offset),
                           (unsigned long long)t->size);
        t->data = g->map + g->data_offset + t->offset;
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(g->tensors[j].name, t->name))
                return err_set("duplicate tensor '%s'", t->name);
    }
    return 0;
}

gguf_file *gguf_open(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        err_set("cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err_set("cannot open '%s': not a regular file", path);
        close(fd);
        return NULL;
    }
    gguf_file *g = xcalloc(1, sizeof(*g));
    g->path = xstrdup(path);
    g->map_size = st.st_size;
    if (g->map_size) {
        void *m = mmap(NULL, g->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            err_set("cannot map '%s': %s", path, strerror(errno));
            close(fd);
            free(g->path);
            free(g);
            return NULL;
        }
        g->map = m;
    }
    close(fd);
    if (parse(g) != 0) {
        /* names in the message come from the file: keep it on one line */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s: %s", path, err_msg());
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        err_set("%s", msg);
        gguf_close(g);
        return NULL;
    }
    return g;
}

void gguf_close(gguf_file *g) {
    if (!g) return;
    for (uint64_t i = 0; g->kv && i < g->n_kv; i++) {
        gguf_kv *kv = &g->kv[i];
        free(kv->key);
        if (kv->type == GGUF_STRING) free(kv->v.str.s);
        if (kv->strs) {
            for (uint64_t j = 0; j < kv->n; j++) free(kv->strs[j].s);
            free(kv->strs);
        }
    }
    for (uint64_t i = 0; g->tensors && i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    if (g->map) munmap((void *)g->map, g->map_size);
    free(g->path);
    free(g);
}

static int is_int_type(gguf_type t) {
    return t <= GGUF_I32 || t == GGUF_U64 || t == GGUF_I64 || t == GGUF_BOOL;
}

int gguf_get_int(const gguf_file *g, const char *key, int64_t *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return err_set("missing key '%s'", key);
    if (!is_int_type(kv->type))
        return err_set("key '%s' has type %s, expected an integer", key, gguf_type_name(kv->type));
    int is_signed = kv->type == GGUF_I8 || kv->type == GGUF_I16 || kv->type == GGUF_I32 ||
                    kv->type == GGUF_I64;
    if (!is_signed && kv->v.u > INT64_MAX) return err_set("key '%s': value too large", key);
    *out = is_signed ? kv->v.i : (int64_t)kv->v.u;
    return 0;
}

int gguf_get_float(const gguf_file *g, const char *key, double *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return err_set("missing key '%s'", key);
    if (kv->type == GGUF_F32 || kv->type == GGUF_F64) *out = kv->v.f;
    else if (is_int_type(kv->type)) {
        int64_t v;
        if (gguf_get_int(g, key, &v)) return -1;
        *out = (double)v;
    } else
        return err_set("key '%s' has type %s, expected a number", key, gguf_type_name(kv->type));
    return 0;
}

const char *gguf_get_str(const gguf_file *g, const char *key) {
    const gguf_kv *kv = gguf_find(g, key);
    return kv && kv->type == GGUF_STRING ? kv->v.str.s : NULL;
}

static double elem_f(gguf_type t, const uint8_t *p) {
    gguf_kv tmp = {.type = t};
    widen(&tmp, p);
    if (t == GGUF_F32 || t == GGUF_F64) return tmp.v.f;
    if (t == GGUF_I8 || t == GGUF_I16 || t == GGUF_I32 || t == GGUF_I64) return (double)tmp.v.i;
    return (double)tmp.v.u;
}

double gguf_arr_f(const gguf_kv *kv, uint64_t i) {
    LLMOS_ASSERT(kv->type == GGUF_ARRAY && kv->arr && i < kv->n);
    return elem_f(kv->arr_type, (const uint8_t *)kv->arr + i * g_scalar_size[kv->arr_type]);
}

int64_t gguf_arr_i(const gguf_kv *kv, uint64_t i) {
    LLMOS_ASSERT(kv->type == GGUF_ARRAY && kv->arr && i < kv->n);
    gguf_kv tmp = {.type = kv->arr_type};
    widen(&tmp, (const uint8_t *)kv->arr + i * g_scalar_size[kv->arr_type]);
    if (kv->arr_type == GGUF_F32 || kv->arr_type == GGUF_F64) {
        /* saturate: converting an out-of-range double is undefined */
        double f = tmp.v.f;
        if (f != f) return 0;
        if (f >= 9223372036854775808.0) return INT64_MAX;
        if (f < -9223372036854775808.0) return INT64_MIN;
        return (int64_t)f;
    }
    if (kv->arr_type == GGUF_I8 || kv->arr_type == GGUF_I16 || kv->arr_type == GGUF_I32 ||
        kv->arr_type == GGUF_I64)
        return tmp.v.i;
    return (int64_t)tmp.v.u;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

int64_t gguf_tensor_nelems(const gguf_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

/* A key's serialized value bytes (type tag and payload, after the key). */
typedef struct {
    char *key;
    uint8_t *bytes;
    size_t len;
} wkv;

typedef struct {
    char *name;
    uint32_t type, n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    uint64_t size;
    const void *data; /* borrowed or owned (see owned) */
    void *owned;
} wtensor;

struct gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
};

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(buf *b, const char *s, uint64_t n) { put_u64(b, n); put(b, s, n); }

gguf_writer *gguf_writer_new(void) { return xcalloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) free(w->kv[i].key), free(w->kv[i].bytes);
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name), free(w->t[i].owned);
    free(w->kv);
    free(w->t);
    free(w);
}

static void set_bytes(gguf_writer *w, const char *key, buf *b) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            free(w->kv[i].bytes);
            w->kv[i].bytes = b->p;
            w->kv[i].len = b->len;
            return;
        }
    if (w->n_kv == w->cap_kv) {
        w->cap_kv = w->cap_kv * 2 + 16;
        w->kv = xrealloc(w->kv, w->cap_kv * sizeof(wkv));
    }
    w->kv[w->n_kv++] = (wkv){xstrdup(key), b->p, b->len};
}

static void set_scalar(gguf_writer *w, const char *key, gguf_type t, const void *v) {
    buf b = {0};
    put_u32(&b, t);
    put(&b, v, g_scalar_size[t]);
    set_bytes(w, key, &b);
}

void gguf_set_u32(gguf_writer *w, const char *k, uint32_t v) { set_scalar(w, k, GGUF_U32, &v); }
void gguf_set_i32(gguf_writer *w, const char *k, int32_t v) { set_scalar(w, k, GGUF_I32, &v); }
void gguf_set_u64(gguf_writer *w, const char *k, uint64_t v) { set_scalar(w, k, GGUF_U64, &v); }
void gguf_set_f32(gguf_writer *w, const char *k, float v) { set_scalar(w, k, GGUF_F32, &v); }
void gguf_set_bool(gguf_writer *w, const char *k, int v) { uint8_t b = !!v; set_scalar(w, k, GGUF_BOOL, &b); }

void gguf_set_str(gguf_writer *w, const char *key, const char *s) {
    buf b = {0};
    put_u32(&b, GGUF_STRING);
    put_str(&b, s, strlen(s));
    set_bytes(w, key, &b);
}

void gguf_set_arr(gguf_writer *w, const char *key, gguf_type t, const void *data, uint64_t n) {
    LLMOS_ASSERT(t < GGUF_TYPE_COUNT && t != GGUF_STRING && t != GGUF_ARRAY);
    buf b = {0};
    put_u32(&b, GGUF_ARRAY);
    put_u32(&b, t);
    put_u64(&b, n);
    put(&b, data, n * g_scalar_size[t]);
    set_bytes(w, key, &b);
}

void gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs,
                      const uint64_t *lens, uint64_t n) {
    buf b = {0};
    put_u32(&b, GGUF_ARRAY);
    put_u32(&b, GGUF_STRING);
    put_u64(&b, n);
    for (uint64_t i = 0; i < n; i++) put_str(&b, strs[i], lens ? lens[i] : strlen(strs[i]));
    set_bytes(w, key, &b);
}

void gguf_set_kv(gguf_writer *w, const gguf_kv *kv) {
    buf b = {0};
    put_u32(&b, kv->type);
    if (kv->type == GGUF_STRING) {
        put_str(&b, kv->v.str.s, kv->v.str.len);
    } else if (kv->type == GGUF_ARRAY) {
        put_u32(&b, kv->arr_type);
        put_u64(&b, kv->n);
        if (kv->arr_type == GGUF_STRING)
            for (uint64_t i = 0; i < kv->n; i++) put_str(&b, kv->strs[i].s, kv->strs[i].len);
        else
            put(&b, kv->arr, kv->n * g_scalar_size[kv->arr_type]);
    } else {
        uint8_t tmp[8];
        if (kv->type == GGUF_F32) { float f = (float)kv->v.f; memcpy(tmp, &f, 4); }
        else if (kv->type == GGUF_F64) memcpy(tmp, &kv->v.f, 8);
        else memcpy(tmp, &kv->v.u, 8); /* little-endian: low bytes first */
        put(&b, tmp, g_scalar_size[kv->type]);
    }
    set_bytes(w, kv->key, &b);
}

void gguf_remove_key(gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            free(w->kv[i].key);
            free(w->kv[i].bytes);
            memmove(&w->kv[i], &w->kv[i + 1], (w->n_kv - i - 1) * sizeof(wkv));
            w->n_kv--;
            return;
        }
}

static void add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims,
                       const int64_t *ne, const void *data, int copy) {
    LLMOS_ASSERT(n_dims >= 1 && n_dims <= GGUF_MAX_DIMS && type_supported(type));
    if (w->n_t == w->cap_t) {
        w->cap_t = w->cap_t * 2 + 16;
        w->t = xrealloc(w->t, w->cap_t * sizeof(wtensor));
    }
    wtensor *t = &w->t[w->n_t++];
    memset(t, 0, sizeof(*t));
    t->name = xstrdup(name);
    t->type = type;
    t->n_dims = n_dims;
    int64_t nel = 1;
    for (int i = 0; i < GGUF_MAX_DIMS; i++) {
        t->ne[i] = i < n_dims ? ne[i] : 1;
        nel *= t->ne[i];
    }
    LLMOS_ASSERT(t->ne[0] % type_block_size(type) == 0);
    t->size = type_row_bytes(type, t->ne[0]) * (nel / t->ne[0]);
    if (copy) {
        t->owned = xmalloc(t->size);
        memcpy(t->owned, data, t->size);
        t->data = t->owned;
    } else
        t->data = data;
}

void gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims,
                            const int64_t *ne, const void *data) {
    add_tensor(w, name, type, n_dims, ne, data, 1);
}

void gguf_writer_add_tensor_ref(gguf_writer *w, const char *name, uint32_t type, int n_dims,
                                const int64_t *ne, const void *data) {
    add_tensor(w, name, type, n_dims, ne, data, 0);
}

gguf_writer *gguf_writer_from_file(const gguf_file *g, int with_tensors) {
    gguf_writer *w = gguf_writer_new();
    for (uint64_t i = 0; i < g->n_kv; i++) gguf_set_kv(w, &g->kv[i]);
    if (with_tensors)
        for (uint64_t i = 0; i < g->n_tensors; i++) {
            const gguf_tensor *t = &g->tensors[i];
            add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, 0);
        }
    return w;
}

static uint64_t writer_alignment(const gguf_writer *w) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, "general.alignment") && w->kv[i].len == 8) {
            uint32_t t, v;
            memcpy(&t, w->kv[i].bytes, 4);
            memcpy(&v, w->kv[i].bytes + 4, 4);
            if (t == GGUF_U32 && v && !(v & (v - 1))) return v;
        }
    return GGUF_DEFAULT_ALIGNMENT;
}

int gguf_writer_save(gguf_writer *w, const char *path) {
    uint64_t align = writer_alignment(w);
    buf h = {0};
    put_u32(&h, GGUF_MAGIC);
    put_u32(&h, GGUF_VERSION);
    put_u64(&h, w->n_t);
    put_u64(&h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(&h, w->kv[i].key, strlen(w->kv[i].key));
        put(&h, w->kv[i].bytes, w->kv[i].len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        wtensor *t = &w->t[i];
        put_str(&h, t->name, strlen(t->name));
        put_u32(&h, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(&h, (uint64_t)t->ne[d]);
        put_u32(&h, t->type);
        put_u64(&h, off);
        off += (t->size + align - 1) / align * align;
    }
    static const uint8_t zeros[256];
    while (h.len % align) put(&h, zeros, MIN(align - h.len % align, sizeof(zeros)));

    atomic_file af;
    if (atomic_open(&af, path) != 0) {
        free(h.p);
        return -1;
    }
    int ok = fwrite(h.p, 1, h.len, af.f) == h.len;
    free(h.p);
    for (size_t i = 0; ok && i < w->n_t; i++) {
        wtensor *t = &w->t[i];
        ok = fwrite(t->data, 1, t->size, af.f) == t->size;
        uint64_t pad = (align - t->size % align) % align;
        while (ok && pad) {
            size_t n = MIN(pad, sizeof(zeros));
            ok = fwrite(zeros, 1, n, af.f) == n;
            pad -= n;
        }
    }
    if (!ok) {
        err_set("cannot write '%s': %s", path, strerror(errno));
        atomic_abort(&af);
        return -1;
    }
    return atomic_commit(&af);
}
