/*
 * scaling.c - the counters, the Chinchilla fit (approach 3) with its
 * bootstrap, the compute-optimal allocation, and the iso-FLOP parabolas
 * (approach 2). Formulas and conventions are in scaling.h.
 */
#include "scaling.h"

#include "../core/common.h"
#include "../model/train_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- counters ---- */

int64_t scaling_param_count(const model_config *c, int64_t *non_embedding) {
    const int64_t C = c->dim, HD = (int64_t)c->n_heads * c->head_dim;
    const int64_t KVD = (int64_t)c->n_kv_heads * c->head_dim, F = c->ffn_dim, V = c->vocab_size;
    const int64_t per_layer = 2 * C + 2 * C * HD + 2 * C * KVD + 3 * C * F;
    const int64_t body = c->n_layers * per_layer + C;
    if (non_embedding) *non_embedding = body;
    return body + V * C * (c->tied ? 1 : 2);
}

double scaling_flops_per_token(const model_config *c, int T) {
    const double C = c->dim, HD = (double)c->n_heads * c->head_dim;
    const double KVD = (double)c->n_kv_heads * c->head_dim, F = c->ffn_dim, V = c->vocab_size;
    const double M = c->n_layers * (2 * C * HD + 2 * C * KVD + 3 * C * F) + V * C;
    return 6.0 * M + 6.0 * c->n_layers * HD * (T + 1.0);
}

/* bytes of a (rows, cols) matrix in type t; f32 when rows don't fit blocks */
static int64_t matrix_bytes(tensor_type t, int64_t rows, int64_t cols) {
    if (cols % type_block_size(t)) t = TYPE_F32;
    return rows * (int64_t)type_row_bytes(t, cols);
}

int64_t scaling_param_bytes(const model_config *c, tensor_type t) {
    const int64_t C = c->dim, HD = (int64_t)c->n_heads * c->head_dim;
    const int64_t KVD = (int64_t)c->n_kv_heads * c->head_dim, F = c->ffn_dim, V = c->vocab_size;
    const int64_t layer = 2 * 4 * C + matrix_bytes(t, HD, C) + 2 * matrix_bytes(t, KVD, C) +
                          matrix_bytes(t, C, HD) + 2 * matrix_bytes(t, F, C) + matrix_bytes(t, C, F);
    return c->n_layers * layer + 4 * C + matrix_bytes(t, V, C) * (c->tied ? 1 : 2);
}

/* ---- the objective ---- */

typedef struct {
    int n;
    const double *ln_n, *ln_d, *ln_l;
    const int *idx; /* the points used (a bootstrap resample), n of them */
    double delta;
} fit_data;

/* theta = (a, b, e, alpha, beta). Returns the Huber sum; g (5) its gradient. */
static double objective(const double *th, const fit_data *fd, double *g) {
    double f = 0;
    for (int k = 0; k < 5; k++) g[k] = 0;
    for (int j = 0; j < fd->n; j++) {
        const int i = fd->idx[j];
        const double t1 = th[0] - th[3] * fd->ln_n[i], t2 = th[1] - th[4] * fd->ln_d[i], t3 = th[2];
        const double m = fmax(t1, fmax(t2, t3));
        const double e1 = exp(t1 - m), e2 = exp(t2 - m), e3 = exp(t3 - m), s = e1 + e2 + e3;
        const double r = m + log(s) - fd->ln_l[i];
        double h;
        if (fabs(r) <= fd->delta) {
            f += 0.5 * r * r;
            h = r;
        } else {
            f += fd->delta * (fabs(r) - 0.5 * fd->delta);
            h = r > 0 ? fd->delta : -fd->delta;
        }
        const double w1 = e1 / s, w2 = e2 / s, w3 = e3 / s;
        g[0] += h * w1;
        g[1] += h * w2;
        g[2] += h * w3;
        g[3] -= h * w1 * fd->ln_n[i];
        g[4] -= h * w2 * fd->ln_d[i];
    }
    return f;
}

static double dot5(const double *a, const double *b) {
    double s = 0;
    for (int k = 0; k < 5; k++) s += a[k] * b[k];
    return s;
}

/* BFGS with a bisection line search for the weak Wolfe conditions. x is the
 * start and receives the end point; returns the objective there. */
