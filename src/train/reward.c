/*
 * reward.c - the Bradley-Terry reward model (see reward.h).
 */
#include "reward.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../data/prefs.h"
#include "ckpt.h"
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void reward_opts_default(reward_opts *o) {
    memset(o, 0, sizeof *o);
    o->run = train_run_default(1e-5, 10);
    o->run.batch = 8;
    o->run.eval_every = 50;
    o->run.save_every = 200;
    o->run.max_batch = 2048;
    o->run.takes_epochs = 1;
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
    if (!(rm->m = train_model_new(&cfg, B, cfg.ctx_len))) goto out;
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

typedef struct {
    const reward_model *rm;
    size_t n_pairs;
} reward_data;

/* The reward head's tokens; for a checkpoint, also the keys a resumed run
 * checks (train_keys_fn). */
static void reward_keys(const train_loop *L, const void *ctx, gguf_writer *w, int64_t step, int checkpoint) {
    const reward_data *d = ctx;
    gguf_set_u32(w, "reward.token_pos", (uint32_t)d->rm->pos);
    gguf_set_u32(w, "reward.token_neg", (uint32_t)d->rm->neg);
    if (checkpoint) {
        gguf_set_u64(w, "train.seed", L->o->seed);
        gguf_set_u64(w, "reward.pairs", (uint64_t)d->n_pairs);
    }
}

int reward_train(const reward_opts *o) {
    const train_run_opts *ro = &o->run;
    int rc = -1;
    reward_model rm = {0};
    pref_pairs pp = {0}, pv = {0};
    seqs tr = {0}, va = {0};
    int *tok = NULL, *tgt = NULL;
    float *mask = NULL;
    adamw *opt = NULL;
    train_batches bt = {0};
    train_loop L;
    train_loop_init(&L, "llmos reward train", ro, o->out_path, 0);
    const int B = MIN(ro->batch, 2048);
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
    if (ro->grad_dump) {
        size_t idx[4096];
        const int np = (int)MIN((size_t)B, n_tr);
        for (int b = 0; b < np; b++) idx[b] = (size_t)b;
        train_model_zero_grad(rm.m);
        int Tb;
        bt_stats st = pairs_step(rm.m, &tr, idx, np, pad, rm.pos, rm.neg, tok, tgt, mask, 1, &Tb);
        gguf_writer *w = train_dump_batch(st.loss, 2 * np, Tb, tok, tgt, NULL);
        gguf_set_u32(w, "test.pos", (uint32_t)rm.pos);
        gguf_set_u32(w, "test.neg", (uint32_t)rm.neg);
        rc = train_grad_dump(ro->grad_dump, rm.m, w, st.loss);
        goto done;
    }
    opt = train_adamw_new(rm.m, &ro->hp);
    const int64_t spe = (int64_t)((n_tr + B - 1) / B);
    train_loop_plan(&L, spe);
    const int64_t total = L.total;
    reward_data data = {&rm, n_tr};
    train_loop_files(&L, rm.g, rm.m, opt, "llmos reward model", 1, reward_keys, &data);
    if (train_loop_start(&L, rm.m, opt, "reward.pairs", n_tr, "pairs") < 0) goto done;
    bt_stats vs = {NAN, NAN, NAN};
    if (n_va && !ro->resume) {
        vs = evaluate(rm.m, &va, B, pad, rm.pos, rm.neg, tok, tgt, mask);
        fprintf(L.log, "{\"step\":0,\"val_loss\":%.9g,\"val_acc\":%.6g,\"val_margin\":%.6g}\n", vs.loss, vs.acc,
                vs.margin);
    }
    if (!ro->quiet)
        fprintf(stderr, "llmos reward train: %zu pairs, %zu held out (%zu too long); %lld steps of %d pairs; "
                        "held out before: accuracy %.3f%s\n", n_tr, n_va, n_long, (long long)total, B, vs.acc,
                ro->resume ? "; resuming" : "");
    train_batches_init(&bt, n_tr, B, ro->seed);
    for (int64_t step = L.step0 + 1; step <= total; step++) {
        const size_t *idx;
        const int np = train_batches_step(&bt, step, &idx);
        train_model_zero_grad(rm.m);
        bt_stats st = pairs_step(rm.m, &tr, idx, np, pad, rm.pos, rm.neg, tok, tgt, mask, 1, NULL);
        double norm, lr;
        if (train_loop_update(&L, rm.m, opt, step, st.loss, &norm, &lr) < 0) goto done;
        fprintf(L.log, "{\"step\":%lld,\"loss\":%.9g,\"acc\":%.6g,\"margin\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g}\n",
                (long long)step, st.loss, st.acc, st.margin, lr, norm);
        if (n_va && train_loop_eval_due(&L, step)) {
            vs = evaluate(rm.m, &va, B, pad, rm.pos, rm.neg, tok, tgt, mask);
            fprintf(L.log, "{\"step\":%lld,\"val_loss\":%.9g,\"val_acc\":%.6g,\"val_margin\":%.6g}\n",
                    (long long)step, vs.loss, vs.acc, vs.margin);
            if (!ro->quiet)
                fprintf(stderr, "step %lld/%lld | loss %.4f | held out: accuracy %.3f, margin %.3f\n",
                        (long long)step, (long long)total, st.loss, vs.acc, vs.margin);
        }
        fflush(L.log);
        const int stop = train_loop_checkpoint(&L, step);
        if (stop) {
            rc = stop > 0 ? 0 : -1;
            goto done;
        }
    }
    if (n_va && ro->eval_every <= 0) vs = evaluate(rm.m, &va, B, pad, rm.pos, rm.neg, tok, tgt, mask);
    if (train_loop_finish(&L, o->out_path) < 0) goto done;
    if (n_va) printf("heldout_pairs %zu accuracy %.4f margin %.5f loss %.5f\n", n_va, vs.acc, vs.margin, vs.loss);
    rc = 0;
done:
    train_loop_release(&L);
    train_batches_free(&bt);
    free(tok), free(tgt), free(mask);
    adamw_free(opt);
    seqs_free(&tr), seqs_free(&va);
    pref_pairs_free(&pp), pref_pairs_free(&pv);
    reward_model_close(&rm);
    return rc;
}
