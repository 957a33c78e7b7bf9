/*
 * reward.c - the Bradley-Terry reward model (see reward.h).
 */
#include "reward.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../data/prefs.h"
#include "ckpt.h"
#include "optim.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void reward_opts_default(reward_opts *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 1;
    o->batch = 8;
    o->lr = 1e-5;
    o->clip = 1.0;
    o->eval_every = 50;
    o->seed = 1;
    o->save_every = 200;
}

/* Rows of whole conversations: tokens (rows, T), the target neg at each
 * row's last position (the rest -1), mask 1 there. Returns T. */
static int fill_rows(int *const *seq, const int *len, int rows, int pad, int neg, int *tok, int *tgt,
                     float *mask, int *last) {
    int T = 1;
    for (int r = 0; r < rows; r++) T = MAX(T, len[r]);
    for (int r = 0; r < rows; r++)
        for (int t = 0; t < T; t++) {
            const int i = r * T + t;
            tok[i] = t < len[r] ? seq[r][t] : pad;
            tgt[i] = t == len[r] - 1 ? neg : -1;
            mask[i] = t == len[r] - 1 ? 1.0f : 0.0f;
            if (t == len[r] - 1) last[r] = i;
        }
    return T;
}

/* Forward; rewards of the rows into r. */
static void rows_reward(train_model *m, const int *tok, const int *tgt, const float *mask, int rows, int T,
                        const int *last, int pos, int neg, double *r) {
    train_model_forward(m, tok, tgt, mask, rows, T);
    const int V = m->cfg.vocab_size;
    for (int k = 0; k < rows; k++) {
        const float *p = m->logits + (size_t)last[k] * V;
        r[k] = log(fmax(p[pos], 1e-38)) - log(fmax(p[neg], 1e-38));
    }
}

/* Backward of sum_k dr[k] * r_k (see the top of reward.h). */
static void rows_backward(train_model *m, const int *tok, float *mask, int rows, const int *last, int pos,
                          const double *dr) {
    const int V = m->cfg.vocab_size;
    for (int k = 0; k < rows; k++) {
        float *p = m->logits + (size_t)last[k] * V;
        memset(p, 0, (size_t)V * sizeof(float));
        p[pos] = 1.0f;
        mask[last[k]] = (float)dr[k];
    }
    train_model_backward(m, tok, m->loss_weight_sum);
}

int reward_model_open(reward_model *rm, const char *path, int B) {
    memset(rm, 0, sizeof *rm);
    if (!(rm->g = gguf_open(path))) return -1;
    int rc = -1;
    model_config cfg;
    int64_t v;
    if (!(rm->tok = tok_from_gguf(rm->g)) || chat_format_init(&rm->f, rm->tok)) {
        err_prefix(path);
        goto out;
    }
    if (train_model_config_from_gguf(rm->g, &cfg) < 0) goto out;
    rm->pos = rm->f.role[CHAT_USER], rm->neg = rm->f.role[CHAT_ASSISTANT];
    if (gguf_get_int(rm->g, "reward.token_pos", &v) == 0) rm->pos = (int)v;
    if (gguf_get_int(rm->g, "reward.token_neg", &v) == 0) rm->neg = (int)v;
    rm->m = train_model_new(&cfg, B, cfg.ctx_len);
    if (train_model_load_weights(rm->m, rm->g) < 0) {
        err_prefix(path);
        goto out;
    }
    rc = 0;
out:
    if (rc) reward_model_close(rm);
    return rc;
}

void reward_model_close(reward_model *rm) {
    train_model_free(rm->m);
    tok_free(rm->tok);
    gguf_close(rm->g);
    memset(rm, 0, sizeof *rm);
}

int reward_model_encode_chat(const reward_model *rm, const chat_msg *prompt, int n_prompt, const char *answer,
                             int **ids) {
    chat_msg *m = xmalloc(sizeof *m * (size_t)(n_prompt + 1));
    memcpy(m, prompt, sizeof *m * (size_t)n_prompt);
    m[n_prompt].role = CHAT_ASSISTANT, m[n_prompt].content = answer;
    chat_tokens ct = {0};
    chat_encode(&rm->f, m, n_prompt + 1, 0, &ct);
    free(m);
    *ids = xmalloc((ct.n ? ct.n : 1) * sizeof(int));
    memcpy(*ids, ct.ids, ct.n * sizeof(int));
    const int n = (int)ct.n;
    chat_tokens_free(&ct);
    return n;
}

