/*
 * cmd_scaling.c - `llmos scaling`: measure, fit and use the scaling law of
 * loss in parameters and tokens on one's own data and machine.
 *
 *   count    the exact counters of a config or a model file (scaling.h)
 *   sweep    plans an iso-FLOP set of small pretraining runs from a budget,
 *            writes the plan to OUT/sweep.jsonl and trains every run that
 *            has not finished (in this process, through pretrain_run): a
 *            run with OUT/NAME.gguf is done and skipped, one with only
 *            OUT/NAME.ckpt.gguf resumes from it, so an interrupted sweep
 *            continues where it stopped. The plan also holds one held-out
 *            run, 4x the compute of the largest fitted one, for `check`.
 *   fit      fits L(N, D) = E + A/N^alpha + B/D^beta to finished runs (sweep
 *            folders or pretrain logs), bootstrap CIs, the compute-optimal
 *            allocation, approach 2, pictures through gnuplot, FIT.json
 *   predict  the loss of (N, D) or the optimal allocation of a budget
 *   check    finishes a sweep, fits its runs, trains the held-out run and
 *            reports the error of the prediction made before it ran
 *
 * N is the non-embedding parameter count unless --params total is given;
 * D the tokens a run trained on; the loss the run's last validation loss
 * (over the whole validation set: the sweep evaluates at the last step).
 */
#include "cli.h"
#include "subcmd.h"

#include "../core/common.h"
#include "../core/gemm.h"
#include "../data/shard.h"
#include "../io/gguf.h"
#include "../model/train_model.h"
#include "../train/pretrain.h"
#include "../train/scaling.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHINCHILLA_E 1.69
#define CHINCHILLA_A 406.4
#define CHINCHILLA_B 410.7
#define CHINCHILLA_ALPHA 0.34
#define CHINCHILLA_BETA 0.28

/* ------------------------------------------------------------------------ */
/* Shapes and runs                                                           */

/* The model ladder of a sweep: (dim, layers); head dim 16, ffn 8/3 dim
 * rounded up to 16, tied head. Non-embedding sizes grow ~1.5-2x a rung. */
static const int g_ladder[][2] = {{32, 1},  {48, 1},  {64, 1},  {64, 2},  {96, 2},
                                  {128, 2}, {128, 3}, {160, 3}, {192, 3}, {192, 4},
                                  {256, 4}, {320, 5}, {384, 6}, {512, 8}};
#define N_LADDER ((int)ARRAY_LEN(g_ladder))
/* With a fixed depth (--depth L) the ladder is these widths at L layers. */
static const int g_widths[] = {32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768};
_Static_assert(sizeof(g_widths) / sizeof(g_widths[0]) == N_LADDER, "one width per rung");
static int g_depth; /* 0: the mixed ladder above */

static int ladder_dim(int i) { return g_depth ? g_widths[i] : g_ladder[i][0]; }
static int ladder_layers(int i) { return g_depth ? g_depth : g_ladder[i][1]; }

static model_config shape_config(int dim, int layers, int vocab, int ctx) {
    model_config c;
    memset(&c, 0, sizeof(c));
    c.dim = dim;
    c.n_layers = layers;
    c.head_dim = 16;
    c.n_heads = dim / 16;
    c.n_kv_heads = c.n_heads;
    c.ffn_dim = (8 * dim / 3 + 15) / 16 * 16;
    c.vocab_size = vocab;
    c.ctx_len = ctx;
    c.norm_eps = 1e-5f;
    c.rope_base = 10000.0f;
    c.tied = 1;
    return c;
}

typedef struct {
    char name[48];
    int holdout;      /* 1: not fitted, predicted (check) */
    int group;        /* iso-FLOP level */
    model_config cfg;
    int batch;
    int64_t tokens;   /* planned */
    double params, nonemb, fpt, flops, c6nd;
    /* results */
    int done;
    double val_loss, tokens_done;
} sw_run;

typedef struct {
    char data[4096];
    int ctx, batch, vocab, eval_batches;
    double lr, budget;
    double ratio;     /* planning only: tokens per parameter at a level's centre */
    double spacing;   /* planning only: compute ratio between levels */
    uint64_t seed;
    int n;
    sw_run runs[64];
} sw_plan;

static void run_fill(sw_run *r, int dim, int layers, const sw_plan *p, int64_t tokens, int group, int holdout) {
    memset(r, 0, sizeof(*r));
    r->cfg = shape_config(dim, layers, p->vocab, p->ctx);
    r->batch = p->batch;
    const int64_t step_tokens = (int64_t)p->batch * p->ctx;
    r->tokens = MAX((int64_t)1, (tokens + step_tokens / 2) / step_tokens) * step_tokens;
    r->group = group;
    r->holdout = holdout;
    int64_t ne;
    r->params = (double)scaling_param_count(&r->cfg, &ne);
    r->nonemb = (double)ne;
    r->fpt = scaling_flops_per_token(&r->cfg, p->ctx);
    r->flops = r->fpt * (double)r->tokens;
    r->c6nd = 6 * r->nonemb * (double)r->tokens;
    if (holdout) snprintf(r->name, sizeof(r->name), "holdout-d%dl%d", dim, layers);
    else snprintf(r->name, sizeof(r->name), "c%d-d%dl%d", group, dim, layers);
}

static double ladder_nonemb(int i, int vocab, int ctx) {
    model_config c = shape_config(ladder_dim(i), ladder_layers(i), vocab, ctx);
    int64_t ne;
    scaling_param_count(&c, &ne);
    return (double)ne;
}

/* Fills the plan for a top compute (6 N D) of ctop: `levels` iso-FLOP levels
 * `spacing` apart, up to `per` ladder shapes each around N = sqrt(C / (6 ratio))
 * (D = ratio N), D in [dmin, dmax]; then the held-out run: about
 * twice the N and twice the D of the largest fitted run. Returns the real
 * FLOPs of all runs. */
static double plan_fill(sw_plan *p, double ctop, int levels, int per, double dmin, double dmax) {
    p->n = 0;
    for (int k = 0; k < levels; k++) {
        const double C = ctop / pow(p->spacing, levels - 1 - k);
        int ok[N_LADDER], nok = 0, centre = -1;
        double best = INFINITY;
        for (int i = 0; i < N_LADDER; i++) {
            const double n = ladder_nonemb(i, p->vocab, p->ctx), d = C / (6 * n);
            if (d >= dmin && d <= dmax) {
                const double dist = fabs(log(n) - 0.5 * log(C / (6 * p->ratio)));
                if (dist < best) best = dist, centre = nok;
                ok[nok++] = i;
            }
        }
        if (nok < 3) continue;
        int lo = MAX(0, centre - per / 2);
        if (lo + per > nok) lo = MAX(0, nok - per);
        for (int j = lo; j < MIN(nok, lo + per) && p->n < (int)ARRAY_LEN(p->runs) - 1; j++) {
            const int i = ok[j];
            const double n = ladder_nonemb(i, p->vocab, p->ctx);
            run_fill(&p->runs[p->n++], ladder_dim(i), ladder_layers(i), p, (int64_t)(C / (6 * n)), k, 0);
        }
    }
    if (p->n == 0) return INFINITY;
    int top = 0;
    for (int i = 1; i < p->n; i++)
        if (p->runs[i].c6nd > p->runs[top].c6nd) top = i;
    const double ch = 4 * p->runs[top].c6nd;
    int hi = -1;
    double best = INFINITY;
    for (int i = 0; i < N_LADDER; i++) {
        const double n = ladder_nonemb(i, p->vocab, p->ctx);
        if (ch / (6 * n) > dmax) continue;
        const double dist = fabs(log(n) - log(2 * p->runs[top].nonemb));
        if (dist < best) best = dist, hi = i;
    }
    if (hi < 0) return INFINITY;
    const double nh = ladder_nonemb(hi, p->vocab, p->ctx);
    run_fill(&p->runs[p->n++], ladder_dim(hi), ladder_layers(hi), p, (int64_t)(ch / (6 * nh)), levels, 1);
    double total = 0;
    for (int i = 0; i < p->n; i++) total += p->runs[i].flops;
    return total;
}

/* ------------------------------------------------------------------------ */
/* The manifest (OUT/sweep.jsonl) and the run logs                          */

static char *path_join(const char *dir, const char *name, const char *suffix) {
    char *p = xmalloc(strlen(dir) + strlen(name) + strlen(suffix) + 2);
    sprintf(p, "%s/%s%s", dir, name, suffix);
    return p;
}

