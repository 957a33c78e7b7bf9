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

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rl_opts_default(rl_opts *o) {
    memset(o, 0, sizeof *o);
    o->prompts_per_step = 4;
    o->group = 8;
    o->temp = 1.0;
    o->max_new = 32;
    o->eval_n = 100;
    o->eval_k = 8;
    o->pass_score = 1;
    o->run = train_run_default(1e-5, 0);
    o->run.hp.sched = SCHED_CONSTANT;
    o->run.hp.warmup = 0;
    o->run.steps = 50;
    o->run.eval_every = 25;
    o->run.save_every = 50;
}

typedef struct {
    const rl_opts *o;
    const size_t *next_prompt;
} rl_data;

/* A checkpoint's keys: where the prompt cycle stands, and what a resumed
 * run checks (train_keys_fn). */
static void rl_keys(const train_loop *L, const void *ctx, gguf_writer *w, int64_t step, int checkpoint) {
    const rl_data *d = ctx;
    if (!checkpoint) return;
    gguf_set_u64(w, "train.seed", L->o->seed);
    gguf_set_u64(w, "rl.prompts", (uint64_t)d->o->train->n);
    gguf_set_u64(w, "rl.next_prompt", (uint64_t)*d->next_prompt);
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
    else if ((uint64_t)seed != o->run.seed)
        rc = err_set("%s: the checkpoint was trained with --seed %llu, not %llu", path, (unsigned long long)seed,
                     (unsigned long long)o->run.seed);
    else
        *next_prompt = (size_t)np;
    gguf_close(g);
    return rc;
}

