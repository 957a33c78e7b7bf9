/*
 * pretrain.c - the pretraining loop (see pretrain.h): sample a batch, run
 * forward and backward over the micro-batches, clip, AdamW, log, evaluate,
 * checkpoint. Everything that decides the numbers (initialization, batches,
 * schedule) is a function of the seed and the step, so a resumed run is
 * bit-identical to an uninterrupted one.
 */
#include "pretrain.h"

#include "ckpt.h"

#include "../core/common.h"
#include "../core/dist.h"
#include "../core/gemm.h"
#include "../core/types.h"
#include "../data/shard.h"
#include "../model/train_model.h"
#include "scaling.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

void pretrain_opts_default(pretrain_opts *o) {
    memset(o, 0, sizeof(*o));
    o->run = train_run_default(1e-3, 10);
    o->run.hp.weight_decay = 0.1;
    o->run.batch = 8;
    o->run.eval_every = 100;
    o->run.save_every = 500;
    o->run.max_batch = 1 << 16;
    o->run.data_parallel = 1;
    o->accum = 1;
    o->eval_batches = 8;
}

/* ---- checkpoints (ckpt.h) ---- */

/* A checkpoint's train.* keys (train_keys_fn; ctx: the options). */
static void pretrain_keys(const train_loop *L, const void *ctx, gguf_writer *w, int64_t step, int checkpoint) {
    const pretrain_opts *o = ctx;
    if (!checkpoint) return;
    gguf_set_u64(w, "train.total_steps", (uint64_t)L->total);
    gguf_set_u64(w, "train.seed", o->run.seed);
    gguf_set_u64(w, "train.data_position", (uint64_t)step); /* the sampler is keyed by step */
    gguf_set_f32(w, "train.lr", (float)o->run.hp.lr);
    gguf_set_u32(w, "train.batch", (uint32_t)o->run.batch);
    gguf_set_u32(w, "train.accum", (uint32_t)o->accum);
    gguf_set_u32(w, "train.ctx", (uint32_t)L->m->T);
    gguf_set_bool(w, "train.bf16", gemm_bf16());
}

/* ---- evaluation ---- */

/* The mean validation loss over n_batches batches of B rows; this rank
 * computes rows [row0, row0 + m->B) of each, the ranks' parts are summed. */
static double evaluate(const train_loop *L, train_model *m, const dataset *d, int B, int row0, int T, int n_batches,
                       int *tok, int *tgt) {
    const int64_t windows = dataset_val_windows(d, T);
    if (windows == 0) return NAN;
    int nb = (int)MIN((int64_t)n_batches, (windows + B - 1) / B);
    if (nb < 1) nb = 1;
    double sum = 0;
    for (int i = 0; i < nb; i++) {
        if (dataset_val_rows(d, i, B, row0, m->B, T, tok, tgt) < 0) return NAN;
        sum += (double)train_model_forward(m, tok, tgt, NULL, m->B, T) * m->B / B;
    }
    return train_loop_sum(L, sum) / nb;
}

/* ---- plot ---- */

static void plot_losses(const char *png, const double *steps, const float *loss, int64_t n,
                        const double *vsteps, const double *vloss, int nv) {
    FILE *p = popen("gnuplot 2>/dev/null", "w");
    if (!p) return;
    fprintf(p, "set terminal pngcairo size 900,540\nset output '%s'\n", png);
    fprintf(p, "set xlabel 'step'\nset ylabel 'loss (nats/token)'\nset grid\n"
               "set title 'llmos pretrain'\n");
    fprintf(p, "plot '-' with lines title 'train loss'%s\n",
            nv > 0 ? ", '-' with linespoints title 'validation loss'" : "");
    for (int64_t i = 0; i < n; i++) fprintf(p, "%g %g\n", steps[i], loss[i]);
    fprintf(p, "e\n");
    if (nv > 0) {
        for (int i = 0; i < nv; i++) fprintf(p, "%g %g\n", vsteps[i], vloss[i]);
        fprintf(p, "e\n");
    }
    if (pclose(p) != 0) fprintf(stderr, "llmos: warning: gnuplot failed; no loss curve drawn\n");
}

/* ---- the loop ---- */

