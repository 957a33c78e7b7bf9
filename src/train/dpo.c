/*
 * dpo.c - Direct Preference Optimization (see dpo.h).
 */
#include "dpo.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../data/prefs.h"
#include "../model/train_model.h"
#include "../tokenizer/chat.h"
#include "ckpt.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dpo_opts_default(dpo_opts *o) {
    memset(o, 0, sizeof *o);
    o->beta = 0.1;
    o->run = train_run_default(1e-5, 10);
    o->run.batch = 8;
    o->run.eval_every = 50;
    o->run.save_every = 200;
    o->run.max_batch = 4096;
    o->run.data_parallel = 1;
    o->run.takes_epochs = 1;
}

/* ---- encoded pairs -------------------------------------------------------- */

/* Sequence 2i is pair i's prompt + chosen answer, 2i+1 its prompt + rejected
 * answer; train[k] = 1 for the answer's tokens and its end of turn. */
typedef struct {
    int *ids;
    uint8_t *train;
    size_t n_tok, cap_tok;
    size_t *off;
    int *len;
    size_t n_seq, cap_seq;
    int max_len;
} seqset;

static void seq_add(seqset *s, const chat_tokens *ct, size_t n_prompt) {
    if (s->n_tok + ct->n > s->cap_tok) {
        s->cap_tok = MAX(2 * s->cap_tok, s->n_tok + ct->n + 4096);
        s->ids = xrealloc(s->ids, s->cap_tok * sizeof *s->ids);
        s->train = xrealloc(s->train, s->cap_tok);
    }
    if (s->n_seq == s->cap_seq) {
        s->cap_seq = s->cap_seq ? 2 * s->cap_seq : 256;
        s->off = xrealloc(s->off, s->cap_seq * sizeof *s->off);
        s->len = xrealloc(s->len, s->cap_seq * sizeof *s->len);
    }
    s->off[s->n_seq] = s->n_tok;
    s->len[s->n_seq++] = (int)ct->n;
    memcpy(s->ids + s->n_tok, ct->ids, ct->n * sizeof(int));
    for (size_t i = 0; i < ct->n; i++) s->train[s->n_tok + i] = i >= n_prompt && ct->train[i];
    s->n_tok += ct->n;
    s->max_len = MAX(s->max_len, (int)ct->n);
}

static void seqset_free(seqset *s) {
    free(s->ids), free(s->train), free(s->off), free(s->len);
    memset(s, 0, sizeof *s);
}

static uint64_t hash_str(uint64_t h, const char *s) {
    for (; *s; s++) h = train_mix64(h ^ (unsigned char)*s);
    return train_mix64(h ^ 0xff);
}

/* Encodes the pairs into train and val (val_frac of prompts, by hash).
 * Pairs longer than max_tokens are counted in *n_long and left out. */
static void encode_pairs(const pref_pairs *p, const chat_format *f, int max_tokens, seqset *train,
                         seqset *val, double val_frac, size_t *n_long) {
    chat_tokens ct = {0}, cr = {0};
    int cap = 8;
    chat_msg *m = xmalloc((size_t)cap * sizeof *m);
    for (size_t i = 0; i < p->n; i++) {
        const pref_pair *q = &p->items[i];
        if (q->n_prompt + 1 > cap) m = xrealloc(m, (size_t)(cap = q->n_prompt + 1) * sizeof *m);
        memcpy(m, q->prompt, (size_t)q->n_prompt * sizeof *m);
        chat_encode(f, m, q->n_prompt, 1, &ct);
        const size_t n_prompt = ct.n;
        m[q->n_prompt].role = CHAT_ASSISTANT;
        m[q->n_prompt].content = q->chosen;
        chat_encode(f, m, q->n_prompt + 1, 0, &ct);
        m[q->n_prompt].content = q->rejected;
        chat_encode(f, m, q->n_prompt + 1, 0, &cr);
        if ((int)ct.n - 1 > max_tokens || (int)cr.n - 1 > max_tokens) {
            (*n_long)++;
            continue;
        }
        seqset *dst = train;
        if (val && val_frac > 0) {
            uint64_t h = 0x51ed2701;
            for (int k = 0; k < q->n_prompt; k++) h = hash_str(h, q->prompt[k].content);
            if ((double)(h >> 11) / 9007199254740992.0 < val_frac) dst = val;
        }
        seq_add(dst, &ct, n_prompt);
        seq_add(dst, &cr, n_prompt);
    }
    free(m);
    chat_tokens_free(&ct);
    chat_tokens_free(&cr);
}

