// exp(x) for the softmax, in an AVX-512F body with intrinsics, an AVX2+FMA
// body and a portable body, the last two compiled from one scalar function.
//
// Method: n = round(x / ln 2), r = x - n ln 2 in two steps (Cody-Waite:
// ln 2 split into a high part with 9 significant bits, so n * high is exact,
// and a low correction), exp(r) for |r| <= ln(2)/2 by its Taylor polynomial
// of degree 7 (truncation error below 1e-8 relative), then
// exp(x) = 2^n * exp(r). Results below FLT_MIN are flushed to exactly 0 so
// that no subnormal probability reaches sgemm, where subnormal operands run
// several times slower.
//
// Swift's default x86-64 target has no AVX. This file therefore compiles the
// AVX-512 and AVX2 bodies with target attributes and selects one at run time
// with __builtin_cpu_supports, so the build flags stay generic.

#include "CAttentionKernels.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define ATTENTION_HAS_X86_BODIES 1
#include <immintrin.h>
#else
#define ATTENTION_HAS_X86_BODIES 0
#endif

static const float kLog2E = 1.44269504088896341f;
static const float kLn2High = 0.693359375f;
static const float kLn2Low = -2.12194440e-4f;
// Inputs are clamped to this range before the reduction; outside it the
// result is already 0 or +inf, which the clamped value still produces.
static const float kClampLow = -104.0f;
static const float kClampHigh = 89.0f;
static const float kInverseFactorial[8] = {
    1.0f, 1.0f, 1.0f / 2, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040,
};

int attention_kernels_variant(void) {
    int supported = ATTENTION_VARIANT_PORTABLE;
#if ATTENTION_HAS_X86_BODIES
    if (__builtin_cpu_supports("avx512f")) {
        supported = ATTENTION_VARIANT_AVX512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        supported = ATTENTION_VARIANT_AVX2;
    }
#endif
    return supported;
}

/// The requested body, or the best supported one when it is not available.
static int resolve(int requested) {
    int supported = attention_kernels_variant();
    return requested < supported ? requested : supported;
}

// MARK: - Portable body

// Branch-free scalar arithmetic without libm calls, so that compilers can
// vectorize the loops: the SSE2 baseline for the portable body, and AVX2 with
// FMA for the functions compiled with that target below.
static inline __attribute__((always_inline)) float expScalar(float x) {
    int isNaN = x != x;
    float clamped = x < kClampLow ? kClampLow : (x > kClampHigh ? kClampHigh : x);
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer in the
    // default rounding mode, for |clamped * log2(e)| < 2^22.
    const float roundingShift = 12582912.0f;
    float n = (clamped * kLog2E + roundingShift) - roundingShift;
    float r = clamped - n * kLn2High;
    r = r - n * kLn2Low;
    float p = kInverseFactorial[7];
    p = p * r + kInverseFactorial[6];
    p = p * r + kInverseFactorial[5];
    p = p * r + kInverseFactorial[4];
    p = p * r + kInverseFactorial[3];
    p = p * r + kInverseFactorial[2];
    p = p * r + kInverseFactorial[1];
    p = p * r + kInverseFactorial[0];
    // 2^n as two normal factors 2^(n/2) and 2^(n - n/2), because n reaches
    // -150 and +128, outside the normal exponent range of one factor.
    int exponent = (int)n;
    int half = exponent / 2;
    union { unsigned bits; float value; } first, second;
    first.bits = (unsigned)(half + 127) << 23;
    second.bits = (unsigned)(exponent - half + 127) << 23;
    float result = p * first.value * second.value;
    result = result < FLT_MIN ? 0.0f : result;
    return isNaN ? x : result;
}