static int plan_write(const sw_plan *p, const char *path) {
    atomic_file af;
    if (atomic_open(&af, path) < 0) return -1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "plan");
    cJSON_AddStringToObject(o, "data", p->data);
    cJSON_AddNumberToObject(o, "ctx", p->ctx);
    cJSON_AddNumberToObject(o, "batch", p->batch);
    cJSON_AddNumberToObject(o, "vocab", p->vocab);
    cJSON_AddNumberToObject(o, "lr", p->lr);
    cJSON_AddNumberToObject(o, "seed", (double)p->seed);
    cJSON_AddNumberToObject(o, "eval_batches", p->eval_batches);
    cJSON_AddNumberToObject(o, "budget_flops", p->budget);
    char *s = cJSON_PrintUnformatted(o);
    fprintf(af.f, "%s\n", s);
    free(s);
    cJSON_Delete(o);
    for (int i = 0; i < p->n; i++) {
        const sw_run *r = &p->runs[i];
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "event", "run");
        cJSON_AddStringToObject(o, "run", r->name);
        cJSON_AddStringToObject(o, "role", r->holdout ? "holdout" : "fit");
        cJSON_AddNumberToObject(o, "group", r->group);
        cJSON_AddNumberToObject(o, "dim", r->cfg.dim);
        cJSON_AddNumberToObject(o, "layers", r->cfg.n_layers);
        cJSON_AddNumberToObject(o, "heads", r->cfg.n_heads);
        cJSON_AddNumberToObject(o, "kv_heads", r->cfg.n_kv_heads);
        cJSON_AddNumberToObject(o, "ffn", r->cfg.ffn_dim);
        cJSON_AddNumberToObject(o, "batch", r->batch);
        cJSON_AddNumberToObject(o, "tokens", (double)r->tokens);
        cJSON_AddNumberToObject(o, "params", r->params);
        cJSON_AddNumberToObject(o, "non_embedding_params", r->nonemb);
        cJSON_AddNumberToObject(o, "flops_per_token", r->fpt);
        cJSON_AddNumberToObject(o, "flops", r->flops);
        cJSON_AddNumberToObject(o, "c6nd", r->c6nd);
        s = cJSON_PrintUnformatted(o);
        fprintf(af.f, "%s\n", s);
        free(s);
        cJSON_Delete(o);
    }
    return atomic_commit(&af);
}

static double jnum(const cJSON *o, const char *k, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Reads OUT/sweep.jsonl. 0, or -1 with err_set. */
static int plan_read(sw_plan *p, const char *path) {
    size_t len;
    char *s = file_read_all(path, &len);
    if (!s) return -1;
    memset(p, 0, sizeof(*p));
    int have_plan = 0, lineno = 0, rc = -1;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        lineno++;
        cJSON *o = cJSON_Parse(line);
        if (!o) {
            err_set("%s: line %d is not JSON", path, lineno);
            goto done;
        }
        const char *ev = jstr(o, "event");
        if (ev && !strcmp(ev, "plan")) {
            const char *d = jstr(o, "data");
            snprintf(p->data, sizeof(p->data), "%s", d ? d : "");
            p->ctx = (int)jnum(o, "ctx", 0), p->batch = (int)jnum(o, "batch", 0);
            p->vocab = (int)jnum(o, "vocab", 0), p->lr = jnum(o, "lr", 0);
            p->seed = (uint64_t)jnum(o, "seed", 1), p->eval_batches = (int)jnum(o, "eval_batches", 8);
            p->budget = jnum(o, "budget_flops", 0);
            have_plan = p->ctx > 1 && p->batch > 0 && p->vocab > 0 && p->lr > 0;
        } else if (ev && !strcmp(ev, "run") && have_plan && p->n < (int)ARRAY_LEN(p->runs)) {
            const char *role = jstr(o, "role"), *name = jstr(o, "run");
            const int dim = (int)jnum(o, "dim", 0), layers = (int)jnum(o, "layers", 0);
            if (!name || !role || dim < 16 || dim % 16 || layers < 1) {
                cJSON_Delete(o);
                err_set("%s: line %d is not a valid run", path, lineno);
                goto done;
            }
            sw_run *r = &p->runs[p->n++];
            run_fill(r, dim, layers, p, (int64_t)jnum(o, "tokens", 0), (int)jnum(o, "group", 0),
                     !strcmp(role, "holdout"));
            snprintf(r->name, sizeof(r->name), "%s", name);
        }
        cJSON_Delete(o);
    }
    if (!have_plan) err_set("%s: no plan line (not a sweep manifest)", path);
    else rc = 0;
done:
    free(s);
    return rc;
}

/* What a pretrain log says: the last step's token count and the last
 * validation loss; *final = the evaluation was at the last step. */
typedef struct {
    double tokens, val_loss, params, nonemb;
    int64_t step, val_step;
    int has_config;
} log_info;

static int log_read(const char *path, log_info *li) {
    memset(li, 0, sizeof(*li));
    li->val_loss = NAN;
    size_t len;
    char *s = file_read_all(path, &len);
    if (!s) return -1;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        if (!o) continue; /* a line cut by a crash */
        const char *ev = jstr(o, "event");
        if (ev && !strcmp(ev, "config")) {
            li->params = jnum(o, "params", 0);
            li->nonemb = jnum(o, "non_embedding_params", 0);
            li->has_config = li->params > 0;
        } else if (cJSON_GetObjectItemCaseSensitive(o, "val_loss")) {
            li->val_loss = jnum(o, "val_loss", NAN);
            li->val_step = (int64_t)jnum(o, "step", 0);
        } else if (cJSON_GetObjectItemCaseSensitive(o, "loss")) {
            li->tokens = jnum(o, "tokens", 0);
            li->step = (int64_t)jnum(o, "step", 0);
        }
        cJSON_Delete(o);
    }
    free(s);
    return 0;
}

/* Marks the plan's finished runs and reads their results. */
static void plan_results(sw_plan *p, const char *dir) {
    for (int i = 0; i < p->n; i++) {
        sw_run *r = &p->runs[i];
        char *g = path_join(dir, r->name, ".gguf"), *l = path_join(dir, r->name, ".log.jsonl");
        log_info li;
        r->done = 0;
        if (access(g, F_OK) == 0 && log_read(l, &li) == 0 && li.val_step == li.step && li.step > 0 &&
            isfinite(li.val_loss)) {
            r->done = 1;
            r->val_loss = li.val_loss;
            r->tokens_done = li.tokens;
        }
        free(g), free(l);
    }
}

/* ------------------------------------------------------------------------ */
/* Running                                                                  */

/* FLOP/s of one training step of cfg on this machine (a short probe). */
static double probe_rate(const model_config *cfg, int B, int T, int threads) {
    omp_set_num_threads(threads);
    train_model *m = train_model_new(cfg, B, T);
    if (!m) return NAN;
    train_model_init_weights(m, 1);
    int *tok = xmalloc(sizeof(int) * (size_t)B * T), *tgt = xmalloc(sizeof(int) * (size_t)B * T);
    uint64_t s = 7;
    for (int i = 0; i < B * T; i++) {
        tok[i] = (int)(train_rng_next(&s) % (uint64_t)cfg->vocab_size);
        tgt[i] = (int)(train_rng_next(&s) % (uint64_t)cfg->vocab_size);
    }
    double t0 = 0;
    int iters = 0;
    for (int it = 0; it < 50; it++) {
        if (it == 1) t0 = time_now();
        train_model_zero_grad(m);
        train_model_forward(m, tok, tgt, NULL, B, T);
        train_model_backward(m, tok, 1.0f);
        if (it >= 1) iters++;
        if (it >= 3 && time_now() - t0 > 2.0) break;
    }
    const double dt = time_now() - t0;
    free(tok), free(tgt);
    train_model_free(m);
    return scaling_flops_per_token(cfg, T) * (double)B * T * iters / dt;
}

/* Trains every unfinished run of the plan (held-out ones only with
 * holdout), or with only >= 0 that run alone. stop_after: test hook passed to
 * the first run trained. */