static double bfgs(double *x, const fit_data *fd) {
    double H[25], g[5], p[5], xn[5], gn[5], s[5], y[5], Hy[5];
    double f = objective(x, fd, g);
    for (int k = 0; k < 25; k++) H[k] = (k % 6 == 0);
    int flat = 0;
    for (int it = 0; it < 1000; it++) {
        double gmax = 0;
        for (int k = 0; k < 5; k++) gmax = fmax(gmax, fabs(g[k]));
        if (gmax < 1e-14) break;
        for (int r = 0; r < 5; r++) p[r] = -dot5(H + 5 * r, g);
        double gp = dot5(g, p);
        if (!(gp < 0)) { /* lost descent: restart from steepest descent */
            for (int k = 0; k < 25; k++) H[k] = (k % 6 == 0);
            for (int k = 0; k < 5; k++) p[k] = -g[k];
            gp = dot5(g, p);
        }
        double pmax = 0;
        for (int k = 0; k < 5; k++) pmax = fmax(pmax, fabs(p[k]));
        double t = pmax > 5 ? 5 / pmax : 1, lo = 0, hi = INFINITY, fn = f;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (int k = 0; k < 5; k++) xn[k] = x[k] + t * p[k];
            fn = objective(xn, fd, gn);
            if (!(fn <= f + 1e-4 * t * gp)) hi = t;
            else if (dot5(gn, p) < 0.9 * gp) lo = t;
            else {
                ok = 1;
                break;
            }
            t = isinf(hi) ? 2 * t : 0.5 * (lo + hi);
        }
        if (!ok) {
            if (lo > 0) { /* accept the best sufficient decrease seen */
                for (int k = 0; k < 5; k++) xn[k] = x[k] + lo * p[k];
                fn = objective(xn, fd, gn);
            } else
                break;
        }
        for (int k = 0; k < 5; k++) s[k] = xn[k] - x[k], y[k] = gn[k] - g[k];
        const double sy = dot5(s, y);
        if (sy > 1e-300) {
            /* H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T */
            const double rho = 1 / sy;
            for (int r = 0; r < 5; r++) Hy[r] = dot5(H + 5 * r, y);
            const double yHy = dot5(y, Hy);
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 5; c++)
                    H[5 * r + c] += -rho * (s[r] * Hy[c] + Hy[r] * s[c]) + (rho * rho * yHy + rho) * s[r] * s[c];
        }
        flat = fabs(f - fn) <= 1e-15 * fmax(fabs(f), 1e-300) ? flat + 1 : 0;
        memcpy(x, xn, sizeof(xn));
        memcpy(g, gn, sizeof(gn));
        f = fn;
        if (flat >= 3) break;
    }
    return f;
}

static void theta_to_law(const double *th, double f, scaling_law *l) {
    l->A = exp(th[0]);
    l->B = exp(th[1]);
    l->E = exp(th[2]);
    l->alpha = th[3];
    l->beta = th[4];
    l->objective = f;
}

double scaling_law_loss(const scaling_law *l, double n, double d) {
    return l->E + l->A / pow(n, l->alpha) + l->B / pow(d, l->beta);
}

/* Runs BFGS from every start (n_starts x 5) and keeps the best. */
static int fit_from(const fit_data *fd, const double *starts, int n_starts, scaling_law *out) {
    double best = INFINITY, best_th[5] = {0};
    for (int s = 0; s < n_starts; s++) {
        double th[5];
        memcpy(th, starts + 5 * s, sizeof(th));
        const double f = bfgs(th, fd);
        int finite = isfinite(f);
        for (int k = 0; k < 5; k++) finite &= isfinite(th[k]);
        if (finite && f < best) best = f, memcpy(best_th, th, sizeof(th));
    }
    if (!isfinite(best)) return err_set("scaling fit: no start converged");
    theta_to_law(best_th, best, out);
    return 0;
}

