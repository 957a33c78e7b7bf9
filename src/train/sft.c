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

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void sft_opts_default(sft_opts *o) {
    memset(o, 0, sizeof *o);
    o->run = train_run_default(3e-4, 5);
    o->run.max_auto_steps = 2000;
    o->run.batch = 16;
    o->run.eval_every = 100;
    o->run.save_every = 200;
    o->run.max_batch = 1 << 16;
    o->run.takes_epochs = 1;
    o->run.data_parallel = 1;
    o->val_frac = 0.01;
    o->val_max = 512;
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
            for (size_t k = 0; k < ct.n; k++) h = train_mix64(h ^ (uint64_t)ct.ids[k]);
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
    uint64_t r = train_epoch_order(bt->order, n, seed, epoch);
    g_sort_set = bt->s;
    const size_t win = 32 * B;
    for (size_t w = 0; w < n; w += win) qsort(bt->order + w, MIN(win, n - w), sizeof(size_t), by_length);
    bt->n_batches = (n + B - 1) / B;
    for (size_t i = 0; i < bt->n_batches; i++) bt->batch_perm[i] = i;
    for (size_t i = bt->n_batches; i > 1; i--) {
        r = train_mix64(r);
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

/* A checkpoint's keys (train_keys_fn; ctx: the training set). */
static void sft_keys(const train_loop *L, const void *ctx, gguf_writer *w, int64_t step, int checkpoint) {
    if (!checkpoint) return;
    gguf_set_u64(w, "train.total_steps", (uint64_t)L->total);
    gguf_set_u64(w, "train.seed", L->o->seed);
    gguf_set_u32(w, "train.batch", (uint32_t)L->o->batch);
    gguf_set_u64(w, "sft.conversations", (uint64_t)((const exset *)ctx)->n);
}

/* The test hook: model and gradients of step 1's batch (format of
 * `llmos pretrain --grad-dump`, read by tests/py/train_ref.py). */
static int grad_dump(const char *dir, train_model *m, const int *tok, const int *tgt, int B, int T) {
    train_model_zero_grad(m);
    const float loss = train_model_forward(m, tok, tgt, NULL, B, T);
    train_model_backward(m, tok, 1.0f);
    const int N = B * T;
    float *mask = xmalloc(sizeof(float) * (size_t)N);
    for (int i = 0; i < N; i++) mask[i] = 1.0f;
    const int rc = train_grad_dump(dir, m, train_dump_batch(loss, B, T, tok, tgt, mask), loss);
    free(mask);
    return rc;
}

/* ---- the run -------------------------------------------------------------- */

int sft_run(const sft_opts *o) {
    const train_run_opts *ro = &o->run;
    int rc = -1;
    gguf_file *g = NULL;
    tokenizer *tok = NULL;
    train_model *m = NULL;
    adamw *opt = NULL;
    exset tr = {0}, va = {0};
    batcher bt = {0};
    int *tokb = NULL, *tgtb = NULL;
    train_loop L;
    train_loop_init(&L, "llmos sft", ro, o->out_path, 1);

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
    const int B = ro->batch;
    const int T = MAX(tr.max_len, va.max_len) - 1;
    if (!(m = train_model_open(&cfg, B, MAX(T, 1), g, o->model_path))) goto done;
    opt = train_adamw_new(m, &ro->hp);
    tokb = xmalloc(sizeof(int) * (size_t)B * MAX(T, 1));
    tgtb = xmalloc(sizeof(int) * (size_t)B * MAX(T, 1));
    bt.s = &tr;
    bt.B = B;
    bt.epoch = -1;
    bt.order = xmalloc(tr.n * sizeof *bt.order);
    bt.batch_perm = xmalloc(((tr.n + B - 1) / B) * sizeof *bt.batch_perm);
    const int pad = f.eot;

    if (ro->grad_dump) {
        const size_t *idx;
        int rows = step_batch(&bt, ro->seed, 1, &idx);
        int Tb = fill_rows(&tr, idx, rows, tokb, tgtb, pad);
        rc = grad_dump(ro->grad_dump, m, tokb, tgtb, rows, Tb);
        goto done;
    }

    const int64_t spe = (int64_t)((tr.n + B - 1) / B);
    train_loop_plan(&L, spe);
    const int64_t total = L.total;
    train_loop_files(&L, g, m, opt, "llmos sft", 1, sft_keys, &tr);
    if (train_loop_start(&L, m, opt, "sft.conversations", tr.n, "conversations") < 0) goto done;
    if (!L.quiet) {
        char b1[32], b2[32];
        fprintf(stderr,
                "llmos sft: %s parameters, ctx %d; %zu conversations (%s assistant tokens), "
                "%zu for validation\n"
                "  %lld steps of %d conversations (%.2f epochs), lr %g %s, warmup %lld, %d threads; "
                "data ready in %.1f s; %s\n",
                fmt_count((double)m->n_params, b1, sizeof b1), ctx, tr.n,
                fmt_count((double)tr.targets, b2, sizeof b2), va.n, (long long)total, B,
                (double)total / (double)spe, ro->hp.lr, sched_name(ro->hp.sched), (long long)L.sched.warmup,
                threads, time_now() - t_data, ro->resume ? "resuming" : "fresh start");
        if (skipped) fprintf(stderr, "  %zu conversations longer than %d tokens skipped\n", skipped, ctx);
        if (ro->resume) fprintf(stderr, "  resumed from '%s' at step %lld\n", L.ckpt_path, (long long)L.step0);
    }

    double val = NAN;
    if (!ro->resume && ro->eval_every > 0 && va.n) {
        /* the starting point: what the model makes of the answers before fine-tuning */
        val = evaluate(m, &va, B, tokb, tgtb, pad);
        if (L.log) fprintf(L.log, "{\"step\":0,\"val_loss\":%.9g}\n", val);
        if (!L.quiet) fprintf(stderr, "step 0 | val %.4f (before fine-tuning)\n", val);
    }
    L.t_start = time_now();
    int64_t tokens_done = 0, targets_done = 0;
    for (int64_t step = L.step0 + 1; step <= total; step++) {
        const size_t *idx;
        const int rows = step_batch(&bt, ro->seed, step, &idx);
        int row0, Tb = 1;
        for (int b = 0; b < rows; b++) Tb = MAX(Tb, tr.ex[idx[b]].n - 1); /* the batch's row length */
        /* this rank's conversations; the step's loss is the mean over all
         * ranks' assistant targets, so each rank's mean weighs w / W */
        const int my_rows = train_loop_rows(&L, rows, &row0);
        double w = 0, wloss = 0;
        train_model_zero_grad(m);
        if (my_rows > 0) {
            const int Tm = fill_rows(&tr, idx + row0, my_rows, tokb, tgtb, pad);
            wloss = (double)train_model_forward(m, tokb, tgtb, NULL, my_rows, Tm);
            w = m->loss_weight_sum;
        }
        const double W = train_loop_sum(&L, w);
        const float loss = W > 0 ? (float)(train_loop_sum(&L, wloss * w) / W) : 0.0f;
        const int64_t n_targets = (int64_t)W;
        if (my_rows > 0) {
            train_loop_last_backward(&L);
            train_model_backward(m, tokb, (float)(w / W));
        }
        double norm, lr;
        if (train_loop_update(&L, m, opt, step, loss, &norm, &lr) < 0) goto done;
        tokens_done += (int64_t)rows * Tb;
        targets_done += n_targets;
        const double el = time_now() - L.t_start;
        if (L.log)
            fprintf(L.log,
                    "{\"step\":%lld,\"loss\":%.9g,\"lr\":%.6g,\"grad_norm\":%.6g,\"rows\":%d,"
                    "\"row_len\":%d,\"targets\":%lld}\n",
                    (long long)step, loss, lr, norm, rows, Tb, (long long)n_targets);
        const int do_eval = train_loop_eval_due(&L, step);
        if (do_eval && va.n) {
            val = evaluate(m, &va, B, tokb, tgtb, pad); /* every rank, the whole set */
            if (L.log) fprintf(L.log, "{\"step\":%lld,\"val_loss\":%.9g}\n", (long long)step, val);
        }
        if (L.log) fflush(L.log);
        if (train_loop_progress_due(&L, step, do_eval))
            train_loop_progress(&L, step, do_eval, lr, "loss %.4f | val %.4f | %.0f tok/s (%.0f assistant)", loss,
                                val, tokens_done / el, targets_done / el);
        const int stop = train_loop_checkpoint(&L, step);
        if (stop) {
            rc = stop > 0 ? 0 : -1;
            goto done;
        }
    }
    if (train_loop_finish(&L, o->out_path) < 0) goto done;
    if (!L.quiet) {
        char b[32];
        fprintf(stderr, "llmos sft: wrote '%s' in %s (final val loss %.4f; log '%s')\n", o->out_path,
                fmt_duration(time_now() - L.t_start, b, sizeof b), val, L.log_path);
    }
    rc = 0;
done:
    train_loop_release(&L);
    free(tokb), free(tgtb), free(bt.order), free(bt.batch_perm);
    exset_free(&tr);
    exset_free(&va);
    adamw_free(opt);
    train_model_free(m);
    tok_free(tok);
    gguf_close(g);
    return rc;
}
