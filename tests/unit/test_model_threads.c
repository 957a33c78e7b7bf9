/*
 * test_model_threads.c - the inference forward pass gives the same logits
 * whatever the thread count, also when a model state made for fewer
 * threads than now run (model_set_threads after model_state_new: a server
 * or label session does that). Such a state once let two threads share one
 * thread's attention scratch: logits came out 14-18 off. Runs a random
 * llama (train_model_init_weights, saved as GGUF and loaded as llmos
 * generate does) with the f16 and the f32 KV cache: a 120-token prompt
 * (prompt processing) and 8 generated positions, each with 1 thread and
 * then 20 times with 2 threads on a 1-thread state, and a state made for 2.
 */
#include "core/common.h"
#include "io/gguf.h"
#include "model/model.h"
#include "model/train_model.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_PROMPT 120
#define N_GEN 8

/* Logits after the prompt, then after each of N_GEN more tokens, into out
 * ((1 + N_GEN) x V). */
static void run(const model *m, model_state *s, const int *tok, float *out) {
    const int V = m->cfg.vocab_size;
    memcpy(out, model_forward(m, s, tok, N_PROMPT, 0, 0), sizeof(float) * V);
    for (int i = 0; i < N_GEN; i++)
        memcpy(out + (size_t)(i + 1) * V, model_forward(m, s, tok + N_PROMPT + i, 1, N_PROMPT + i, 0),
               sizeof(float) * V);
}

static float max_diff(const float *a, const float *b, size_t n) {
    float d = 0;
    for (size_t i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

int main(void) {
    const model_config cfg = {.dim = 96, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .head_dim = 24,
                              .ffn_dim = 256, .vocab_size = 300, .ctx_len = 256, .norm_eps = 1e-5f,
                              .rope_base = 10000.0f};
    train_model *tm = train_model_new(&cfg, 1, 8);
    train_model_init_weights(tm, 7);
    gguf_writer *w = gguf_writer_new();
    train_model_to_gguf(tm, w);
    char path[] = "/tmp/llmos-test-model-threads-XXXXXX";
    int fd = mkstemp(path);
    LLMOS_ASSERT(fd >= 0);
    close(fd);
    LLMOS_ASSERT(gguf_writer_save(w, path) == 0);
    gguf_writer_free(w);
    train_model_free(tm);
    model *m = model_load(path);
    unlink(path);
    if (!m) return fprintf(stderr, "model_load: %s\n", err_msg()), 1;

    int tok[N_PROMPT + N_GEN];
    for (int i = 0; i < N_PROMPT + N_GEN; i++) tok[i] = (i * 37 + 5) % cfg.vocab_size;
    const size_t n = (size_t)(1 + N_GEN) * cfg.vocab_size;
    float *ref = xmalloc(sizeof(float) * n), *got = xmalloc(sizeof(float) * n);
    int bad = 0;
    const tensor_type kv[] = {TYPE_F16, TYPE_F32};
    for (int k = 0; k < 2; k++) {
        m->kv_type = kv[k];
        model_set_threads(1);
        model_state *s1 = model_state_new(m, 256, 128); /* made for 1 thread */
        run(m, s1, tok, ref);
        model_set_threads(2);
        float worst = 0;
        for (int rep = 0; rep < 20; rep++) {
            run(m, s1, tok, got);
            worst = fmaxf(worst, max_diff(got, ref, n));
        }
        model_state *s2 = model_state_new(m, 256, 128);
        run(m, s2, tok, got);
        const float d2 = max_diff(got, ref, n);
        /* threads change only the order of float sums: ~1e-5 on logits of ~5 */
        if (worst > 1e-3f || d2 > 1e-3f) bad = 1;
        printf("%s cache: 2 threads on a 1-thread state: max |diff| %.2g over 20 runs; on a 2-thread state: %.2g%s\n",
               type_name(kv[k]), worst, d2, worst > 1e-3f || d2 > 1e-3f ? "  FAIL" : "");
        model_state_free(s1);
        model_state_free(s2);
    }
    free(ref), free(got);
    model_free(m);
    return bad;
}
