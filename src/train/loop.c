/*
 * loop.c - the training stages' shared scaffolding (see loop.h).
 */
#include "loop.h"

#include "ckpt.h"

#include "../core/common.h"
#include "../core/dist.h"
#include "../core/types.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

train_run_opts train_run_default(double lr, int warmup_pct) {
    train_run_opts r;
    memset(&r, 0, sizeof r);
    r.epochs = 1;
    r.hp = train_hparams_default(lr);
    r.warmup_pct = warmup_pct;
    r.seed = 1;
    return r;
}

train_model *train_model_open(const model_config *cfg, int B, int T, const gguf_file *g, const char *path) {
    train_model *m = train_model_new(cfg, B, T);
    if (!m) return NULL;
    if (train_model_load_weights(m, g) < 0) {
        err_prefix(path);
        train_model_free(m);
        return NULL;
    }
    return m;
}

adamw *train_adamw_new(const train_model *m, const train_hparams *hp) {
    return adamw_new(m->n_params, (float)hp->beta1, (float)hp->beta2, (float)hp->eps, (float)hp->weight_decay);
}

void train_loop_init(train_loop *L, const char *name, const train_run_opts *o, const char *out_path, int tty) {
    memset(L, 0, sizeof *L);
    L->name = name;
    L->o = o;
    L->ckpt_path = ckpt_path_beside(out_path, ".ckpt.gguf");
    L->log_path = ckpt_path_beside(out_path, ".log.jsonl");
    L->tty = tty && isatty(2);
    L->rank = dist_rank(), L->ranks = dist_size();
    L->quiet = o->quiet || L->rank != 0;
    if (o->threads > 0) omp_set_num_threads(o->threads);
}

void train_loop_files(train_loop *L, const gguf_file *base, train_model *m, adamw *opt,
                      const char *model_name, int chat, train_keys_fn keys, const void *keys_ctx) {
    L->base = base, L->m = m, L->opt = opt;
    L->model_name = model_name;
    L->chat = chat;
    L->keys = keys, L->keys_ctx = keys_ctx;
}

int train_loop_save(const train_loop *L, const char *path, int64_t step, int checkpoint) {
    adamw whole = checkpoint ? *L->opt : (adamw){0};
    if (checkpoint && L->ddp && L->ddp->zero) { /* the ranks' pieces of the moments, on rank 0 */
        ddp_gather_moments(L->ddp, L->opt, &whole.m, &whole.v);
        whole.n = L->m->n_params;
    }
    int rc = 0;
    if (L->rank == 0) { /* the other ranks hold the same weights */
        gguf_writer *w = ckpt_writer_new(L->base, L->m, checkpoint ? &whole : NULL, step, L->model_name);
        if (L->chat) chat_template_to_gguf(w);
        if (L->keys) L->keys(L, L->keys_ctx, w, step, checkpoint);
        rc = gguf_writer_save(w, path);
        gguf_writer_free(w);
    }
    if (whole.m && whole.m != L->opt->m) free(whole.m), free(whole.v);
    return rc;
}

void train_loop_plan(train_loop *L, int64_t steps_per_epoch) {
    const train_run_opts *o = L->o;
    int64_t total = o->steps > 0 ? o->steps : (int64_t)ceil(o->epochs * (double)steps_per_epoch);
    if (o->steps <= 0 && o->max_auto_steps > 0) total = MIN(total, o->max_auto_steps);
    train_loop_schedule(L, total < 1 ? 1 : total);
}

void train_loop_schedule(train_loop *L, int64_t total) {
    const train_hparams *hp = &L->o->hp;
    L->total = total;
    L->sched = (lr_schedule){hp->sched, hp->lr, hp->min_ratio,
                             hp->warmup >= 0 ? hp->warmup : MIN((int64_t)100, total * L->o->warmup_pct / 100),
                             total};
}

int train_loop_start(train_loop *L, train_model *m, adamw *opt, const char *key, size_t n, const char *what) {
    int64_t step0 = 0;
    if (L->o->resume) {
        if (access(L->ckpt_path, F_OK) != 0) return err_set("cannot resume: no checkpoint '%s'", L->ckpt_path);
        if (ckpt_load_for_data(L->ckpt_path, m, opt, &step0, key, n, what) < 0) return -1;
    }
    return train_loop_start_at(L, step0);
}

