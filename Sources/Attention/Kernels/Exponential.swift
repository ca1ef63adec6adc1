import Foundation

/// The exponential used by the softmax of the BLAS kernels.
enum Exponential {
    /// Replaces each `x` in `values` with `exp(x - shift)` and returns the
    /// sum of the results.
    ///
    /// `-infinity` inputs become exact zeros.
    static func exponentiateShifted(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        var sum: Float = 0
        for index in 0..<count {
            let result = expf(values[index] - shift)
            values[index] = result
            sum += result
        }
        return sum
    }
}
