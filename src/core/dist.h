/*
 * dist.h - the processes of one run: MPI (OpenMPI) when llmos is started by
 * mpirun, one process otherwise.
 *
 * llmos links OpenMPI (when the build found it) but initializes it only
 * when the launcher's environment says it was started by mpirun
 * (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE): a plain `./llmos ...`
 * never touches MPI, so it runs as before on a machine where nobody uses
 * mpirun. Built without OpenMPI, every run is one process, and a run
 * started by mpirun with several ranks is refused at dist_init.
 *
 * Ranks are MPI_COMM_WORLD's. The collectives below are thin wrappers that
 * also count the seconds spent inside them (dist_comm_seconds): the time a
 * rank waited on the network, what the training log reports as comm_sec.
 *
 * Nonblocking operations return a slot (>= 0) to pass to dist_wait; they
 * progress while the caller computes if it calls dist_poll now and then
 * (OpenMPI moves a nonblocking collective along only inside MPI calls).
 * Buffers of a pending operation belong to MPI until dist_wait returns.
 */
#ifndef LLMOS_DIST_H
#define LLMOS_DIST_H

#include <stddef.h>

/* Initializes MPI when started by mpirun. 0, or -1 with err_set (a build
 * without OpenMPI started on several ranks). Call once, first thing. */
int dist_init(int *argc, char ***argv);
/* Finalizes MPI (a no-op for one process). */
void dist_finish(void);
/* Under MPI: ends every rank of the job with exit status code (MPI_Abort),
 * for a rank that failed while others may wait on it. A no-op otherwise. */
void dist_abort(int code);
int dist_rank(void);
int dist_size(void);
/* Seconds spent in the calls below since dist_init. */
double dist_comm_seconds(void);

/* Blocking: every rank's x summed, on every rank (n doubles, in place). */
void dist_allreduce_f64(double *x, int n);
/* Blocking: all[r] <- rank r's x, on every rank (all holds dist_size()). */
void dist_allgather_f64(double x, double *all);
/* Blocking: rank 0 gets every rank's piece at displs[r] of recv (counts[r]
 * floats); recv is only read on rank 0. */
void dist_gatherv_f32(const float *send, int n, float *recv, const int *counts, const int *displs);

/* Nonblocking: buf (n floats) <- the sum over ranks. */
int dist_iallreduce_f32(float *buf, int n);
/* Nonblocking: send (sum of counts floats) summed over ranks; this rank's
 * piece (counts[rank] floats, at displs[rank] of send) lands in recv. */
int dist_ireduce_scatter_f32(const float *send, float *recv, const int *counts);
/* Nonblocking, in place: piece r of buf (counts[r] floats at displs[r])
 * comes from rank r. */
int dist_iallgatherv_f32(float *buf, const int *counts, const int *displs);
/* Lets pending operations progress. */
void dist_poll(void);
/* Waits for every pending operation. */
void dist_wait_all(void);

#endif
