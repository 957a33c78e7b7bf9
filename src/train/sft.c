/*
 * sft.c - supervised fine-tuning on conversations (see sft.h).
 */
#include "sft.h"

#include "ckpt.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../data/conv.h"
#include "../model/train_model.h"
#include "../tokenizer/chat.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sft_opts_default(sft_opts *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 1;
    o->max_default_steps = 2000;
    o->batch = 16;
    o->hp = train_hparams_default(3e-4);
    o->val_frac = 0.01;
    o->val_max = 512;
    o->eval_every = 100;
    o->save_every = 200;
    o->seed = 1;
}

/* ---- encoded conversations ---------------------------------------------- */

typedef struct {
    size_t off;   /* into ids/train */
    int n;        /* tokens */
    int n_target; /* assistant tokens (targets that count) */
} example;

typedef struct {
    int *ids;
    uint8_t *train;
    size_t n_tok, cap_tok;
    example *ex;
    size_t n, cap;
    int max_len;
    int64_t targets; /* sum of n_target */
} exset;

static void exset_add(exset *s, const chat_tokens *ct) {
    if (s->n_tok + ct->n > s->cap_tok) {
        s->cap_tok = MAX(s->cap_tok * 2, s->n_tok + ct->n + 4096);
        s->ids = xrealloc(s->ids, s->cap_tok * sizeof *s->ids);
        s->train = xrealloc(s->train, s->cap_tok);
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->ex = xrealloc(s->ex, s->cap * sizeof *s->ex);
    }
    example *e = &s->ex[s->n++];
    e->off = s->n_tok;
    e->n = (int)ct->n;
    e->n_target = 0;
    /* token i is a target of position i - 1; the first token is no target */
    for (size_t i = 1; i < ct->n; i++) e->n_target += ct->train[i];
    memcpy(s->ids + s->n_tok, ct->ids, ct->n * sizeof *ct->ids);
    memcpy(s->train + s->n_tok, ct->train, ct->n);
    s->n_tok += ct->n;
    s->max_len = MAX(s->max_len, e->n);
    s->targets += e->n_target;
}

static void exset_free(exset *s) {
    free(s->ids), free(s->train), free(s->ex);
    memset(s, 0, sizeof *s);
}

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Encodes a file's conversations into train (and val, when val_frac > 0
 * and val is not NULL). Too long: error naming the line, or skipped. */
static int encode_file(const char *path, const chat_format *f, int max_tokens, int skip_long,
                       exset *train, exset *val, double val_frac, int val_max, size_t *n_skipped) {
    conv_list l = {0};
    if (conv_list_read(&l, path)) {
        conv_list_free(&l);
        return -1;
    }
    if (l.n == 0) {
        conv_list_free(&l);
        return err_set("%s: no conversations", path);
    }
    chat_tokens ct = {0};
    int rc = 0;
    for (size_t i = 0; i < l.n; i++) {
        const conv *c = &l.items[i];
        chat_encode(f, c->msgs, c->n, 0, &ct);
        if ((int)ct.n - 1 > max_tokens) {
            if (skip_long) {
                (*n_skipped)++;
                continue;
            }
            rc = err_set("%s:%zu: conversation is %zu tokens, longer than the context (%d); "
                         "shorten it or pass --skip-long",
                         path, c->line, ct.n - 1, max_tokens);
            break;
        }
        exset *dst = train;
        /* a small file keeps every conversation for training */
        if (val && val_frac > 0 && (int)val->n < val_max && l.n >= 100) {
            uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)ct.n;
            for (size_t k = 0; k < ct.n; k++) h = mix64(h ^ (uint64_t)ct.ids[k]);
            if ((double)(h >> 11) / 9007199254740992.0 < val_frac) dst = val;
        }
        exset_add(dst, &ct);
    }
    chat_tokens_free(&ct);
    conv_list_free(&l);
    return rc;
}

/* ---- batches -------------------------------------------------------------- */

typedef struct {
    const exset *s;
    int B;
    int64_t epoch;     /* of order[] (-1: none) */
    size_t *order;     /* example indexes, batch by batch */
    size_t *batch_perm;
    size_t n_batches;
} batcher;

