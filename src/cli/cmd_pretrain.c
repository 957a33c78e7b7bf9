/*
 * cmd_pretrain.c - `llmos pretrain`: train a base model from token shards
 * (the loop is src/train/pretrain.c). Model size comes from a preset or
 * from --dim/--layers/...; every other setting has a default that works.
 *
 * A hidden test hook, `--grad-dump DIR`, writes a randomly initialized
 * model (DIR/model.gguf) and the gradients of one forward/backward pass on
 * random tokens (DIR/grads.gguf, same tensor names, plus test.* keys with
 * the tokens, targets, mask and loss) for tests/py/train_ref.py.
 */
#include "cli.h"

#include "../core/common.h"
#include "../core/gemm.h"
#include "../core/types.h"
#include "../model/train_model.h"
#include "../train/pretrain.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name, *about;
    int dim, layers, heads, kv_heads, ffn, ctx;
} preset;

/* Parameter counts are without the (tied) embedding, which adds V x dim. */
static const preset g_presets[] = {
    {"tiny", "~0.8M + embedding", 128, 4, 4, 2, 384, 256},
    {"small", "~9.4M + embedding", 384, 6, 6, 2, 1024, 256},
    {"base", "~24M + embedding", 512, 8, 8, 4, 1408, 512},
    {"100m", "~75M + embedding (~100M with a 32k vocabulary)", 768, 12, 12, 4, 2048, 512},
};

static void usage(FILE *f) {
    pretrain_opts d;
    pretrain_opts_default(&d);
    fprintf(f,
            "usage: llmos pretrain --data DIR [options]\n"
            "\n"
            "Trains a llama-architecture base model by next-token prediction on the token\n"
            "shards in DIR (made by `llmos data tokenize`). Writes OUT (a plain GGUF that\n"
            "llmos and llama.cpp run), OUT.ckpt.gguf (checkpoint with optimizer state),\n"
            "OUT.log.jsonl (every step and evaluation) and OUT.loss.png (loss curve).\n"
            "\n"
            "data and output:\n"
            "  --data DIR          token shards (train-*.bin, val.bin)            (required)\n"
            "  --tokenizer FILE    tokenizer GGUF                 (default DIR/tokenizer.gguf)\n"
            "  --out FILE          output model                         (default base.gguf)\n"
            "  --init FILE         start from this model's weights (continued pretraining)\n"
            "model size (a preset, then any of the flags overrides it):\n"
            "  --preset NAME       tiny | small | base | 100m                 (default tiny)\n"
            "  --dim N --layers N --heads N --kv-heads N --ffn N --ctx N\n"
            "  --untied            separate output head (default: tied to the embedding)\n"
            "  --rope-base F       (10000)     --norm-eps F (1e-5)\n"
            "training:\n"
            "  --tokens N          training tokens (e.g. 20M)  (default 20 x parameters,\n"
            "                      at most 10 passes over the training shards; --steps overrides)\n"
            "  --accum N           micro-batches per step (gradient accumulation) (1)\n"
            "  --eval-batches N    validation batches per evaluation             (8)\n"
            "  --peak-gflops F     matmul peak for the %% figure (default: measured)\n"
            "  --bf16              matmuls in bf16 (fp32 sums and master weights; needs\n"
            "                      AVX512_BF16): about twice the fp32 speed\n");
    cli_train_help(f, &d.run, "sequences per micro-batch");
    fprintf(f, "\npresets:\n");
    for (size_t i = 0; i < ARRAY_LEN(g_presets); i++)
        fprintf(f, "  %-6s dim %d, %d layers, %d/%d heads, ffn %d, ctx %d  (%s)\n", g_presets[i].name,
                g_presets[i].dim, g_presets[i].layers, g_presets[i].heads, g_presets[i].kv_heads,
                g_presets[i].ffn, g_presets[i].ctx, g_presets[i].about);
    fprintf(f,
            "\nexample:\n"
            "  llmos data tokenize --tokenizer tok.gguf --out data/ corpus/train.jsonl\n"
            "  llmos pretrain --data data/ --preset small --tokens 50M --out base.gguf\n");
}

/* The hidden gradient-check hook (see the top of this file). */
static int grad_dump(const char *dir, const model_config *cfg, int B, int T, uint64_t seed) {
    train_model *m = train_model_new(cfg, B, T);
    if (!m) return -1;
    train_model_init_weights(m, seed);
    /* make the weights less uniform than an init so every path matters */
    uint64_t s = seed * 7 + 3;
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *t = &m->tensors[i];
        float *p = m->params + t->offset;
        for (size_t j = 0; j < t->size; j++)
            p[j] = t->n_dims == 1 ? (float)(1.0 + 0.3 * train_rng_normal(&s)) : p[j] * 8.0f;
    }
    const int N = B * T;
    int *tok = xmalloc(sizeof(int) * N), *tgt = xmalloc(sizeof(int) * N);
    float *mask = xmalloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) {
        tok[i] = (int)(train_rng_next(&s) % (uint64_t)cfg->vocab_size);
        tgt[i] = (int)(train_rng_next(&s) % (uint64_t)cfg->vocab_size);
        mask[i] = i % 5 == 3 ? 0.0f : 1.0f;
    }
    tgt[N / 2] = -1;
    train_model_zero_grad(m);
    const float loss = train_model_forward(m, tok, tgt, mask, B, T);
    train_model_backward(m, tok, 1.0f);
    const int rc = train_grad_dump(dir, m, train_dump_batch(loss, B, T, tok, tgt, mask), loss);
    free(tok), free(tgt), free(mask);
    train_model_free(m);
    return rc;
}

