/*
 * cmd_info.c - `llmos info MODEL`: what a GGUF file holds. Architecture,
 * hyperparameters, parameter count N, bytes per parameter and the file size
 * as N x bytes, tokenizer, context length; --tensors lists every tensor.
 */
#include "cli.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../io/gguf.h"
#include "../model/train_model.h"
#include "../train/scaling.h"

#include <inttypes.h>
#include <string.h>

static void print_kv(const gguf_kv *kv) {
    printf("  %-40s ", kv->key);
    switch (kv->type) {
    case GGUF_STRING: {
        int n = kv->v.str.len > 60 ? 60 : (int)kv->v.str.len;
        printf("\"%.*s\"%s\n", n, kv->v.str.s, kv->v.str.len > 60 ? "..." : "");
    } break;
    case GGUF_ARRAY: printf("[%s x %" PRIu64 "]\n", gguf_type_name(kv->arr_type), kv->n); break;
    case GGUF_F32: case GGUF_F64: printf("%g\n", kv->v.f); break;
    case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64: printf("%" PRId64 "\n", kv->v.i); break;
    default: printf("%" PRIu64 "\n", kv->v.u); break;
    }
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int tensors = 0, meta = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: llmos info MODEL.gguf [--tensors] [--meta]\n"
                   "  --tensors   list every tensor (name, type, shape, bytes)\n"
                   "  --meta      list every metadata key\n"
                   "example: llmos info out/base.gguf --tensors\n");
            return 0;
        } else if (!strcmp(argv[i], "--tensors")) tensors = 1;
        else if (!strcmp(argv[i], "--meta")) meta = 1;
        else if (argv[i][0] == '-') return cli_bad_option("info", argv[i]);
        else if (!path) path = argv[i];
        else return cli_bad_option("info", argv[i]);
    }
    if (!path) return cli_error("info: missing MODEL (see llmos info --help)");
    gguf_file *g = gguf_open(path);
    if (!g) return cli_error(NULL);

    const char *arch = gguf_get_str(g, "general.architecture");
    char b1[32], b2[32], b3[32];
    printf("file:           %s (GGUF v%u, %s)\n", path, g->version, fmt_bytes((double)g->map_size, b1, sizeof b1));
    printf("architecture:   %s\n", arch ? arch : "(none)");
    const char *name = gguf_get_str(g, "general.name");
    if (name) printf("name:           %s\n", name);
    if (arch) {
        static const char *keys[][2] = {
            {"context_length", "context length"}, {"embedding_length", "dim"},
            {"block_count", "layers"}, {"attention.head_count", "heads"},
            {"attention.head_count_kv", "kv heads"}, {"feed_forward_length", "ffn"},
            {"rope.freq_base", "rope base"}, {"attention.layer_norm_rms_epsilon", "rms eps"},
        };
        for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
            char k[128];
            double v;
            snprintf(k, sizeof k, "%s.%s", arch, keys[i][0]);
            if (gguf_find(g, k) && gguf_get_float(g, k, &v) == 0)
            {
                char label[64];
                snprintf(label, sizeof label, "%s:", keys[i][1]);
                printf("%-16s%g\n", label, v);
            }
        }
    }
    const char *tm = gguf_get_str(g, "tokenizer.ggml.model");
    const gguf_kv *toks = gguf_find(g, "tokenizer.ggml.tokens");
    if (tm) printf("tokenizer:      %s, %" PRIu64 " tokens\n", tm, toks ? toks->n : 0);

    uint64_t n_params = 0, n_bytes = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        n_params += (uint64_t)gguf_tensor_nelems(&g->tensors[i]);
        n_bytes += g->tensors[i].size;
    }
    if (g->n_tensors) {
        double bpp = n_params ? (double)n_bytes / n_params : 0;
        printf("parameters:     N = %s (%" PRIu64 ")\n", fmt_count((double)n_params, b1, sizeof b1), n_params);
        model_config mc;
        const int llama = arch && !strcmp(arch, "llama") && train_model_config_from_gguf(g, &mc) == 0;
        if (llama) {
            int64_t ne;
            scaling_param_count(&mc, &ne);
            printf("non-embedding:  %s; training FLOPs/token %s at ctx %d (scaling.h)\n",
                   fmt_count((double)ne, b2, sizeof b2), fmt_count(scaling_flops_per_token(&mc, mc.ctx_len), b3, sizeof b3),
                   mc.ctx_len);
        }
        printf("size:           N x %.4g bytes = %s of tensor data (file %s)\n", bpp,
               fmt_bytes((double)n_bytes, b2, sizeof b2), fmt_bytes((double)g->map_size, b3, sizeof b3));
        if (llama) { /* K and V, f16 (the default cache), per position */
            const double per_pos = 2.0 * mc.n_layers * mc.n_kv_heads * mc.head_dim * 2;
            printf("kv cache:       2 x %d layers x %d kv dims x 2 bytes (f16) = %s per token, %s at ctx %d\n",
                   mc.n_layers, mc.n_kv_heads * mc.head_dim, fmt_bytes(per_pos, b2, sizeof b2),
                   fmt_bytes(per_pos * mc.ctx_len, b3, sizeof b3), mc.ctx_len);
        }
    }
    printf("tensors:        %" PRIu64 "\n", g->n_tensors);
    if (meta) {
        printf("metadata (%" PRIu64 " keys):\n", g->n_kv);
        for (uint64_t i = 0; i < g->n_kv; i++) print_kv(&g->kv[i]);
    }
    if (tensors) {
        printf("%-32s %-6s %-24s %12s\n", "name", "type", "shape (ne0 first)", "bytes");
        for (uint64_t i = 0; i < g->n_tensors; i++) {
            const gguf_tensor *t = &g->tensors[i];
            char shape[64] = "";
            for (uint32_t d = 0; d < t->n_dims; d++) {
                char x[24];
                snprintf(x, sizeof x, d ? " x %" PRId64 : "%" PRId64, t->ne[d]);
                strcat(shape, x);
            }
            printf("%-32s %-6s %-24s %12" PRIu64 "\n", t->name, type_name(t->type), shape, t->size);
        }
    }
    gguf_close(g);
    return 0;
}