static int plan_train(sw_plan *p, const char *dir, int holdout, int only, int threads, int64_t stop_after,
                      int quiet) {
    const char *mpath_s = "sweep.jsonl";
    char *mpath = path_join(dir, mpath_s, "");
    plan_results(p, dir);
    int todo = 0, k = 0;
    for (int i = 0; i < p->n; i++)
        todo += !p->runs[i].done && (holdout || !p->runs[i].holdout) && (only < 0 || i == only);
    for (int i = 0; i < p->n; i++) {
        sw_run *r = &p->runs[i];
        if ((r->holdout && !holdout) || (only >= 0 && i != only)) continue;
        char b1[32], b2[32], b3[32], b4[32];
        if (r->done) {
            if (!quiet)
                fprintf(stderr, "llmos scaling: %-16s done (val loss %.4f), skipped\n", r->name, r->val_loss);
            continue;
        }
        char *out = path_join(dir, r->name, ".gguf"), *ck = path_join(dir, r->name, ".ckpt.gguf");
        pretrain_opts o;
        pretrain_opts_default(&o);
        o.data_dir = p->data;
        o.out_path = out;
        o.cfg = r->cfg;
        o.tokens = r->tokens;
        o.run.batch = r->batch;
        o.run.hp.lr = p->lr;
        o.run.seed = p->seed;
        o.run.threads = threads;
        o.run.eval_every = 1 << 30; /* once, at the last step */
        o.eval_batches = p->eval_batches;
        const int64_t steps = r->tokens / ((int64_t)r->batch * p->ctx);
        o.run.save_every = (int)MAX((int64_t)10, steps / 8);
        o.peak_gflops = 1; /* not measured: only the progress line uses it */
        o.run.quiet = 1;
        o.run.resume = access(ck, F_OK) == 0;
        o.run.stop_after = stop_after;
        stop_after = 0;
        k++;
        if (!quiet)
            fprintf(stderr, "llmos scaling: %-16s run %d/%d: N %s (non-embedding %s), D %s, %s FLOPs%s\n",
                    r->name, k, todo, fmt_count(r->params, b1, sizeof(b1)), fmt_count(r->nonemb, b2, sizeof(b2)),
                    fmt_count((double)r->tokens, b3, sizeof(b3)), fmt_count(r->flops, b4, sizeof(b4)),
                    o.run.resume ? ", resuming from its checkpoint" : "");
        const double t0 = time_now();
        const int rc = pretrain_run(&o);
        const double dt = time_now() - t0;
        free(ck);
        if (rc < 0) {
            err_prefix(r->name);
            free(out), free(mpath);
            return -1;
        }
        if (access(out, F_OK) != 0) { /* stopped by the test hook */
            free(out), free(mpath);
            if (!quiet) fprintf(stderr, "llmos scaling: stopped inside %s (test hook)\n", r->name);
            return 1;
        }
        free(out);
        plan_results(p, dir);
        if (!quiet && o.run.resume)
            fprintf(stderr, "llmos scaling: %-16s val loss %.4f (resumed; %.0f s in this call)\n", r->name,
                    r->val_loss, dt);
        else if (!quiet)
            fprintf(stderr, "llmos scaling: %-16s val loss %.4f in %.0f s (%.2f GFLOP/s)\n", r->name,
                    r->val_loss, dt, r->flops / dt / 1e9);
        FILE *f = fopen(mpath, "a");
        if (f) {
            fprintf(f, "{\"event\":\"done\",\"run\":\"%s\",\"val_loss\":%.9g,\"seconds\":%.1f}\n", r->name,
                    r->val_loss, dt);
            fclose(f);
        }
    }
    free(mpath);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Fitting and reporting                                                    */

typedef struct {
    char name[64];
    double n, d, loss, params, nonemb;
    int holdout;
} fit_run;

typedef struct {
    fit_run *r;
    int n, cap;
} fit_set;

static void set_add(fit_set *s, const char *name, double params, double nonemb, double d, double loss,
                    int holdout, int total) {
    if (s->n == s->cap) s->r = xrealloc(s->r, sizeof(fit_run) * (size_t)(s->cap = s->cap ? 2 * s->cap : 32));
    fit_run *r = &s->r[s->n++];
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->params = params, r->nonemb = nonemb;
    r->n = total ? params : nonemb;
    r->d = d, r->loss = loss, r->holdout = holdout;
}

/* Adds a sweep folder's finished runs, or one pretrain log (its config from
 * the log's config record or from the model beside it). */
static int set_add_input(fit_set *s, const char *in, int total) {
    struct stat st;
    if (stat(in, &st) < 0) return err_set("cannot open '%s': %s", in, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char *mp = path_join(in, "sweep.jsonl", "");
        sw_plan *p = xmalloc(sizeof(*p));
        const int rc = plan_read(p, mp);
        free(mp);
        if (rc < 0) return free(p), -1;
        plan_results(p, in);
        for (int i = 0; i < p->n; i++)
            if (p->runs[i].done)
                set_add(s, p->runs[i].name, p->runs[i].params, p->runs[i].nonemb, p->runs[i].tokens_done,
                        p->runs[i].val_loss, p->runs[i].holdout, total);
        free(p);
        return 0;
    }
    log_info li;
    if (log_read(in, &li) < 0) return -1;
    if (!(li.tokens > 0) || !isfinite(li.val_loss)) return err_set("%s: no step with a validation loss in this log", in);
    if (!li.has_config) {
        size_t n = strlen(in);
        if (n < 10 || strcmp(in + n - 10, ".log.jsonl"))
            return err_set("%s: no config record, and not named NAME.log.jsonl (to find NAME.gguf)", in);
        char *g = xmalloc(n + 1);
        memcpy(g, in, n - 10);
        strcpy(g + n - 10, ".gguf");
        gguf_file *gf = gguf_open(g);
        free(g);
        if (!gf) return -1;
        model_config c;
        const int rc = train_model_config_from_gguf(gf, &c);
        gguf_close(gf);
        if (rc < 0) return -1;
        int64_t ne;
        li.params = (double)scaling_param_count(&c, &ne);
        li.nonemb = (double)ne;
    }
    const char *base = strrchr(in, '/');
    set_add(s, base ? base + 1 : in, li.params, li.nonemb, li.tokens, li.val_loss, 0, total);
    return 0;
}

typedef struct {
    scaling_law law;
    scaling_law *boot;
    int reps;
    double ci[7][2]; /* E A B alpha beta a ratio@c_ratio */
    double cmax;     /* the largest fitted run's 6 N D */
    double budgets[6]; /* cmax, 4 cmax, 100 cmax, 1e18, 1e21, Chinchilla's 5.76e23 */
    scaling_isoflop iso[32];
    int n_iso, iso_fit;
    double iso_k0, iso_k1; /* ln N* = k0 + k1 ln C */
    int *group;
} fit_result;

static double ratio_at(const scaling_law *l, double C) {
    double n, d;
    scaling_optimal(l, C, &n, &d);
    return d / n;
}

static int fit_all(const fit_set *s, int reps, double delta, uint64_t seed, fit_result *fr) {
    memset(fr, 0, sizeof(*fr));
    scaling_point *pt = xmalloc(sizeof(scaling_point) * (size_t)MAX(s->n, 1));
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (!s->r[i].holdout) pt[n++] = (scaling_point){s->r[i].n, s->r[i].d, s->r[i].loss};
    if (scaling_fit(pt, n, delta, NULL, 1, &fr->law) < 0) return free(pt), -1;
    for (int i = 0; i < n; i++) fr->cmax = fmax(fr->cmax, 6 * pt[i].n * pt[i].d);
    const double bud[6] = {fr->cmax, 4 * fr->cmax, 100 * fr->cmax, 1e18, 1e21, 5.76e23};
    memcpy(fr->budgets, bud, sizeof(bud));
    fr->reps = reps;
    if (reps > 0) {
        fr->boot = xmalloc(sizeof(scaling_law) * (size_t)reps);
        scaling_bootstrap(pt, n, delta, &fr->law, reps, seed, fr->boot);
        double *v = xmalloc(sizeof(double) * (size_t)reps);
        for (int k = 0; k < 7; k++) {
            for (int r = 0; r < reps; r++) {
                const scaling_law *b = &fr->boot[r];
                const double x[7] = {b->E, b->A, b->B, b->alpha, b->beta, b->beta / (b->alpha + b->beta),
                                     ratio_at(b, 4 * fr->cmax)};
                v[r] = x[k];
            }
            fr->ci[k][0] = scaling_quantile(v, reps, 0.025);
            fr->ci[k][1] = scaling_quantile(v, reps, 0.975);
        }
        free(v);
    }
    fr->group = xmalloc(sizeof(int) * (size_t)MAX(n, 1));
    fr->n_iso = scaling_isoflop_groups(pt, n, 1.3, fr->iso, (int)ARRAY_LEN(fr->iso), fr->group);
    double lx[32], ly[32];
    int m = 0;
    for (int g = 0; g < fr->n_iso; g++)
        if (fr->iso[g].valid) lx[m] = log(fr->iso[g].c), ly[m++] = log(fr->iso[g].n_opt);
    fr->iso_fit = m >= 2 && scaling_line_fit(lx, ly, m, &fr->iso_k0, &fr->iso_k1) == 0;
    free(pt);
    return 0;
}

static void print_const(const char *name, double v, const double ci[2], int reps, double chin, const char *fmt) {
    char a[32], b[32], c[32], d[32];
    snprintf(a, sizeof(a), fmt, v);
    snprintf(b, sizeof(b), fmt, ci[0]);
    snprintf(c, sizeof(c), fmt, ci[1]);
    snprintf(d, sizeof(d), fmt, chin);
    if (reps > 0) printf("  %-6s %12s   [%s, %s]%*s Chinchilla %s\n", name, a, b, c, (int)MAX(1, 24 - (int)(strlen(b) + strlen(c))), "", d);
    else printf("  %-6s %12s   Chinchilla %s\n", name, a, d);
}


static void print_fit(const fit_set *s, const fit_result *fr, int total) {
    const scaling_law *l = &fr->law;
    int n = 0;
    for (int i = 0; i < s->n; i++) n += !s->r[i].holdout;
    double rss = 0;
    for (int i = 0; i < s->n; i++)
        if (!s->r[i].holdout) {
            const double r = log(s->r[i].loss) - log(scaling_law_loss(l, s->r[i].n, s->r[i].d));
            rss += r * r;
        }
    printf("llmos scaling fit: %d runs; N = %s parameters, D = training tokens, L = last validation loss\n",
           n, total ? "total" : "non-embedding");
    printf("L(N, D) = E + A / N^alpha + B / D^beta   (Huber on log-loss; ");
    if (fr->reps > 0) printf("95%% CI from %d bootstrap resamples of the runs)\n", fr->reps);
    else printf("no bootstrap)\n");
    print_const("E", l->E, fr->ci[0], fr->reps, CHINCHILLA_E, "%.4g");
    print_const("A", l->A, fr->ci[1], fr->reps, CHINCHILLA_A, "%.4g");
    print_const("B", l->B, fr->ci[2], fr->reps, CHINCHILLA_B, "%.4g");
    print_const("alpha", l->alpha, fr->ci[3], fr->reps, CHINCHILLA_ALPHA, "%.3f");
    print_const("beta", l->beta, fr->ci[4], fr->reps, CHINCHILLA_BETA, "%.3f");
    printf("  rms residual of log-loss %.4f (%.2f%% in loss)\n", sqrt(rss / MAX(n, 1)), 100 * (exp(sqrt(rss / MAX(n, 1))) - 1));
    const double a = l->beta / (l->alpha + l->beta);
    printf("compute-optimal allocation for C = 6 N D: N_opt ~ C^%.3f, D_opt ~ C^%.3f", a, 1 - a);
    if (fr->reps > 0) printf(" (a 95%% CI [%.3f, %.3f])", fr->ci[5][0], fr->ci[5][1]);
    printf("; Chinchilla a = %.3f\n", CHINCHILLA_BETA / (CHINCHILLA_ALPHA + CHINCHILLA_BETA));
    printf("  %-10s %12s %12s %10s %8s\n", "C (FLOPs)", "N_opt", "D_opt", "D/N", "loss");
    for (size_t i = 0; i < ARRAY_LEN(fr->budgets); i++) {
        double no, dop;
        scaling_optimal(l, fr->budgets[i], &no, &dop);
        printf("  %-10.3g %12.4g %12.4g %10.3g %8.4f\n", fr->budgets[i], no, dop, dop / no, scaling_law_loss(l, no, dop));
    }
    if (fr->reps > 0)
        printf("  tokens per parameter at %.3g FLOPs (4x the largest run): %.3g, 95%% CI [%.3g, %.3g]\n"
               "  (nanochat measures 8-12, Chinchilla ~20)\n",
               4 * fr->cmax, ratio_at(l, 4 * fr->cmax), fr->ci[6][0], fr->ci[6][1]);
    int any = 0;
    for (int g = 0; g < fr->n_iso; g++) any |= fr->iso[g].runs >= 3;
    if (any) {
        printf("approach 2 (iso-FLOP minima, a parabola of loss in ln N per compute group):\n");
        printf("  %-10s %5s %12s %12s %8s\n", "C (6ND)", "runs", "N*", "D*", "loss*");
        for (int g = 0; g < fr->n_iso; g++) {
            const scaling_isoflop *q = &fr->iso[g];
            if (q->runs < 3) continue;
            if (q->valid)
                printf("  %-10.3g %5d %12.4g %12.4g %8.4f\n", q->c, q->runs, q->n_opt, q->d_opt, q->loss_min);
            else
                printf("  %-10.3g %5d   (no minimum inside the group's sizes)\n", q->c, q->runs);
        }
        if (fr->iso_fit)
            printf("  N_opt = %.4g C^%.3f, D_opt ~ C^%.3f (approach 3 above: %.3f)\n", exp(fr->iso_k0), fr->iso_k1,
                   1 - fr->iso_k1, a);
        else
            printf("  fewer than 2 groups with an interior minimum: no power law\n");
    }
    for (int i = 0; i < s->n; i++)
        if (s->r[i].holdout) {
            const double pr = scaling_law_loss(l, s->r[i].n, s->r[i].d);
            printf("held-out run %s (N %.4g, D %.4g, C %.3g): loss %.4f, predicted %.4f, error %+.2f%%\n", s->r[i].name,
                   s->r[i].n, s->r[i].d, 6 * s->r[i].n * s->r[i].d, s->r[i].loss, pr, 100 * (pr - s->r[i].loss) / s->r[i].loss);
        }
}

static cJSON *ci_pair(const double ci[2]) {
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(ci[0]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(ci[1]));
    return a;
}

static int write_fit_json(const char *path, const fit_set *s, const fit_result *fr, int total, double delta) {
    const scaling_law *l = &fr->law;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "law", "L = E + A/N^alpha + B/D^beta");
    cJSON_AddStringToObject(o, "n_kind", total ? "total" : "non_embedding");
    cJSON_AddNumberToObject(o, "huber_delta", delta);
    cJSON_AddNumberToObject(o, "E", l->E);
    cJSON_AddNumberToObject(o, "A", l->A);
    cJSON_AddNumberToObject(o, "B", l->B);
    cJSON_AddNumberToObject(o, "alpha", l->alpha);
    cJSON_AddNumberToObject(o, "beta", l->beta);
    cJSON_AddNumberToObject(o, "objective", l->objective);
    cJSON_AddNumberToObject(o, "a", l->beta / (l->alpha + l->beta));
    cJSON_AddNumberToObject(o, "b", l->alpha / (l->alpha + l->beta));
    if (fr->reps > 0) {
        cJSON *ci = cJSON_AddObjectToObject(o, "ci95");
        static const char *names[7] = {"E", "A", "B", "alpha", "beta", "a", "tokens_per_param_4cmax"};
        for (int k = 0; k < 7; k++) cJSON_AddItemToObject(ci, names[k], ci_pair(fr->ci[k]));
        cJSON_AddNumberToObject(o, "bootstrap", fr->reps);
    }
    cJSON *opt = cJSON_AddArrayToObject(o, "optimal");
    for (size_t i = 0; i < ARRAY_LEN(fr->budgets); i++) {
        double no, dop;
        scaling_optimal(l, fr->budgets[i], &no, &dop);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "C", fr->budgets[i]);
        cJSON_AddNumberToObject(e, "N", no);
        cJSON_AddNumberToObject(e, "D", dop);
        cJSON_AddNumberToObject(e, "tokens_per_param", dop / no);
        cJSON_AddNumberToObject(e, "loss", scaling_law_loss(l, no, dop));
        cJSON_AddItemToArray(opt, e);
    }
    cJSON *iso = cJSON_AddArrayToObject(o, "isoflop");
    for (int g = 0; g < fr->n_iso; g++) {
        const scaling_isoflop *q = &fr->iso[g];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "C", q->c);
        cJSON_AddNumberToObject(e, "runs", q->runs);
        cJSON_AddBoolToObject(e, "valid", q->valid);
        if (q->valid) {
            cJSON_AddNumberToObject(e, "N_opt", q->n_opt);
            cJSON_AddNumberToObject(e, "D_opt", q->d_opt);
            cJSON_AddNumberToObject(e, "loss_min", q->loss_min);
        }
        cJSON_AddItemToArray(iso, e);
    }
    if (fr->iso_fit) {
        cJSON_AddNumberToObject(o, "approach2_a", fr->iso_k1);
        cJSON_AddNumberToObject(o, "approach2_k", exp(fr->iso_k0));
    }
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; i < s->n; i++) {
        const fit_run *r = &s->r[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "run", r->name);
        cJSON_AddStringToObject(e, "role", r->holdout ? "holdout" : "fit");
        cJSON_AddNumberToObject(e, "params", r->params);
        cJSON_AddNumberToObject(e, "non_embedding_params", r->nonemb);
        cJSON_AddNumberToObject(e, "N", r->n);
        cJSON_AddNumberToObject(e, "D", r->d);
        cJSON_AddNumberToObject(e, "loss", r->loss);
        cJSON_AddNumberToObject(e, "predicted", scaling_law_loss(l, r->n, r->d));
        cJSON_AddItemToArray(runs, e);
    }
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    const int rc = file_write_atomic(path, txt, strlen(txt));
    free(txt);
    return rc;
}

