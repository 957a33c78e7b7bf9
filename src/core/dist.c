/*
 * dist.c - one process, or the ranks of an mpirun job (see dist.h). The
 * MPI calls are compiled only with LLMOS_MPI (the Makefile defines it when
 * pkg-config finds OpenMPI's ompi-c).
 */
#include "dist.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef LLMOS_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1;
static double g_comm = 0;

/* mpirun (OpenMPI's, or a PMIx/PMI launcher) exports these to every rank */
static int launched_by_mpirun(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

#ifdef LLMOS_MPI

static int g_mpi = 0;
#define DIST_MAX_PENDING 4096
static MPI_Request g_req[DIST_MAX_PENDING];
static int g_n_req = 0;

int dist_init(int *argc, char ***argv) {
    if (!launched_by_mpirun()) return 0;
    int provided;
    /* one thread calls MPI; OpenMP threads only compute */
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    g_mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return 0;
}

void dist_finish(void) {
    if (!g_mpi) return;
    dist_wait_all();
    MPI_Finalize();
    g_mpi = 0;
}

void dist_abort(int code) {
    if (g_mpi && g_size > 1) {
        fflush(stdout), fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code);
    }
}

static int slot(void) {
    LLMOS_ASSERT(g_n_req < DIST_MAX_PENDING);
    return g_n_req++;
}

void dist_allreduce_f64(double *x, int n) {
    if (g_size == 1) return;
    const double t0 = time_now();
    MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    g_comm += time_now() - t0;
}

void dist_allgather_f64(double x, double *all) {
    if (g_size == 1) {
        all[0] = x;
        return;
    }
    const double t0 = time_now();
    MPI_Allgather(&x, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, MPI_COMM_WORLD);
    g_comm += time_now() - t0;
}

void dist_gatherv_f32(const float *send, int n, float *recv, const int *counts, const int *displs) {
    const double t0 = time_now();
    MPI_Gatherv(send, n, MPI_FLOAT, recv, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
    g_comm += time_now() - t0;
}

int dist_iallreduce_f32(float *buf, int n) {
    const double t0 = time_now();
    const int s = slot();
    MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &g_req[s]);
    g_comm += time_now() - t0;
    return s;
}

int dist_ireduce_scatter_f32(const float *send, float *recv, const int *counts) {
    const double t0 = time_now();
    const int s = slot();
    MPI_Ireduce_scatter(send, recv, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &g_req[s]);
    g_comm += time_now() - t0;
    return s;
}

int dist_iallgatherv_f32(float *buf, const int *counts, const int *displs) {
    const double t0 = time_now();
    const int s = slot();
    MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, MPI_FLOAT, MPI_COMM_WORLD,
                    &g_req[s]);
    g_comm += time_now() - t0;
    return s;
}

void dist_poll(void) {
    if (g_n_req == 0) return;
    const double t0 = time_now();
    int done;
    MPI_Testall(g_n_req, g_req, &done, MPI_STATUSES_IGNORE);
    g_comm += time_now() - t0;
}

void dist_wait_all(void) {
    if (g_n_req == 0) return;
    const double t0 = time_now();
    MPI_Waitall(g_n_req, g_req, MPI_STATUSES_IGNORE);
    g_n_req = 0;
    g_comm += time_now() - t0;
}

#else /* one process: the collectives are the identity */

int dist_init(int *argc, char ***argv) {
    if (launched_by_mpirun() && atoi(getenv("OMPI_COMM_WORLD_SIZE") ? getenv("OMPI_COMM_WORLD_SIZE") : "1") > 1)
        return err_set("this llmos was built without OpenMPI (install libopenmpi-dev and rebuild): "
                       "it cannot run on several ranks");
    return 0;
}
void dist_finish(void) {}
void dist_abort(int code) {}
void dist_allreduce_f64(double *x, int n) {}
void dist_allgather_f64(double x, double *all) { all[0] = x; }
void dist_gatherv_f32(const float *send, int n, float *recv, const int *counts, const int *displs) {
    for (int i = 0; i < n; i++) recv[displs[0] + i] = send[i];
}
int dist_iallreduce_f32(float *buf, int n) { return 0; }
int dist_ireduce_scatter_f32(const float *send, float *recv, const int *counts) {
    for (int i = 0; i < counts[0]; i++) recv[i] = send[i];
    return 0;
}
int dist_iallgatherv_f32(float *buf, const int *counts, const int *displs) { return 0; }
void dist_poll(void) {}
void dist_wait_all(void) {}

#endif

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
double dist_comm_seconds(void) { return g_comm; }
