/*
 * rl.c - policy-gradient training on verifiable tasks (see rl.h).
 */
#include "rl.h"

#include "../core/common.h"
#include "../core/types.h"
#include "../infer/candidates.h"
#include "../model/train_model.h"
#include "../tokenizer/chat.h"
#include "ckpt.h"
#include "optim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int save_policy(const char *path, const gguf_file *base, const train_model *m) {
    gguf_writer *w = ckpt_writer_new(base, m, NULL, 0, "llmos rl");
    chat_template_to_gguf(w);
    int rc = gguf_writer_save(w, path);
    gguf_writer_free(w);
    return rc;
}

/* The checkpoint: the policy, the optimizer state, where the prompt cycle
 * stands, and the keys a resumed run checks. */
static int save_ckpt(const char *path, const gguf_file *base, const train_model *m, const adamw *opt, int step,
                     const rl_opts *o, size_t next_prompt) {
    gguf_writer *w = ckpt_writer_new(base, m, opt, step, "llmos rl");
    chat_template_to_gguf(w);
    gguf_set_u64(w, "train.seed", o->seed);
    gguf_set_u64(w, "rl.prompts", (uint64_t)o->train->n);
    gguf_set_u64(w, "rl.next_prompt", (uint64_t)next_prompt);
    int rc = gguf_writer_save(w, path);
    gguf_writer_free(w);
    return rc;
}

/* Loads the checkpoint into m, opt, *step and *next_prompt. 0, or -1 with
 * err_set. */
static int load_ckpt(const char *path, train_model *m, adamw *opt, const rl_opts *o, int64_t *step,
                     size_t *next_prompt) {
    if (access(path, F_OK) != 0) return err_set("cannot resume: no checkpoint '%s'", path);
    gguf_file *g = ckpt_load(path, m, opt, step);
    if (!g) return -1;
    int64_t n, np, seed;
    int rc = 0;
    if (gguf_get_int(g, "rl.prompts", &n) < 0 || gguf_get_int(g, "rl.next_prompt", &np) < 0 ||
        gguf_get_int(g, "train.seed", &seed) < 0)
        rc = err_set("%s: not a checkpoint of llmos rl (no rl.prompts / rl.next_prompt / train.seed)", path);
    else if ((uint64_t)n != o->train->n)
        rc = err_set("%s: the checkpoint was trained on %lld prompts, this data has %zu", path, (long long)n,
                     o->train->n);
    else if ((uint64_t)seed != o->seed)
        rc = err_set("%s: the checkpoint was trained with --seed %llu, not %llu", path, (unsigned long long)seed,
                     (unsigned long long)o->seed);
    else
        *next_prompt = (size_t)np;
    gguf_close(g);
    return rc;
}

static int first_user(const conv *c) {
    for (int m = 0; m < c->n; m++)
        if (c->msgs[m].role == CHAT_USER) return m;
    return -1;
}

static const char *reference_of(const conv *c, int q) {
    return q + 1 < c->n && c->msgs[q + 1].role == CHAT_ASSISTANT ? c->msgs[q + 1].content : NULL;
}

