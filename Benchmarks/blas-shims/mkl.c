/*
 * Runs attention-bench on Intel MKL's cblas_sgemm instead of OpenBLAS's,
 * for comparing the two libraries under the same engine. It is not part of
 * the package build.
 *
 * attention-bench calls cblas_sgemm and five OpenBLAS functions. This
 * library implements the five with MKL's calls, and when it is preloaded
 * before libmkl_rt, MKL's cblas_sgemm takes the place of OpenBLAS's. The
 * OpenBLAS library stays loaded, because LAPACKE reaches it through libblas.
 *
 *   python3 -m pip download --no-deps -d /tmp/mkl mkl intel-openmp
 *   (cd /tmp/mkl && for w in *.whl; do python3 -m zipfile -e "$w" x; done)
 *   MKL=$(dirname "$(find /tmp/mkl/x -name libmkl_rt.so.3)")
 *   OMP=$(dirname "$(find /tmp/mkl/x -name libiomp5.so)")
 *   gcc -O2 -shared -fPIC -o /tmp/mkl/libmklshim.so Benchmarks/blas-shims/mkl.c \
 *       -L"$MKL" -l:libmkl_rt.so.3 -Wl,-rpath,"$MKL:$OMP"
 *   LD_LIBRARY_PATH="$MKL:$OMP" MKL_THREADING_LAYER=INTEL \
 *       LD_PRELOAD="/tmp/mkl/libmklshim.so $MKL/libmkl_rt.so.3" \
 *       .build/release/attention-bench --shape 1,8,4096,4096,64
 *
 * The header then names MKL where it names the OpenBLAS core.
 */
#include <unistd.h>

extern void MKL_Set_Num_Threads(int count);
extern int MKL_Get_Max_Threads(void);

void openblas_set_num_threads(int count) { MKL_Set_Num_Threads(count); }

int openblas_get_num_threads(void) { return MKL_Get_Max_Threads(); }

int openblas_get_num_procs(void) { return (int)sysconf(_SC_NPROCESSORS_ONLN); }

char *openblas_get_config(void) { return "Intel MKL, preloaded through Benchmarks/blas-shims/mkl.c"; }

char *openblas_get_corename(void) { return "MKL"; }
