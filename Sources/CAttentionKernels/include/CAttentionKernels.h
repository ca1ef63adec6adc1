// Vectorized softmax kernels for the Attention library.
//
// Only element-wise kernels live here; every matrix product goes through
// OpenBLAS from Swift. Each function picks an AVX-512 body at run time when
// the CPU supports AVX-512F, and a portable scalar body otherwise, so the
// build never depends on the build machine's CPU.

#ifndef C_ATTENTION_KERNELS_H
#define C_ATTENTION_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The body the dispatching functions use: 1 for AVX-512F, 0 for portable.
int attention_kernels_variant(void);

/// Forces the portable bodies (nonzero) or restores run-time dispatch (0).
/// For tests and benchmarks that compare the bodies; not thread-safe with
/// concurrent kernel calls.
void attention_kernels_force_portable(int force);

/// Writes exp(input[i]) to output[i] for i in [0, count).
///
/// Relative error below 2 ulp for results in the normal range; results below
/// the smallest normal float (FLT_MIN) are exactly 0, -inf gives 0, inputs
/// above ln(FLT_MAX) give +inf, and NaN gives NaN. `input` and `output` may
/// be the same array.
void attention_exp(const float *input, float *output, ptrdiff_t count);

/// Returns the maximum of scale * values[i] over [0, count), skipping NaN
/// products; -inf for an empty or all-NaN array.
float attention_scaled_maximum(const float *values, ptrdiff_t count, float scale);

/// Replaces each values[i] with exp(scale * values[i] - shift), computed with
/// one rounding for the product and difference (a fused multiply-add), and
/// returns the sum of the results in a fixed order.
///
/// Accuracy and special values are those of `attention_exp`.
float attention_exp_scaled_sum(float *values, ptrdiff_t count, float scale, float shift);

#ifdef __cplusplus
}
#endif

#endif