/* Rows (pair indexes idx[0..np), both sequences each) into tok/tgt of
 * 2*np rows by T = longest - 1; mask = 1 on targets. Returns T. */
static int fill_pairs(const seqset *s, const size_t *idx, int np, int *tok, int *tgt, float *mask,
                      int pad) {
    int T = 1;
    for (int b = 0; b < np; b++)
        for (int k = 0; k < 2; k++) T = MAX(T, s->len[2 * idx[b] + k] - 1);
    for (int r = 0; r < 2 * np; r++) {
        const size_t q = 2 * idx[r / 2] + (size_t)(r % 2);
        const int *ids = s->ids + s->off[q];
        const uint8_t *tr = s->train + s->off[q];
        for (int t = 0; t < T; t++) {
            const int i = r * T + t;
            if (t < s->len[q] - 1) {
                tok[i] = ids[t];
                tgt[i] = tr[t + 1] ? ids[t + 1] : -1;
            } else {
                tok[i] = pad;
                tgt[i] = -1;
            }
            mask[i] = tgt[i] >= 0 ? 1.0f : 0.0f;
        }
    }
    return T;
}

/* Sum of the target tokens' log-probabilities of each row after a forward. */
static void row_logps(const train_model *m, const int *tgt, int rows, int T, double *out) {
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int t = 0; t < T; t++)
            if (tgt[r * T + t] >= 0) s -= m->losses[r * T + t];
        out[r] = s;
    }
}

/* Log-probabilities of every sequence of s (pairs in order, batches of B
 * pairs): the reference's, or the policy's for evaluation. */
static void all_logps(train_model *m, const seqset *s, int B, int *tok, int *tgt, float *mask,
                      int pad, double *out) {
    const size_t n = s->n_seq / 2;
    size_t *idx = xmalloc((size_t)B * sizeof *idx);
    for (size_t i = 0; i < n; i += (size_t)B) {
        const int np = (int)MIN((size_t)B, n - i);
        for (int b = 0; b < np; b++) idx[b] = i + (size_t)b;
        const int T = fill_pairs(s, idx, np, tok, tgt, mask, pad);
        train_model_forward(m, tok, tgt, mask, 2 * np, T);
        row_logps(m, tgt, 2 * np, T, out + 2 * i);
    }
    free(idx);
}

typedef struct {
    double loss, acc, margin, chosen_reward, rejected_reward;
} dpo_stats;

/* The loss of P pairs from policy and reference log-probs (pc, pr, rc, rr
 * interleaved as [2i] chosen, [2i+1] rejected); with coef, the derivative
 * of the mean loss with respect to each sequence's log-prob. */
static dpo_stats dpo_loss(const double *pol, const double *ref, size_t P, double beta, double *coef) {
    dpo_stats st = {0};
    for (size_t i = 0; i < P; i++) {
        const double rc = beta * (pol[2 * i] - ref[2 * i]), rr = beta * (pol[2 * i + 1] - ref[2 * i + 1]);
        const double z = rc - rr;
        /* -log sigmoid(z) = softplus(-z), stable */
        st.loss += z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
        st.acc += z > 0 ? 1 : z == 0 ? 0.5 : 0;
        st.margin += z;
        st.chosen_reward += rc, st.rejected_reward += rr;
        if (coef) {
            const double sg = 1 / (1 + exp(z)); /* sigmoid(-z) */
            coef[2 * i] = -beta * sg / (double)P;
            coef[2 * i + 1] = beta * sg / (double)P;
        }
    }
    if (P) {
        st.loss /= (double)P, st.acc /= (double)P, st.margin /= (double)P;
        st.chosen_reward /= (double)P, st.rejected_reward /= (double)P;
    }
    return st;
}