/* pass@1 (greedy) and pass@k on the first n held-out prompts. */
static int evaluate(const char *policy, const rl_opts *o, double *pass1, double *passk) {
    cand_gen gg, gs;
    if (cand_gen_open(&gg, policy, 0, o->seed, o->max_new) < 0) return -1;
    if (cand_gen_open(&gs, policy, (float)o->temp, o->seed ^ 0xe7a1, o->max_new) < 0) {
        cand_gen_close(&gg);
        return -1;
    }
    int rc = 0;
    size_t n = 0, p1 = 0, pk = 0;
    for (size_t i = 0; i < o->heldout->n && n < (size_t)o->eval_n && rc == 0; i++) {
        const conv *c = &o->heldout->items[i];
        int q = first_user(c);
        if (q < 0) continue;
        const char *ref = reference_of(c, q);
        double s;
        char *a = cand_gen_sample(&gg, c->msgs, q + 1, NULL);
        if (!a || judge_score(&o->j, c->msgs, q + 1, a, ref, &s, NULL) < 0) rc = -1;
        free(a);
        if (rc) break;
        p1 += s >= o->pass_score;
        int any = s >= o->pass_score && o->eval_k == 1;
        for (int k = 0; k < o->eval_k && !any && rc == 0; k++) {
            a = cand_gen_sample(&gs, c->msgs, q + 1, NULL);
            if (!a || judge_score(&o->j, c->msgs, q + 1, a, ref, &s, NULL) < 0) rc = -1;
            else any = s >= o->pass_score;
            free(a);
        }
        pk += any;
        n++;
    }
    cand_gen_close(&gg), cand_gen_close(&gs);
    *pass1 = n ? (double)p1 / (double)n : NAN;
    *passk = n ? (double)pk / (double)n : NAN;
    return rc;
}