#define DEFINE_ELEMENTWISE_BODIES(suffix, attributes)                                            \
    static attributes void expArray##suffix(const float *input, float *output, ptrdiff_t count) { \
        for (ptrdiff_t i = 0; i < count; i++) output[i] = expScalar(input[i]);                   \
    }                                                                                            \
    static attributes float scaledMaximum##suffix(const float *values, ptrdiff_t count,          \
                                                  float scale) {                                 \
        float maximum = -INFINITY;                                                               \
        int sawNaN = 0;                                                                          \
        for (ptrdiff_t i = 0; i < count; i++) {                                                  \
            float product = scale * values[i];                                                   \
            maximum = product > maximum ? product : maximum;                                     \
            sawNaN |= product != product;                                                        \
        }                                                                                        \
        return sawNaN ? NAN : maximum;                                                           \
    }                                                                                            \
    static attributes float expScaledSum##suffix(float *values, ptrdiff_t count, float scale,    \
                                                 float shift) {                                  \
        float sum = 0;                                                                           \
        for (ptrdiff_t i = 0; i < count; i++) {                                                  \
            float product = scale * values[i];                                                   \
            float result = expScalar(product - shift);                                           \
            values[i] = result;                                                                  \
            sum += result;                                                                       \
        }                                                                                        \
        return sum;                                                                              \
    }

DEFINE_ELEMENTWISE_BODIES(Portable, )

// MARK: - AVX2 body

// The scalar function above does not vectorize inside the loops that add up
// their results, because the compiler may not reorder a float sum, so the
// AVX2 body is written with intrinsics like the AVX-512 one. A tail shorter
// than 8 goes through the same vector code in a padded buffer, so every
// element of an array gets the same rounding whatever its position.
#if ATTENTION_HAS_X86_BODIES
#define AVX2 __attribute__((target("avx2,fma")))

// Returns e^r and stores n in `nOut` and n + 127 + 1.5 * 2^23 in `biasedOut`,
// where clamped = n ln 2 + r and |r| <= ln(2) / 2. exp8 and expNonPositive8
// share this part.
//
// Adding 1.5 * 2^23 + 127 in the fused multiply-add rounds x log2(e) to the
// nearest integer and leaves n + 127 in the low bits of the sum, for
// |x log2(e)| < 2^22. The portable and AVX-512 bodies evaluate the
// polynomial in Horner's form, a chain of seven dependent multiply-adds.
// Here the terms past r are grouped in pairs (Estrin's scheme), which
// shortens the chain. With this change and with scores that arrive scaled,
// the softmax step of a 512 x 512 tile went from 0.64 to 0.54 ns per score
// on a Zen 3 core. Over every float in [-104, 89] the error is at most
// 1.08 ulp (0.94 in Horner's form).
static inline AVX2 __m256 reducedExp8(__m256 clamped, __m256 *nOut, __m256 *biasedOut) {
    const __m256 magic = _mm256_set1_ps(12582912.0f + 127.0f);
    __m256 biased = _mm256_fmadd_ps(clamped, _mm256_set1_ps(kLog2E), magic);
    __m256 n = _mm256_sub_ps(biased, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2High), clamped);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Low), r);
    // e^r = 1 + r + r^2 q(r), with q of degree 5 in Estrin's form. Adding
    // r and then 1 last keeps the two largest terms out of earlier roundings.
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 r4 = _mm256_mul_ps(r2, r2);
    __m256 q01 = _mm256_fmadd_ps(_mm256_set1_ps(kInverseFactorial[3]), r, _mm256_set1_ps(kInverseFactorial[2]));
    __m256 q23 = _mm256_fmadd_ps(_mm256_set1_ps(kInverseFactorial[5]), r, _mm256_set1_ps(kInverseFactorial[4]));
    __m256 q45 = _mm256_fmadd_ps(_mm256_set1_ps(kInverseFactorial[7]), r, _mm256_set1_ps(kInverseFactorial[6]));
    __m256 q = _mm256_fmadd_ps(q45, r4, _mm256_fmadd_ps(q23, r2, q01));
    *nOut = n;
    *biasedOut = biased;
    return _mm256_add_ps(_mm256_fmadd_ps(q, r2, r), _mm256_set1_ps(1.0f));
}

static inline AVX2 __m256 exp8(__m256 x) {
    __m256 isNaN = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    __m256 clamped = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kClampLow)), _mm256_set1_ps(kClampHigh));
    __m256 n, biased;
    __m256 p = reducedExp8(clamped, &n, &biased);
    // 2^n as two normal factors, as in expScalar: n lies in [-150, 128].
    __m256i exponent = _mm256_cvtps_epi32(n);
    __m256i half = _mm256_srai_epi32(exponent, 1);
    __m256i rest = _mm256_sub_epi32(exponent, half);
    __m256i bias = _mm256_set1_epi32(127);
    __m256 first = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    __m256 second = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
    __m256 result = _mm256_mul_ps(_mm256_mul_ps(p, first), second);
    __m256 belowNormal = _mm256_cmp_ps(result, _mm256_set1_ps(FLT_MIN), _CMP_LT_OQ);
    result = _mm256_andnot_ps(belowNormal, result);
    return _mm256_blendv_ps(result, x, isNaN);
}