int train_loop_start_at(train_loop *L, int64_t step0) {
    L->step0 = L->last_good = step0;
    if (L->ranks > 1) {
        if (!L->o->data_parallel)
            return err_set("%s runs as one process, not on %d ranks (start it without mpirun)", L->name, L->ranks);
        L->ddp = ddp_new(L->m, L->opt, L->o->zero);
    }
    if (step0 > 0) {
        if (L->rank == 0 && ckpt_log_rewind(L->log_path, step0) < 0) return -1;
        if (step0 >= L->total && !L->resume_finished)
            return err_set("'%s' is at step %lld, the run has %lld steps: nothing to resume (raise --steps)",
                           L->ckpt_path, (long long)step0, (long long)L->total);
    }
    return train_loop_open_log(L, step0 > 0);
}

int train_loop_open_log(train_loop *L, int append) {
    if (L->rank == 0 && !(L->log = fopen(L->log_path, append ? "a" : "w")))
        return err_set("cannot write '%s': %s", L->log_path, strerror(errno));
    L->t_start = time_now();
    return 0;
}

int train_loop_update(train_loop *L, train_model *m, adamw *opt, int64_t step, double loss, double *norm,
                      double *lr) {
    *norm = L->ddp ? ddp_grad_clip(L->ddp, L->o->hp.clip) : grad_clip(m, L->o->hp.clip);
    if (!isfinite(loss) || !isfinite(*norm)) {
        const char *what = isfinite(loss) ? "gradient norm" : "loss";
        const char *value = isnan(isfinite(loss) ? *norm : loss) ? "nan" : "inf";
        if (L->log) {
            fprintf(L->log, "{\"step\":%lld,\"error\":\"%s is not finite\"}\n", (long long)step, what);
            fflush(L->log);
        }
        if (L->tty && !L->quiet) fputc('\n', stderr);
        if (L->last_good > 0 && access(L->ckpt_path, F_OK) == 0)
            return err_set("the %s is %s at step %lld: training stopped; the last good checkpoint is '%s' (step %lld)",
                           what, value, (long long)step, L->ckpt_path, (long long)L->last_good);
        return err_set("the %s is %s at step %lld: training stopped (no checkpoint saved yet; try a lower --lr)",
                       what, value, (long long)step);
    }
    *lr = lr_at(&L->sched, step);
    if (L->ddp) ddp_adamw_step(L->ddp, opt, (float)*lr);
    else adamw_step(opt, m, (float)*lr);
    return 0;
}

int train_loop_rows(const train_loop *L, int B, int *row0) {
    *row0 = (int)((int64_t)B * L->rank / L->ranks);
    return (int)((int64_t)B * (L->rank + 1) / L->ranks) - *row0;
}

void train_loop_last_backward(train_loop *L) {
    if (L->ddp) ddp_arm(L->ddp);
}

double train_loop_sum(const train_loop *L, double x) {
    dist_allreduce_f64(&x, 1);
    return x;
}

int train_loop_eval_due(const train_loop *L, int64_t step) {
    return L->o->eval_every > 0 && (step % L->o->eval_every == 0 || step == L->total);
}

int train_loop_progress_due(const train_loop *L, int64_t step, int do_eval) {
    return !L->quiet &&
           (L->tty || do_eval || step == L->step0 + 1 || step % 10 == 0 || step == L->total);
}

void train_loop_progress(const train_loop *L, int64_t step, int do_eval, double lr, const char *fmt, ...) {
    char eta[32];
    const double el = time_now() - L->t_start;
    fmt_duration(el / (double)(step - L->step0) * (double)(L->total - step), eta, sizeof eta);
    fprintf(stderr, "%sstep %lld/%lld | ", L->tty ? "\r\033[K" : "", (long long)step, (long long)L->total);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " | lr %.2e | ETA %s%s", lr, eta, L->tty && !do_eval ? "" : "\n");
}

