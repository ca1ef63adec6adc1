/// The output of `selfAttention`, with the weights when requested.
public struct SelfAttentionResult: Sendable {
    /// `[N, d]`.
    public let output: Tensor
    /// `[N, N]` when requested; row `i` holds the weights of query `i`.
    public let weights: Tensor?
    /// The path and settings that ran.
    public let plan: AttentionPlan
}

/// Computes the self-attention of one sequence: `weights = softmax(scale · X Xᵀ)`
/// row by row and `output = weights · X`.
///
/// The sequence is its own query, key and value. The default `scale` of 1 is
/// the unscaled textbook form; pass `1/sqrt(d)` for the scaled form.
///
/// - Parameters:
///   - sequence: `[N, d]`, any strides.
///   - scale: multiplies `X Xᵀ` before the softmax; any finite value.
///   - returningWeights: whether to return the `[N, N]` weights, which needs
///     the materialized or reference path.
///   - options: the path, threads and block sizes.
/// - Throws: `AttentionError` when `sequence` is not rank 2 or an option is
///   invalid.
/// - Complexity: O(N²·d) time; O(N²) memory when the weights are returned or
///   the materialized path runs.
public func selfAttention(
    _ sequence: Tensor, scale: Float = 1, returningWeights: Bool = false,
    options: ExecutionOptions = ExecutionOptions()
) throws -> SelfAttentionResult {
    guard sequence.rank == 2 else {
        throw AttentionError(
            .invalidShape, argument: "sequence", expected: "rank 2 [N, d]",
            actual: "rank \(sequence.rank) \(describeShape(sequence.shape))")
    }
    let view = try sequence.unsqueezed(axis: 0).unsqueezed(axis: 0)
    let result = try scaledDotProductAttention(
        queries: view, keys: view, values: view, scale: scale,
        returning: returningWeights ? [.weights] : [], options: options)
    return SelfAttentionResult(
        output: try result.output.selecting(axis: 0, index: 0).selecting(axis: 0, index: 0),
        weights: try result.weights.map { try $0.selecting(axis: 0, index: 0).selecting(axis: 0, index: 0) },
        plan: result.plan)
}