static AVX2 void expArrayAVX2(const float *input, float *output, ptrdiff_t count) {
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        _mm256_storeu_ps(output + i, exp8(_mm256_loadu_ps(input + i)));
    }
    if (i < count) {
        float padded[8] = {0};
        for (ptrdiff_t j = i; j < count; j++) padded[j - i] = input[j];
        _mm256_storeu_ps(padded, exp8(_mm256_loadu_ps(padded)));
        for (ptrdiff_t j = i; j < count; j++) output[j] = padded[j - i];
    }
}

// Loads 8 values and multiplies them by the scale unless `unscaled` is set.
static inline __attribute__((always_inline)) AVX2 __m256 loadScaled8(
    const float *values, __m256 scaleVector, const int unscaled) {
    __m256 loaded = _mm256_loadu_ps(values);
    return unscaled ? loaded : _mm256_mul_ps(loaded, scaleVector);
}

// With `unscaled` set, the caller has checked that scale is 1, and the
// products are the values themselves: multiplying by 1 is exact, so the
// result is the same without the multiplication. The tiled path passes
// scores that sgemm has already scaled.
static inline __attribute__((always_inline)) AVX2 float scaledMaximumBodyAVX2(
    const float *values, ptrdiff_t count, float scale, const int unscaled) {
    __m256 scaleVector = _mm256_set1_ps(scale);
    __m256 maximum0 = _mm256_set1_ps(-INFINITY);
    __m256 maximum1 = maximum0;
    __m256 sawNaN0 = _mm256_setzero_ps();
    __m256 sawNaN1 = sawNaN0;
    ptrdiff_t i = 0;
    // max(product, maximum) returns its second operand when the product is
    // NaN, so the maximum skips NaN and a separate mask records it.
    for (; i + 16 <= count; i += 16) {
        __m256 product0 = loadScaled8(values + i, scaleVector, unscaled);
        __m256 product1 = loadScaled8(values + i + 8, scaleVector, unscaled);
        maximum0 = _mm256_max_ps(product0, maximum0);
        maximum1 = _mm256_max_ps(product1, maximum1);
        sawNaN0 = _mm256_or_ps(sawNaN0, _mm256_cmp_ps(product0, product0, _CMP_UNORD_Q));
        sawNaN1 = _mm256_or_ps(sawNaN1, _mm256_cmp_ps(product1, product1, _CMP_UNORD_Q));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_max_ps(maximum0, maximum1));
    float result = lanes[0];
    for (int l = 1; l < 8; l++) result = lanes[l] > result ? lanes[l] : result;
    int nan = _mm256_movemask_ps(_mm256_or_ps(sawNaN0, sawNaN1)) != 0;
    for (; i < count; i++) {
        float product = unscaled ? values[i] : scale * values[i];
        result = product > result ? product : result;
        nan |= product != product;
    }
    return nan ? NAN : result;
}

static AVX2 float scaledMaximumAVX2(const float *values, ptrdiff_t count, float scale) {
    return scale == 1.0f ? scaledMaximumBodyAVX2(values, count, scale, 1)
                         : scaledMaximumBodyAVX2(values, count, scale, 0);
}

// exp(x) for x <= 0, -inf or NaN: the softmax's case, where x is a score
// minus the row maximum. For such x, n = round(x / ln 2) lies in [-150, 0],
// so 2^n is one normal factor when n >= -126, and a smaller n gives a result
// below FLT_MIN, which is flushed anyway. Without the upper clamp, the NaN
// blend and the second factor, the results are bitwise those of exp8.
// max(-104, x) returns x when x is NaN, so NaN flows through the arithmetic:
// p is NaN, and NaN times any factor is NaN.
static inline AVX2 __m256 expNonPositive8(__m256 x) {
    __m256 clamped = _mm256_max_ps(_mm256_set1_ps(kClampLow), x);
    __m256 n, biased;
    __m256 p = reducedExp8(clamped, &n, &biased);
    // The low bits of `biased` contain n + 127. Below 0, the factor is 0.
    __m256i exponent = _mm256_sub_epi32(_mm256_castps_si256(biased), _mm256_set1_epi32(0x4B400000));
    exponent = _mm256_max_epi32(exponent, _mm256_setzero_si256());
    __m256 factor = _mm256_castsi256_ps(_mm256_slli_epi32(exponent, 23));
    __m256 result = _mm256_mul_ps(p, factor);
    __m256 belowNormal = _mm256_cmp_ps(result, _mm256_set1_ps(FLT_MIN), _CMP_LT_OQ);
    return _mm256_andnot_ps(belowNormal, result);
}