/* ---- the reference cache ---------------------------------------------------- */

#define REF_MAGIC "LLMOSREF1"

static uint64_t ref_key(const train_model *m, const seqset *tr, const seqset *va) {
    uint64_t h = 0x7265666b6579ull;
    const uint32_t *p = (const uint32_t *)m->params;
    for (size_t i = 0; i < m->n_params; i++) h = train_mix64(h ^ p[i]);
    const seqset *s[2] = {tr, va};
    for (int k = 0; k < 2; k++) {
        h = train_mix64(h ^ s[k]->n_seq);
        for (size_t i = 0; i < s[k]->n_tok; i++) h = train_mix64(h ^ ((uint64_t)s[k]->ids[i] << 1 | s[k]->train[i]));
    }
    return h;
}

/* 1 when path holds n values for key (read into out), 0 otherwise. */
static int ref_load(const char *path, uint64_t key, size_t n, double *out) {
    size_t len;
    if (access(path, F_OK) != 0) return 0;
    char *d = file_read_all(path, &len);
    if (!d) return 0;
    const size_t hdr = 16 + 8 + 8;
    uint64_t k, cnt;
    int ok = len == hdr + n * sizeof(double) && !memcmp(d, REF_MAGIC, 10);
    if (ok) {
        memcpy(&k, d + 16, 8), memcpy(&cnt, d + 24, 8);
        ok = k == key && cnt == n;
    }
    if (ok) memcpy(out, d + hdr, n * sizeof(double));
    free(d);
    return ok;
}

static int ref_save(const char *path, uint64_t key, size_t n, const double *v) {
    const size_t hdr = 32, len = hdr + n * sizeof(double);
    char *d = xcalloc(1, len);
    memcpy(d, REF_MAGIC, 10);
    uint64_t cnt = n;
    memcpy(d + 16, &key, 8), memcpy(d + 24, &cnt, 8);
    memcpy(d + hdr, v, n * sizeof(double));
    int rc = file_write_atomic(path, d, len);
    free(d);
    return rc;
}

/* ---- files (train/ckpt.h) ------------------------------------------------ */

/* The keys a resumed run checks (train_keys_fn; ctx: the number of
 * training pairs). */
static void dpo_keys(const train_loop *L, const void *ctx, gguf_writer *w, int64_t step, int checkpoint) {
    if (!checkpoint) return;
    gguf_set_u64(w, "train.seed", L->o->seed);
    gguf_set_u64(w, "dpo.pairs", (uint64_t)*(const size_t *)ctx);
}

/* ---- one step --------------------------------------------------------------- */

/* Forward over the pairs idx[0..np), the DPO loss against ref, and (when
 * backward) the gradient of share x their mean loss added to m's grads
 * (share: these pairs' part of the step's, 1 on one process). */
