/*
 * ckpt.c - model files, checkpoints and logs shared by the training stages
 * (see ckpt.h).
 */
#include "ckpt.h"

#include "../core/common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *ckpt_path_beside(const char *out, const char *suffix) {
    size_t n = strlen(out);
    if (n > 5 && !strcmp(out + n - 5, ".gguf")) n -= 5;
    char *p = xmalloc(n + strlen(suffix) + 1);
    memcpy(p, out, n);
    strcpy(p + n, suffix);
    return p;
}

static void moment_name(char *buf, size_t n, int which, const char *tensor) {
    snprintf(buf, n, "optim.%c.%s", which ? 'v' : 'm', tensor);
}

gguf_writer *ckpt_writer_new(const gguf_file *tok_src, const train_model *m, const adamw *opt,
                             int64_t step, const char *name) {
    gguf_writer *w = gguf_writer_new();
    for (uint64_t i = 0; i < tok_src->n_kv; i++)
        if (!strncmp(tok_src->kv[i].key, "tokenizer.", 10)) gguf_set_kv(w, &tok_src->kv[i]);
    train_model_to_gguf(m, w);
    gguf_set_str(w, "general.name", name);
    gguf_set_u32(w, "general.file_type", 0); /* all f32 */
    if (!opt) return w;
    gguf_set_u64(w, "train.step", (uint64_t)step);
    gguf_set_u64(w, "train.optim_t", (uint64_t)opt->t);
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *t = &m->tensors[i];
        for (int k = 0; k < 2; k++) {
            char n[160]; /* the writer copies the name */
            moment_name(n, sizeof n, k, t->name);
            gguf_writer_add_tensor_ref(w, n, TYPE_F32, t->n_dims, t->ne, (k ? opt->v : opt->m) + t->offset);
        }
    }
    return w;
}

gguf_file *ckpt_load(const char *path, train_model *m, adamw *opt, int64_t *step) {
    gguf_file *g = gguf_open(path);
    if (!g) return NULL;
    model_config c;
    int64_t t;
    const model_config *a = &m->cfg;
    if (train_model_config_from_gguf(g, &c) < 0) goto fail;
    if (c.dim != a->dim || c.n_layers != a->n_layers || c.n_heads != a->n_heads ||
        c.n_kv_heads != a->n_kv_heads || c.ffn_dim != a->ffn_dim || c.vocab_size != a->vocab_size ||
        c.tied != a->tied) {
        err_set("%s: the checkpoint's model (dim %d, %d layers, vocab %d) differs from this run's "
                "(dim %d, %d layers, vocab %d)", path, c.dim, c.n_layers, c.vocab_size, a->dim,
                a->n_layers, a->vocab_size);
        goto fail;
    }
    if (gguf_get_int(g, "train.step", step) < 0 || gguf_get_int(g, "train.optim_t", &t) < 0) {
        err_set("%s: not a training checkpoint (no train.step / train.optim_t)", path);
        goto fail;
    }
    if (train_model_load_weights(m, g) < 0) goto fail;
    opt->t = t;
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *tt = &m->tensors[i];
        for (int k = 0; k < 2; k++) {
            char n[160];
            moment_name(n, sizeof n, k, tt->name);
            const gguf_tensor *gt = gguf_find_tensor(g, n);
            if (!gt || gt->type != TYPE_F32 || gguf_tensor_nelems(gt) != (int64_t)tt->size) {
                err_set("%s: tensor '%s' is missing or has the wrong shape", path, n);
                goto fail;
            }
            memcpy((k ? opt->v : opt->m) + tt->offset, gt->data, tt->size * sizeof(float));
        }
    }
    return g;
fail:
    gguf_close(g);
    return NULL;
}

int ckpt_open_chat_model(const char *path, gguf_file **g, tokenizer **tok, chat_format *f,
                         model_config *cfg) {
    if (!(*g = gguf_open(path))) return -1;
    if (!(*tok = tok_from_gguf(*g)) || chat_format_init(f, *tok)) return err_prefix(path);
    if (train_model_config_from_gguf(*g, cfg) < 0) return -1;
    if (cfg->vocab_size != tok_vocab_size(*tok))
        return err_set("%s: the model's vocabulary (%d) differs from its tokenizer's (%d)", path,
                       cfg->vocab_size, tok_vocab_size(*tok));
    return 0;
}

int ckpt_load_for_data(const char *path, train_model *m, adamw *opt, int64_t *step,
                       const char *key, size_t n, const char *what) {
    gguf_file *g = ckpt_load(path, m, opt, step);
    if (!g) return -1;
    int64_t v;
    int rc = 0;
    if (gguf_get_int(g, key, &v) < 0)
        rc = err_set("%s: not a checkpoint of this stage (no %s)", path, key);
    else if ((uint64_t)v != n)
        rc = err_set("%s: the checkpoint was trained on %lld %s, this data has %zu", path,
                     (long long)v, what, n);
    gguf_close(g);
    return rc;
}

int ckpt_log_rewind(const char *path, int64_t step) {
    if (access(path, F_OK) != 0) return 0;
    size_t len;
    char *s = file_read_all(path, &len);
    if (!s) return -1;
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (char *line = s; *line;) {
        char *end = strchr(line, '\n');
        const size_t l = end ? (size_t)(end - line + 1) : strlen(line);
        const char *p = strstr(line, "\"step\":");
        if (p && p < line + l && strtoll(p + 7, NULL, 10) <= step) {
            memcpy(out + n, line, l);
            n += l;
        }
        line += l;
    }
    const int rc = file_write_atomic(path, out, n);
    free(s);
    free(out);
    return rc;
}