// The product `scale * x` is rounded before the shift is subtracted, for the
// reason given at expScaledSumAVX512 below. With `nonPositive` set, every
// `scale * x - shift` must be at most 0, -inf or NaN. `unscaled` is as for
// scaledMaximumBodyAVX2.
static inline __attribute__((always_inline)) AVX2 float expScaledSumBodyAVX2(
    float *values, ptrdiff_t count, float scale, float shift, const int nonPositive, const int unscaled) {
    __m256 scaleVector = _mm256_set1_ps(scale);
    __m256 shiftVector = _mm256_set1_ps(shift);
    __m256 sum0 = _mm256_setzero_ps();
    __m256 sum1 = _mm256_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256 x0 = _mm256_sub_ps(loadScaled8(values + i, scaleVector, unscaled), shiftVector);
        __m256 x1 = _mm256_sub_ps(loadScaled8(values + i + 8, scaleVector, unscaled), shiftVector);
        __m256 e0 = nonPositive ? expNonPositive8(x0) : exp8(x0);
        __m256 e1 = nonPositive ? expNonPositive8(x1) : exp8(x1);
        _mm256_storeu_ps(values + i, e0);
        _mm256_storeu_ps(values + i + 8, e1);
        sum0 = _mm256_add_ps(sum0, e0);
        sum1 = _mm256_add_ps(sum1, e1);
    }
    for (; i < count; i += 8) {
        ptrdiff_t remaining = count - i < 8 ? count - i : 8;
        float padded[8] = {0};
        for (ptrdiff_t j = 0; j < remaining; j++) padded[j] = values[i + j];
        __m256 x = _mm256_sub_ps(loadScaled8(padded, scaleVector, unscaled), shiftVector);
        __m256 e = nonPositive ? expNonPositive8(x) : exp8(x);
        // Padding lanes are cleared so that they add nothing to the sum.
        __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i inside = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)remaining), lane);
        e = _mm256_and_ps(e, _mm256_castsi256_ps(inside));
        _mm256_storeu_ps(padded, e);
        for (ptrdiff_t j = 0; j < remaining; j++) values[i + j] = padded[j];
        sum0 = _mm256_add_ps(sum0, e);
    }
    __m256 sum = _mm256_add_ps(sum0, sum1);
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    half = _mm_add_ps(half, _mm_movehl_ps(half, half));
    half = _mm_add_ss(half, _mm_movehdup_ps(half));
    return _mm_cvtss_f32(half);
}

static AVX2 float expScaledSumAVX2(float *values, ptrdiff_t count, float scale, float shift) {
    return expScaledSumBodyAVX2(values, count, scale, shift, 0, 0);
}

static AVX2 float softmaxExpSumAVX2(float *values, ptrdiff_t count, float scale, float shift) {
    return scale == 1.0f ? expScaledSumBodyAVX2(values, count, scale, shift, 1, 1)
                         : expScaledSumBodyAVX2(values, count, scale, shift, 1, 0);
}
#endif

// MARK: - AVX-512 body

#if ATTENTION_HAS_X86_BODIES
#define AVX512 __attribute__((target("avx512f")))

