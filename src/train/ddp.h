/*
 * ddp.h - data parallelism over the ranks of an mpirun job (dist.h): every
 * rank holds the whole model and computes the gradients of its slice of the
 * global batch; the gradients are summed over ranks in buckets, each sent
 * (nonblocking) as soon as backward has finished its layers, while backward
 * goes on with the earlier layers.
 *
 * Buckets: the parameters in the size table's order (embedding and head,
 * then layer 0..L-1) are cut at layer boundaries into runs of at least
 * DDP_BUCKET_FLOATS, from the last layer down; the embedding and head make
 * the last bucket (the tied embedding's gradient is final only after the
 * embedding's backward). Each bucket is cut into N pieces, piece r of size
 * counts[r]; rank r owns piece r of every bucket.
 *
 * Two modes:
 *   plain   every bucket all-reduced; every rank clips and takes the AdamW
 *           step over all parameters (m and v for all of them)
 *   zero    (ZeRO stage 1) every bucket reduce-scattered: rank r receives
 *           the summed gradient of its pieces only, keeps AdamW's m and v
 *           for them only (about 1/N of the memory), updates them, and the
 *           parameters are all-gathered
 * Both compute the clipping norm the same way (per-rank partial sums over
 * the pieces, added in rank order), so at N = 2 (where the all-reduce and
 * the reduce-scatter both add two numbers) they give bit-identical
 * parameters.
 *
 * Ownership: ddp_new takes over opt's moments in zero mode (they shrink to
 * this rank's pieces; adamw_free still frees them); ddp_free releases the
 * rest and unhooks the model.
 */
#ifndef LLMOS_DDP_H
#define LLMOS_DDP_H

#include <stddef.h>

#include "../model/train_model.h"
#include "optim.h"

#define DDP_BUCKET_FLOATS (1 << 18) /* 1 MB of fp32 gradients */

typedef struct {
    size_t lo, hi;       /* parameters [lo, hi) */
    int *counts, *displs; /* (N) piece r: counts[r] floats at lo + displs[r] */
    size_t shard_off;    /* where this rank's piece sits in the shard arrays */
    int launched;
} ddp_bucket;

typedef struct ddp {
    train_model *m;
    int rank, size, zero;
    int n_buckets;
    ddp_bucket *bk;      /* in the order backward completes them */
    int *bucket_of_layer; /* (L + 1): [l + 1] -> the bucket that layer l completes, or -1 */
    size_t n_shard;      /* floats this rank owns */
    float *g_shard;      /* (n_shard) zero mode: this rank's summed gradients */
} ddp;

/* A data-parallel context over this job's ranks for m and opt (opt's
 * moments, loaded or fresh, must be set: in zero mode this rank keeps its
 * pieces of them). */
ddp *ddp_new(train_model *m, adamw *opt, int zero);
void ddp_free(ddp *d);
/* The next backward is the step's last: each bucket is sent as backward
 * completes it. (Without this, the buckets go out in ddp_grad_clip.) */
void ddp_arm(ddp *d);
/* Waits for the summed gradients, computes their global L2 norm, scales
 * them so it is at most clip (clip > 0) and returns the norm. */
double ddp_grad_clip(ddp *d, double clip);
/* AdamW at lr over this rank's parameters (all of them, or its pieces
 * followed by the all-gather). */
void ddp_adamw_step(ddp *d, adamw *opt, float lr);
/* Zero mode: on rank 0, *m and *v <- the whole moments (malloc'd, the
 * caller frees); NULL elsewhere. Every rank must call it. */
void ddp_gather_moments(const ddp *d, const adamw *opt, float **m, float **v);
/* Bytes of AdamW state this rank holds. */
double ddp_optimizer_bytes(const ddp *d);

#endif
