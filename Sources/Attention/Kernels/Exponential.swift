import CAttentionKernels

/// The vectorized exponential of the softmax, from the C kernels target.
///
/// Every result has a relative error of at most 2 ulp against the exact
/// value while it is a normal float. Over every float in [-104, 89],
/// `LargeSizeTests` measured at most 0.94 ulp for the AVX-512 body, 1.08 ulp
/// for the AVX2 body and 1.22 ulp for the portable one on an Intel Xeon with
/// AVX-512.
///
/// Results below the smallest normal float are exactly 0 (so `-infinity`
/// gives 0), inputs above `log(Float.greatestFiniteMagnitude)` give
/// `+infinity`, and NaN stays NaN. The C code picks its body at run time
/// (AVX-512F, AVX2 with FMA, or portable), never from the build machine.
enum Exponential {
    /// A C body of the element-wise kernels.
    enum Body: Int32, CaseIterable, Sendable {
        case portable = 0, avx2 = 1, avx512 = 2
    }

    /// The body in use.
    static var body: Body { Body(rawValue: attention_kernels_variant()) ?? .portable }

    /// Writes `exp(input[i])` to `output[i]`; the arrays may be the same.
    /// `body` picks a body for comparisons; a body the CPU lacks falls back
    /// to the best supported one.
    static func exp(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int, body: Body = .avx512) {
        attention_exp_using(body.rawValue, input, output, count)
    }

    /// `exp(x)` for one value, with the accuracy and special values of the
    /// vector body.
    @inline(__always)
    static func scalar(_ x: Float) -> Float {
        var value = x
        withUnsafeMutablePointer(to: &value) { attention_exp($0, $0, 1) }
        return value
    }

    /// Returns the maximum of `scale · values[i]`: NaN when any product is
    /// NaN, `-infinity` for an empty row.
    @inline(__always)
    static func scaledMaximum(_ values: UnsafePointer<Float>, count: Int, scale: Float) -> Float {
        attention_scaled_maximum(values, count, scale)
    }

    /// Replaces each `x` in `values` with `exp(scale · x - shift)` and returns
    /// the sum of the results, added in an order that depends only on `count`.
    ///
    /// `-infinity` inputs (with a positive scale) become exact zeros.
    @inline(__always)
    static func exponentiateScaled(_ values: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float) -> Float {
        attention_exp_scaled_sum(values, count, scale, shift)
    }

    /// Returns whether every element of a matrix with unit column stride is
    /// finite.
    static func allFinite(_ matrix: MatrixOperand) -> Bool {
        precondition(matrix.columnStride == 1 || matrix.columns <= 1, "allFinite needs unit column stride")
        return attention_all_finite(matrix.base, matrix.rows, matrix.columns, matrix.rowStride) == 1
    }

    /// `scaledMaximum` on the chosen body, for comparisons.
    static func scaledMaximum(_ values: UnsafePointer<Float>, count: Int, scale: Float, body: Body) -> Float {
        attention_scaled_maximum_using(body.rawValue, values, count, scale)
    }

    /// `exponentiateScaled` on the chosen body, for comparisons.
    static func exponentiateScaled(_ values: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float, body: Body) -> Float {
        attention_exp_scaled_sum_using(body.rawValue, values, count, scale, shift)
    }
}
