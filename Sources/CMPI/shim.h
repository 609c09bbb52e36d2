// The few MPI calls TernEvo makes, as functions Swift can import: Open MPI's MPI_COMM_WORLD
// and datatype handles are macros over global structs, which Swift cannot see.
#ifndef TERNEVO_CMPI_SHIM_H
#define TERNEVO_CMPI_SHIM_H

#include <mpi.h>
#include <stdint.h>

// Initialises MPI (funneled: only the main thread calls MPI). Returns MPI_SUCCESS or an error code.
static inline int ternevo_mpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}

static inline int ternevo_mpi_rank(void) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

static inline int ternevo_mpi_size(void) {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

// All-gather of doubles with per-rank counts (displacements are their prefix sums).
static inline int ternevo_mpi_allgatherv_double(const double *send, int count, double *receive,
                                                const int *counts, const int *displacements) {
    return MPI_Allgatherv(send, count, MPI_DOUBLE, receive, counts, displacements, MPI_DOUBLE, MPI_COMM_WORLD);
}

// All-gather of one 64-bit word per rank.
static inline int ternevo_mpi_allgather_u64(uint64_t value, uint64_t *receive) {
    return MPI_Allgather(&value, 1, MPI_UINT64_T, receive, 1, MPI_UINT64_T, MPI_COMM_WORLD);
}

// Element-wise sums of `count` 64-bit integers over the ranks (the totals of a data-parallel step).
static inline int ternevo_mpi_allreduce_sum_i64(const int64_t *send, int64_t *receive, int count) {
    return MPI_Allreduce(send, receive, count, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
}

// Rank 0's word on every rank.
static inline int ternevo_mpi_broadcast_u64(uint64_t *value) {
    return MPI_Bcast(value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
}

// Rank 0's `count` bytes on every rank.
static inline int ternevo_mpi_broadcast_bytes(uint8_t *bytes, int count) {
    return MPI_Bcast(bytes, count, MPI_BYTE, 0, MPI_COMM_WORLD);
}

static inline void ternevo_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static inline int ternevo_mpi_finalize(void) { return MPI_Finalize(); }

#endif