int reward_model_encode_text(const reward_model *rm, const char *text, int **ids) {
    return (int)tok_encode(rm->tok, text, strlen(text), tok_add_bos(rm->tok), 0, ids);
}

int reward_model_score_ids(reward_model *rm, int *const *seq, const int *len, int n, double *out) {
    LLMOS_ASSERT(n <= rm->m->B);
    const int T = rm->m->T;
    for (int k = 0; k < n; k++) {
        if (len[k] < 1) return err_set("nothing to score (an empty sequence)");
        if (len[k] > T) return err_set("a sequence of %d tokens does not fit the reward model's context of %d", len[k], T);
    }
    int *tok = xmalloc(sizeof(int) * (size_t)n * T), *tgt = xmalloc(sizeof(int) * (size_t)n * T);
    int *last = xmalloc(sizeof(int) * (size_t)n);
    float *mask = xmalloc(sizeof(float) * (size_t)n * T);
    const int Tb = fill_rows(seq, len, n, rm->f.eot, rm->neg, tok, tgt, mask, last);
    rows_reward(rm->m, tok, tgt, mask, n, Tb, last, rm->pos, rm->neg, out);
    free(tok), free(tgt), free(last), free(mask);
    return 0;
}

int reward_model_score(reward_model *rm, const chat_msg *prompt, int n_prompt, char **answers, int n,
                       double *out) {
    int **seq = xcalloc((size_t)n, sizeof *seq), *len = xcalloc((size_t)n, sizeof *len);
    for (int k = 0; k < n; k++) len[k] = reward_model_encode_chat(rm, prompt, n_prompt, answers[k], &seq[k]);
    const int rc = reward_model_score_ids(rm, seq, len, n, out);
    for (int k = 0; k < n; k++) free(seq[k]);
    free(seq), free(len);
    return rc;
}

/* ---- training --------------------------------------------------------------- */

typedef struct {
    int **seq;
    int *len;
    size_t n; /* sequences: 2i chosen, 2i+1 rejected */
    int max_len;
} seqs;

static void seqs_free(seqs *s) {
    for (size_t i = 0; i < s->n; i++) free(s->seq[i]);
    free(s->seq), free(s->len);
    memset(s, 0, sizeof *s);
}