static double *grid_starts(int full, const scaling_law *extra, int *count) {
    static const double full_ab[] = {0, 5, 10, 15, 20, 25}, full_ex[] = {0, 0.5, 1, 1.5, 2},
                        full_e[] = {-1, -0.5, 0, 0.5, 1};
    static const double co_ab[] = {2, 10}, co_ex[] = {0.25, 1.0}, co_e[] = {-0.5, 0.5};
    const double *ab = full ? full_ab : co_ab, *ex = full ? full_ex : co_ex, *ee = full ? full_e : co_e;
    const int nab = full ? 6 : 2, nex = full ? 5 : 2, ne = full ? 5 : 2;
    const int n = nab * nab * nex * nex * ne + (extra ? 1 : 0);
    double *st = xmalloc(sizeof(double) * 5 * (size_t)n), *q = st;
    if (extra) {
        q[0] = log(extra->A), q[1] = log(extra->B), q[2] = log(extra->E), q[3] = extra->alpha, q[4] = extra->beta;
        q += 5;
    }
    for (int i = 0; i < nab; i++)
        for (int j = 0; j < nab; j++)
            for (int k = 0; k < ne; k++)
                for (int u = 0; u < nex; u++)
                    for (int v = 0; v < nex; v++, q += 5)
                        q[0] = ab[i], q[1] = ab[j], q[2] = ee[k], q[3] = ex[u], q[4] = ex[v];
    *count = n;
    return st;
}

typedef struct {
    double *ln_n, *ln_d, *ln_l;
} logs3;

static int logs_make(const scaling_point *p, int n, logs3 *L) {
    L->ln_n = xmalloc(sizeof(double) * (size_t)n * 3);
    L->ln_d = L->ln_n + n;
    L->ln_l = L->ln_d + n;
    for (int i = 0; i < n; i++) {
        if (!(p[i].n > 0 && p[i].d > 0 && p[i].loss > 0 && isfinite(p[i].n * p[i].d * p[i].loss))) {
            free(L->ln_n);
            return err_set("scaling fit: run %d has N %g, D %g, loss %g (all must be positive)", i + 1,
                           p[i].n, p[i].d, p[i].loss);
        }
        L->ln_n[i] = log(p[i].n), L->ln_d[i] = log(p[i].d), L->ln_l[i] = log(p[i].loss);
    }
    return 0;
}

int scaling_fit(const scaling_point *p, int n, double delta, const scaling_law *extra, int full_grid,
                scaling_law *out) {
    if (n < 5) return err_set("scaling fit: %d run(s); the law has 5 constants, so at least 5 runs are needed", n);
    logs3 L;
    if (logs_make(p, n, &L) < 0) return -1;
    int *idx = xmalloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++) idx[i] = i;
    fit_data fd = {n, L.ln_n, L.ln_d, L.ln_l, idx, delta};
    int ns;
    double *st = grid_starts(full_grid, extra, &ns);
    const int rc = fit_from(&fd, st, ns, out);
    free(st);
    free(idx);
    free(L.ln_n);
    return rc;
}

void scaling_bootstrap(const scaling_point *p, int n, double delta, const scaling_law *best, int reps,
                       uint64_t seed, scaling_law *out) {
    logs3 L;
    if (n < 1 || logs_make(p, n, &L) < 0) {
        for (int r = 0; r < reps; r++) out[r] = *best;
        return;
    }
    int ns;
    double *st = grid_starts(0, best, &ns);
#pragma omp parallel for schedule(dynamic)
    for (int r = 0; r < reps; r++) {
        int *idx = xmalloc(sizeof(int) * (size_t)n);
        uint64_t s = seed * 0x9E3779B97F4A7C15ull + (uint64_t)r * 7919 + 1;
        for (int i = 0; i < n; i++) idx[i] = (int)(train_rng_next(&s) % (uint64_t)n);
        fit_data fd = {n, L.ln_n, L.ln_d, L.ln_l, idx, delta};
        if (fit_from(&fd, st, ns, &out[r]) < 0) out[r] = *best;
        free(idx);
    }
    free(st);
    free(L.ln_n);
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double scaling_quantile(const double *x, int n_in, double q) {
    double *s = xmalloc(sizeof(double) * (size_t)MAX(n_in, 1));
    int n = 0;
    for (int i = 0; i < n_in; i++)
        if (isfinite(x[i])) s[n++] = x[i];
    if (n == 0) return free(s), NAN;
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    const double pos = q * (n - 1);
    const int i = (int)floor(pos);
    const double v = i + 1 < n ? s[i] + (pos - i) * (s[i + 1] - s[i]) : s[n - 1];
    free(s);
    return v;
}

void scaling_optimal(const scaling_law *l, double C, double *n_opt, double *d_opt) {
    const double s = l->alpha + l->beta;
    const double G = pow(l->alpha * l->A / (l->beta * l->B), 1 / s);
    *n_opt = G * pow(C / 6, l->beta / s);
    *d_opt = pow(C / 6, l->alpha / s) / G;
}

/* ---- approach 2 ---- */

int scaling_line_fit(const double *x, const double *y, int n, double *k0, double *k1) {
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) mx += x[i], my += y[i];
    if (n < 2) return -1;
    mx /= n, my /= n;
    double sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    if (!(sxx > 1e-300)) return -1;
    *k1 = sxy / sxx;
    *k0 = my - *k1 * mx;
    return 0;
}

