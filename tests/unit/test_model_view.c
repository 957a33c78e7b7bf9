/*
 * test_model_view.c - a model being trained, sampled from without a file:
 *   1. train_model_view's logits (the inference forward pass, model.c) at
 *      every position of a 40-token sequence agree with the training forward
 *      pass (train_model.c, checked against PyTorch by t_train_grad) within
 *      float rounding, for a tied and an untied head;
 *   2. they are bit for bit those of the GGUF that train_model_to_gguf
 *      writes, loaded with model_load (what RL sampled from before);
 *   3. the view reads the parameters in place: after they change (as after
 *      an optimizer step), it follows them, again matching both references;
 *   4. sessions (infer/session.h) over one shared model, run on two threads
 *      at once, give the same tokens as the same sessions one after another.
 */
#include "core/common.h"
#include "infer/session.h"
#include "io/gguf.h"
#include "model/model.h"
#include "model/train_model.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T 40

static int g_bad;

static void check(int ok, const char *what) {
    if (!ok) g_bad++;
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

/* All T positions' logits of tok through the inference forward pass. */
static void infer_logits(const model *m, const int *tok, float *out) {
    model_state *s = model_state_new(m, T, T);
    memcpy(out, model_forward(m, s, tok, T, 0, 1), sizeof(float) * T * m->cfg.vocab_size);
    model_state_free(s);
}

static model *save_and_load(const train_model *tm) {
    gguf_writer *w = gguf_writer_new();
    train_model_to_gguf(tm, w);
    char path[] = "/tmp/llmos-test-model-view-XXXXXX";
    const int fd = mkstemp(path);
    LLMOS_ASSERT(fd >= 0);
    close(fd);
    LLMOS_ASSERT(gguf_writer_save(w, path) == 0);
    gguf_writer_free(w);
    model *m = model_load(path);
    unlink(path);
    if (!m) fprintf(stderr, "model_load: %s\n", err_msg());
    LLMOS_ASSERT(m);
    return m;
}

/* Compares the view with both references; what names the case. */
static void compare(train_model *tm, model *view, const int *tok, const char *what) {
    const size_t n = (size_t)T * tm->cfg.vocab_size;
    float *got = xmalloc(sizeof(float) * n), *file = xmalloc(sizeof(float) * n);
    infer_logits(view, tok, got);
    train_model_forward(tm, tok, NULL, NULL, 1, T);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)got[i] - tm->logits[i]));
        scale = fmax(scale, fabs((double)tm->logits[i]));
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s: view vs training forward, max |diff| %.2e (logits up to %.2f)", what, worst, scale);
    check(worst <= 1e-4 * fmax(1, scale), msg);
    model *m = save_and_load(tm);
    m->kv_type = view->kv_type;
    infer_logits(m, tok, file);
    snprintf(msg, sizeof msg, "%s: view vs the saved GGUF, bit for bit", what);
    check(memcmp(got, file, sizeof(float) * n) == 0, msg);
    model_free(m);
    free(got), free(file);
}

/* ---- sessions sharing one model on two threads ---------------------------- */

enum { N_RUNS = 3, N_NEW = 24 };

typedef struct {
    const model *m;
    uint64_t seed;
    int ids[N_RUNS][N_NEW], n[N_RUNS];
} job;

static void *run_job(void *p) {
    job *j = p;
    session_opts o = {.max_new = N_NEW, .sp = sampler_defaults()};
    o.sp.temperature = 1.0f;
    o.sp.seed = j->seed;
    session *s = session_new(j->m, &o);
    int prompt[5];
    for (int r = 0; r < N_RUNS; r++) {
        for (int i = 0; i < 5; i++) prompt[i] = (int)((j->seed * 31 + (uint64_t)r * 7 + (uint64_t)i * 13) % 200);
        LLMOS_ASSERT(session_complete(s, prompt, 5, NULL, NULL) == 0);
        const session_reply *rep = session_reply_get(s);
        j->n[r] = rep->n_ids;
        memcpy(j->ids[r], rep->ids, sizeof(int) * (size_t)rep->n_ids);
    }
    session_free(s);
    return NULL;
}

int main(void) {
    model_config cfg = {.dim = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .head_dim = 16,
                        .ffn_dim = 160, .vocab_size = 211, .ctx_len = 64, .norm_eps = 1e-5f,
                        .rope_base = 10000.0f};
    int tok[T];
    for (int i = 0; i < T; i++) tok[i] = (i * 37 + 5) % cfg.vocab_size;
    model_set_threads(2);
    for (int tied = 0; tied <= 1; tied++) {
        cfg.tied = tied;
        train_model *tm = train_model_new(&cfg, 1, T);
        train_model_init_weights(tm, 7 + (uint64_t)tied);
        model *view = train_model_view(tm, NULL);
        view->kv_type = TYPE_F32;
        compare(tm, view, tok, tied ? "tied head" : "untied head");
        /* an "optimizer step": every parameter moves */
        for (size_t i = 0; i < tm->n_params; i++) tm->params[i] += 0.01f * (float)((int)(i * 7919 % 13) - 6);
        compare(tm, view, tok, tied ? "tied head, after a step" : "untied head, after a step");

        if (!tied) {
            view->kv_type = TYPE_F16;
            job a = {.m = view, .seed = 3}, b = {.m = view, .seed = 11}, a2 = a, b2 = b;
            run_job(&a), run_job(&b);
            pthread_t ta, tb;
            pthread_create(&ta, NULL, run_job, &a2);
            pthread_create(&tb, NULL, run_job, &b2);
            pthread_join(ta, NULL);
            pthread_join(tb, NULL);
            check(!memcmp(&a, &a2, sizeof a) && !memcmp(&b, &b2, sizeof b),
                  "two sessions over one model on two threads: the same tokens as one after another");
            check(memcmp(a.ids, b.ids, sizeof a.ids) != 0, "the two sessions' samples differ (other seeds)");
        }
        model_free(view);
        train_model_free(tm);
    }
    printf("%s\n", g_bad ? "FAILED" : "all ok");
    return g_bad ? 1 : 0;
}