static dpo_stats dpo_step(train_model *m, const seqset *s, const double *ref_all, const size_t *idx,
                          int np, double beta, int *tok, int *tgt, float *mask, int pad, int backward,
                          double share, int *T_out) {
    const int T = fill_pairs(s, idx, np, tok, tgt, mask, pad);
    train_model_forward(m, tok, tgt, mask, 2 * np, T);
    double *pol = xmalloc(sizeof(double) * 6 * (size_t)np), *ref = pol + 2 * np, *coef = ref + 2 * np;
    row_logps(m, tgt, 2 * np, T, pol);
    for (int b = 0; b < np; b++)
        ref[2 * b] = ref_all[2 * idx[b]], ref[2 * b + 1] = ref_all[2 * idx[b] + 1];
    dpo_stats st = dpo_loss(pol, ref, (size_t)np, beta, coef);
    if (backward) {
        /* dloss/d(token loss) = -dloss/dlogp (logp = -sum of token losses) */
        for (int r = 0; r < 2 * np; r++)
            for (int t = 0; t < T; t++)
                if (tgt[r * T + t] >= 0) mask[r * T + t] = (float)-coef[r];
        train_model_backward(m, tok, (float)(m->loss_weight_sum * share));
    }
    if (T_out) *T_out = T;
    free(pol);
    return st;
}

/* ---- the run -------------------------------------------------------------- */

