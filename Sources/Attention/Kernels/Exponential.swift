import CAttentionKernels

/// The vectorized exponential of the softmax, from the C kernels target.
///
/// Every result has a relative error below 2 ulp against the exact value
/// while it is a normal float. Results below the smallest normal float are
/// exactly 0 (so `-infinity` gives 0), inputs above `log(Float.greatestFiniteMagnitude)`
/// give `+infinity`, and NaN stays NaN. The C code runs an AVX-512 body when
/// the CPU has AVX-512F and a portable scalar body otherwise; the choice is
/// made at run time, never from the build machine.
enum Exponential {
    /// The body in use: `"avx512"` or `"portable"`.
    static var variantName: String { attention_kernels_variant() == 1 ? "avx512" : "portable" }

    /// Runs `body` with the portable scalar body forced, for comparisons.
    /// Must not overlap other attention calls.
    static func withPortableBody<Result>(_ body: () throws -> Result) rethrows -> Result {
        attention_kernels_force_portable(1)
        defer { attention_kernels_force_portable(0) }
        return try body()
    }

    /// Writes `exp(input[i])` to `output[i]`; the arrays may be the same.
    static func exp(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        attention_exp(input, output, count)
    }

    /// `exp(x)` for one value, with the accuracy and special values of the
    /// vector body.
    @inline(__always)
    static func scalar(_ x: Float) -> Float {
        var value = x
        withUnsafeMutablePointer(to: &value) { attention_exp($0, $0, 1) }
        return value
    }

    /// The maximum of `scale · values[i]`, skipping NaN products;
    /// `-infinity` for an empty or all-NaN row.
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
}
