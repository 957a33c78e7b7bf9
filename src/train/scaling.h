/*
 * scaling.h - scaling laws: exact counters for a model config, the fit of
 * L(N, D) = E + A / N^alpha + B / D^beta to measured runs, the
 * compute-optimal allocation it implies, and the iso-FLOP analysis.
 *
 * Counters (model.h's llama shapes; C dim, L layers, H heads, KVH kv heads,
 * D head dim, F ffn dim, V vocabulary, T context):
 *   non-embedding parameters  L (2C + 2 C H D + 2 C KVH D + 3 C F) + C
 *                             (every layer's norms and matrices, the final norm)
 *   total parameters          non-embedding + V C (token embedding)
 *                             + V C more when the output head is untied
 *   training FLOPs per token  6 M + 6 L H D (T + 1)
 *     M = L (2 C H D + 2 C KVH D + 3 C F) + V C: the weights a token is
 *     multiplied by (the head costs V C whether tied or not; the embedding
 *     lookup and the norms are free); 2 FLOPs per multiply-add forward and
 *     twice that backward give 6 M. Attention: query t of a causal
 *     sequence meets t + 1 keys, Q K^T and A V cost 2 x 2 H D each, so the
 *     mean over t = 0 .. T-1 is 2 H D (T + 1) per layer forward, 3 times
 *     that for training.
 *   parameter-file bytes      tensor data of a GGUF in a type: matrices in
 *     that type (rows of a block type whose length is not a multiple of
 *     the block stay f32), 1-D tensors f32; headers not counted.
 *
 * The fit is Chinchilla's approach 3 (Hoffmann et al. 2022): minimize
 *   sum_i Huber_delta( LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i )
 * over (a, b, e, alpha, beta), A = exp(a), B = exp(b), E = exp(e), with BFGS
 * (Wolfe line search) from a grid of starting points; the best end point
 * wins. Compute-optimal allocation for C = 6 N D:
 *   N_opt = G (C/6)^(beta/(alpha+beta)),  D_opt = (C/6)^(alpha/(alpha+beta)) / G,
 *   G = (alpha A / (beta B))^(1/(alpha+beta)).
 * Approach 2: runs grouped by compute; in each group a parabola of loss in
 * log N gives the best N; a power law through those gives N_opt(C).
 *
 * Nothing here allocates memory that outlives a call, except where a
 * function says the caller frees.
 */
#ifndef LLMOS_SCALING_H
#define LLMOS_SCALING_H

#include <stdint.h>

#include "../core/types.h"
#include "../model/model.h"

/* ---- counters ---- */

/* Total parameters; *non_embedding (may be NULL) gets the count without the
 * vocabulary matrices (token embedding and untied head). */
int64_t scaling_param_count(const model_config *c, int64_t *non_embedding);
/* Training FLOPs per token at context T (formula above). */
double scaling_flops_per_token(const model_config *c, int T);
/* Bytes of tensor data of the model stored as `type` (rules above). */
int64_t scaling_param_bytes(const model_config *c, tensor_type type);

/* ---- the law ---- */

typedef struct {
    double E, A, B, alpha, beta;
    double objective; /* the Huber sum at the optimum */
} scaling_law;

/* One finished run. */
typedef struct {
    double n;    /* parameters */
    double d;    /* training tokens */
    double loss; /* final validation loss (nats/token) */
} scaling_point;

double scaling_law_loss(const scaling_law *l, double n, double d);

/* Approach 3 on n points with Huber delta (Chinchilla: 1e-3). starts: 0
 * for the full grid (alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
 * a, b in {0, 5, ..., 25}: 4500 starts); otherwise `extra` (may be NULL)
 * and a coarse 2^5 grid. 0 on success, -1 with err_set. */
int scaling_fit(const scaling_point *p, int n, double delta, const scaling_law *extra, int full_grid,
                scaling_law *out);

/* Compute-optimal N and D for C = 6 N D under the law. */
void scaling_optimal(const scaling_law *l, double C, double *n_opt, double *d_opt);

/* Bootstrap over runs: reps refits on resamples (with replacement) of the
 * points, each started from `best` and the coarse grid; out[reps] receives
 * the laws (a refit that fails is copied from best). Seeded, deterministic. */
void scaling_bootstrap(const scaling_point *p, int n, double delta, const scaling_law *best, int reps,
                       uint64_t seed, scaling_law *out);

/* The q-quantile (0..1) of the finite values of x[n] (sorts a copy; linear
 * interpolation); NaN when none is finite. */
double scaling_quantile(const double *x, int n, double q);

/* ---- approach 2 ---- */

typedef struct {
    double c;        /* the group's compute (geometric mean of its runs') */
    double n_opt;    /* the parabola's minimum in log N */
    double d_opt;    /* c / (6 n_opt) */
    double loss_min; /* the parabola at its minimum */
    double q[3];     /* loss = q0 + q1 x + q2 x^2, x = ln N */
    int runs;
    int valid;       /* 0: fewer than 3 sizes, or no interior minimum */
} scaling_isoflop;

/* Groups points whose compute 6 N D lies within a factor `tol` (e.g. 1.25)
 * of the group's first, in order of compute; fits each group of >= 3
 * distinct N. group[n] (may be NULL) receives each point's group. Returns the
 * number of groups written (at most max). */
int scaling_isoflop_groups(const scaling_point *p, int n, double tol, scaling_isoflop *out, int max,
                           int *group);

/* Least-squares line y = k0 + k1 x; returns -1 when fewer than 2 distinct x. */
int scaling_line_fit(const double *x, const double *y, int n, double *k0, double *k1);

#endif
