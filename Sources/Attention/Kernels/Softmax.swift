import CAttentionKernels
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

    /// Runs one online-softmax step for every row of a `[rows, keys]` tile
    /// of scores (row stride `keys`), in the vectorized C kernel.
    ///
    /// Row `r` sees its first `clamp(causalFirstRowVisibleCount + r, 0, keys)`
    /// keys under a causal mask, or all of them when the count is `nil`. Each
    /// row becomes `exp(scale · score - newMax)` over its visible keys and
    /// exact zeros after them, and `state` is rescaled and updated to
    /// `newMax`. A row with nothing visible so far stays all zeros.
    static func updateTile(
        _ scores: UnsafeMutablePointer<Float>, rows: Int, keys: Int, causalFirstRowVisibleCount: Int?, scale: Float,
        state: TiledKernel.SoftmaxState, valueDimension: Int, accumulatorIsWritten: Bool
    ) {
        attention_online_softmax_tile(
            scores, rows, keys, causalFirstRowVisibleCount ?? keys, causalFirstRowVisibleCount == nil ? 0 : 1, scale,
            state.runningMax, state.runningSum, state.accumulator, valueDimension, accumulatorIsWritten ? 1 : 0)
    }
}
