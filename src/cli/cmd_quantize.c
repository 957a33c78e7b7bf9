/*
 * cmd_quantize.c - `llmos quantize IN OUT TYPE`: rewrites a model's weight
 * matrices in f32, f16, bf16, q8_0 or q4_0. One-dimensional tensors (norm
 * weights) stay f32, as llama.cpp keeps them; a matrix whose rows are not a
 * multiple of the block size stays as it is. Metadata is kept and
 * general.file_type set to llama.cpp's value for the type.
 */
#include "cli.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../io/gguf.h"

#include <stdlib.h>
#include <string.h>

/* llama.cpp's llama_ftype for "mostly TYPE" files */
static uint32_t file_type_of(tensor_type t) {
    switch (t) {
    case TYPE_F32: return 0;
    case TYPE_F16: return 1;
    case TYPE_Q4_0: return 2;
    case TYPE_Q8_0: return 7;
    case TYPE_BF16: return 32;
    default: return 0;
    }
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3] = {0};
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: llmos quantize IN.gguf OUT.gguf TYPE\n"
                   "  TYPE: f32, f16, bf16, q8_0 or q4_0 (weight matrices; norms stay f32)\n"
                   "example: llmos quantize out/base.gguf out/base-q8_0.gguf q8_0\n");
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) return cli_bad_option("quantize", argv[i]);
        else if (np < 3) pos[np++] = argv[i];
        else return cli_bad_option("quantize", argv[i]);
    }
    if (np < 3) return cli_error("quantize: need IN, OUT and TYPE (see llmos quantize --help)"), 2;
    int type = type_from_name(pos[2]);
    if (type < 0) return cli_error("quantize: unknown type '%s' (f32, f16, bf16, q8_0, q4_0)", pos[2]), 2;
    gguf_file *g = gguf_open(pos[0]);
    if (!g) return cli_error(NULL);
    gguf_writer *w = gguf_writer_from_file(g, 0);
    if (gguf_find(g, "general.architecture")) gguf_set_u32(w, "general.file_type", file_type_of(type));
    uint64_t in_bytes = 0, out_bytes = 0;
    double t0 = time_now();
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        int64_t nel = gguf_tensor_nelems(t);
        in_bytes += t->size;
        tensor_type to = type;
        if (t->n_dims < 2 || t->ne[0] % type_block_size(to)) to = t->n_dims < 2 ? TYPE_F32 : t->type;
        if ((int)t->type == (int)to) {
            gguf_writer_add_tensor_ref(w, t->name, t->type, t->n_dims, t->ne, t->data);
            out_bytes += t->size;
            continue;
        }
        int64_t cols = t->ne[0], rows = nel / cols;
        size_t orb = type_row_bytes(to, cols), irb = type_row_bytes(t->type, cols);
        char *out = xmalloc(orb * rows);
#pragma omp parallel
        {
            float *tmp = xmalloc(sizeof(float) * cols);
#pragma omp for schedule(static)
            for (int64_t r = 0; r < rows; r++) {
                row_to_float(t->type, (const char *)t->data + r * irb, tmp, cols);
                row_from_float(to, tmp, out + r * orb, cols);
            }
            free(tmp);
        }
        gguf_writer_add_tensor(w, t->name, to, t->n_dims, t->ne, out);
        out_bytes += orb * rows;
        free(out);
    }
    int rc = gguf_writer_save(w, pos[1]);
    gguf_writer_free(w);
    gguf_close(g);
    if (rc) return cli_error(NULL);
    char a[32], b[32];
    fprintf(stderr, "llmos: %s -> %s (%s), tensor data %s -> %s in %.2f s\n", pos[0], pos[1], type_name(type),
            fmt_bytes((double)in_bytes, a, sizeof a), fmt_bytes((double)out_bytes, b, sizeof b), time_now() - t0);
    return 0;
}