int cmd_pretrain(int argc, char **argv) {
    pretrain_opts o;
    pretrain_opts_default(&o);
    o.out_path = "base.gguf";
    o.run.threads = cli_default_threads();
    const char *preset_name = g_presets[0].name;
    long dim = 0, layers = 0, heads = 0, kv = 0, ffn = 0, ctx = 0, vocab = 0;
    int untied = 0;
    double rope_base = 10000, norm_eps = 1e-5, tokens = 0;
    const cli_opt opts[] = {
        {"--data", NULL, CLI_STR, &o.data_dir, 0, 0},
        {"--tokenizer", NULL, CLI_STR, &o.tokenizer_path, 0, 0},
        {"--out", NULL, CLI_STR, &o.out_path, 0, 0},
        {"--init", NULL, CLI_STR, &o.init_path, 0, 0},
        {"--preset", NULL, CLI_STR, &preset_name, 0, 0},
        {"--dim", NULL, CLI_LONG, &dim, 8, 65536},
        {"--layers", NULL, CLI_LONG, &layers, 1, 1024},
        {"--heads", NULL, CLI_LONG, &heads, 1, 1024},
        {"--kv-heads", NULL, CLI_LONG, &kv, 1, 1024},
        {"--ffn", NULL, CLI_LONG, &ffn, 1, 1 << 20},
        {"--ctx", NULL, CLI_LONG, &ctx, 2, 1 << 16},
        {"--vocab", NULL, CLI_LONG, &vocab, 2, 1 << 24},
        {"--untied", NULL, CLI_FLAG, &untied, 0, 0},
        {"--rope-base", NULL, CLI_DOUBLE, &rope_base, 0, 0},
        {"--norm-eps", NULL, CLI_DOUBLE, &norm_eps, 0, 0},
        {"--tokens", NULL, CLI_COUNT, &tokens, 0, 0},
        {"--accum", NULL, CLI_INT, &o.accum, 1, 1 << 16},
        {"--eval-batches", NULL, CLI_INT, &o.eval_batches, 1, 1 << 20},
        {"--peak-gflops", NULL, CLI_DOUBLE, &o.peak_gflops, 0, 0},
        {"--bf16", NULL, CLI_FLAG, &o.bf16, 0, 0},
        {"--dump-batches", NULL, CLI_STR, &o.dump_batches, 0, 0},
        {0},
    };
    const int parsed = cli_parse("pretrain", argc, argv, opts, cli_train_option, &o.run, usage, NULL);
    if (parsed) return parsed == 1 ? 0 : 2;
    const preset *pr = NULL;
    for (size_t k = 0; k < ARRAY_LEN(g_presets); k++)
        if (!strcmp(preset_name, g_presets[k].name)) pr = &g_presets[k];
    if (!pr) {
        fprintf(stderr, "llmos pretrain: unknown preset '%s' (tiny, small, base, 100m)\n", preset_name);
        return 2;
    }
    if (!(rope_base > 0) || !(norm_eps > 0 && norm_eps < 1) || o.peak_gflops < 0)
        return cli_error("option '%s': %g is out of range %s", !(rope_base > 0) ? "--rope-base" : o.peak_gflops < 0
                         ? "--peak-gflops" : "--norm-eps", !(rope_base > 0) ? rope_base : o.peak_gflops < 0
                         ? o.peak_gflops : norm_eps, !(rope_base > 0) ? "(0, inf)" : o.peak_gflops < 0
                         ? "[0, inf)" : "(0, 1)"), 2;
    if (tokens > 1e15) /* an int64 below; 1e30 became INT64_MIN, i.e. the default budget */
        return cli_error("option '--tokens': %g is out of range [0, 1e15]", tokens), 2;
    o.tokens = (int64_t)tokens;
    model_config *c = &o.cfg;
    c->dim = dim ? (int)dim : pr->dim;
    c->n_layers = layers ? (int)layers : pr->layers;
    c->n_heads = heads ? (int)heads : pr->heads;
    c->n_kv_heads = kv ? (int)kv : heads ? (int)heads : pr->kv_heads;
    c->ffn_dim = ffn ? (int)ffn : pr->ffn;
    c->ctx_len = ctx ? (int)ctx : pr->ctx;
    c->tied = !untied;
    c->rope_base = (float)rope_base;
    c->norm_eps = (float)norm_eps;
    if (c->dim % c->n_heads || (c->dim / c->n_heads) % 2 || c->n_heads % c->n_kv_heads) {
        fprintf(stderr, "llmos pretrain: --heads %d must divide --dim %d into an even head size, "
                        "and --kv-heads %d must divide --heads\n", c->n_heads, c->dim, c->n_kv_heads);
        return 2;
    }
    c->head_dim = c->dim / c->n_heads;
    if (o.init_path && ctx == 0) c->ctx_len = 0; /* from the file unless given */
    omp_set_num_threads(o.run.threads);
    if (o.run.grad_dump) {
        c->vocab_size = vocab ? (int)vocab : 64;
        if (gemm_set_bf16(o.bf16) < 0) return cli_error("--bf16 needs a CPU with AVX512_BF16; this one has none");
        return grad_dump(o.run.grad_dump, c, o.run.batch, c->ctx_len, o.run.seed) < 0 ? cli_error(NULL) : 0;
    }
    if (!o.data_dir) {
        fprintf(stderr, "llmos pretrain: --data DIR is required (see llmos pretrain --help)\n");
        return 2;
    }
    return pretrain_run(&o) < 0 ? cli_error(NULL) : 0;
}