/* pass@1 (greedy) and pass@k on the first n held-out prompts. */
static int evaluate(const model *policy, const rl_opts *o, double *pass1, double *passk) {
    cand_gen gg, gs;
    if (cand_gen_open_model(&gg, policy, 0, o->run.seed, o->max_new) < 0) return -1;
    if (cand_gen_open_model(&gs, policy, (float)o->temp, o->run.seed ^ 0xe7a1, o->max_new) < 0) {
        cand_gen_close(&gg);
        return -1;
    }
    int rc = 0;
    size_t n = 0, p1 = 0, pk = 0;
    for (size_t i = 0; i < o->heldout->n && n < (size_t)o->eval_n && rc == 0; i++) {
        const conv *c = &o->heldout->items[i];
        const char *ref;
        const int q = conv_question(c, &ref);
        if (q < 0) continue;
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
    const train_run_opts *ro = &o->run;
    int rc = -1;
    gguf_file *g = NULL;
    tokenizer *tok = NULL;
    train_model *m = NULL;
    model *policy = NULL; /* the policy being trained, read in place for sampling */
    adamw *opt = NULL;
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
    size_t next_prompt = 0;
    rl_data data = {o, &next_prompt};
    train_loop L;
    train_loop_init(&L, "llmos rl", ro, o->out_path, 0);

    chat_format f;
    model_config cfg;
    if (ckpt_open_chat_model(o->model_path, &g, &tok, &f, &cfg) < 0) goto done;
    const int T = cfg.ctx_len;
    if (!(m = train_model_open(&cfg, R, T, g, o->model_path))) goto done;
    opt = train_adamw_new(m, &ro->hp);
    train_loop_files(&L, g, m, opt, "llmos rl", 1, rl_keys, &data);
    tokb = xmalloc(sizeof(int) * (size_t)R * T);
    tgtb = xmalloc(sizeof(int) * (size_t)R * T);
    maskb = xmalloc(sizeof(float) * (size_t)R * T);
    train_loop_plan(&L, 0);
    int64_t step0 = 0;
    if (ro->resume && !ro->grad_dump && load_ckpt(L.ckpt_path, m, opt, o, &step0, &next_prompt) < 0) goto done;
    if (train_loop_start_at(&L, step0) < 0) goto done;
    if (step0 && !ro->quiet) fprintf(stderr, "llmos rl: resuming after step %lld\n", (long long)step0);
    policy = train_model_view(m, tok);
    if (cand_gen_open_model(&cg, policy, (float)o->temp, 0, o->max_new) < 0) goto done;
    double p1 = NAN, pk = NAN;
    if (!ro->grad_dump && o->heldout && o->eval_n > 0 && !step0) {
        if (evaluate(policy, o, &p1, &pk) < 0) goto done;
        fprintf(L.log, "{\"step\":0,\"pass@1\":%.6g,\"pass@%d\":%.6g}\n", p1, o->eval_k, pk);
        fflush(L.log);
        if (!ro->quiet) fprintf(stderr, "llmos rl: before training: pass@1 %.3f, pass@%d %.3f\n", p1, o->eval_k, pk);
    }
    for (int64_t step = step0 + 1; step <= L.total; step++) {
        cand_gen_reseed(&cg, ro->seed * 1000003u + (uint64_t)step);
        /* sample the groups */
        double rsum = 0;
        for (int p = 0; p < P; p++) {
            const conv *c = NULL;
            const char *ref = NULL;
            int q = -1;
            for (size_t tries = 0; tries < o->train->n && q < 0; tries++) {
                c = &o->train->items[next_prompt++ % o->train->n];
                q = conv_question(c, &ref);
            }
            if (q < 0) {
                err_set("no prompt with a user turn");
                goto done;
            }
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
        /* rows: prompt + answer; targets on the answer's tokens */
        int Tb = 1, n_tok = 0;
        for (int r = 0; r < R; r++) Tb = MAX(Tb, prompt_len[r] + n_ids[r] - 1);
        for (int r = 0; r < R; r++) {
            for (int t = 0; t < Tb; t++) {
                const int i = r * Tb + t, len = prompt_len[r] + n_ids[r];
                int cur = t < prompt_len[r] ? prompt_ids[r][t] : t < len ? ids[r][t - prompt_len[r]] : f.eot;
                int nxt = t + 1 < len ? (t + 1 < prompt_len[r] ? -1 : ids[r][t + 1 - prompt_len[r]]) : -1;
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
        if (ro->grad_dump) {
            float *advf = xmalloc(sizeof(float) * (size_t)R);
            for (int r = 0; r < R; r++) advf[r] = (float)adv[r];
            gguf_writer *w = train_dump_batch(loss, R, Tb, tokb, tgtb, NULL);
            gguf_set_arr(w, "test.adv", GGUF_F32, advf, (uint64_t)R);
            rc = train_grad_dump(ro->grad_dump, m, w, loss);
            free(advf);
            goto done;
        }
        double norm, lr;
        if (train_loop_update(&L, m, opt, step, loss, &norm, &lr) < 0) goto done;
        fprintf(L.log, "{\"step\":%lld,\"reward\":%.6g,\"loss\":%.9g,\"grad_norm\":%.6g,\"tokens\":%d}\n",
                (long long)step, rsum / P, loss, norm, n_tok);
        /* held-out evaluation every eval_every steps and after the last */
        const int do_eval = o->heldout && o->eval_n > 0 &&
                            ((ro->eval_every > 0 && step % ro->eval_every == 0) || step == L.total);
        if (do_eval) {
            if (evaluate(policy, o, &p1, &pk) < 0) goto done;
            fprintf(L.log, "{\"step\":%lld,\"pass@1\":%.6g,\"pass@%d\":%.6g}\n", (long long)step, p1, o->eval_k, pk);
        }
        fflush(L.log);
        if (!ro->quiet && (do_eval || step % 10 == 0 || step == 1))
            fprintf(stderr, "step %lld/%lld | mean reward %.3f | tokens %d\n", (long long)step, (long long)L.total,
                    rsum / P, n_tok);
        if (!ro->quiet && do_eval) fprintf(stderr, "  held out: pass@1 %.3f, pass@%d %.3f\n", p1, o->eval_k, pk);
        const int stop = train_loop_checkpoint(&L, step);
        if (stop) {
            rc = stop > 0 ? 0 : -1;
            goto done;
        }
    }
    if (train_loop_finish(&L, o->out_path) < 0) goto done;
    if (o->heldout && o->eval_n > 0) printf("heldout pass@1 %.4f pass@%d %.4f\n", p1, o->eval_k, pk);
    rc = 0;
done:
    if (cg.s) cand_gen_close(&cg);
    model_free(policy);
    train_loop_release(&L);
    for (int r = 0; r < R; r++) free(ids[r]), free(prompt_ids[r]);
    free(ids), free(n_ids), free(reward), free(adv), free(prompt_len), free(prompt_ids);
    free(tokb), free(tgtb), free(maskb);
    chat_tokens_free(&ct);
    adamw_free(opt);
    train_model_free(m);
    tok_free(tok);
    gguf_close(g);
    return rc;
}
