/// Row operations of the softmax, shared by the BLAS kernels.
enum Softmax {
    /// The largest score of a row: `-infinity` for an empty or fully masked
    /// row, and NaN when any score is NaN, so that the NaN reaches this row's
    /// output as in a textbook softmax instead of passing for a masked row.
    @inline(__always)
    static func maximum(_ scores: UnsafePointer<Float>, count: Int) -> Float {
        Exponential.scaledMaximum(scores, count: count, scale: 1)
    }

    /// Replaces each score `s` with `exp(s - maximum)` and returns their sum.
    ///
    /// Masked scores (`-infinity`) and results below the smallest normal
    /// float become exact zeros.
    ///
    /// - Precondition: `maximum` is finite or `+infinity`; callers skip rows
    ///   whose maximum is `-infinity`.
    @inline(__always)
    static func exponentiate(_ scores: UnsafeMutablePointer<Float>, count: Int, maximum: Float) -> Float {
        Exponential.exponentiateScaled(scores, count: count, scale: 1, shift: maximum)
    }
}