/* The three pictures, through gnuplot. Returns how many were drawn. */
static int draw_plots(const char *dir, const fit_set *s, const fit_result *fr) {
    const scaling_law *l = &fr->law;
    double cmin = INFINITY, cmax = 0;
    for (int i = 0; i < s->n; i++) {
        const double c = 6 * s->r[i].n * s->r[i].d;
        cmin = fmin(cmin, c), cmax = fmax(cmax, c);
    }
    int drawn = 0;
    for (int pic = 0; pic < 3; pic++) {
        static const char *files[3] = {"loss_vs_compute.png", "isoflop.png", "residuals.png"};
        char *png = path_join(dir, files[pic], "");
        FILE *p = popen("gnuplot 2>/dev/null", "w");
        if (!p) {
            free(png);
            return drawn;
        }
        fprintf(p, "set terminal pngcairo size 900,600\nset output '%s'\nset grid\nset key outside right\n", png);
        if (pic == 0) {
            fprintf(p, "set logscale x\nset xlabel 'compute C = 6 N D (FLOPs)'\nset ylabel 'validation loss (nats/token)'\n"
                       "set title 'loss against compute, fitted compute-optimal frontier'\n");
            fprintf(p, "plot '-' with points pt 7 ps 1.2 title 'fitted runs', '-' with points pt 5 ps 1.8 lc rgb 'red' "
                       "title 'held-out run', '-' with lines lw 2 lc rgb 'black' title 'L(N_{opt}(C), D_{opt}(C))'\n");
            for (int h = 0; h < 2; h++) {
                int any = 0;
                for (int i = 0; i < s->n; i++)
                    if (s->r[i].holdout == h) fprintf(p, "%g %g\n", 6 * s->r[i].n * s->r[i].d, s->r[i].loss), any = 1;
                if (!any) fprintf(p, "%g NaN\n", cmin);
                fprintf(p, "e\n");
            }
            for (int k = 0; k <= 100; k++) {
                const double c = cmin / 2 * pow(cmax * 4 / cmin, k / 100.0);
                double no, dop;
                scaling_optimal(l, c, &no, &dop);
                fprintf(p, "%g %g\n", c, scaling_law_loss(l, no, dop));
            }
            fprintf(p, "e\n");
        } else if (pic == 1) {
            fprintf(p, "set logscale x\nset xlabel 'N (parameters)'\nset ylabel 'validation loss (nats/token)'\n"
                       "set title 'iso-FLOP groups: runs and parabolas in ln N'\n");
            fprintf(p, "plot ");
            int first = 1, ng = 0;
            for (int g = 0; g < fr->n_iso; g++) {
                if (fr->iso[g].runs < 2) continue;
                fprintf(p, "%s'-' with points pt 7 ps 1.2 lc %d title 'C = %.2g'", first ? "" : ", ", g + 1, fr->iso[g].c);
                first = 0;
                if (fr->iso[g].runs >= 3 && fr->iso[g].q[2] != 0)
                    fprintf(p, ", '-' with lines lc %d notitle", g + 1);
                ng++;
            }
            if (ng == 0) fprintf(p, "'-' with points title 'no iso-FLOP group'");
            fprintf(p, "\n");
            if (ng == 0) fprintf(p, "1 NaN\ne\n");
            int j = 0;
            for (int g = 0; g < fr->n_iso; g++) {
                if (fr->iso[g].runs < 2) continue;
                double xmin = INFINITY, xmax = -INFINITY;
                for (int i = 0, k = 0; i < s->n; i++) {
                    if (s->r[i].holdout) continue;
                    if (fr->group[k++] == g) {
                        fprintf(p, "%g %g\n", s->r[i].n, s->r[i].loss);
                        xmin = fmin(xmin, log(s->r[i].n)), xmax = fmax(xmax, log(s->r[i].n));
                    }
                }
                fprintf(p, "e\n");
                if (fr->iso[g].runs >= 3 && fr->iso[g].q[2] != 0) {
                    for (int k = 0; k <= 40; k++) {
                        const double x = xmin - 0.2 + (xmax - xmin + 0.4) * k / 40.0;
                        fprintf(p, "%g %g\n", exp(x), fr->iso[g].q[0] + fr->iso[g].q[1] * x + fr->iso[g].q[2] * x * x);
                    }
                    fprintf(p, "e\n");
                }
                j++;
            }
        } else {
            fprintf(p, "set logscale x\nset xlabel 'compute C = 6 N D (FLOPs)'\nset ylabel 'observed / predicted - 1 (%%)'\n"
                       "set title 'residuals of the fit'\nset xzeroaxis lw 2\n");
            fprintf(p, "plot '-' with points pt 7 ps 1.2 title 'fitted runs', '-' with points pt 5 ps 1.8 lc rgb 'red' title 'held-out run'\n");
            for (int h = 0; h < 2; h++) {
                int any = 0;
                for (int i = 0; i < s->n; i++)
                    if (s->r[i].holdout == h) {
                        const double pr = scaling_law_loss(l, s->r[i].n, s->r[i].d);
                        fprintf(p, "%g %g\n", 6 * s->r[i].n * s->r[i].d, 100 * (s->r[i].loss / pr - 1));
                        any = 1;
                    }
                if (!any) fprintf(p, "%g NaN\n", cmin);
                fprintf(p, "e\n");
            }
        }
        if (pclose(p) == 0 && access(png, F_OK) == 0) drawn++;
        else fprintf(stderr, "llmos: warning: gnuplot failed on '%s'\n", png);
        free(png);
    }
    return drawn;
}