// Returns e^r and stores n in `nOut`, where clamped = n ln 2 + r and
// |r| <= ln(2) / 2. n is rounded with the magic-number addition of
// reducedExp8, which takes one fused multiply-add and one subtraction where
// a multiplication and roundscale (two operations) took three. The
// polynomial stays in Horner's form: these loops are bound by the number of
// vector operations rather than by the length of the chain, and Horner's
// form needs the fewest. Over every float in [-104, 89] the error is at
// most 0.94 ulp.
//
// Four changes took the softmax step of a 512 x 512 tile from 0.38 to
// 0.28 ns per score on an Intel Xeon core with AMX. They are this rounding,
// the exp for non-positive inputs below, no multiplication when the scale
// is 1, and four running maxima.
static inline AVX512 __m512 reducedExp16(__m512 clamped, __m512 *nOut) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(clamped, _mm512_set1_ps(kLog2E), magic), magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2High), clamped);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Low), r);
    __m512 p = _mm512_set1_ps(kInverseFactorial[7]);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kInverseFactorial[6]));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kInverseFactorial[5]));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kInverseFactorial[4]));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kInverseFactorial[3]));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kInverseFactorial[2]));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kInverseFactorial[1]));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kInverseFactorial[0]));
    *nOut = n;
    return p;
}

// 2^n times e^r, with results below FLT_MIN flushed to 0 and NaN kept.
// scalef computes p * 2^n in one step, with overflow to +inf and a
// subnormal or zero result for n below -126.
static inline AVX512 __m512 scaleAndFlush16(__m512 p, __m512 n) {
    __m512 result = _mm512_scalef_ps(p, n);
    __mmask16 belowNormal = _mm512_cmp_ps_mask(result, _mm512_set1_ps(FLT_MIN), _CMP_LT_OQ);
    return _mm512_mask_mov_ps(result, belowNormal, _mm512_setzero_ps());
}

static inline AVX512 __m512 exp16(__m512 x) {
    __mmask16 isNaN = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    __m512 clamped = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kClampLow)), _mm512_set1_ps(kClampHigh));
    __m512 n;
    __m512 p = reducedExp16(clamped, &n);
    return _mm512_mask_mov_ps(scaleAndFlush16(p, n), isNaN, x);
}

// exp(x) for x <= 0, -inf or NaN, bitwise equal to exp16 there: x needs no
// upper clamp, and max(-104, x) returns x when x is NaN, so NaN flows
// through the arithmetic instead of being blended back in.
static inline AVX512 __m512 expNonPositive16(__m512 x) {
    __m512 clamped = _mm512_max_ps(_mm512_set1_ps(kClampLow), x);
    __m512 n;
    __m512 p = reducedExp16(clamped, &n);
    return scaleAndFlush16(p, n);
}

static inline AVX512 __mmask16 tailMask(ptrdiff_t remaining) {
    return (__mmask16)((1u << remaining) - 1u);
}

static AVX512 void expArrayAVX512(const float *input, float *output, ptrdiff_t count) {
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16) {
        _mm512_storeu_ps(output + i, exp16(_mm512_loadu_ps(input + i)));
    }
    if (i < count) {
        __mmask16 mask = tailMask(count - i);
        _mm512_mask_storeu_ps(output + i, mask, exp16(_mm512_maskz_loadu_ps(mask, input + i)));
    }
}

// Loads 16 values and multiplies them by the scale unless `unscaled` is
// set, as loadScaled8 does.
static inline __attribute__((always_inline)) AVX512 __m512 loadScaled16(
    const float *values, __m512 scaleVector, const int unscaled) {
    __m512 loaded = _mm512_loadu_ps(values);
    return unscaled ? loaded : _mm512_mul_ps(loaded, scaleVector);
}