static const exset *g_sort_set;
static int by_length(const void *a, const void *b) {
    const size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const int lx = g_sort_set->ex[x].n, ly = g_sort_set->ex[y].n;
    if (lx != ly) return lx < ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

static void batcher_epoch(batcher *bt, uint64_t seed, int64_t epoch) {
    if (bt->epoch == epoch) return;
    const size_t n = bt->s->n, B = (size_t)bt->B;
    uint64_t r = mix64(seed ^ mix64((uint64_t)epoch + 1));
    for (size_t i = 0; i < n; i++) bt->order[i] = i;
    for (size_t i = n; i > 1; i--) {
        r = mix64(r);
        size_t j = (size_t)(r % i);
        size_t t = bt->order[i - 1];
        bt->order[i - 1] = bt->order[j];
        bt->order[j] = t;
    }
    g_sort_set = bt->s;
    const size_t win = 32 * B;
    for (size_t w = 0; w < n; w += win) qsort(bt->order + w, MIN(win, n - w), sizeof(size_t), by_length);
    bt->n_batches = (n + B - 1) / B;
    for (size_t i = 0; i < bt->n_batches; i++) bt->batch_perm[i] = i;
    for (size_t i = bt->n_batches; i > 1; i--) {
        r = mix64(r);
        size_t j = (size_t)(r % i);
        size_t t = bt->batch_perm[i - 1];
        bt->batch_perm[i - 1] = bt->batch_perm[j];
        bt->batch_perm[j] = t;
    }
    bt->epoch = epoch;
}

/* Fills tok/tgt (rows x T, T = longest row - 1) with examples idx[0..rows).
 * Returns T. */
static int fill_rows(const exset *s, const size_t *idx, int rows, int *tok, int *tgt, int pad) {
    int T = 1;
    for (int b = 0; b < rows; b++) T = MAX(T, s->ex[idx[b]].n - 1);
    for (int b = 0; b < rows; b++) {
        const example *e = &s->ex[idx[b]];
        const int *ids = s->ids + e->off;
        const uint8_t *tr = s->train + e->off;
        for (int t = 0; t < T; t++) {
            if (t < e->n - 1) {
                tok[b * T + t] = ids[t];
                tgt[b * T + t] = tr[t + 1] ? ids[t + 1] : -1;
            } else {
                tok[b * T + t] = pad;
                tgt[b * T + t] = -1;
            }
        }
    }
    return T;
}

/* Step (1-based) -> its batch: the examples and their count. */
static int step_batch(batcher *bt, uint64_t seed, int64_t step, const size_t **idx) {
    const int64_t spe = (int64_t)((bt->s->n + bt->B - 1) / bt->B);
    const int64_t epoch = (step - 1) / spe, k = (step - 1) % spe;
    batcher_epoch(bt, seed, epoch);
    const size_t start = bt->batch_perm[k] * (size_t)bt->B;
    *idx = bt->order + start;
    return (int)MIN((size_t)bt->B, bt->s->n - start);
}

/* Mean loss over every assistant target of the set. */
static double evaluate(train_model *m, const exset *v, int B, int *tok, int *tgt, int pad) {
    if (!v->n) return NAN;
    size_t *idx = xmalloc(v->n * sizeof *idx);
    for (size_t i = 0; i < v->n; i++) idx[i] = i;
    g_sort_set = v;
    qsort(idx, v->n, sizeof *idx, by_length);
    double sum = 0, cnt = 0;
    for (size_t i = 0; i < v->n; i += (size_t)B) {
        const int rows = (int)MIN((size_t)B, v->n - i);
        const int T = fill_rows(v, idx + i, rows, tok, tgt, pad);
        const float loss = train_model_forward(m, tok, tgt, NULL, rows, T);
        sum += (double)loss * m->loss_weight_sum;
        cnt += m->loss_weight_sum;
    }
    free(idx);
    return cnt > 0 ? sum / cnt : NAN;
}

/* ---- files ---------------------------------------------------------------- */

/* The model (tokenizer keys of the base, weights, chat template), and with
 * opt the optimizer state and the train.* keys of a checkpoint. */
static int save_model(const char *path, const gguf_file *base, const train_model *m,
                      const adamw *opt, int64_t step, int64_t total, const sft_opts *o,
                      size_t n_train) {
    gguf_writer *w = ckpt_writer_new(base, m, opt, step, "llmos sft");
    chat_template_to_gguf(w);
    if (opt) {
        gguf_set_u64(w, "train.total_steps", (uint64_t)total);
        gguf_set_u64(w, "train.seed", o->seed);
        gguf_set_u32(w, "train.batch", (uint32_t)o->batch);
        gguf_set_u64(w, "sft.conversations", (uint64_t)n_train);
    }
    int rc = gguf_writer_save(w, path);
    gguf_writer_free(w);
    return rc;
}

/* The test hook: model and gradients of step 1's batch (format of
 * `llmos pretrain --grad-dump`, read by tests/py/train_ref.py). */
static int grad_dump(const char *dir, train_model *m, const int *tok, const int *tgt, int B, int T) {
    train_model_zero_grad(m);
    const float loss = train_model_forward(m, tok, tgt, NULL, B, T);
    train_model_backward(m, tok, 1.0f);
    char path[4096];
    int rc = 0;
    gguf_writer *w = gguf_writer_new();
    train_model_to_gguf(m, w);
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    if (gguf_writer_save(w, path) < 0) rc = -1;
    gguf_writer_free(w);
    const int N = B * T;
    float *mask = xmalloc(sizeof(float) * (size_t)N);
    for (int i = 0; i < N; i++) mask[i] = 1.0f;
    w = gguf_writer_new();
    gguf_set_f32(w, "test.loss", loss);
    gguf_set_u32(w, "test.batch", (uint32_t)B);
    gguf_set_u32(w, "test.ctx", (uint32_t)T);
    gguf_set_arr(w, "test.tokens", GGUF_I32, tok, (uint64_t)N);
    gguf_set_arr(w, "test.targets", GGUF_I32, tgt, (uint64_t)N);
    gguf_set_arr(w, "test.mask", GGUF_F32, mask, (uint64_t)N);
    for (int i = 0; i < m->n_tensors; i++) {
        const train_tensor *t = &m->tensors[i];
        gguf_writer_add_tensor_ref(w, t->name, TYPE_F32, t->n_dims, t->ne, m->grads + t->offset);
    }
    snprintf(path, sizeof path, "%s/grads.gguf", dir);
    if (rc == 0 && gguf_writer_save(w, path) < 0) rc = -1;
    gguf_writer_free(w);
    free(mask);
    if (rc == 0) printf("loss %.9g\n", loss);
    return rc;
}

/* ---- the run -------------------------------------------------------------- */

int sft_run(const sft_opts *o) {
    int rc = -1;
    char *ckpt_path = ckpt_path_beside(o->out_path, ".ckpt.gguf");
    char *log_path = ckpt_path_beside(o->out_path, ".log.jsonl");
    gguf_file *g = NULL;
    tokenizer *tok = NULL;
    train_model *m = NULL;
    adamw *opt = NULL;
    FILE *logf = NULL;
    exset tr = {0}, va = {0};
    batcher bt = {0};
    int *tokb = NULL, *tgtb = NULL;

    if (o->threads > 0) omp_set_num_threads(o->threads);
    const int threads = omp_get_max_threads();
    chat_format f;
    model_config cfg;
    if (ckpt_open_chat_model(o->model_path, &g, &tok, &f, &cfg) < 0) goto done;
    const int ctx = o->ctx > 0 ? o->ctx : cfg.ctx_len;
    if (ctx > cfg.ctx_len) {
        err_set("--ctx %d is longer than the model's context (%d)", ctx, cfg.ctx_len);
        goto done;
    }

    /* data */
    const double t_data = time_now();
    size_t skipped = 0;
    if (encode_file(o->data_path, &f, ctx, o->skip_long, &tr, o->val_path ? NULL : &va,
                    o->val_frac, o->val_max, &skipped))
        goto done;
    if (o->val_path &&
        encode_file(o->val_path, &f, ctx, o->skip_long, &va, NULL, 0, 0, &skipped))
        goto done;
    if (tr.n == 0) {
        err_set("%s: no conversation left for training", o->data_path);
        goto done;
    }
    const int B = o->batch;
    const int T = MAX(tr.max_len, va.max_len) - 1;
    m = train_model_new(&cfg, B, MAX(T, 1));
    if (train_model_load_weights(m, g) < 0) {
        err_prefix(o->model_path);
        goto done;
    }
    opt = adamw_new(m->n_params, (float)o->hp.beta1, (float)o->hp.beta2, (float)o->hp.eps,
                    (float)o->hp.weight_decay);
    tokb = xmalloc(sizeof(int) * (size_t)B * MAX(T, 1));
    tgtb = xmalloc(sizeof(int) * (size_t)B * MAX(T, 1));
    bt.s = &tr;
    bt.B = B;
    bt.epoch = -1;
    bt.order = xmalloc(tr.n * sizeof *bt.order);
    bt.batch_perm = xmalloc(((tr.n + B - 1) / B) * sizeof *bt.batch_perm);
    const int pad = f.eot;

    if (o->grad_dump) {
        const size_t *idx;
        int rows = step_batch(&bt, o->seed, 1, &idx);
        int Tb = fill_rows(&tr, idx, rows, tokb, tgtb, pad);
        rc = grad_dump(o->grad_dump, m, tokb, tgtb, rows, Tb);
        goto done;
    }

    const int64_t spe = (int64_t)((tr.n + B - 1) / B);
    int64_t total = o->steps > 0 ? o->steps : (int64_t)ceil(o->epochs * (double)spe);
    if (o->steps <= 0 && o->max_default_steps > 0) total = MIN(total, o->max_default_steps);
    if (total < 1) total = 1;
    lr_schedule sched = {o->hp.sched, o->hp.lr, o->hp.min_ratio,
                         o->hp.warmup >= 0 ? o->hp.warmup : MIN((int64_t)100, total / 20), total};

    int64_t step0 = 0;
    if (o->resume) {
        if (access(ckpt_path, F_OK) != 0) {
            err_set("cannot resume: no checkpoint '%s'", ckpt_path);
            goto done;
        }
        if (ckpt_load_for_data(ckpt_path, m, opt, &step0, "sft.conversations", tr.n, "conversations") < 0) goto done;
        if (ckpt_log_rewind(log_path, step0) < 0) goto done;
        if (step0 >= total) {
            err_set("'%s' is at step %lld, the run has %lld steps: nothing to resume (raise --steps)",
                    ckpt_path, (long long)step0, (long long)total);
            goto done;
        }
    }
    if (!(logf = fopen(log_path, o->resume ? "a" : "w"))) {
        err_set("cannot write '%s': %s", log_path, strerror(errno));
        goto done;
    }
    if (!o->quiet) {
        char b1[32], b2[32];
        fprintf(stderr,
                "llmos sft: %s parameters, ctx %d; %zu conversations (%s assistant tokens), "
                "%zu for validation\n"
                "  %lld steps of %d conversations (%.2f epochs), lr %g %s, warmup %lld, %d threads; "
                "data ready in %.1f s; %s\n",
                fmt_count((double)m->n_params, b1, sizeof b1), ctx, tr.n,
                fmt_count((double)tr.targets, b2, sizeof b2), va.n, (long long)total, B,
                (double)total / (double)spe, o->hp.lr, sched_name(o->hp.sched), (long long)sched.warmup,
                threads, time_now() - t_data, o->resume ? "resuming" : "fresh start");
        if (skipped) fprintf(stderr, "  %zu conversations longer than %d tokens skipped\n", skipped, ctx);
        if (o->resume) fprintf(stderr, "  resumed from '%s' at step %lld\n", ckpt_path, (long long)step0);
    }

    const int tty = isatty(2);
    double val = NAN;
    if (!o->resume && o->eval_every > 0 && va.n) {
        /* the starting point: what the model makes of the answers before fine-tuning */
        val = evaluate(m, &va, B, tokb, tgtb, pad);
        fprintf(logf, "{\"step\":0,\"val_loss\":%.9g}\n", val);
        if (!o->quiet) fprintf(stderr, "step 0 | val %.4f (before fine-tuning)\n", val);
    }
    const double t_start = time_now();
    int64_t tokens_done = 0, targets_done = 0;
    for (int64_t step = step0 + 1; step <= total; step++) {
        const size_t *idx;
        const int rows = step_batch(&bt, o->seed, step, &idx);
        const int Tb = fill_rows(&tr, idx, rows, tokb, tgtb, pad);
        train_model_zero_grad(m);
        const float loss = train_model_forward(m, tokb, tgtb, NULL, rows, Tb);
        const int64_t n_targets = (int64_t)m->loss_weight_sum;
        train_model_backward(m, tokb, 1.0f);
        const double norm = grad_clip(m, o->hp.clip);
        if (!isfinite(loss) || !isfinite(norm)) {
            err_set("the %s is not finite at step %lld: training stopped (try a lower --lr)",
                    isfinite(loss) ? "gradient norm" : "loss", (long long)step);
            goto done;
        }
        const double lr = lr_at(&sched, step);
        adamw_step(opt, m, (float)lr);
        tokens_done += (int64_t)rows * Tb;
        targets_done += n_targets;
        const double el = time_now() - t_start;
        fprintf(logf,
                "{\"step\":%lld,\"loss\":%.9g,\"lr\":%.6g,\"grad_norm\":%.6g,\"rows\":%d,"
                "\"row_len\":%d,\"targets\":%lld}\n",
                (long long)step, loss, lr, norm, rows, Tb, (long long)n_targets);
        const int do_eval = o->eval_every > 0 && (step % o->eval_every == 0 || step == total);
        if (do_eval && va.n) {
            val = evaluate(m, &va, B, tokb, tgtb, pad);
            fprintf(logf, "{\"step\":%lld,\"val_loss\":%.9g}\n", (long long)step, val);
        }
        fflush(logf);
        if (!o->quiet && (tty || do_eval || step == step0 + 1 || step % 10 == 0 || step == total)) {
            char eta[32];
            fmt_duration(el / (double)(step - step0) * (double)(total - step), eta, sizeof eta);
            fprintf(stderr,
                    "%sstep %lld/%lld | loss %.4f | val %.4f | %.0f tok/s (%.0f assistant) | "
                    "lr %.2e | ETA %s%s",
                    tty ? "\r\033[K" : "", (long long)step, (long long)total, loss, val,
                    tokens_done / el, targets_done / el, lr, eta, tty && !do_eval ? "" : "\n");
        }
        if (o->save_every > 0 && step % o->save_every == 0 && step != total &&
            save_model(ckpt_path, g, m, opt, step, total, o, tr.n) < 0)
            goto done;
        if (o->stop_after > 0 && step == o->stop_after) {
            if (save_model(ckpt_path, g, m, opt, step, total, o, tr.n) < 0) goto done;
            if (!o->quiet)
                fprintf(stderr, "%sllmos sft: stopped after step %lld (checkpoint '%s')\n",
                        tty ? "\n" : "", (long long)step, ckpt_path);
            rc = 0;
            goto done;
        }
    }
    if (tty && !o->quiet) fputc('\n', stderr);
    if (save_model(ckpt_path, g, m, opt, total, total, o, tr.n) < 0) goto done;
    if (save_model(o->out_path, g, m, NULL, total, total, o, tr.n) < 0) goto done;
    if (!o->quiet) {
        char b[32];
        fprintf(stderr, "llmos sft: wrote '%s' in %s (final val loss %.4f; log '%s')\n", o->out_path,
                fmt_duration(time_now() - t_start, b, sizeof b), val, log_path);
    }
    rc = 0;
done:
    if (logf) fclose(logf);
    free(tokb), free(tgtb), free(bt.order), free(bt.batch_perm);
    exset_free(&tr);
    exset_free(&va);
    adamw_free(opt);
    train_model_free(m);
    tok_free(tok);
    gguf_close(g);
    free(ckpt_path), free(log_path);
    return rc;
}