/* CPU seconds of the whole process (all threads): on a shared machine,
 * tokens per CPU-second still measure the code when wall time does not. */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int pretrain_run(const pretrain_opts *o) {
    const train_run_opts *ro = &o->run;
    int rc = -1;
    char *tok_path = o->tokenizer_path ? xstrdup(o->tokenizer_path) : NULL;
    if (!tok_path) {
        tok_path = xmalloc(strlen(o->data_dir) + 32);
        sprintf(tok_path, "%s/tokenizer.gguf", o->data_dir);
    }
    char *png_path = ckpt_path_beside(o->out_path, ".loss.png");
    gguf_file *tok_g = NULL;
    dataset *ds = NULL;
    train_model *m = NULL;
    adamw *opt = NULL;
    FILE *dumpf = NULL;
    int *tok = NULL, *tgt = NULL;
    float *losses = NULL;
    double *steps_x = NULL, *vsteps = NULL, *vloss = NULL;
    int nv = 0;
    train_loop L;
    train_loop_init(&L, "llmos pretrain", ro, o->out_path, 1);
    const char *ckpt_path = L.ckpt_path, *log_path = L.log_path;
    if (gemm_set_bf16(o->bf16) < 0) {
        err_set("--bf16 needs a CPU with AVX512_BF16; this one has none");
        goto done;
    }
    const int threads = omp_get_max_threads();

    tok_g = gguf_open(tok_path);
    if (!tok_g) goto done;
    const gguf_kv *tokens_kv = gguf_find(tok_g, "tokenizer.ggml.tokens");
    if (!tokens_kv || tokens_kv->type != GGUF_ARRAY || tokens_kv->n == 0) {
        err_set("%s: no tokenizer in this file (tokenizer.ggml.tokens is missing)", tok_path);
        goto done;
    }
    const int vocab = (int)tokens_kv->n;

    model_config cfg = o->cfg;
    gguf_file *init_g = NULL;
    if (o->init_path) {
        if (!(init_g = gguf_open(o->init_path))) goto done;
        if (train_model_config_from_gguf(init_g, &cfg) < 0) {
            gguf_close(init_g);
            goto done;
        }
        if (o->cfg.ctx_len > 0) cfg.ctx_len = o->cfg.ctx_len;
        if (cfg.vocab_size != vocab) {
            err_set("%s: the model's vocabulary (%d) differs from the tokenizer's (%d, %s)",
                    o->init_path, cfg.vocab_size, vocab, tok_path);
            gguf_close(init_g);
            goto done;
        }
    }
    cfg.vocab_size = vocab;
    const int T = cfg.ctx_len, B = ro->batch;

    if (!(ds = dataset_open(o->data_dir, (uint32_t)vocab))) goto done;
    int row0;
    const int rows = train_loop_rows(&L, B, &row0); /* this rank's share of every micro-batch */
    if (rows < 1) {
        err_set("--batch %d is smaller than the %d ranks: every rank needs at least one sequence", B, L.ranks);
        goto done;
    }
    if (o->dump_batches && L.ranks > 1) {
        err_set("--dump-batches is for one process (it would hold one rank's rows)");
        goto done;
    }
    if (!(m = train_model_new(&cfg, rows, T))) {
        gguf_close(init_g);
        goto done;
    }
    if (init_g) {
        const int r = train_model_load_weights(m, init_g);
        gguf_close(init_g);
        if (r < 0) goto done;
    } else {
        train_model_init_weights(m, ro->seed);
    }
    opt = train_adamw_new(m, &ro->hp);

    const int64_t tokens_per_step = (int64_t)B * T * o->accum;
    /* default budget: 20 tokens per parameter (Chinchilla), but at most 10
     * passes over a small dataset */
    int64_t budget = o->tokens > 0 ? o->tokens : 20 * (int64_t)m->n_params;
    if (o->tokens <= 0 && budget > 10 * (int64_t)ds->train_tokens) budget = 10 * (int64_t)ds->train_tokens;
    int64_t total = ro->steps > 0 ? ro->steps : budget / tokens_per_step;
    if (total < 1) total = 1;
    train_loop_schedule(&L, total);
    train_loop_files(&L, tok_g, m, opt, "llmos pretrain", 0, pretrain_keys, o);

    int64_t step0 = 0;
    if (L.rank == 0) atomic_clean_stale(ckpt_path);
    if (ro->resume) {
        if (access(ckpt_path, F_OK) != 0) {
            err_set("cannot resume: no checkpoint '%s'", ckpt_path);
            goto done;
        }
        gguf_file *ck = ckpt_load(ckpt_path, m, opt, &step0);
        if (!ck) goto done;
        gguf_close(ck);
    }
    L.stop_kills = 1;
    L.resume_finished = 1; /* a finished run writes OUT again (scaling relies on it) */
    if (train_loop_start_at(&L, step0) < 0) goto done;
    FILE *logf = L.log;
    if (logf && !ro->resume) { /* the run's configuration (step 0 so that a resume keeps it) */
        int64_t nonemb;
        const int64_t np = scaling_param_count(&cfg, &nonemb);
        fprintf(logf, "{\"step\":0,\"event\":\"config\",\"params\":%lld,\"non_embedding_params\":%lld,"
                      "\"flops_per_token\":%.17g,\"tokens_planned\":%lld,\"dim\":%d,\"layers\":%d,\"heads\":%d,"
                      "\"kv_heads\":%d,\"ffn\":%d,\"ctx\":%d,\"vocab\":%d,\"tied\":%s,\"batch\":%d,\"accum\":%d}\n",
                (long long)np, (long long)nonemb, scaling_flops_per_token(&cfg, T), (long long)(total * tokens_per_step),
                cfg.dim, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, cfg.ffn_dim, T, vocab, cfg.tied ? "true" : "false",
                B, o->accum);
        if (L.ranks > 1) fprintf(logf, "{\"step\":0,\"event\":\"ranks\",\"ranks\":%d,\"zero\":%s}\n", L.ranks,
                                 ro->zero ? "true" : "false");
    }
    if (o->dump_batches && !(dumpf = fopen(o->dump_batches, "wb"))) {
        err_set("cannot write '%s': %s", o->dump_batches, strerror(errno));
        goto done;
    }

    const double flops_tok = train_model_flops_per_token(&cfg, T);
    /* every rank's matmul peak (each measures its own threads) */
    const double peak = (o->peak_gflops > 0 ? o->peak_gflops : gemm_peak_gflops(threads)) * L.ranks;
    const double bytes_per_token = ds->val && ds->val->n_tokens ? (double)ds->val->n_bytes / ds->val->n_tokens : 0;
    {
        char b1[32], b2[32], b3[32];
        if (!L.quiet)
            fprintf(stderr,
                    "llmos pretrain: %s parameters (dim %d, %d layers, %d/%d heads, ffn %d, ctx %d, vocab %d%s)\n"
                    "  %s train tokens in %d shard(s), %s val tokens; %lld steps of %lld tokens "
                    "(batch %d x %d, accum %d), lr %g %s, warmup %lld\n"
                    "  %d threads, gemm %s%s, peak %.0f GFLOP/s (fp32); %s\n",
                    fmt_count((double)m->n_params, b1, sizeof(b1)), cfg.dim, cfg.n_layers, cfg.n_heads,
                    cfg.n_kv_heads, cfg.ffn_dim, T, vocab, cfg.tied ? ", tied head" : "",
                    fmt_count((double)ds->train_tokens, b2, sizeof(b2)), ds->n_train,
                    fmt_count(ds->val ? (double)ds->val->n_tokens : 0, b3, sizeof(b3)),
                    (long long)total, (long long)tokens_per_step, B, T, o->accum, ro->hp.lr,
                    sched_name(ro->hp.sched), (long long)L.sched.warmup, threads, gemm_path(),
                    gemm_bf16() ? " bf16" : " fp32", peak, ro->resume ? "resuming" : "fresh start");
        char m1[32], m2[32], m3[32];
        if (!L.quiet && L.ranks > 1)
            fprintf(stderr, "  %d ranks (%d sequences each, the last %d), %s; per rank: weights %s + gradients %s "
                            "+ AdamW m, v %s; activations for %d x %d: %s\n",
                    L.ranks, rows, B - (L.ranks - 1) * rows, ro->zero ? "AdamW state sharded (ZeRO-1)" : "all-reduce",
                    fmt_bytes(m->n_params * 4.0, m1, sizeof(m1)), m1, fmt_bytes(ddp_optimizer_bytes(L.ddp), m2, sizeof(m2)),
                    rows, T, fmt_bytes(m->n_acts * 4.0, m3, sizeof(m3)));
        else if (!L.quiet)
            fprintf(stderr, "  memory: weights %s + gradients %s + AdamW m, v %s; activations for %d x %d: %s\n",
                    fmt_bytes(m->n_params * 4.0, m1, sizeof(m1)), m1,
                    fmt_bytes(m->n_params * 8.0, m2, sizeof(m2)), B, T,
                    fmt_bytes(m->n_acts * 4.0, m3, sizeof(m3)));
        if (ro->resume && !L.quiet) fprintf(stderr, "  resumed from '%s' at step %lld\n", ckpt_path, (long long)step0);
    }

    tok = xmalloc(sizeof(int) * (size_t)B * T);
    tgt = xmalloc(sizeof(int) * (size_t)B * T);
    losses = xmalloc(sizeof(float) * (size_t)(total + 1));
    steps_x = xmalloc(sizeof(double) * (size_t)(total + 1));
    vsteps = xmalloc(sizeof(double) * (size_t)(total / MAX(1, ro->eval_every) + 3));
    vloss = xmalloc(sizeof(double) * (size_t)(total / MAX(1, ro->eval_every) + 3));
    int64_t n_losses = 0;
    double val = NAN, val_bpb = NAN;
    L.t_start = time_now();
    int64_t tokens_done = 0;

    for (int64_t step = step0 + 1; step <= total; step++) {
        const double t0 = time_now(), c0 = cpu_seconds(), comm0 = dist_comm_seconds();
        train_model_zero_grad(m);
        double loss = 0;
        for (int mi = 0; mi < o->accum; mi++) {
            if (dataset_train_rows(ds, ro->seed, step, mi, row0, rows, T, tok, tgt) < 0) goto done;
            if (dumpf) {
                fwrite(tok, sizeof(int), (size_t)B * T, dumpf);
                fwrite(tgt, sizeof(int), (size_t)B * T, dumpf);
            }
            /* this rank's rows weigh rows / B of the step's mean loss */
            loss += (double)(train_model_forward(m, tok, tgt, NULL, rows, T) / o->accum) * rows / B;
            if (mi == o->accum - 1) train_loop_last_backward(&L);
            train_model_backward(m, tok, (float)rows / (float)B / (float)o->accum);
        }
        const float lossf = (float)train_loop_sum(&L, loss);
        double norm, lr;
        if (train_loop_update(&L, m, opt, step, lossf, &norm, &lr) < 0) goto done;
        const double dt = time_now() - t0, cpu = cpu_seconds() - c0;
        tokens_done += tokens_per_step;
        const double tps = tokens_per_step / dt;
        const double gflops = flops_tok * tps / 1e9;
        losses[n_losses] = lossf;
        steps_x[n_losses++] = (double)step;
        if (logf) {
            fprintf(logf, "{\"step\":%lld,\"loss\":%.9g,\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%lld,"
                          "\"tok_per_s\":%.1f,\"gflops\":%.2f,\"sec\":%.4f,\"cpu_sec\":%.4f",
                    (long long)step, lossf, lr, norm, (long long)(step * tokens_per_step), tps, gflops, dt, cpu);
            /* rank 0's seconds inside MPI (waiting for the others included) */
            if (L.ranks > 1) fprintf(logf, ",\"comm_sec\":%.4f", dist_comm_seconds() - comm0);
            fputs("}\n", logf);
        }

        const int do_eval = train_loop_eval_due(&L, step);
        if (do_eval && ds->val) {
            val = evaluate(&L, m, ds, B, row0, T, o->eval_batches, tok, tgt);
            val_bpb = bytes_per_token > 0 ? val / log(2.0) / bytes_per_token : NAN;
            if (logf) fprintf(logf, "{\"step\":%lld,\"val_loss\":%.9g,\"val_bpb\":%.6g}\n", (long long)step, val, val_bpb);
            vsteps[nv] = (double)step;
            vloss[nv++] = val;
        }
        if (logf) fflush(logf);
        if (train_loop_progress_due(&L, step, do_eval)) {
            const double el = time_now() - L.t_start;
            char valbuf[64];
            if (isnan(val)) snprintf(valbuf, sizeof(valbuf), "-");
            else if (isnan(val_bpb)) snprintf(valbuf, sizeof(valbuf), "%.4f", val);
            else snprintf(valbuf, sizeof(valbuf), "%.4f (%.3f bpb)", val, val_bpb);
            train_loop_progress(&L, step, do_eval, lr, "loss %.4f | val %s | %.0f tok/s | %.1f GFLOP/s (%.0f%% of %.0f)",
                                lossf, valbuf, tokens_done / el, flops_tok * tokens_done / el / 1e9,
                                100.0 * flops_tok * tokens_done / el / 1e9 / peak, peak);
        }
        const int r = train_loop_checkpoint(&L, step);
        if (r) {
            rc = r > 0 ? 0 : -1;
            goto done;
        }
    }
    if (train_loop_finish(&L, o->out_path) < 0) goto done;
    if (L.rank == 0 && n_losses > 0) plot_losses(png_path, steps_x, losses, n_losses, vsteps, vloss, nv);
    if (!L.quiet) {
        fprintf(stderr, "llmos pretrain: wrote '%s' (log '%s'%s%s)\n", o->out_path, log_path,
                access(png_path, F_OK) == 0 ? ", curve " : "", access(png_path, F_OK) == 0 ? png_path : "");
    }
    rc = 0;
done:
    train_loop_release(&L);
    if (dumpf) fclose(dumpf);
    free(tok), free(tgt), free(losses), free(steps_x), free(vsteps), free(vloss);
    adamw_free(opt);
    train_model_free(m);
    dataset_close(ds);
    gguf_close(tok_g);
    free(tok_path), free(png_path);
    return rc;
}