int dpo_run(const dpo_opts *o) {
    const train_run_opts *ro = &o->run;
    int rc = -1;
    char *ref_path = ckpt_path_beside(o->out_path, ".ref.bin");
    gguf_file *g = NULL;
    tokenizer *tok = NULL;
    train_model *m = NULL;
    adamw *opt = NULL;
    pref_pairs pp = {0}, pv = {0};
    seqset tr = {0}, va = {0};
    int *tokb = NULL, *tgtb = NULL;
    float *maskb = NULL;
    double *ref_tr = NULL, *ref_va = NULL, *pol_va = NULL;
    train_batches bt = {0};
    train_loop L;
    train_loop_init(&L, "llmos dpo", ro, o->out_path, 1);

    chat_format f;
    model_config cfg;
    if (ckpt_open_chat_model(o->model_path, &g, &tok, &f, &cfg) < 0) goto done;
    const int ctx = o->ctx > 0 ? MIN(o->ctx, cfg.ctx_len) : cfg.ctx_len;
    if (pref_pairs_read(o->data_path, &pp) < 0) goto done;
    if (o->val_path && pref_pairs_read(o->val_path, &pv) < 0) goto done;
    size_t n_long = 0;
    encode_pairs(&pp, &f, ctx, &tr, o->val_path ? NULL : &va, pp.n >= 20 ? 0.1 : 0, &n_long);
    if (o->val_path) encode_pairs(&pv, &f, ctx, &va, NULL, 0, &n_long);
    const size_t n_tr = tr.n_seq / 2, n_va = va.n_seq / 2;
    if (n_tr == 0) {
        err_set("%s: no preference pair for training (%zu read, %zu too long for the context of %d)",
                o->data_path, pp.n, n_long, ctx);
        goto done;
    }
    const int B = MIN(ro->batch, 4096), T = MAX(MAX(tr.max_len, va.max_len) - 1, 1);
    if (!(m = train_model_open(&cfg, 2 * B, T, g, o->model_path))) goto done;
    tokb = xmalloc(sizeof(int) * (size_t)2 * B * T);
    tgtb = xmalloc(sizeof(int) * (size_t)2 * B * T);
    maskb = xmalloc(sizeof(float) * (size_t)2 * B * T);
    const int pad = f.eot;

    /* reference log-probs: cached beside the output */
    ref_tr = xmalloc(2 * n_tr * sizeof(double));
    ref_va = xmalloc((2 * n_va + 1) * sizeof(double));
    pol_va = xmalloc((2 * n_va + 1) * sizeof(double));
    if (o->ref_path) { /* a separate reference model: its weights first */
        gguf_file *gr = gguf_open(o->ref_path);
        if (!gr) goto done;
        int e = train_model_load_weights(m, gr);
        gguf_close(gr);
        if (e < 0) {
            err_prefix(o->ref_path);
            goto done;
        }
    }
    const uint64_t key = ref_key(m, &tr, &va);
    double *ref_both = xmalloc((2 * (n_tr + n_va) + 1) * sizeof(double));
    const double t_ref = time_now();
    int cached = ref_load(ref_path, key, 2 * (n_tr + n_va), ref_both);
    if (!cached) {
        all_logps(m, &tr, B, tokb, tgtb, maskb, pad, ref_both);
        all_logps(m, &va, B, tokb, tgtb, maskb, pad, ref_both + 2 * n_tr);
        if (L.rank == 0 && ref_save(ref_path, key, 2 * (n_tr + n_va), ref_both) < 0) {
            free(ref_both);
            goto done;
        }
    }
    if (o->ref_path && train_model_load_weights(m, g) < 0) {
        free(ref_both);
        err_prefix(o->model_path);
        goto done;
    }
    memcpy(ref_tr, ref_both, 2 * n_tr * sizeof(double));
    memcpy(ref_va, ref_both + 2 * n_tr, 2 * n_va * sizeof(double));
    free(ref_both);

    if (ro->grad_dump) { /* step 1's batch: the first B pairs in file order */
        size_t idx[4096];
        const int np = (int)MIN((size_t)B, n_tr);
        for (int b = 0; b < np; b++) idx[b] = (size_t)b;
        train_model_zero_grad(m);
        int Tb;
        dpo_stats st = dpo_step(m, &tr, ref_tr, idx, np, o->beta, tokb, tgtb, maskb, pad, 1, 1.0, &Tb);
        float *refs = xmalloc(sizeof(float) * 2 * (size_t)np);
        for (int i = 0; i < 2 * np; i++) refs[i] = (float)ref_tr[i];
        gguf_writer *w = train_dump_batch(st.loss, 2 * np, Tb, tokb, tgtb, NULL);
        gguf_set_f32(w, "test.beta", (float)o->beta);
        gguf_set_arr(w, "test.ref_logps", GGUF_F32, refs, 2 * (uint64_t)np);
        rc = train_grad_dump(ro->grad_dump, m, w, st.loss);
        free(refs);
        goto done;
    }

    opt = train_adamw_new(m, &ro->hp);
    const int64_t spe = (int64_t)((n_tr + B - 1) / B);
    train_loop_plan(&L, spe);
    const int64_t total = L.total;
    size_t n_pairs = n_tr;
    train_loop_files(&L, g, m, opt, "llmos dpo", 1, dpo_keys, &n_pairs);
    if (train_loop_start(&L, m, opt, "dpo.pairs", n_tr, "pairs") < 0) goto done;
    if (!L.quiet) {
        char b1[32];
        fprintf(stderr,
                "llmos dpo: %s parameters, ctx %d; %zu pairs for training, %zu held out (%zu too long, "
                "left out); beta %g\n"
                "  %lld steps of %d pairs, lr %g %s; reference log-probs %s '%s' (%.1f s)%s\n",
                fmt_count((double)m->n_params, b1, sizeof b1), ctx, n_tr, n_va, n_long, o->beta,
                (long long)total, B, ro->hp.lr, sched_name(ro->hp.sched),
                cached ? "loaded from" : "computed into", ref_path, time_now() - t_ref,
                ro->resume ? "; resuming" : "");
    }
    if (L.log) fprintf(L.log, "{\"step\":0,\"pairs\":%zu,\"heldout\":%zu,\"beta\":%g,\"ref_cached\":%d}\n", n_tr,
            n_va, o->beta, cached);
    /* held-out figures before training */
    dpo_stats vs = {NAN, NAN, NAN, NAN, NAN};
    if (n_va && !ro->resume) {
        all_logps(m, &va, B, tokb, tgtb, maskb, pad, pol_va);
        vs = dpo_loss(pol_va, ref_va, n_va, o->beta, NULL);
        if (L.log)
            fprintf(L.log, "{\"step\":0,\"val_loss\":%.9g,\"val_acc\":%.6g,\"val_margin\":%.6g}\n", vs.loss,
                    vs.acc, vs.margin);
        if (!L.quiet)
            fprintf(stderr, "  held out before training: loss %.4f, reward accuracy %.3f, margin %.4f\n",
                    vs.loss, vs.acc, vs.margin);
    }
    train_batches_init(&bt, n_tr, B, ro->seed);
    L.t_start = time_now();
    for (int64_t step = L.step0 + 1; step <= total; step++) {
        const size_t *idx;
        const int np = train_batches_step(&bt, step, &idx);
        train_model_zero_grad(m);
        int p0;
        const int my_np = train_loop_rows(&L, np, &p0); /* this rank's pairs */
        dpo_stats st = {0};
        if (my_np > 0) {
            int Tb;
            train_loop_last_backward(&L);
            st = dpo_step(m, &tr, ref_tr, idx + p0, my_np, o->beta, tokb, tgtb, maskb, pad, 1,
                          (double)my_np / np, &Tb);
        }
        if (L.ranks > 1) { /* the step's means over all ranks' pairs */
            double *sv[5] = {&st.loss, &st.acc, &st.margin, &st.chosen_reward, &st.rejected_reward};
            for (int k = 0; k < 5; k++) *sv[k] = train_loop_sum(&L, *sv[k] * my_np / np);
        }
        double norm, lr;
        if (train_loop_update(&L, m, opt, step, st.loss, &norm, &lr) < 0) goto done;
        if (L.log)
            fprintf(L.log,
                "{\"step\":%lld,\"loss\":%.9g,\"acc\":%.6g,\"margin\":%.6g,\"chosen_reward\":%.6g,"
                "\"rejected_reward\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g,\"pairs\":%d}\n",
                (long long)step, st.loss, st.acc, st.margin, st.chosen_reward, st.rejected_reward, lr,
                norm, np);
        const int do_eval = train_loop_eval_due(&L, step);
        if (do_eval && n_va) {
            all_logps(m, &va, B, tokb, tgtb, maskb, pad, pol_va);
            vs = dpo_loss(pol_va, ref_va, n_va, o->beta, NULL);
            if (L.log)
                fprintf(L.log, "{\"step\":%lld,\"val_loss\":%.9g,\"val_acc\":%.6g,\"val_margin\":%.6g}\n",
                        (long long)step, vs.loss, vs.acc, vs.margin);
        }
        if (L.log) fflush(L.log);
        if (train_loop_progress_due(&L, step, do_eval))
            train_loop_progress(&L, step, do_eval, lr,
                                "loss %.4f | acc %.2f | margin %.3f | val acc %.3f margin %.3f", st.loss,
                                st.acc, st.margin, vs.acc, vs.margin);
        const int stop = train_loop_checkpoint(&L, step);
        if (stop) {
            rc = stop > 0 ? 0 : -1;
            goto done;
        }
    }
    if (train_loop_finish(&L, o->out_path) < 0) goto done;
    if (!L.quiet) {
        char b[32];
        fprintf(stderr, "llmos dpo: wrote '%s' in %s", o->out_path,
                fmt_duration(time_now() - L.t_start, b, sizeof b));
        if (n_va) fprintf(stderr, "; held out: reward accuracy %.3f, margin %.4f, loss %.4f", vs.acc, vs.margin, vs.loss);
        fprintf(stderr, " (log '%s')\n", L.log_path);
    }
    if (n_va && L.rank == 0) printf("heldout_pairs %zu reward_accuracy %.4f margin %.5f loss %.5f\n", n_va, vs.acc, vs.margin, vs.loss);
    rc = 0;
done:
    train_loop_release(&L);
    free(tokb), free(tgtb), free(maskb), free(ref_tr), free(ref_va), free(pol_va);
    train_batches_free(&bt);
    seqset_free(&tr), seqset_free(&va);
    pref_pairs_free(&pp), pref_pairs_free(&pv);
    adamw_free(opt);
    train_model_free(m);
    tok_free(tok);
    gguf_close(g);
    free(ref_path);
    return rc;
}