/* Releases the runs of s and what fit_all allocated in fr. */
static void fit_free(fit_set *s, fit_result *fr) {
    free(s->r);
    free(fr->boot);
    free(fr->group);
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */

#define VAL()                                              \
    do {                                                   \
        if (!(v = cli_value(argc, argv, &i))) return 2;    \
    } while (0)
#define LONGV(dst, lo, hi)                                                       \
    do {                                                                         \
        VAL();                                                                   \
        long lv_;                                                                \
        if (parse_long(a, v, lo, hi, &lv_) < 0) return cli_error(NULL) + 1;      \
        dst = lv_;                                                               \
    } while (0)
#define DBLV(dst)                                                                \
    do {                                                                         \
        VAL();                                                                   \
        double dv_;                                                              \
        if (parse_double(a, v, &dv_) < 0) return cli_error(NULL) + 1;            \
        dst = dv_;                                                               \
    } while (0)
#define COUNTV(dst)                                                              \
    do {                                                                         \
        VAL();                                                                   \
        double dv_;                                                              \
        if (parse_count(a, v, &dv_) < 0) return cli_error(NULL) + 1;             \
        dst = dv_;                                                               \
    } while (0)

static int cmd_scaling_count(int argc, char **argv) {
    long dim = 0, layers = 1, heads = 0, kv = 0, ffn = 0, vocab = 0, ctx = 256, untied = 0;
    const char *model_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            printf("usage: llmos scaling count (MODEL.gguf | --dim N --vocab N [--layers N --heads N\n"
                   "                            --kv-heads N --ffn N --untied]) [--ctx T]\n"
                   "Prints the exact counters of a llama config as JSON: parameters (total and\n"
                   "non-embedding), training FLOPs per token (6 x matmul weights + attention\n"
                   "6 L H D (T+1)) and the bytes of the parameter file in each type.\n"
                   "Defaults: 1 layer, heads dim/16, kv-heads = heads, ffn 8/3 dim rounded up to 16, ctx 256.\n"
                   "example: llmos scaling count --dim 128 --layers 4 --heads 4 --kv-heads 2 --ffn 384 --vocab 4096\n"
                   "         llmos scaling count out/base.gguf\n");
            return 0;
        }
        if (!strcmp(a, "--dim")) LONGV(dim, 1, 1 << 20);
        else if (!strcmp(a, "--layers")) LONGV(layers, 1, 4096);
        else if (!strcmp(a, "--heads")) LONGV(heads, 1, 1 << 16);
        else if (!strcmp(a, "--kv-heads")) LONGV(kv, 1, 1 << 16);
        else if (!strcmp(a, "--ffn")) LONGV(ffn, 1, 1 << 24);
        else if (!strcmp(a, "--vocab")) LONGV(vocab, 1, 1 << 26);
        else if (!strcmp(a, "--ctx")) LONGV(ctx, 1, 1 << 24);
        else if (!strcmp(a, "--untied")) untied = 1;
        else if (a[0] == '-' && a[1]) return cli_bad_option("scaling count", a);
        else if (!model_path) model_path = a;
        else return cli_bad_option("scaling count", a);
    }
    model_config c;
    memset(&c, 0, sizeof(c));
    int explicit_ctx = 0;
    for (int i = 1; i < argc; i++) explicit_ctx |= !strcmp(argv[i], "--ctx");
    if (model_path) {
        gguf_file *g = gguf_open(model_path);
        if (!g) return cli_error(NULL);
        const int rc = train_model_config_from_gguf(g, &c);
        gguf_close(g);
        if (rc < 0) return cli_error(NULL);
        if (explicit_ctx) c.ctx_len = (int)ctx;
    } else {
        if (dim <= 0 || vocab <= 0) return cli_error("scaling count: need a MODEL.gguf or --dim and --vocab (see --help)"), 2;
        if (!heads) heads = MAX(1, dim / 16);
        if (dim % heads) return cli_error("scaling count: --dim %ld is not a multiple of --heads %ld", dim, heads), 2;
        if (!kv) kv = heads;
        if (heads % kv) return cli_error("scaling count: --heads %ld is not a multiple of --kv-heads %ld", heads, kv), 2;
        if (!ffn) ffn = (8 * dim / 3 + 15) / 16 * 16;
        c.dim = (int)dim, c.n_layers = (int)layers, c.n_heads = (int)heads, c.n_kv_heads = (int)kv;
        c.head_dim = (int)(dim / heads), c.ffn_dim = (int)ffn, c.vocab_size = (int)vocab;
        c.ctx_len = (int)ctx, c.tied = !untied;
    }
    int64_t ne;
    const int64_t total = scaling_param_count(&c, &ne);
    printf("{\"dim\":%d,\"layers\":%d,\"heads\":%d,\"kv_heads\":%d,\"head_dim\":%d,\"ffn\":%d,\"vocab\":%d,"
           "\"ctx\":%d,\"tied\":%s,\"params\":%lld,\"non_embedding_params\":%lld,\"flops_per_token\":%.17g,\"bytes\":{",
           c.dim, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim, c.ffn_dim, c.vocab_size, c.ctx_len,
           c.tied ? "true" : "false", (long long)total, (long long)ne, scaling_flops_per_token(&c, c.ctx_len));
    static const tensor_type types[] = {TYPE_F32, TYPE_F16, TYPE_BF16, TYPE_Q8_0, TYPE_Q4_0};
    for (size_t k = 0; k < ARRAY_LEN(types); k++)
        printf("%s\"%s\":%lld", k ? "," : "", type_name(types[k]), (long long)scaling_param_bytes(&c, types[k]));
    printf("}}\n");
    return 0;
}

