// The two products of one attention tile when it has only a few query rows,
// computed by streaming the key and value rows once, without packing.
//
// With one query row, OpenBLAS 0.3.21 copies every key and value row into
// its packed buffers and then runs a micro-kernel that is mostly idle. A
// decode step on sgemm therefore takes several times as long as reading the
// cache. These loops read each key and value row from memory once and use
// it for every query row while it is in L1.
//
// Each body is one C function on 16-float vector types, compiled three
// times as in the exp: for AVX-512F, for AVX2 with FMA, and for the baseline
// target. Nothing is reassociated, so the order of every sum depends only on
// the sizes, never on the body, the alignment or the thread. The AVX-512 and AVX2
// bodies round each multiply-add once; the portable body rounds twice.

#include "CAttentionKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define FEW_ROW_HAS_X86_BODIES 1
#else
#define FEW_ROW_HAS_X86_BODIES 0
#endif

#include <string.h>

enum { kLanes = 16 };

// Sixteen floats that the compiler keeps in one AVX-512 register, two AVX2
// registers or four SSE registers, with element-wise arithmetic in every case.
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));

// Lane l accumulates elements l, l + 16, l + 32, ... of the product; a tail
// shorter than 16 is multiplied in zero-padded copies. The lanes are then
// added pairwise, 16 to 8 to 4 to 2 to 1.
static inline __attribute__((always_inline)) float dotProduct(const float *a, const float *b, ptrdiff_t depth) {
    Lanes sum = {0};
    ptrdiff_t d = 0;
    Lanes x, y;
    for (; d + kLanes <= depth; d += kLanes) {
        memcpy(&x, a + d, sizeof x);
        memcpy(&y, b + d, sizeof y);
        sum += x * y;
    }
    if (d < depth) {
        float tailA[kLanes] = {0};
        float tailB[kLanes] = {0};
        memcpy(tailA, a + d, (size_t)(depth - d) * sizeof(float));
        memcpy(tailB, b + d, (size_t)(depth - d) * sizeof(float));
        memcpy(&x, tailA, sizeof x);
        memcpy(&y, tailB, sizeof y);
        sum += x * y;
    }
    float lanes[kLanes];
    memcpy(lanes, &sum, sizeof lanes);
    for (int width = kLanes / 2; width >= 1; width /= 2) {
        for (int l = 0; l < width; l++) lanes[l] += lanes[l + width];
    }
    return lanes[0];
}

// Adds weights[j] * values row j to the `blocks` * 16 elements of `output`,
// for j = 0 ... keyCount - 1 in that order, skipping zero weights. The
// output block stays in registers while the keys stream by.
static inline __attribute__((always_inline)) void addWeightedBlock(
    float *output, const float *values, ptrdiff_t valueStride, const float *weights, ptrdiff_t keyCount,
    int blocks) {
    Lanes sum[8];
    for (int b = 0; b < blocks; b++) memcpy(&sum[b], output + b * kLanes, sizeof(Lanes));
    for (ptrdiff_t j = 0; j < keyCount; j++) {
        float weight = weights[j];
        if (weight == 0) continue;
        const float *value = values + j * valueStride;
        for (int b = 0; b < blocks; b++) {
            Lanes v;
            memcpy(&v, value + b * kLanes, sizeof v);
            sum[b] += weight * v;
        }
    }
    for (int b = 0; b < blocks; b++) memcpy(output + b * kLanes, &sum[b], sizeof(Lanes));
}

// Asks for the cache lines of the key row `kPrefetchRows` rows ahead. The
// hardware prefetcher alone left one decoding query at [1, 32, 1, 8192, 128]
// about 15% slower than summing the same keys and values on an Intel Xeon
// with AVX-512. With this hint it took 0.99 to 1.13 times as long as the sum.
enum { kPrefetchRows = 8 };