int rl_run(const rl_opts *o) {
    int rc = -1;
    char *policy_path = ckpt_path_beside(o->out_path, ".policy.gguf");
    char *log_path = ckpt_path_beside(o->out_path, ".log.jsonl");
    char *ckpt_path = ckpt_path_beside(o->out_path, ".ckpt.gguf");
    gguf_file *g = NULL;
    tokenizer *tok = NULL;
    train_model *m = NULL;
    adamw *opt = NULL;
    FILE *logf = NULL;
    cand_gen cg = {0};
    const int P = o->prompts_per_step, G = o->group, R = P * G;
    int **ids = xcalloc((size_t)R, sizeof *ids);
    int *n_ids = xcalloc((size_t)R, sizeof *n_ids);
    double *reward = xcalloc((size_t)R, sizeof *reward), *adv = xcalloc((size_t)R, sizeof *adv);
    int *tokb = NULL, *tgtb = NULL;
    float *maskb = NULL;
    chat_tokens ct = {0};
    int *prompt_len = xcalloc((size_t)R, sizeof *prompt_len);
    int **prompt_ids = xcalloc((size_t)R, sizeof *prompt_ids);

    chat_format f;
    model_config cfg;
    if (ckpt_open_chat_model(o->model_path, &g, &tok, &f, &cfg) < 0) goto done;
    const int T = cfg.ctx_len;
    m = train_model_new(&cfg, R, T);
    if (train_model_load_weights(m, g) < 0) {
        err_prefix(o->model_path);
        goto done;
    }
    opt = adamw_new(m->n_params, 0.9f, 0.95f, 1e-8f, 0.0f);
    tokb = xmalloc(sizeof(int) * (size_t)R * T);
    tgtb = xmalloc(sizeof(int) * (size_t)R * T);
    maskb = xmalloc(sizeof(float) * (size_t)R * T);
    int64_t step0 = 0;
    size_t next_prompt = 0;
    if (o->resume && !o->grad_dump) {
        if (load_ckpt(ckpt_path, m, opt, o, &step0, &next_prompt) < 0) goto done;
        if (ckpt_log_rewind(log_path, step0) < 0) goto done;
        if (step0 >= o->steps) {
            err_set("'%s' is at step %lld, the run has %d steps: nothing to resume (raise --steps)", ckpt_path,
                    (long long)step0, o->steps);
            goto done;
        }
        if (!o->quiet) fprintf(stderr, "llmos rl: resuming after step %lld\n", (long long)step0);
    }
    if (!(logf = fopen(log_path, step0 ? "a" : "w"))) {
        err_set("cannot write '%s': %s", log_path, strerror(errno));
        goto done;
    }
    if (save_policy(policy_path, g, m) < 0) goto done;
    double p1 = NAN, pk = NAN;
    if (!o->grad_dump && o->heldout && o->eval_n > 0 && !step0) {
        if (evaluate(policy_path, o, &p1, &pk) < 0) goto done;
        fprintf(logf, "{\"step\":0,\"pass@1\":%.6g,\"pass@%d\":%.6g}\n", p1, o->eval_k, pk);
        fflush(logf);
        if (!o->quiet) fprintf(stderr, "llmos rl: before training: pass@1 %.3f, pass@%d %.3f\n", p1, o->eval_k, pk);
    }
    for (int step = (int)step0 + 1; step <= o->steps; step++) {
        if (cand_gen_open(&cg, policy_path, (float)o->temp, o->seed * 1000003u + (uint64_t)step, o->max_new) < 0)
            goto done;
        /* sample the groups */
        double rsum = 0;
        for (int p = 0; p < P; p++) {
            const conv *c = NULL;
            int q = -1;
            for (size_t tries = 0; tries < o->train->n && q < 0; tries++) {
                c = &o->train->items[next_prompt++ % o->train->n];
                q = first_user(c);
            }
            if (q < 0) {
                err_set("no prompt with a user turn");
                goto done;
            }
            const char *ref = reference_of(c, q);
            chat_encode(&f, c->msgs, q + 1, 1, &ct);
            double mean = 0;
            for (int k = 0; k < G; k++) {
                const int r = p * G + k;
                free(ids[r]), ids[r] = NULL;
                free(prompt_ids[r]);
                prompt_ids[r] = xmalloc(ct.n * sizeof(int));
                memcpy(prompt_ids[r], ct.ids, ct.n * sizeof(int));
                prompt_len[r] = (int)ct.n;
                char *a = cand_gen_sample_ids(&cg, c->msgs, q + 1, NULL, &ids[r], &n_ids[r]);
                if (!a || judge_score(&o->j, c->msgs, q + 1, a, ref, &reward[r], NULL) < 0) {
                    free(a);
                    goto done;
                }
                free(a);
                if (prompt_len[r] + n_ids[r] > T) n_ids[r] = T - prompt_len[r];
                mean += reward[r];
            }
            mean /= G;
            for (int k = 0; k < G; k++) adv[p * G + k] = reward[p * G + k] - mean;
            rsum += mean;
        }
        cand_gen_close(&cg);
        /* rows: prompt + answer; targets on the answer's tokens */
        int Tb = 1, n_tok = 0;
        for (int r = 0; r < R; r++) Tb = MAX(Tb, prompt_len[r] + n_ids[r] - 1);
        for (int r = 0; r < R; r++) {
            for (int t = 0; t < Tb; t++) {
                const int i = r * Tb + t, L = prompt_len[r] + n_ids[r];
                int cur = t < prompt_len[r] ? prompt_ids[r][t] : t < L ? ids[r][t - prompt_len[r]] : f.eot;
                int nxt = t + 1 < L ? (t + 1 < prompt_len[r] ? -1 : ids[r][t + 1 - prompt_len[r]]) : -1;
                tokb[i] = cur;
                tgtb[i] = nxt;
                maskb[i] = nxt >= 0 ? 1.0f : 0.0f;
                n_tok += nxt >= 0;
            }
        }
        train_model_zero_grad(m);
        train_model_forward(m, tokb, tgtb, maskb, R, Tb);
        double loss = 0;
        for (int r = 0; r < R; r++)
            for (int t = 0; t < Tb; t++)
                if (tgtb[r * Tb + t] >= 0) {
                    loss += adv[r] * m->losses[r * Tb + t] / n_tok; /* -A * logp / N */
                    maskb[r * Tb + t] = (float)(adv[r] / n_tok);
                }
        train_model_backward(m, tokb, m->loss_weight_sum);
        if (o->grad_dump) {
            char path[4096];
            gguf_writer *w = gguf_writer_new();
            train_model_to_gguf(m, w);
            snprintf(path, sizeof path, "%s/model.gguf", o->grad_dump);
            int e = gguf_writer_save(w, path);
            gguf_writer_free(w);
            float *advf = xmalloc(sizeof(float) * (size_t)R);
            for (int r = 0; r < R; r++) advf[r] = (float)adv[r];
            w = gguf_writer_new();
            gguf_set_f32(w, "test.loss", (float)loss);
            gguf_set_u32(w, "test.batch", (uint32_t)R);
            gguf_set_u32(w, "test.ctx", (uint32_t)Tb);
            gguf_set_arr(w, "test.tokens", GGUF_I32, tokb, (uint64_t)R * Tb);
            gguf_set_arr(w, "test.targets", GGUF_I32, tgtb, (uint64_t)R * Tb);
            gguf_set_arr(w, "test.adv", GGUF_F32, advf, (uint64_t)R);
            for (int i = 0; i < m->n_tensors; i++) {
                const train_tensor *t = &m->tensors[i];
                gguf_writer_add_tensor_ref(w, t->name, TYPE_F32, t->n_dims, t->ne, m->grads + t->offset);
            }
            snprintf(path, sizeof path, "%s/grads.gguf", o->grad_dump);
            if (e == 0) e = gguf_writer_save(w, path);
            gguf_writer_free(w);
            free(advf);
            if (e == 0) printf("loss %.9g\n", loss);
            rc = e;
            goto done;
        }
        const double norm = grad_clip(m, o->clip);
        if (!isfinite(norm)) {
            err_set("the gradient norm is not finite at step %d: training stopped (try a lower --lr)", step);
            goto done;
        }
        adamw_step(opt, m, (float)o->lr);
        if (save_policy(policy_path, g, m) < 0) goto done;
        fprintf(logf, "{\"step\":%d,\"reward\":%.6g,\"loss\":%.9g,\"grad_norm\":%.6g,\"tokens\":%d}\n", step,
                rsum / P, loss, norm, n_tok);
        const int do_eval = o->heldout && o->eval_n > 0 &&
                            ((o->eval_every > 0 && step % o->eval_every == 0) || step == o->steps);
        if (do_eval) {
            if (evaluate(policy_path, o, &p1, &pk) < 0) goto done;
            fprintf(logf, "{\"step\":%d,\"pass@1\":%.6g,\"pass@%d\":%.6g}\n", step, p1, o->eval_k, pk);
        }
        fflush(logf);
        if (!o->quiet && (do_eval || step % 10 == 0 || step == 1))
            fprintf(stderr, "step %d/%d | mean reward %.3f | tokens %d%s\n", step, o->steps, rsum / P, n_tok,
                    do_eval ? "" : "");
        if (!o->quiet && do_eval) fprintf(stderr, "  held out: pass@1 %.3f, pass@%d %.3f\n", p1, o->eval_k, pk);
        if (o->save_every > 0 && step % o->save_every == 0 && step != o->steps &&
            save_ckpt(ckpt_path, g, m, opt, step, o, next_prompt) < 0)
            goto done;
        if (o->stop_after > 0 && step == o->stop_after) {
            if (save_ckpt(ckpt_path, g, m, opt, step, o, next_prompt) < 0) goto done;
            if (!o->quiet) fprintf(stderr, "llmos rl: stopped after step %d (checkpoint '%s')\n", step, ckpt_path);
            rc = 0;
            goto done;
        }
    }
    if (save_ckpt(ckpt_path, g, m, opt, o->steps, o, next_prompt) < 0) goto done;
    if (save_policy(o->out_path, g, m) < 0) goto done;
    if (o->heldout && o->eval_n > 0) printf("heldout pass@1 %.4f pass@%d %.4f\n", p1, o->eval_k, pk);
    rc = 0;
done:
    if (cg.m) cand_gen_close(&cg);
    if (logf) fclose(logf);
    for (int r = 0; r < R; r++) free(ids[r]), free(prompt_ids[r]);
    free(ids), free(n_ids), free(reward), free(adv), free(prompt_len), free(prompt_ids);
    free(tokb), free(tgtb), free(maskb);
    chat_tokens_free(&ct);
    adamw_free(opt);
    train_model_free(m);
    tok_free(tok);
    gguf_close(g);
    if (policy_path) unlink(policy_path);
    free(policy_path), free(log_path), free(ckpt_path);
    return rc;
}
