/*
 * gguf.h - the GGUF parameters file (version 3), read on mmap and written
 * atomically. This is the one file format llmos uses for models,
 * checkpoints and tokenizers, and the one llama.cpp and Ollama read.
 *
 * The format (all integers little-endian):
 *
 *   uint32 magic "GGUF" (0x46554747)    uint32 version (3; 2 is read too)
 *   uint64 n_tensors                     uint64 n_kv
 *   n_kv x { string key, uint32 value_type, value }
 *   n_tensors x { string name, uint32 n_dims (1..4), uint64 ne[n_dims],
 *                 uint32 type, uint64 offset }
 *   padding to `general.alignment` (default 32)
 *   tensor data: each tensor at data_start + offset, offsets aligned
 *
 *   string = uint64 length + bytes (no terminator)
 *   value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool,
 *     8 string, 9 array (uint32 elem_type, uint64 count, elements),
 *     10 u64, 11 i64, 12 f64
 *
 * ne[0] is the fastest-varying dimension: a weight that PyTorch stores as
 * (out, in) has ne = {in, out}, and each of its `out` rows holds `in`
 * elements of the tensor's type (see core/types.h for block layouts).
 *
 * Reading validates every count, length, type and offset against the file
 * size before touching memory; a bad file gives -1/NULL and an err_set
 * message naming the file and the problem.
 *
 * Ownership: gguf_open returns a gguf_file the caller releases with
 * gguf_close. Keys, strings and tensor names are copied (NUL-terminated)
 * and owned by the gguf_file; tensor data and numeric arrays point into the
 * mapping and stay valid until gguf_close.
 */
#ifndef LLMOS_GGUF_H
#define LLMOS_GGUF_H

#include <stddef.h>
#include <stdint.h>

#define GGUF_MAGIC 0x46554747u
#define GGUF_VERSION 3
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4

typedef enum {
    GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4,
    GGUF_I32 = 5, GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8,
    GGUF_ARRAY = 9, GGUF_U64 = 10, GGUF_I64 = 11, GGUF_F64 = 12,
    GGUF_TYPE_COUNT
} gguf_type;

typedef struct {
    char *s;      /* NUL-terminated copy; may contain NULs inside, see len */
    uint64_t len;
} gguf_str;

typedef struct {
    char *key;
    gguf_type type;     /* value type */
    gguf_type arr_type; /* element type when type == GGUF_ARRAY */
    uint64_t n;         /* element count for arrays, 1 otherwise */
    union {
        uint64_t u; int64_t i; double f; /* scalars, widened */
        gguf_str str;
    } v;
    const void *arr;    /* numeric array elements (in the mapping, maybe unaligned) */
    gguf_str *strs;     /* string array elements (owned) */
} gguf_kv;

typedef struct {
    char *name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* unused dims are 1 */
    uint32_t type;             /* tensor_type id */
    uint64_t offset;           /* relative to data start */
    uint64_t size;             /* bytes */
    const void *data;          /* in the mapping */
} gguf_tensor;

typedef struct {
    char *path;
    uint32_t version;
    uint64_t alignment;
    gguf_kv *kv;
    uint64_t n_kv;
    gguf_tensor *tensors;
    uint64_t n_tensors;
    uint64_t data_offset;      /* file offset of tensor data */
    const uint8_t *map;
    size_t map_size;
} gguf_file;

gguf_file *gguf_open(const char *path);
void gguf_close(gguf_file *g);

/* Lookup. Return NULL / -1 when absent. The typed getters accept any
 * integer type that holds the value and report a wrong type through
 * err_set ("'llama.block_count' has type string, expected an integer"). */
const gguf_kv *gguf_find(const gguf_file *g, const char *key);
int gguf_get_int(const gguf_file *g, const char *key, int64_t *out);
int gguf_get_float(const gguf_file *g, const char *key, double *out);
const char *gguf_get_str(const gguf_file *g, const char *key); /* NULL if absent or not a string */
/* Array element as double / int64 (numeric arrays); i < kv->n. */
double gguf_arr_f(const gguf_kv *kv, uint64_t i);
int64_t gguf_arr_i(const gguf_kv *kv, uint64_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);
int64_t gguf_tensor_nelems(const gguf_tensor *t);
const char *gguf_type_name(gguf_type t);

/* ---- Writing ----
 * A gguf_writer collects keys and tensors in order and writes them with
 * gguf_writer_save (temporary file, fsync, rename). Setting a key that
 * exists replaces its value in place (order kept). Tensor data is copied
 * unless added with gguf_writer_add_tensor_ref (then it must stay valid
 * until save). Reading a file and writing it back through
 * gguf_writer_from_file gives the same bytes. */
typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);
gguf_writer *gguf_writer_from_file(const gguf_file *g, int with_tensors);
void gguf_writer_free(gguf_writer *w);

void gguf_set_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_set_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_set_u64(gguf_writer *w, const char *key, uint64_t v);
void gguf_set_f32(gguf_writer *w, const char *key, float v);
void gguf_set_bool(gguf_writer *w, const char *key, int v);
void gguf_set_str(gguf_writer *w, const char *key, const char *s);
/* Numeric array of n elements of type t (GGUF_U8..GGUF_F64, not STRING). */
void gguf_set_arr(gguf_writer *w, const char *key, gguf_type t, const void *data, uint64_t n);
/* String array; lens may be NULL for NUL-terminated strings. */
void gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs,
                      const uint64_t *lens, uint64_t n);
/* Copies a key (any type) from a read file. */
void gguf_set_kv(gguf_writer *w, const gguf_kv *kv);
void gguf_remove_key(gguf_writer *w, const char *key);

/* ne as in gguf_tensor (ne[0] fastest). */
void gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type,
                            int n_dims, const int64_t *ne, const void *data);
void gguf_writer_add_tensor_ref(gguf_writer *w, const char *name, uint32_t type,
                                int n_dims, const int64_t *ne, const void *data);
int gguf_writer_save(gguf_writer *w, const char *path);

#endif