int train_loop_checkpoint(train_loop *L, int64_t step) {
    const train_run_opts *o = L->o;
    if (o->save_every > 0 && step % o->save_every == 0) {
        if (train_loop_save(L, L->ckpt_path, step, 1) < 0) return -1;
        L->last_good = step;
    }
    if (o->stop_after > 0 && step == o->stop_after && L->stop_kills) {
        if (!L->quiet)
            fprintf(stderr, "%s%s: stopping after step %lld (--stop-after)\n", L->tty ? "\n" : "", L->name,
                    (long long)step);
        return 1;
    }
    if (o->stop_after > 0 && step == o->stop_after) {
        if (L->last_good != step && train_loop_save(L, L->ckpt_path, step, 1) < 0) return -1;
        if (!L->quiet)
            fprintf(stderr, "%s%s: stopped after step %lld (checkpoint '%s')\n", L->tty ? "\n" : "", L->name,
                    (long long)step, L->ckpt_path);
        return 1;
    }
    return 0;
}

int train_loop_finish(train_loop *L, const char *out_path) {
    if (L->tty && !L->quiet) fputc('\n', stderr);
    /* the model first: on a nearly full disk it is the one worth keeping */
    if (train_loop_save(L, out_path, L->total, 0) < 0) return -1;
    if (L->last_good != L->total && train_loop_save(L, L->ckpt_path, L->total, 1) < 0) return -1;
    return 0;
}

void train_loop_release(train_loop *L) {
    ddp_free(L->ddp);
    if (L->log) fclose(L->log);
    free(L->ckpt_path), free(L->log_path);
    memset(L, 0, sizeof *L);
}

gguf_writer *train_dump_batch(double loss, int rows, int T, const int *tok, const int *tgt, const float *mask) {
    const uint64_t N = (uint64_t)rows * (uint64_t)T;
    gguf_writer *w = gguf_writer_new();
    gguf_set_f32(w, "test.loss", (float)loss);
    gguf_set_u32(w, "test.batch", (uint32_t)rows);
    gguf_set_u32(w, "test.ctx", (uint32_t)T);
    gguf_set_arr(w, "test.tokens", GGUF_I32, tok, N);
    gguf_set_arr(w, "test.targets", GGUF_I32, tgt, N);
    if (mask) gguf_set_arr(w, "test.mask", GGUF_F32, mask, N);
    return w;
}

int train_grad_dump(const char *dir, const train_model *m, gguf_writer *w, double loss) {
    char path[4096];
    gguf_writer *mw = gguf_writer_new();
    train_model_to_gguf(m, mw);
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    int rc = gguf_writer_save(mw, path);
    gguf_writer_free(mw);
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *t = &m->tensors[i];
        gguf_writer_add_tensor_ref(w, t->name, TYPE_F32, t->n_dims, t->ne, m->grads + t->offset);
    }
    snprintf(path, sizeof path, "%s/grads.gguf", dir);
    if (rc == 0) rc = gguf_writer_save(w, path);
    gguf_writer_free(w);
    if (rc == 0) printf("loss %.9g\n", loss);
    return rc;
}

uint64_t train_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t train_epoch_order(size_t *order, size_t n, uint64_t seed, int64_t epoch) {
    uint64_t r = train_mix64(seed ^ train_mix64((uint64_t)epoch + 1));
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = n; i > 1; i--) {
        r = train_mix64(r);
        size_t j = (size_t)(r % i), t = order[i - 1];
        order[i - 1] = order[j], order[j] = t;
    }
    return r;
}

void train_batches_init(train_batches *b, size_t n, int B, uint64_t seed) {
    b->n = n;
    b->B = B;
    b->seed = seed;
    b->order = xmalloc((n ? n : 1) * sizeof *b->order);
    b->epoch = -1;
}

int train_batches_step(train_batches *b, int64_t step, const size_t **idx) {
    const int64_t spe = (int64_t)((b->n + (size_t)b->B - 1) / (size_t)b->B);
    const int64_t epoch = (step - 1) / spe, k = (step - 1) % spe;
    if (epoch != b->epoch) {
        train_epoch_order(b->order, b->n, b->seed, epoch);
        b->epoch = epoch;
    }
    const size_t start = (size_t)k * (size_t)b->B;
    *idx = b->order + start;
    return (int)MIN((size_t)b->B, b->n - start);
}

void train_batches_free(train_batches *b) {
    free(b->order);
    memset(b, 0, sizeof *b);
}