static void print_plan(const sw_plan *p, double rate) {
    char b1[32], b2[32], b3[32], b4[32];
    double total = 0, fit = 0;
    printf("  %-16s %5s %6s %10s %10s %10s %10s %10s\n", "run", "dim", "layers", "N", "N non-emb", "D", "FLOPs",
           rate > 0 ? "est. time" : "");
    for (int i = 0; i < p->n; i++) {
        const sw_run *r = &p->runs[i];
        char t[32] = "";
        if (rate > 0) snprintf(t, sizeof(t), "%.0f s", r->flops / rate);
        printf("  %-16s %5d %6d %10s %10s %10s %10s %10s\n", r->name, r->cfg.dim, r->cfg.n_layers,
               fmt_count(r->params, b1, sizeof(b1)), fmt_count(r->nonemb, b2, sizeof(b2)),
               fmt_count((double)r->tokens, b3, sizeof(b3)), fmt_count(r->flops, b4, sizeof(b4)), t);
        total += r->flops;
        if (!r->holdout) fit += r->flops;
    }
    printf("  fitted runs %s FLOPs, with the held-out run %s FLOPs", fmt_count(fit, b1, sizeof(b1)),
           fmt_count(total, b2, sizeof(b2)));
    if (rate > 0) printf(" (~%.0f min at %.2f GFLOP/s)", total / rate / 60, rate / 1e9);
    printf("\n");
}

static int cmd_scaling_sweep(int argc, char **argv) {
    const char *data = NULL, *out = "sweep";
    double budget = 0, minutes = 0, lr = 3e-3, ratio = 20, spacing = 3;
    long ctx = 128, batch = 8, levels = 3, per = 5, threads = cli_default_threads(), seed = 1, eval_batches = 64;
    long stop_after = 0, min_steps = 128, depth = 0;
    int dry = 0, holdout = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            printf("usage: llmos scaling sweep --data DIR (--budget FLOPS | --minutes M) [options]\n"
                   "Plans an iso-FLOP set of small pretraining runs that fits the budget (real\n"
                   "training FLOPs, or minutes at this machine's measured rate), writes the plan to\n"
                   "OUT/sweep.jsonl and trains each run (OUT/NAME.gguf, NAME.log.jsonl). Run it\n"
                   "again to continue: finished runs are skipped, an interrupted one resumes from\n"
                   "its checkpoint, and the existing plan is kept (budget options are ignored).\n"
                   "The plan: LEVELS compute levels SPACING apart, PER model sizes each (head dim 16,\n"
                   "ffn 8/3 dim, tied head) around --ratio tokens per parameter, D between --min-steps\n"
                   "and one pass over the training tokens; plus one held-out run with 4x the\n"
                   "compute of the largest fitted one (trained by `check` or --holdout).\n"
                   "\n"
                   "  --data DIR        token shards (llmos data tokenize)           (required)\n"
                   "  --budget FLOPS    total training FLOPs, e.g. 2e13\n"
                   "  --minutes M       or a time budget (the rate is measured first)\n"
                   "  --out DIR         sweep folder                              (sweep)\n"
                   "  --levels N        iso-FLOP levels                               (3)\n"
                   "  --spacing F       compute ratio between levels                  (3)\n"
                   "  --per-level N     model sizes per level                         (5)\n"
                   "  --ratio R         tokens per non-embedding parameter at the centre\n"
                   "                    of each level                                (20)\n"
                   "  --ctx T           sequence length                             (128)\n"
                   "  --batch N         sequences per step                            (8)\n"
                   "  --lr F            peak learning rate (cosine to 0.1x)        (3e-3)\n"
                   "  --eval-batches N  validation batches at the end of a run       (64)\n"
                   "  --min-steps N     shortest run, in optimizer steps             (128)\n"
                   "  --depth L         every size with L layers (widths 32..768) instead of\n"
                   "                    the default ladder of 1-8 layers\n"
                   "  --seed N                                                        (1)\n"
                   "  --threads N       (default: LLMOS_THREADS or all CPUs)\n"
                   "  --holdout         also train the held-out run\n"
                   "  --dry-run         print the plan and stop\n"
                   "  --quiet\n"
                   "example: llmos scaling sweep --data data/ --minutes 30 --out sweep/\n"
                   "         llmos scaling fit sweep/\n");
            return 0;
        }
        if (!strcmp(a, "--data")) { VAL(); data = v; }
        else if (!strcmp(a, "--out")) { VAL(); out = v; }
        else if (!strcmp(a, "--budget")) COUNTV(budget);
        else if (!strcmp(a, "--minutes")) DBLV(minutes);
        else if (!strcmp(a, "--lr")) DBLV(lr);
        else if (!strcmp(a, "--ratio")) DBLV(ratio);
        else if (!strcmp(a, "--spacing")) DBLV(spacing);
        else if (!strcmp(a, "--levels")) LONGV(levels, 1, 10);
        else if (!strcmp(a, "--per-level")) LONGV(per, 1, 12);
        else if (!strcmp(a, "--ctx")) LONGV(ctx, 2, 1 << 16);
        else if (!strcmp(a, "--batch")) LONGV(batch, 1, 1 << 16);
        else if (!strcmp(a, "--eval-batches")) LONGV(eval_batches, 1, 1 << 20);
        else if (!strcmp(a, "--seed")) LONGV(seed, 0, 1L << 62);
        else if (!strcmp(a, "--min-steps")) LONGV(min_steps, 1, 1L << 40);
        else if (!strcmp(a, "--depth")) LONGV(depth, 1, 64);
        else if (!strcmp(a, "--threads")) LONGV(threads, 1, 4096);
        else if (!strcmp(a, "--stop-after")) LONGV(stop_after, 1, 1L << 40); /* test hook */
        else if (!strcmp(a, "--holdout")) holdout = 1;
        else if (!strcmp(a, "--dry-run")) dry = 1;
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else return cli_bad_option("scaling sweep", a);
    }
    if (!(lr > 0 && lr < 1)) return cli_error("scaling sweep: --lr %g is out of range", lr), 2;
    if (!(spacing > 1)) return cli_error("scaling sweep: --spacing %g must be above 1", spacing), 2;
    if (!(ratio > 0)) return cli_error("scaling sweep: --ratio %g must be positive", ratio), 2;
    g_depth = (int)depth;
    sw_plan *p = xcalloc(1, sizeof(*p));
    char *mpath = path_join(out, "sweep.jsonl", "");
    int rc = 1;
    double rate = 0;
    if (access(mpath, F_OK) == 0) {
        if (plan_read(p, mpath) < 0) goto done;
        if (!quiet) fprintf(stderr, "llmos scaling: continuing the sweep in '%s' (%d runs planned)\n", out, p->n);
    } else {
        if (!data) {
            cli_error("scaling sweep: --data DIR is required for a new sweep (see --help)");
            rc = 2;
            goto done;
        }
        if (!(budget > 0) && !(minutes > 0)) {
            cli_error("scaling sweep: give --budget FLOPS or --minutes M");
            rc = 2;
            goto done;
        }
        char *tp = path_join(data, "tokenizer.gguf", "");
        gguf_file *tg = gguf_open(tp);
        free(tp);
        if (!tg) goto fail;
        const gguf_kv *kv = gguf_find(tg, "tokenizer.ggml.tokens");
        p->vocab = kv && kv->type == GGUF_ARRAY ? (int)kv->n : 0;
        gguf_close(tg);
        if (p->vocab <= 0) {
            err_set("%s/tokenizer.gguf: no tokenizer.ggml.tokens", data);
            goto fail;
        }
        dataset *ds = dataset_open(data, (uint32_t)p->vocab);
        if (!ds) goto fail;
        const double dmax = (double)ds->train_tokens;
        const int has_val = ds->val != NULL;
        dataset_close(ds);
        if (!has_val) {
            err_set("%s: no val.bin (the sweep's losses are validation losses)", data);
            goto fail;
        }
        if (!realpath(data, p->data)) snprintf(p->data, sizeof(p->data), "%s", data);
        p->ctx = (int)ctx, p->batch = (int)batch, p->lr = lr, p->seed = (uint64_t)seed, p->ratio = ratio;
        p->spacing = spacing;
        p->eval_batches = (int)eval_batches;
        if (minutes > 0) {
            const model_config mc = shape_config(64, 2, p->vocab, p->ctx);
            rate = probe_rate(&mc, p->batch, p->ctx, (int)threads);
            budget = minutes * 60 * rate;
            if (!quiet) fprintf(stderr, "llmos scaling: measured %.2f GFLOP/s; %g minutes = %.3g FLOPs\n", rate / 1e9, minutes, budget);
        }
        p->budget = budget;
        const double dmin = (double)min_steps * batch * ctx;
        double ctop = 6 * ladder_nonemb(0, p->vocab, p->ctx) * dmin, best = 0;
        for (; ctop < 1e24; ctop *= 1.02) {
            const double cost = plan_fill(p, ctop, (int)levels, (int)per, dmin, dmax);
            if (cost <= budget && p->n >= 4) best = ctop;
            if (cost > budget && best > 0) break;
        }
        if (!(best > 0)) {
            err_set("scaling sweep: a budget of %.3g FLOPs is too small for a sweep on '%s' (or its %.3g training tokens are too few)",
                    budget, data, dmax);
            goto fail;
        }
        plan_fill(p, best, (int)levels, (int)per, dmin, dmax);
        if (!dry) {
            if (mkdir(out, 0755) < 0 && errno != EEXIST) {
                err_set("cannot create '%s': %s", out, strerror(errno));
                goto fail;
            }
            if (plan_write(p, mpath) < 0) goto fail;
        }
    }
    if (!quiet || dry) {
        printf("llmos scaling sweep: %d runs in '%s' (data '%s', vocab %d, ctx %d, batch %d, lr %g)\n", p->n, out,
               p->data, p->vocab, p->ctx, p->batch, p->lr);
        print_plan(p, rate);
        fflush(stdout);
    }
    if (dry) {
        rc = 0;
        goto done;
    }
    const int tr = plan_train(p, out, holdout, -1, (int)threads, stop_after, quiet);
    if (tr < 0) goto fail;
    if (tr == 0 && !quiet) fprintf(stderr, "llmos scaling: sweep finished; fit it with: llmos scaling fit %s\n", out);
    rc = 0;
    goto done;