// Four running maxima, so that the loop is not bound by the latency of one
// chain of max operations. Any grouping gives the same maximum, up to the
// sign of a zero, and the grouping depends only on `count`.
static inline __attribute__((always_inline)) AVX512 float scaledMaximumBodyAVX512(
    const float *values, ptrdiff_t count, float scale, const int unscaled) {
    __m512 scaleVector = _mm512_set1_ps(scale);
    __m512 maximum0 = _mm512_set1_ps(-INFINITY);
    __m512 maximum1 = maximum0, maximum2 = maximum0, maximum3 = maximum0;
    __mmask16 sawNaN = 0;
    ptrdiff_t i = 0;
    // max(product, maximum) returns its second operand when the product is
    // NaN, so the maximum skips NaN and a separate mask records it.
    for (; i + 64 <= count; i += 64) {
        __m512 product0 = loadScaled16(values + i, scaleVector, unscaled);
        __m512 product1 = loadScaled16(values + i + 16, scaleVector, unscaled);
        __m512 product2 = loadScaled16(values + i + 32, scaleVector, unscaled);
        __m512 product3 = loadScaled16(values + i + 48, scaleVector, unscaled);
        maximum0 = _mm512_max_ps(product0, maximum0);
        maximum1 = _mm512_max_ps(product1, maximum1);
        maximum2 = _mm512_max_ps(product2, maximum2);
        maximum3 = _mm512_max_ps(product3, maximum3);
        sawNaN |= _mm512_cmp_ps_mask(product0, product1, _CMP_UNORD_Q);
        sawNaN |= _mm512_cmp_ps_mask(product2, product3, _CMP_UNORD_Q);
    }
    for (; i + 16 <= count; i += 16) {
        __m512 product = loadScaled16(values + i, scaleVector, unscaled);
        maximum0 = _mm512_max_ps(product, maximum0);
        sawNaN |= _mm512_cmp_ps_mask(product, product, _CMP_UNORD_Q);
    }
    if (i < count) {
        __mmask16 mask = tailMask(count - i);
        __m512 loaded = _mm512_maskz_loadu_ps(mask, values + i);
        __m512 product = unscaled ? loaded : _mm512_mul_ps(loaded, scaleVector);
        maximum0 = _mm512_mask_max_ps(maximum0, mask, product, maximum0);
        sawNaN |= _mm512_mask_cmp_ps_mask(mask, product, product, _CMP_UNORD_Q);
    }
    __m512 maximum = _mm512_max_ps(_mm512_max_ps(maximum0, maximum1), _mm512_max_ps(maximum2, maximum3));
    return sawNaN ? NAN : _mm512_reduce_max_ps(maximum);
}

static AVX512 float scaledMaximumAVX512(const float *values, ptrdiff_t count, float scale) {
    return scale == 1.0f ? scaledMaximumBodyAVX512(values, count, scale, 1)
                         : scaledMaximumBodyAVX512(values, count, scale, 0);
}

// The product `scale * x` is rounded before the shift is subtracted, as in
// `scaledMaximum`, so the maximum score gives exactly exp(0). A fused
// multiply-subtract would keep the product's rounding error, which is
// large in absolute terms for scores near 1e9 and overflows exp.
// `nonPositive` and `unscaled` are as for expScaledSumBodyAVX2.
static inline __attribute__((always_inline)) AVX512 float expScaledSumBodyAVX512(
    float *values, ptrdiff_t count, float scale, float shift, const int nonPositive, const int unscaled) {
    __m512 scaleVector = _mm512_set1_ps(scale);
    __m512 shiftVector = _mm512_set1_ps(shift);
    __m512 sum0 = _mm512_setzero_ps();
    __m512 sum1 = _mm512_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512 x0 = _mm512_sub_ps(loadScaled16(values + i, scaleVector, unscaled), shiftVector);
        __m512 x1 = _mm512_sub_ps(loadScaled16(values + i + 16, scaleVector, unscaled), shiftVector);
        __m512 e0 = nonPositive ? expNonPositive16(x0) : exp16(x0);
        __m512 e1 = nonPositive ? expNonPositive16(x1) : exp16(x1);
        _mm512_storeu_ps(values + i, e0);
        _mm512_storeu_ps(values + i + 16, e1);
        sum0 = _mm512_add_ps(sum0, e0);
        sum1 = _mm512_add_ps(sum1, e1);
    }
    for (; i < count; i += 16) {
        ptrdiff_t remaining = count - i;
        __mmask16 mask = remaining >= 16 ? (__mmask16)0xFFFF : tailMask(remaining);
        __m512 loaded = _mm512_maskz_loadu_ps(mask, values + i);
        __m512 x = _mm512_sub_ps(unscaled ? loaded : _mm512_mul_ps(loaded, scaleVector), shiftVector);
        __m512 e = nonPositive ? expNonPositive16(x) : exp16(x);
        _mm512_mask_storeu_ps(values + i, mask, e);
        sum0 = _mm512_mask_add_ps(sum0, mask, sum0, e);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1));
}

static AVX512 float expScaledSumAVX512(float *values, ptrdiff_t count, float scale, float shift) {
    return expScaledSumBodyAVX512(values, count, scale, shift, 0, 0);
}