static inline __attribute__((always_inline)) void prefetchRow(const float *row, ptrdiff_t depth) {
    for (ptrdiff_t d = 0; d < depth; d += 64 / sizeof(float)) __builtin_prefetch(row + d);
}

#define DEFINE_FEW_ROW_BODIES(suffix, attributes)                                                 \
    static attributes void scores##suffix(                                                        \
        const float *query, ptrdiff_t queryStride, const float *keys, ptrdiff_t keyStride,        \
        float *scores, ptrdiff_t scoreStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t depth, \
        float alpha) {                                                                            \
        for (ptrdiff_t j = 0; j < keyCount; j++) {                                                \
            const float *key = keys + j * keyStride;                                              \
            if (j + kPrefetchRows < keyCount) prefetchRow(key + kPrefetchRows * keyStride, depth); \
            for (ptrdiff_t i = 0; i < rows; i++) {                                                \
                scores[i * scoreStride + j] = alpha * dotProduct(query + i * queryStride, key, depth); \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    static attributes void weightedSum##suffix(                                                   \
        const float *weights, ptrdiff_t weightStride, const float *values, ptrdiff_t valueStride, \
        float *output, ptrdiff_t outputStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t width, \
        float beta) {                                                                             \
        for (ptrdiff_t i = 0; i < rows; i++) {                                                    \
            float *restrict row = output + i * outputStride;                                      \
            if (beta == 0) {                                                                      \
                for (ptrdiff_t d = 0; d < width; d++) row[d] = 0;                                 \
            } else if (beta != 1) {                                                               \
                for (ptrdiff_t d = 0; d < width; d++) row[d] *= beta;                             \
            }                                                                                     \
        }                                                                                         \
        for (ptrdiff_t i = 0; i < rows; i++) {                                                    \
            const float *w = weights + i * weightStride;                                          \
            float *row = output + i * outputStride;                                               \
            ptrdiff_t d = 0;                                                                      \
            for (; d + 8 * kLanes <= width; d += 8 * kLanes) {                                    \
                addWeightedBlock(row + d, values + d, valueStride, w, keyCount, 8);               \
            }                                                                                     \
            for (; d + 4 * kLanes <= width; d += 4 * kLanes) {                                    \
                addWeightedBlock(row + d, values + d, valueStride, w, keyCount, 4);               \
            }                                                                                     \
            for (; d + kLanes <= width; d += kLanes) {                                            \
                addWeightedBlock(row + d, values + d, valueStride, w, keyCount, 1);               \
            }                                                                                     \
            for (; d < width; d++) {                                                              \
                float sum = row[d];                                                               \
                for (ptrdiff_t j = 0; j < keyCount; j++) {                                        \
                    if (w[j] != 0) sum += w[j] * values[j * valueStride + d];                     \
                }                                                                                 \
                row[d] = sum;                                                                     \
            }                                                                                     \
        }                                                                                         \
    }

DEFINE_FEW_ROW_BODIES(Portable, )

#if FEW_ROW_HAS_X86_BODIES
// The AVX-512 bodies compile from the same source as the AVX2 ones. On CPUs
// with AVX-512, a test compares the two bit for bit.
DEFINE_FEW_ROW_BODIES(AVX512, __attribute__((target("avx512f"))))
DEFINE_FEW_ROW_BODIES(AVX2, __attribute__((target("avx2,fma"))))
#endif

/// Returns the requested body, or the best supported one when the CPU lacks it.
static int resolveVariant(int requested) {
    int supported = attention_kernels_variant();
    return requested < supported ? requested : supported;
}

void attention_few_row_scores_using(
    int variant, const float *query, ptrdiff_t queryStride, const float *keys, ptrdiff_t keyStride,
    float *scores, ptrdiff_t scoreStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t depth, float alpha) {
    switch (resolveVariant(variant)) {
#if FEW_ROW_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512:
        scoresAVX512(query, queryStride, keys, keyStride, scores, scoreStride, rows, keyCount, depth, alpha);
        return;
    case ATTENTION_VARIANT_AVX2:
        scoresAVX2(query, queryStride, keys, keyStride, scores, scoreStride, rows, keyCount, depth, alpha);
        return;
#endif
    default:
        scoresPortable(query, queryStride, keys, keyStride, scores, scoreStride, rows, keyCount, depth, alpha);
        return;
    }
}

void attention_few_row_weighted_sum_using(
    int variant, const float *weights, ptrdiff_t weightStride, const float *values, ptrdiff_t valueStride,
    float *output, ptrdiff_t outputStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t width, float beta) {
    switch (resolveVariant(variant)) {
#if FEW_ROW_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512:
        weightedSumAVX512(weights, weightStride, values, valueStride, output, outputStride, rows, keyCount, width, beta);
        return;
    case ATTENTION_VARIANT_AVX2:
        weightedSumAVX2(weights, weightStride, values, valueStride, output, outputStride, rows, keyCount, width, beta);
        return;
#endif
    default:
        weightedSumPortable(weights, weightStride, values, valueStride, output, outputStride, rows, keyCount, width, beta);
        return;
    }
}

void attention_few_row_scores(
    const float *query, ptrdiff_t queryStride, const float *keys, ptrdiff_t keyStride,
    float *scores, ptrdiff_t scoreStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t depth, float alpha) {
    attention_few_row_scores_using(
        ATTENTION_VARIANT_AVX512, query, queryStride, keys, keyStride, scores, scoreStride, rows, keyCount, depth, alpha);
}

void attention_few_row_weighted_sum(
    const float *weights, ptrdiff_t weightStride, const float *values, ptrdiff_t valueStride,
    float *output, ptrdiff_t outputStride, ptrdiff_t rows, ptrdiff_t keyCount, ptrdiff_t width, float beta) {
    attention_few_row_weighted_sum_using(
        ATTENTION_VARIANT_AVX512, weights, weightStride, values, valueStride, output, outputStride, rows, keyCount,
        width, beta);
}

// MARK: - Read bandwidth

// Four independent sums of 16 lanes keep enough loads in flight that memory,
// not the adds, limits the rate.
#define DEFINE_SUM_BODY(suffix, attributes)                                                       \
    static attributes float sum##suffix(const float *values, ptrdiff_t count) {                  \
        Lanes sums[4] = {{0}, {0}, {0}, {0}};                                                     \
        ptrdiff_t i = 0;                                                                          \
        for (; i + 4 * kLanes <= count; i += 4 * kLanes) {                                        \
            for (int s = 0; s < 4; s++) {                                                         \
                Lanes v;                                                                          \
                memcpy(&v, values + i + s * kLanes, sizeof v);                                    \
                sums[s] += v;                                                                     \
            }                                                                                     \
        }                                                                                         \
        Lanes total = (sums[0] + sums[1]) + (sums[2] + sums[3]);                                  \
        float lanes[kLanes];                                                                      \
        memcpy(lanes, &total, sizeof lanes);                                                      \
        float result = 0;                                                                         \
        for (int l = 0; l < kLanes; l++) result += lanes[l];                                      \
        for (; i < count; i++) result += values[i];                                               \
        return result;                                                                            \
    }

DEFINE_SUM_BODY(Portable, )

#if FEW_ROW_HAS_X86_BODIES
DEFINE_SUM_BODY(AVX512, __attribute__((target("avx512f"))))
DEFINE_SUM_BODY(AVX2, __attribute__((target("avx2,fma"))))
#endif

float attention_sum(const float *values, ptrdiff_t count) {
    switch (attention_kernels_variant()) {
#if FEW_ROW_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512: return sumAVX512(values, count);
    case ATTENTION_VARIANT_AVX2: return sumAVX2(values, count);
#endif
    default: return sumPortable(values, count);
    }
}