fail:
    cli_error(NULL);
    rc = 1;
done:
    free(mpath);
    free(p);
    return rc;
}

static int cmd_scaling_fit(int argc, char **argv) {
    const char *out = NULL, *plots = NULL;
    long reps = 200, seed = 1;
    double delta = 1e-3;
    int total = 0, no_plots = 0;
    fit_set s = {0};
    const char **inputs = xmalloc(sizeof(char *) * (size_t)argc);
    int n_in = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            printf("usage: llmos scaling fit SWEEP_DIR_OR_LOG... [options]\n"
                   "Fits L(N, D) = E + A / N^alpha + B / D^beta to finished runs (Chinchilla's\n"
                   "approach 3: Huber loss on log-loss, BFGS from a grid of 4500 starts), with\n"
                   "bootstrap 95%% confidence intervals (runs resampled), the compute-optimal\n"
                   "N_opt(C), D_opt(C) and tokens per parameter, and approach 2 (iso-FLOP\n"
                   "parabolas) when runs share a compute budget. Inputs: sweep folders (their\n"
                   "held-out run is predicted, not fitted) or pretrain logs NAME.log.jsonl.\n"
                   "\n"
                   "  --bootstrap N     resamples for the intervals, 0 = none          (200)\n"
                   "  --params KIND     non-embedding | total: what N counts (non-embedding)\n"
                   "  --delta F         Huber delta                                   (1e-3)\n"
                   "  --out FILE        the fit as JSON         (default FIRST_DIR/fit.json)\n"
                   "  --plots DIR       loss_vs_compute.png, isoflop.png, residuals.png\n"
                   "                    (default: beside --out)\n"
                   "  --no-plots\n"
                   "  --seed N          bootstrap seed                                   (1)\n"
                   "example: llmos scaling fit sweep/ --bootstrap 500\n"
                   "         llmos scaling predict --fit sweep/fit.json --n 10M --d 200M\n");
            free(inputs);
            return 0;
        }
        if (!strcmp(a, "--bootstrap")) LONGV(reps, 0, 100000);
        else if (!strcmp(a, "--seed")) LONGV(seed, 0, 1L << 62);
        else if (!strcmp(a, "--delta")) DBLV(delta);
        else if (!strcmp(a, "--out")) { VAL(); out = v; }
        else if (!strcmp(a, "--plots")) { VAL(); plots = v; }
        else if (!strcmp(a, "--no-plots")) no_plots = 1;
        else if (!strcmp(a, "--params")) {
            VAL();
            if (!strcmp(v, "total")) total = 1;
            else if (!strcmp(v, "non-embedding")) total = 0;
            else {
                free(inputs);
                return cli_error("scaling fit: --params is 'non-embedding' or 'total', not '%s'", v), 2;
            }
        }
        else if (a[0] == '-' && a[1]) {
            free(inputs);
            return cli_bad_option("scaling fit", a);
        }
        else inputs[n_in++] = a;
    }
    int rc = 1;
    char *outp = NULL, *plotdir = NULL;
    fit_result fr;
    memset(&fr, 0, sizeof(fr));
    if (n_in == 0) {
        free(inputs);
        return cli_error("scaling fit: no input (a sweep folder or pretrain logs; see --help)"), 2;
    }
    if (!(delta > 0)) {
        free(inputs);
        return cli_error("scaling fit: --delta must be positive"), 2;
    }
    for (int i = 0; i < n_in; i++)
        if (set_add_input(&s, inputs[i], total) < 0) goto done;
    if (fit_all(&s, (int)reps, delta, (uint64_t)seed, &fr) < 0) goto done;
    print_fit(&s, &fr, total);
    struct stat st;
    if (out) outp = xstrdup(out);
    else if (stat(inputs[0], &st) == 0 && S_ISDIR(st.st_mode)) outp = path_join(inputs[0], "fit.json", "");
    else outp = xstrdup("fit.json");
    if (write_fit_json(outp, &s, &fr, total, delta) < 0) goto done;
    if (plots) plotdir = xstrdup(plots);
    else {
        plotdir = xstrdup(outp);
        char *sl = strrchr(plotdir, '/');
        if (sl) *sl = 0;
        else strcpy(plotdir, ".");
    }
    int drawn = 0;
    if (!no_plots) {
        if (mkdir(plotdir, 0755) < 0 && errno != EEXIST) {
            err_set("cannot create '%s': %s", plotdir, strerror(errno));
            goto done;
        }
        drawn = draw_plots(plotdir, &s, &fr);
    }
    printf("wrote %s", outp);
    if (drawn) printf(" and %d picture(s) in %s/", drawn, plotdir);
    printf("\n");
    rc = 0;
done:
    if (rc) cli_error(NULL);
    fit_free(&s, &fr);
    free(outp), free(plotdir);
    free(inputs);
    return rc;
}

static int law_from_json(const char *path, scaling_law *l) {
    size_t len;
    char *txt = file_read_all(path, &len);
    if (!txt) return -1;
    cJSON *o = cJSON_Parse(txt);
    free(txt);
    if (!o) return err_set("%s: not JSON", path);
    l->E = jnum(o, "E", NAN), l->A = jnum(o, "A", NAN), l->B = jnum(o, "B", NAN);
    l->alpha = jnum(o, "alpha", NAN), l->beta = jnum(o, "beta", NAN);
    cJSON_Delete(o);
    if (!isfinite(l->E + l->A + l->B + l->alpha + l->beta)) return err_set("%s: not a scaling fit (needs E, A, B, alpha, beta)", path);
    return 0;
}

static int cmd_scaling_predict(int argc, char **argv) {
    const char *fit = NULL;
    double n = 0, d = 0, c = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            printf("usage: llmos scaling predict --fit FIT.json (--n N --d D | --compute C)\n"
                   "The loss the fitted law predicts for N parameters (of the fit's kind) and D\n"
                   "tokens, or the compute-optimal N, D and loss for C = 6 N D FLOPs.\n"
                   "example: llmos scaling predict --fit sweep/fit.json --n 1.2M --d 30M\n"
                   "         llmos scaling predict --fit sweep/fit.json --compute 1e18\n");
            return 0;
        }
        if (!strcmp(a, "--fit")) { VAL(); fit = v; }
        else if (!strcmp(a, "--n")) COUNTV(n);
        else if (!strcmp(a, "--d")) COUNTV(d);
        else if (!strcmp(a, "--compute")) COUNTV(c);
        else return cli_bad_option("scaling predict", a);
    }
    if (!fit) return cli_error("scaling predict: --fit FIT.json is required"), 2;
    if (!(c > 0) && !(n > 0 && d > 0)) return cli_error("scaling predict: give --n and --d, or --compute"), 2;
    scaling_law l;
    if (law_from_json(fit, &l) < 0) return cli_error(NULL);
    if (n > 0 && d > 0)
        printf("{\"N\":%.6g,\"D\":%.6g,\"C\":%.6g,\"loss\":%.6f}\n", n, d, 6 * n * d, scaling_law_loss(&l, n, d));
    if (c > 0) {
        double no, dop;
        scaling_optimal(&l, c, &no, &dop);
        printf("{\"C\":%.6g,\"N_opt\":%.6g,\"D_opt\":%.6g,\"tokens_per_param\":%.4g,\"loss\":%.6f}\n", c, no, dop,
               dop / no, scaling_law_loss(&l, no, dop));
    }
    return 0;
}

/* Appends to the plan (and its manifest) the run the fit calls
 * compute-optimal at 4x the largest fitted compute: the plan's shape nearest
 * N_opt in ln N, D = C / (6 N) capped at the training tokens. */