static AVX512 float softmaxExpSumAVX512(float *values, ptrdiff_t count, float scale, float shift) {
    return scale == 1.0f ? expScaledSumBodyAVX512(values, count, scale, shift, 1, 1)
                         : expScaledSumBodyAVX512(values, count, scale, shift, 1, 0);
}
#endif

// MARK: - Online softmax over a tile

// One tile step of the online softmax for every row; see the header for the
// contract. `scaledMaximum##suffix` is the body of the same variant, and
// `expSum` its exp-and-sum function for the softmax.
#define DEFINE_TILE_UPDATE(suffix, attributes, expSum)                                           \
    static attributes void updateTile##suffix(                                                   \
        float *scores, ptrdiff_t rows, ptrdiff_t keys, ptrdiff_t firstRowVisible, int causal,    \
        float scale, float *runningMax, float *runningSum, float *accumulator,                   \
        ptrdiff_t valueDimension, int accumulatorIsWritten) {                                    \
        for (ptrdiff_t r = 0; r < rows; r++) {                                                   \
            float *row = scores + r * keys;                                                      \
            ptrdiff_t visible = keys;                                                            \
            if (causal) {                                                                        \
                ptrdiff_t limit = firstRowVisible + r;                                           \
                visible = limit < 0 ? 0 : (limit > keys ? keys : limit);                         \
            }                                                                                    \
            float tileMax = scaledMaximum##suffix(row, visible, scale);                          \
            float previous = runningMax[r];                                                      \
            float newMax = (tileMax != tileMax || previous != previous)                          \
                               ? NAN                                                             \
                               : (tileMax > previous ? tileMax : previous);                      \
            if (newMax == -INFINITY) {                                                           \
                for (ptrdiff_t c = 0; c < keys; c++) row[c] = 0.0f;                              \
                continue;                                                                        \
            }                                                                                    \
            float correction = previous == -INFINITY ? 0.0f : expScalar(previous - newMax);      \
            float tileSum = expSum(row, visible, scale, newMax);                                 \
            for (ptrdiff_t c = visible; c < keys; c++) row[c] = 0.0f;                            \
            runningSum[r] = runningSum[r] * correction + tileSum;                                \
            /* A correction of 0 gives the earlier keys weight 0, so an infinite or NaN value */ \
            /* among them must vanish, not turn into NaN as inf * 0 would. */                    \
            if (accumulatorIsWritten && correction != 1.0f) {                                    \
                float *accumulatorRow = accumulator + r * valueDimension;                        \
                if (correction == 0.0f) {                                                        \
                    for (ptrdiff_t d = 0; d < valueDimension; d++) accumulatorRow[d] = 0.0f;     \
                } else {                                                                         \
                    for (ptrdiff_t d = 0; d < valueDimension; d++) accumulatorRow[d] *= correction; \
                }                                                                                \
            }                                                                                    \
            runningMax[r] = newMax;                                                              \
        }                                                                                        \
    }

DEFINE_TILE_UPDATE(Portable, , expScaledSumPortable)

#if ATTENTION_HAS_X86_BODIES
DEFINE_TILE_UPDATE(AVX512, AVX512, softmaxExpSumAVX512)
// Every scaled score minus the new maximum is at most 0, -inf or NaN here.
DEFINE_TILE_UPDATE(AVX2, __attribute__((target("avx2,fma"))), softmaxExpSumAVX2)
#endif

void attention_online_softmax_tile_using(
    int variant, float *scores, ptrdiff_t rows, ptrdiff_t keys, ptrdiff_t firstRowVisible, int causal, float scale,
    float *runningMax, float *runningSum, float *accumulator, ptrdiff_t valueDimension, int accumulatorIsWritten) {
    switch (resolve(variant)) {
#if ATTENTION_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512:
        updateTileAVX512(scores, rows, keys, firstRowVisible, causal, scale, runningMax, runningSum, accumulator,
                         valueDimension, accumulatorIsWritten);
        return;
    case ATTENTION_VARIANT_AVX2:
        updateTileAVX2(scores, rows, keys, firstRowVisible, causal, scale, runningMax, runningSum, accumulator,
                       valueDimension, accumulatorIsWritten);
        return;
#endif
    default:
        updateTilePortable(scores, rows, keys, firstRowVisible, causal, scale, runningMax, runningSum, accumulator,
                           valueDimension, accumulatorIsWritten);
        return;
    }
}

