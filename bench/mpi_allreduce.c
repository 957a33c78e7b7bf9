/*
 * mpi_allreduce.c - the all-reduce bandwidth between the ranks of an mpirun
 * job, the figure docs/distributed.md's model of 8-512 ranks starts from.
 *
 *   mpicc -O2 -o mpi_allreduce bench/mpi_allreduce.c
 *   mpirun -np 2 ./mpi_allreduce [MAX_MB]
 *
 * For fp32 buffers of 4 KB .. MAX_MB (64) MB: the median time of an
 * MPI_Allreduce (sum, in place) over several repetitions, and the bus
 * bandwidth 2 (N-1)/N x bytes / time (what each rank sends and receives in
 * a ring all-reduce, NCCL's convention), one line per size on rank 0:
 *   bytes 4194304 time_us 1234.5 busbw_GBps 3.40
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    const long max_bytes = (argc > 1 ? atol(argv[1]) : 64) << 20;
    float *buf = malloc((size_t)max_bytes);
    for (long i = 0; i < max_bytes / 4; i++) buf[i] = 0.0f; /* sums stay finite */
    for (long bytes = 4096; bytes <= max_bytes; bytes *= 4) {
        const int reps = bytes <= (1 << 20) ? 50 : 11;
        double t[64];
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)(bytes / 4), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* warm */
        for (int r = 0; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            const double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)(bytes / 4), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t[r] = MPI_Wtime() - t0;
        }
        qsort(t, (size_t)reps, sizeof t[0], cmp_double);
        const double med = t[reps / 2];
        if (rank == 0)
            printf("bytes %ld time_us %.1f busbw_GBps %.3f\n", bytes, med * 1e6,
                   2.0 * (n - 1) / n * (double)bytes / med / 1e9);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