static int add_optimal_run(sw_plan *p, const char *dir, const char *mpath, const fit_result *fr, int total,
                           int *h) {
    if (p->n >= (int)ARRAY_LEN(p->runs)) return err_set("%s: too many runs", mpath);
    const double C = 4 * fr->cmax;
    double nopt, dopt, best = INFINITY;
    scaling_optimal(&fr->law, C, &nopt, &dopt);
    int k = -1;
    for (int i = 0; i < p->n; i++) {
        const double n = total ? p->runs[i].params : p->runs[i].nonemb, dist = fabs(log(n / nopt));
        if (dist < best) best = dist, k = i;
    }
    dataset *ds = dataset_open(p->data, (uint32_t)p->vocab);
    if (!ds || k < 0) return -1;
    const double dmax = (double)ds->train_tokens;
    dataset_close(ds);
    const sw_run *src = &p->runs[k];
    const double n = total ? src->params : src->nonemb;
    sw_run *r = &p->runs[p->n];
    run_fill(r, src->cfg.dim, src->cfg.n_layers, p, (int64_t)fmin(C / (6 * n), dmax), -1, 1);
    snprintf(r->name, sizeof(r->name), "optimal-d%dl%d", src->cfg.dim, src->cfg.n_layers);
    FILE *f = fopen(mpath, "a");
    if (!f) return err_set("cannot write '%s': %s", mpath, strerror(errno));
    fprintf(f, "{\"event\":\"run\",\"run\":\"%s\",\"role\":\"holdout\",\"group\":-1,\"dim\":%d,\"layers\":%d,"
               "\"heads\":%d,\"kv_heads\":%d,\"ffn\":%d,\"batch\":%d,\"tokens\":%lld,\"params\":%.0f,"
               "\"non_embedding_params\":%.0f,\"flops_per_token\":%.17g,\"flops\":%.17g,\"c6nd\":%.17g,"
               "\"n_opt\":%.6g}\n",
            r->name, r->cfg.dim, r->cfg.n_layers, r->cfg.n_heads, r->cfg.n_kv_heads, r->cfg.ffn_dim, r->batch,
            (long long)r->tokens, r->params, r->nonemb, r->fpt, r->flops, r->c6nd, nopt);
    if (fclose(f) != 0) return err_set("cannot write '%s'", mpath);
    *h = p->n++;
    return 0;
}

static int cmd_scaling_check(int argc, char **argv) {
    const char *dir = NULL;
    long threads = cli_default_threads(), reps = 200;
    int total = 0, optimal = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            printf("usage: llmos scaling check SWEEP_DIR [--optimal] [--threads N] [--bootstrap N] [--params total]\n"
                   "Finishes the sweep's fitted runs, fits the law on them, predicts the held-out\n"
                   "run (4x the compute of the largest fitted one) and writes the prediction to\n"
                   "SWEEP_DIR/check.json before training it; then trains it and reports the\n"
                   "prediction's error. Resumable like the sweep.\n"
                   "  --optimal   instead of the planned held-out run (about 2x N and 2x D), add\n"
                   "              and check the run the fit calls compute-optimal at 4x: the\n"
                   "              sweep's shape nearest N_opt(C), D = C / (6 N), capped at one\n"
                   "              pass over the data (SWEEP_DIR/check-optimal.json)\n"
                   "example: llmos scaling sweep --data data/ --minutes 30 --out sweep/\n"
                   "         llmos scaling check sweep/\n");
            return 0;
        }
        if (!strcmp(a, "--threads")) LONGV(threads, 1, 4096);
        else if (!strcmp(a, "--bootstrap")) LONGV(reps, 0, 100000);
        else if (!strcmp(a, "--optimal")) optimal = 1;
        else if (!strcmp(a, "--params")) {
            VAL();
            total = !strcmp(v, "total");
        }
        else if (a[0] == '-' && a[1]) return cli_bad_option("scaling check", a);
        else if (!dir) dir = a;
        else return cli_bad_option("scaling check", a);
    }
    if (!dir) return cli_error("scaling check: SWEEP_DIR is required (see --help)"), 2;
    sw_plan *p = xcalloc(1, sizeof(*p));
    char *mpath = path_join(dir, "sweep.jsonl", ""),
         *cpath = path_join(dir, optimal ? "check-optimal.json" : "check.json", "");
    fit_set s = {0};
    fit_result fr;
    memset(&fr, 0, sizeof(fr));
    int rc = 1, h = -1;
    if (plan_read(p, mpath) < 0) goto done;
    for (int i = p->n - 1; i >= 0; i--)
        if (p->runs[i].holdout && (strncmp(p->runs[i].name, "optimal-", 8) == 0) == optimal) h = i;
    if (h < 0 && !optimal) {
        err_set("%s: the plan has no held-out run", mpath);
        goto done;
    }
    if (plan_train(p, dir, 0, -1, (int)threads, 0, 0) < 0) goto done;
    for (int i = 0; i < p->n; i++)
        if (!p->runs[i].holdout && p->runs[i].done)
            set_add(&s, p->runs[i].name, p->runs[i].params, p->runs[i].nonemb, p->runs[i].tokens_done,
                    p->runs[i].val_loss, 0, total);
    if (fit_all(&s, (int)reps, 1e-3, 1, &fr) < 0) goto done;
    if (h < 0 && add_optimal_run(p, dir, mpath, &fr, total, &h) < 0) goto done;
    sw_run *r = &p->runs[h];
    const double n = total ? r->params : r->nonemb, d = (double)r->tokens;
    const double pred = scaling_law_loss(&fr.law, n, d);
    double lo = pred, hi = pred;
    if (fr.reps > 0) {
        double *v = xmalloc(sizeof(double) * (size_t)fr.reps);
        for (int k = 0; k < fr.reps; k++) v[k] = scaling_law_loss(&fr.boot[k], n, d);
        lo = scaling_quantile(v, fr.reps, 0.025), hi = scaling_quantile(v, fr.reps, 0.975);
        free(v);
    }
    double cmax = 0;
    for (int i = 0; i < s.n; i++) cmax = fmax(cmax, 6 * s.r[i].n * s.r[i].d);
    printf("llmos scaling check: fitted %d runs: E %.4g, A %.4g, B %.4g, alpha %.3f, beta %.3f\n", s.n, fr.law.E,
           fr.law.A, fr.law.B, fr.law.alpha, fr.law.beta);
    printf("held-out run %s: N %.4g, D %.4g, C %.3g = %.2fx the largest fitted run's %.3g\n", r->name, n, d, 6 * n * d,
           6 * n * d / cmax, cmax);
    printf("prediction before training it: loss %.4f (95%% CI [%.4f, %.4f])\n", pred, lo, hi);
    fflush(stdout);
    if (!r->done) {
        char buf[512];
        snprintf(buf, sizeof(buf), "{\"run\":\"%s\",\"N\":%.9g,\"D\":%.9g,\"predicted\":%.9g,\"ci95\":[%.9g,%.9g]}\n",
                 r->name, n, d, pred, lo, hi);
        if (file_write_atomic(cpath, buf, strlen(buf)) < 0) goto done;
        if (plan_train(p, dir, 1, h, (int)threads, 0, 0) < 0) goto done;
    }
    if (!r->done) {
        err_set("%s: the held-out run did not finish", r->name);
        goto done;
    }
    const double err = (pred - r->val_loss) / r->val_loss;
    printf("measured: loss %.4f; prediction error %+.2f%% (%s the 2%% goal)\n", r->val_loss, 100 * err,
           fabs(err) < 0.02 ? "within" : "outside");
    char buf[768];
    snprintf(buf, sizeof(buf),
             "{\"run\":\"%s\",\"N\":%.9g,\"D\":%.9g,\"C\":%.9g,\"compute_ratio\":%.6g,\"predicted\":%.9g,"
             "\"ci95\":[%.9g,%.9g],\"measured\":%.9g,\"relative_error\":%.6g,\"fitted_runs\":%d,"
             "\"E\":%.9g,\"A\":%.9g,\"B\":%.9g,\"alpha\":%.9g,\"beta\":%.9g}\n",
             r->name, n, d, 6 * n * d, 6 * n * d / cmax, pred, lo, hi, r->val_loss, err, s.n, fr.law.E, fr.law.A,
             fr.law.B, fr.law.alpha, fr.law.beta);
    if (file_write_atomic(cpath, buf, strlen(buf)) < 0) goto done;
    rc = 0;
done:
    if (rc) cli_error(NULL);
    fit_free(&s, &fr);
    free(mpath), free(cpath);
    free(p);
    return rc;
}

int cmd_scaling(int argc, char **argv) {
    static const cli_command sub[] = {
        {"sweep", cmd_scaling_sweep, "plan and train an iso-FLOP set of small runs (resumable)"},
        {"fit", cmd_scaling_fit, "fit L(N, D) = E + A/N^alpha + B/D^beta, bootstrap CIs, optimal N and D"},
        {"predict", cmd_scaling_predict, "the fitted law's loss for (N, D), or the optimal split of a budget"},
        {"check", cmd_scaling_check, "fit the sweep, then train a 4x-compute held-out run and score the prediction"},
        {"count", cmd_scaling_count, "exact parameters, FLOPs per token and file bytes of a config"},
    };
    return subcmd_dispatch("scaling", sub, ARRAY_LEN(sub), argc, argv);
}