/* Least-squares parabola through (x, y), x centred on m for conditioning. */
static int parabola_fit(const double *x, const double *y, int n, double q[3]) {
    double m = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    double S[5] = {0}, R[3] = {0};
    for (int i = 0; i < n; i++) {
        const double u = x[i] - m;
        double pw = 1;
        for (int k = 0; k < 5; k++) {
            S[k] += pw;
            if (k < 3) R[k] += pw * y[i];
            pw *= u;
        }
    }
    /* normal equations M c = R, M[i][j] = S[i+j]; Cramer's rule */
    const double M[3][3] = {{S[0], S[1], S[2]}, {S[1], S[2], S[3]}, {S[2], S[3], S[4]}};
#define DET3(a) ((a)[0][0] * ((a)[1][1] * (a)[2][2] - (a)[1][2] * (a)[2][1]) - \
                 (a)[0][1] * ((a)[1][0] * (a)[2][2] - (a)[1][2] * (a)[2][0]) + \
                 (a)[0][2] * ((a)[1][0] * (a)[2][1] - (a)[1][1] * (a)[2][0]))
    const double det = DET3(M);
    if (!(fabs(det) > 1e-300)) return -1;
    double c[3];
    for (int k = 0; k < 3; k++) {
        double A[3][3];
        memcpy(A, M, sizeof(A));
        for (int r = 0; r < 3; r++) A[r][k] = R[r];
        c[k] = DET3(A) / det;
    }
#undef DET3
    /* back to powers of x: c0 + c1 (x - m) + c2 (x - m)^2 */
    q[0] = c[0] - c[1] * m + c[2] * m * m;
    q[1] = c[1] - 2 * c[2] * m;
    q[2] = c[2];
    return 0;
}

typedef struct {
    double c;
    int i;
} c_index;

static int cmp_c(const void *a, const void *b) {
    const double x = ((const c_index *)a)->c, y = ((const c_index *)b)->c;
    return x < y ? -1 : x > y;
}

int scaling_isoflop_groups(const scaling_point *p, int n, double tol, scaling_isoflop *out, int max,
                           int *group) {
    c_index *ci = xmalloc(sizeof(c_index) * (size_t)MAX(n, 1));
    double *x = xmalloc(sizeof(double) * (size_t)MAX(n, 1) * 2), *y = x + MAX(n, 1);
    for (int i = 0; i < n; i++) ci[i] = (c_index){6 * p[i].n * p[i].d, i};
    qsort(ci, (size_t)n, sizeof(c_index), cmp_c);
    int ng = 0;
    for (int s = 0; s < n && ng < max;) {
        int e = s;
        while (e < n && ci[e].c <= ci[s].c * tol) e++;
        scaling_isoflop *g = &out[ng];
        memset(g, 0, sizeof(*g));
        double lc = 0, xmin = INFINITY, xmax = -INFINITY;
        int distinct = 0;
        for (int k = s; k < e; k++) {
            const scaling_point *q = &p[ci[k].i];
            if (group) group[ci[k].i] = ng;
            lc += log(ci[k].c);
            x[k - s] = log(q->n), y[k - s] = q->loss;
            int seen = 0;
            for (int u = s; u < k; u++) seen |= fabs(log(p[ci[u].i].n) - x[k - s]) < 1e-9;
            distinct += !seen;
            xmin = fmin(xmin, x[k - s]), xmax = fmax(xmax, x[k - s]);
        }
        g->runs = e - s;
        g->c = exp(lc / g->runs);
        if (distinct >= 3 && parabola_fit(x, y, g->runs, g->q) == 0 && g->q[2] > 0) {
            const double xs = -g->q[1] / (2 * g->q[2]), w = xmax - xmin;
            g->n_opt = exp(xs);
            g->d_opt = g->c / (6 * g->n_opt);
            g->loss_min = g->q[0] + g->q[1] * xs + g->q[2] * xs * xs;
            g->valid = xs >= xmin - 0.25 * w && xs <= xmax + 0.25 * w;
        }
        ng++;
        s = e;
    }
    free(ci);
    free(x);
    return ng;
}