static void encode(const pref_pairs *p, const chat_format *f, int ctx, seqs *tr, seqs *va, size_t *n_long) {
    chat_tokens ct = {0};
    for (size_t i = 0; i < p->n; i++) {
        const pref_pair *q = &p->items[i];
        chat_msg *m = xmalloc(sizeof *m * (size_t)(q->n_prompt + 1));
        memcpy(m, q->prompt, sizeof *m * (size_t)q->n_prompt);
        int *ids[2] = {NULL, NULL}, len[2] = {0, 0}, ok = 1;
        for (int k = 0; k < 2; k++) {
            m[q->n_prompt].role = CHAT_ASSISTANT, m[q->n_prompt].content = k ? q->rejected : q->chosen;
            chat_encode(f, m, q->n_prompt + 1, 0, &ct);
            if ((int)ct.n > ctx) ok = 0;
            ids[k] = xmalloc(ct.n * sizeof(int));
            memcpy(ids[k], ct.ids, ct.n * sizeof(int));
            len[k] = (int)ct.n;
        }
        free(m);
        if (!ok) {
            free(ids[0]), free(ids[1]);
            (*n_long)++;
            continue;
        }
        uint64_t h = 1469598103934665603ull;
        for (int k = 0; k < q->n_prompt; k++)
            for (const char *s = q->prompt[k].content; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
        seqs *dst = va && p->n >= 20 && (h >> 11) % 10 == 0 ? va : tr;
        dst->seq = xrealloc(dst->seq, (dst->n + 2) * sizeof *dst->seq);
        dst->len = xrealloc(dst->len, (dst->n + 2) * sizeof *dst->len);
        for (int k = 0; k < 2; k++) {
            dst->seq[dst->n] = ids[k], dst->len[dst->n] = len[k];
            dst->max_len = MAX(dst->max_len, len[k]);
            dst->n++;
        }
    }
    chat_tokens_free(&ct);
}

typedef struct {
    double loss, acc, margin;
} bt_stats;

/* Bradley-Terry over np pairs of rewards r (2i chosen, 2i+1 rejected);
 * dr (may be NULL) gets dloss/dr. */
static bt_stats bt_loss(const double *r, int np, double *dr) {
    bt_stats st = {0};
    for (int i = 0; i < np; i++) {
        const double z = r[2 * i] - r[2 * i + 1];
        st.loss += z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
        st.acc += z > 0 ? 1 : z == 0 ? 0.5 : 0;
        st.margin += z;
        if (dr) {
            const double sg = 1 / (1 + exp(z));
            dr[2 * i] = -sg / np, dr[2 * i + 1] = sg / np;
        }
    }
    st.loss /= np, st.acc /= np, st.margin /= np;
    return st;
}

static bt_stats pairs_step(train_model *m, const seqs *s, const size_t *idx, int np, int pad, int pos, int neg,
                           int *tok, int *tgt, float *mask, int backward, int *T_out) {
    int *const *rows = NULL;
    int **rs = xmalloc(sizeof(int *) * 2 * (size_t)np), *len = xmalloc(sizeof(int) * 2 * (size_t)np);
    int *last = xmalloc(sizeof(int) * 2 * (size_t)np);
    double *r = xmalloc(sizeof(double) * 4 * (size_t)np), *dr = r + 2 * np;
    for (int b = 0; b < np; b++)
        for (int k = 0; k < 2; k++) rs[2 * b + k] = s->seq[2 * idx[b] + k], len[2 * b + k] = s->len[2 * idx[b] + k];
    rows = rs;
    const int T = fill_rows(rows, len, 2 * np, pad, neg, tok, tgt, mask, last);
    rows_reward(m, tok, tgt, mask, 2 * np, T, last, pos, neg, r);
    bt_stats st = bt_loss(r, np, backward ? dr : NULL);
    if (backward) rows_backward(m, tok, mask, 2 * np, last, pos, dr);
    if (T_out) *T_out = T;
    free(rs), free(len), free(last), free(r);
    return st;
}

static bt_stats evaluate(train_model *m, const seqs *va, int B, int pad, int pos, int neg, int *tok, int *tgt,
                         float *mask) {
    bt_stats sum = {0};
    const size_t n = va->n / 2;
    size_t idx[4096];
    for (size_t i = 0; i < n; i += (size_t)B) {
        const int np = (int)MIN((size_t)B, n - i);
        for (int b = 0; b < np; b++) idx[b] = i + (size_t)b;
        bt_stats st = pairs_step(m, va, idx, np, pad, pos, neg, tok, tgt, mask, 0, NULL);
        sum.loss += st.loss * np, sum.acc += st.acc * np, sum.margin += st.margin * np;
    }
    if (n) sum.loss /= (double)n, sum.acc /= (double)n, sum.margin /= (double)n;
    return sum;
}

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The reward model; with opt, the checkpoint (optimizer state and the keys
 * a resumed run checks). */
static int save(const char *path, const gguf_file *base, const train_model *m, int pos, int neg, const adamw *opt,
                int64_t step, const reward_opts *o, size_t n_pairs) {
    gguf_writer *w = ckpt_writer_new(base, m, opt, step, "llmos reward model");
    chat_template_to_gguf(w);
    gguf_set_u32(w, "reward.token_pos", (uint32_t)pos);
    gguf_set_u32(w, "reward.token_neg", (uint32_t)neg);
    if (opt) {
        gguf_set_u64(w, "train.seed", o->seed);
        gguf_set_u64(w, "reward.pairs", (uint64_t)n_pairs);
    }
    int rc = gguf_writer_save(w, path);
    gguf_writer_free(w);
    return rc;
}

int reward_train(const reward_opts *o) {
    int rc = -1;
    reward_model rm = {0};
    pref_pairs pp = {0}, pv = {0};
    seqs tr = {0}, va = {0};
    int *tok = NULL, *tgt = NULL;
    float *mask = NULL;
    adamw *opt = NULL;
    FILE *logf = NULL;
    size_t *order = NULL;
    char *log_path = ckpt_path_beside(o->out_path, ".log.jsonl");
    char *ckpt_path = ckpt_path_beside(o->out_path, ".ckpt.gguf");
    if (o->threads > 0) omp_set_num_threads(o->threads);
    const int B = MIN(o->batch, 2048);
    if (reward_model_open(&rm, o->model_path, 2 * B) < 0) goto done;
    if (pref_pairs_read(o->data_path, &pp) < 0) goto done;
    if (o->val_path && pref_pairs_read(o->val_path, &pv) < 0) goto done;
    size_t n_long = 0;
    encode(&pp, &rm.f, rm.m->T, &tr, o->val_path ? NULL : &va, &n_long);
    if (o->val_path) encode(&pv, &rm.f, rm.m->T, &va, NULL, &n_long);
    const size_t n_tr = tr.n / 2, n_va = va.n / 2;
    if (!n_tr) {
        err_set("%s: no pair for training (%zu too long for the context)", o->data_path, n_long);
        goto done;
    }
    const int T = rm.m->T, pad = rm.f.eot;
    tok = xmalloc(sizeof(int) * 2 * (size_t)B * T);
    tgt = xmalloc(sizeof(int) * 2 * (size_t)B * T);
    mask = xmalloc(sizeof(float) * 2 * (size_t)B * T);
    if (o->grad_dump) {
        size_t idx[4096];
        const int np = (int)MIN((size_t)B, n_tr);
        for (int b = 0; b < np; b++) idx[b] = (size_t)b;
        train_model_zero_grad(rm.m);
        int Tb;
        bt_stats st = pairs_step(rm.m, &tr, idx, np, pad, rm.pos, rm.neg, tok, tgt, mask, 1, &Tb);
        char path[4096];
        gguf_writer *w = gguf_writer_new();
        train_model_to_gguf(rm.m, w);
        snprintf(path, sizeof path, "%s/model.gguf", o->grad_dump);
        int e = gguf_writer_save(w, path);
        gguf_writer_free(w);
        w = gguf_writer_new();
        gguf_set_f32(w, "test.loss", (float)st.loss);
        gguf_set_u32(w, "test.batch", (uint32_t)(2 * np));
        gguf_set_u32(w, "test.ctx", (uint32_t)Tb);
        gguf_set_u32(w, "test.pos", (uint32_t)rm.pos);
        gguf_set_u32(w, "test.neg", (uint32_t)rm.neg);
        gguf_set_arr(w, "test.tokens", GGUF_I32, tok, (uint64_t)2 * np * Tb);
        gguf_set_arr(w, "test.targets", GGUF_I32, tgt, (uint64_t)2 * np * Tb);
        for (int i = 0; i < rm.m->n_tensors; i++) {
            const train_tensor *t = &rm.m->tensors[i];
            gguf_writer_add_tensor_ref(w, t->name, TYPE_F32, t->n_dims, t->ne, rm.m->grads + t->offset);
        }
        snprintf(path, sizeof path, "%s/grads.gguf", o->grad_dump);
        if (e == 0) e = gguf_writer_save(w, path);
        gguf_writer_free(w);
        if (e == 0) printf("loss %.9g\n", st.loss);
        rc = e;
        goto done;
    }
    opt = adamw_new(rm.m->n_params, 0.9f, 0.95f, 1e-8f, 0.0f);
    const int64_t spe = (int64_t)((n_tr + B - 1) / B);
    const int64_t total = o->steps > 0 ? o->steps : MAX((int64_t)1, (int64_t)ceil(o->epochs * (double)spe));
    lr_schedule sched = {SCHED_COSINE, o->lr, 0.1, MIN((int64_t)100, total / 10), total};
    int64_t step0 = 0;
    if (o->resume) {
        if (access(ckpt_path, F_OK) != 0) {
            err_set("cannot resume: no checkpoint '%s'", ckpt_path);
            goto done;
        }
        if (ckpt_load_for_data(ckpt_path, rm.m, opt, &step0, "reward.pairs", n_tr, "pairs") < 0) goto done;
        if (ckpt_log_rewind(log_path, step0) < 0) goto done;
        if (step0 >= total) {
            err_set("'%s' is at step %lld, the run has %lld steps: nothing to resume (raise --steps)", ckpt_path,
                    (long long)step0, (long long)total);
            goto done;
        }
    }
    if (!(logf = fopen(log_path, o->resume ? "a" : "w"))) {
        err_set("cannot write '%s': %s", log_path, strerror(errno));
        goto done;
    }
    bt_stats vs = {NAN, NAN, NAN};
    if (n_va && !o->resume) {
        vs = evaluate(rm.m, &va, B, pad, rm.pos, rm.neg, tok, tgt, mask);
        fprintf(logf, "{\"step\":0,\"val_loss\":%.9g,\"val_acc\":%.6g,\"val_margin\":%.6g}\n", vs.loss, vs.acc,
                vs.margin);
    }
    if (!o->quiet)
        fprintf(stderr, "llmos reward train: %zu pairs, %zu held out (%zu too long); %lld steps of %d pairs; "
                        "held out before: accuracy %.3f%s\n", n_tr, n_va, n_long, (long long)total, B, vs.acc,
                o->resume ? "; resuming" : "");
    order = xmalloc(n_tr * sizeof *order);
    int64_t order_epoch = -1;
    for (int64_t step = step0 + 1; step <= total; step++) {
        const int64_t epoch = (step - 1) / spe, k = (step - 1) % spe;
        if (epoch != order_epoch) { /* the order depends only on (seed, epoch): resumable */
            uint64_t r = mix64(o->seed ^ mix64((uint64_t)epoch + 1));
            for (size_t i = 0; i < n_tr; i++) order[i] = i;
            for (size_t i = n_tr; i > 1; i--) {
                r = mix64(r);
                size_t j = (size_t)(r % i), t = order[i - 1];
                order[i - 1] = order[j], order[j] = t;
            }
            order_epoch = epoch;
        }
        const size_t start = (size_t)k * (size_t)B;
        const int np = (int)MIN((size_t)B, n_tr - start);
        train_model_zero_grad(rm.m);
        bt_stats st = pairs_step(rm.m, &tr, order + start, np, pad, rm.pos, rm.neg, tok, tgt, mask, 1, NULL);
        const double norm = grad_clip(rm.m, o->clip);
        if (!isfinite(st.loss) || !isfinite(norm)) {
            err_set("the loss or gradient is not finite at step %lld (try a lower --lr)", (long long)step);
            goto done;
        }
        const double lr = lr_at(&sched, step);
        adamw_step(opt, rm.m, (float)lr);
        fprintf(logf, "{\"step\":%lld,\"loss\":%.9g,\"acc\":%.6g,\"margin\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g}\n",
                (long long)step, st.loss, st.acc, st.margin, lr, norm);
        if (n_va && o->eval_every > 0 && (step % o->eval_every == 0 || step == total)) {
            vs = evaluate(rm.m, &va, B, pad, rm.pos, rm.neg, tok, tgt, mask);
            fprintf(logf, "{\"step\":%lld,\"val_loss\":%.9g,\"val_acc\":%.6g,\"val_margin\":%.6g}\n",
                    (long long)step, vs.loss, vs.acc, vs.margin);
            if (!o->quiet)
                fprintf(stderr, "step %lld/%lld | loss %.4f | held out: accuracy %.3f, margin %.3f\n",
                        (long long)step, (long long)total, st.loss, vs.acc, vs.margin);
        }
        fflush(logf);
        if (o->save_every > 0 && step % o->save_every == 0 && step != total &&
            save(ckpt_path, rm.g, rm.m, rm.pos, rm.neg, opt, step, o, n_tr) < 0)
            goto done;
        if (o->stop_after > 0 && step == o->stop_after) {
            if (save(ckpt_path, rm.g, rm.m, rm.pos, rm.neg, opt, step, o, n_tr) < 0) goto done;
            if (!o->quiet)
                fprintf(stderr, "llmos reward train: stopped after step %lld (checkpoint '%s')\n", (long long)step,
                        ckpt_path);
            rc = 0;
            goto done;
        }
    }
    if (n_va && o->eval_every <= 0) vs = evaluate(rm.m, &va, B, pad, rm.pos, rm.neg, tok, tgt, mask);
    if (save(ckpt_path, rm.g, rm.m, rm.pos, rm.neg, opt, total, o, n_tr) < 0) goto done;
    if (save(o->out_path, rm.g, rm.m, rm.pos, rm.neg, NULL, total, o, n_tr) < 0) goto done;
    if (n_va) printf("heldout_pairs %zu accuracy %.4f margin %.5f loss %.5f\n", n_va, vs.acc, vs.margin, vs.loss);
    rc = 0;
done:
    if (logf) fclose(logf);
    free(order), free(tok), free(tgt), free(mask), free(log_path), free(ckpt_path);
    adamw_free(opt);
    seqs_free(&tr), seqs_free(&va);
    pref_pairs_free(&pp), pref_pairs_free(&pv);
    reward_model_close(&rm);
    return rc;
}
