// Vectorized softmax kernels and few-row tile products for the Attention
// library.
//
// The element-wise softmax kernels serve every path. The two few-row products
// serve only tiles with a handful of query rows, where they replace sgemm.
// Every other matrix product goes through OpenBLAS from Swift. Each function
// picks its body at run time: AVX-512F
// intrinsics, AVX2 with FMA, or portable C that the compiler vectorizes for
// the baseline target. The build never depends on the build machine's CPU.

#ifndef C_ATTENTION_KERNELS_H
#define C_ATTENTION_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTENTION_VARIANT_PORTABLE 0
#define ATTENTION_VARIANT_AVX2 1
#define ATTENTION_VARIANT_AVX512 2

/// The body the functions below use: the best one the CPU supports.
int attention_kernels_variant(void);

/// Writes exp(input[i]) to output[i] for i in [0, count).
///
/// The relative error is at most 2 ulp for results in the normal range.
/// Results below the smallest normal float (FLT_MIN) are exactly 0, so -inf
/// gives 0. Inputs above ln(FLT_MAX) give +inf, and NaN gives NaN. `input`
/// and `output` may be the same array.
void attention_exp(const float *input, float *output, ptrdiff_t count);

/// Returns the maximum of scale * values[i] over [0, count): NaN when any
/// product is NaN, -inf for an empty array.
float attention_scaled_maximum(const float *values, ptrdiff_t count, float scale);

/// Replaces each values[i] with exp(scale * values[i] - shift) and returns
/// the sum of the results, added in an order that depends only on `count`.
/// Every body rounds the product before it subtracts the shift, as
/// `attention_scaled_maximum` rounds it, so the element whose product equals
/// the shift gives exactly 1.
///
/// Accuracy and special values are those of `attention_exp`.
float attention_exp_scaled_sum(float *values, ptrdiff_t count, float scale, float shift);

/// Runs one tile step of the online softmax for every row of a
/// `rows` x `keys` tile of raw scores (row stride `keys`).
///
/// Row r sees its first `visible` keys: all of them unless `causal` is
/// nonzero, in which case `visible = clamp(firstRowVisible + r, 0, keys)`.
/// With m the running maximum before the step and M the new one (the maximum
/// of m and of scale * score over visible keys, NaN when either is NaN), the
/// step writes exp(scale * score - M) over the visible keys and exact zeros
/// after them, multiplies runningSum and, when `accumulatorIsWritten`, the
/// accumulator row (`valueDimension` floats) by exp(m - M), adds the row's
/// new sum, and stores M. A row whose M is -inf is left as zeros with its
/// state unchanged.
void attention_online_softmax_tile(
    float *scores, ptrdiff_t rows, ptrdiff_t keys, ptrdiff_t firstRowVisible, int causal, float scale,
    float *runningMax, float *runningSum, float *accumulator, ptrdiff_t valueDimension, int accumulatorIsWritten);

/// Returns 1 when every element of the `rows` x `columns` row-major matrix at
/// `base` (rows `rowStride` floats apart) is finite, 0 when any is NaN or
/// infinite.
int attention_all_finite(const float *base, ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t rowStride);

/// Computes scores[i * scoreStride + j] = alpha * (query row i . key row j)
/// for i in [0, rows) and j in [0, keyCount), over `depth` elements. Rows of
/// `query` are `queryStride` floats apart and rows of `keys` `keyStride`
/// floats apart; elements within a row are contiguous. Each key row is read
/// from memory once. `scores` must not overlap the inputs.
void attention_few_row_scores(
    const float *query, ptrdiff_t queryStride, const float *keys, ptrdiff_t keyStride,
    float *scores, ptrdiff_t scoreStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t depth, float alpha);

/// Computes output row i = beta * output row i + sum over j of
/// weights[i * weightStride + j] * values row j, for i in [0, rows), over
/// `width` contiguous elements per row, adding keys in increasing order.
/// A weight of exactly 0 skips its value row, so a NaN or infinite value
/// never reaches a row that gives it no weight. With beta 0 the output is
/// overwritten without being read. Each value row is read from memory once.
/// `output` must not overlap the inputs.
void attention_few_row_weighted_sum(
    const float *weights, ptrdiff_t weightStride, const float *values, ptrdiff_t valueStride,
    float *output, ptrdiff_t outputStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t width, float beta);

/// Returns the sum of values[0 ... count - 1] with the widest vectors the
/// CPU has, in an order that depends only on `count`. The benchmark uses it
/// to measure how fast memory can be read.
float attention_sum(const float *values, ptrdiff_t count);

/// The functions above with the body chosen by the caller, for tests and
/// benchmarks that compare bodies. A body the CPU lacks falls back to the
/// best supported one.
void attention_exp_using(int variant, const float *input, float *output, ptrdiff_t count);
float attention_scaled_maximum_using(int variant, const float *values, ptrdiff_t count, float scale);
float attention_exp_scaled_sum_using(int variant, float *values, ptrdiff_t count, float scale, float shift);
/// The exp-and-sum of `attention_exp_scaled_sum` as the online softmax runs
/// it, where every scale * values[i] - shift is at most 0, -inf or NaN
/// because the shift is the row maximum. For such inputs the results equal
/// those of `attention_exp_scaled_sum_using` with the same variant, bit for
/// bit; for other inputs they are not specified.
float attention_softmax_exp_sum_using(int variant, float *values, ptrdiff_t count, float scale, float shift);
void attention_few_row_scores_using(
    int variant, const float *query, ptrdiff_t queryStride, const float *keys, ptrdiff_t keyStride,
    float *scores, ptrdiff_t scoreStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t depth, float alpha);
void attention_few_row_weighted_sum_using(
    int variant, const float *weights, ptrdiff_t weightStride, const float *values, ptrdiff_t valueStride,
    float *output, ptrdiff_t outputStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t width, float beta);
void attention_online_softmax_tile_using(
    int variant, float *scores, ptrdiff_t rows, ptrdiff_t keys, ptrdiff_t firstRowVisible, int causal, float scale,
    float *runningMax, float *runningSum, float *accumulator, ptrdiff_t valueDimension, int accumulatorIsWritten);

#ifdef __cplusplus
}
#endif

#endif
