#ifndef SWIFT_ATTENTION_CBLAS_SHIM_H
#define SWIFT_ATTENTION_CBLAS_SHIM_H

// OpenBLAS's CBLAS interface, with openblas_set_num_threads and friends.
#include <cblas.h>
// The LAPACK C interface, used for factorizations that sgemm cannot do.
#include <lapacke.h>

#endif