void attention_online_softmax_tile(
    float *scores, ptrdiff_t rows, ptrdiff_t keys, ptrdiff_t firstRowVisible, int causal, float scale,
    float *runningMax, float *runningSum, float *accumulator, ptrdiff_t valueDimension, int accumulatorIsWritten) {
    attention_online_softmax_tile_using(ATTENTION_VARIANT_AVX512, scores, rows, keys, firstRowVisible, causal, scale,
                                        runningMax, runningSum, accumulator, valueDimension, accumulatorIsWritten);
}

// MARK: - Finiteness

// x * 0 is 0 for finite x and NaN for NaN or infinity, so one product per
// element and an ordered comparison find any non-finite element.
#define DEFINE_FINITENESS_BODY(suffix, attributes)                                               \
    static attributes int allFinite##suffix(const float *base, ptrdiff_t rows, ptrdiff_t columns, \
                                            ptrdiff_t rowStride) {                               \
        for (ptrdiff_t row = 0; row < rows; row++) {                                             \
            const float *values = base + row * rowStride;                                        \
            int finite = 1;                                                                      \
            for (ptrdiff_t i = 0; i < columns; i++) finite &= (values[i] * 0.0f == 0.0f);        \
            if (!finite) return 0;                                                               \
        }                                                                                        \
        return 1;                                                                                \
    }

DEFINE_FINITENESS_BODY(Portable, )

#if ATTENTION_HAS_X86_BODIES
DEFINE_FINITENESS_BODY(AVX512, __attribute__((target("avx512f"))))
DEFINE_FINITENESS_BODY(AVX2, __attribute__((target("avx2,fma"))))
#endif

int attention_all_finite(const float *base, ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t rowStride) {
    switch (attention_kernels_variant()) {
#if ATTENTION_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512: return allFiniteAVX512(base, rows, columns, rowStride);
    case ATTENTION_VARIANT_AVX2: return allFiniteAVX2(base, rows, columns, rowStride);
#endif
    default: return allFinitePortable(base, rows, columns, rowStride);
    }
}

// MARK: - Dispatch

void attention_exp_using(int variant, const float *input, float *output, ptrdiff_t count) {
    switch (resolve(variant)) {
#if ATTENTION_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512: expArrayAVX512(input, output, count); return;
    case ATTENTION_VARIANT_AVX2: expArrayAVX2(input, output, count); return;
#endif
    default: expArrayPortable(input, output, count); return;
    }
}

float attention_scaled_maximum_using(int variant, const float *values, ptrdiff_t count, float scale) {
    switch (resolve(variant)) {
#if ATTENTION_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512: return scaledMaximumAVX512(values, count, scale);
    case ATTENTION_VARIANT_AVX2: return scaledMaximumAVX2(values, count, scale);
#endif
    default: return scaledMaximumPortable(values, count, scale);
    }
}

float attention_exp_scaled_sum_using(int variant, float *values, ptrdiff_t count, float scale, float shift) {
    switch (resolve(variant)) {
#if ATTENTION_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512: return expScaledSumAVX512(values, count, scale, shift);
    case ATTENTION_VARIANT_AVX2: return expScaledSumAVX2(values, count, scale, shift);
#endif
    default: return expScaledSumPortable(values, count, scale, shift);
    }
}

float attention_softmax_exp_sum_using(int variant, float *values, ptrdiff_t count, float scale, float shift) {
    switch (resolve(variant)) {
#if ATTENTION_HAS_X86_BODIES
    case ATTENTION_VARIANT_AVX512: return softmaxExpSumAVX512(values, count, scale, shift);
    case ATTENTION_VARIANT_AVX2: return softmaxExpSumAVX2(values, count, scale, shift);
#endif
    default: return expScaledSumPortable(values, count, scale, shift);
    }
}

void attention_exp(const float *input, float *output, ptrdiff_t count) {
    attention_exp_using(ATTENTION_VARIANT_AVX512, input, output, count);
}

float attention_scaled_maximum(const float *values, ptrdiff_t count, float scale) {
    return attention_scaled_maximum_using(ATTENTION_VARIANT_AVX512, values, count, scale);
}

float attention_exp_scaled_sum(float *values, ptrdiff_t count, float scale, float shift) {
    return attention_exp_scaled_sum_using(ATTENTION_VARIANT_AVX512, values, count, scale, shift);
}
