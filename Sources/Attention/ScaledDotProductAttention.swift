// Shape legend:
//   B    batch size
//   Hq   query heads;  Hkv key/value heads (Hq is a multiple of Hkv)
//   Lq   query length; Lk  key length
//   Dk   query/key head size; Dv value head size

/// Extra outputs a call can request besides the attention output.
public struct AttentionOutputs: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The natural-log log-sum-exp of each query row's scaled, masked scores,
    /// `[B, Hq, Lq]`; `-infinity` for a row with no visible key.
    public static let logSumExp = AttentionOutputs(rawValue: 1 << 0)
    /// The attention weights (the softmax probabilities) `[B, Hq, Lq, Lk]`.
    /// Only the materialized and reference paths store them.
    public static let weights = AttentionOutputs(rawValue: 1 << 1)
}

/// The outputs of one attention call and the plan that produced them.
public struct AttentionResult: Sendable {
    /// `[B, Hq, Lq, Dv]`.
    public let output: Tensor
    /// `[B, Hq, Lq]` when requested.
    public let logSumExp: Tensor?
    /// `[B, Hq, Lq, Lk]` when requested.
    public let weights: Tensor?
    /// The path and settings that ran.
    public let plan: AttentionPlan
}

/// Computes `softmax(scale · Q Kᵀ + mask) · V` and returns a new output.
///
/// Tensors are views, so any layout works through strides: a model's
/// `[B, L, H, D]` buffer is passed as `permuted([0, 2, 1, 3])` without a copy.
///
/// - Parameters:
///   - queries: `[B, Hq, Lq, Dk]`.
///   - keys: `[B, Hkv, Lk, Dk]`. Query head `h` reads key/value head
///     `h / (Hq / Hkv)` (grouped-query attention).
///   - values: `[B, Hkv, Lk, Dv]`.
///   - scale: multiplies the scores before masking; `nil` means `1/sqrt(Dk)`.
///     Any finite value, including 0 and negative values, is used as given.
///   - mask: a boolean or additive mask broadcastable to `[B, Hq, Lq, Lk]`.
///   - causal: a causal mask with an explicit alignment, combined with any
///     other mask.
///   - window: a sliding window of keys around each query, aligned to the
///     bottom-right corner (see `SlidingWindow`); its sizes must be at
///     least 0. The materialized and tiled paths then score only the keys
///     each block of queries can reach.
///   - keyPadding: keys that are padding; they are never read.
///   - options: the path, threads and block sizes.
/// - Returns: `[B, Hq, Lq, Dv]`. A query row with no visible key is zero.
/// - Throws: `AttentionError` naming the argument when shapes, masks,
///   scale or options are invalid. Nothing is computed in that case.
/// - Complexity: O(B·Hq·Lq·Lk·(Dk + Dv)) time. Scratch is O(Lq·Lk) per
///   thread on the materialized path and O(block size) on the tiled path.
///   With a window of `w = left + right + 1` keys the materialized path
///   takes O(B·Hq·Lq·(w + 256)·(Dk + Dv)) time and O(256·(w + 256)) scratch
///   per thread, and the tiled path O(B·Hq·Lq·(w + queryBlockSize +
///   keyBlockSize)·(Dk + Dv)) time.
/// - Note: Scores are float32 sgemm products; the softmax subtracts each row's
///   maximum before `exp`, so large logits do not overflow.
public func scaledDotProductAttention(
    queries: Tensor, keys: Tensor, values: Tensor,
    scale: Float? = nil, mask: AttentionMask? = nil, causal: CausalAlignment? = nil,
    window: SlidingWindow? = nil, keyPadding: KeyPadding? = nil, options: ExecutionOptions = ExecutionOptions()
) throws -> Tensor {
    try scaledDotProductAttention(
        queries: queries, keys: keys, values: values, scale: scale, mask: mask, causal: causal,
        window: window, keyPadding: keyPadding, returning: [], options: options
    ).output
}

/// Computes `softmax(scale · Q Kᵀ + mask) · V` and the requested extra
/// outputs, and reports the plan that ran.
///
/// Parameters are those of `scaledDotProductAttention(queries:keys:values:scale:mask:causal:keyPadding:options:)`.
///
/// - Parameter outputs: `.logSumExp` for `[B, Hq, Lq]` and `.weights` for
///   `[B, Hq, Lq, Lk]`. Weights need the materialized or reference path.
/// - Throws: `AttentionError`, as the simpler overload, and of kind
///   `unsupported` when weights are requested from the tiled path.
/// - Complexity: as the simpler overload, plus O(B·Hq·Lq·Lk) memory for the
///   weights when requested.
public func scaledDotProductAttention(
    queries: Tensor, keys: Tensor, values: Tensor,
    scale: Float? = nil, mask: AttentionMask? = nil, causal: CausalAlignment? = nil,
    window: SlidingWindow? = nil, keyPadding: KeyPadding? = nil, returning outputs: AttentionOutputs,
    options: ExecutionOptions = ExecutionOptions()
) throws -> AttentionResult {
    // Check the shapes before allocating outputs from them.
    try validateShapesForAllocation(queries: queries, keys: keys, values: values)
    let batch = queries.shape[0]
    let heads = queries.shape[1]
    let queryLength = queries.shape[2]
    let output = try Tensor(shape: [batch, heads, queryLength, values.shape[3]], repeating: 0)
    let logSumExp = outputs.contains(.logSumExp) ? try Tensor(shape: [batch, heads, queryLength], repeating: 0) : nil
    let weights = outputs.contains(.weights) ? try Tensor(shape: [batch, heads, queryLength, keys.shape[2]], repeating: 0) : nil
    let plan = try scaledDotProductAttention(
        queries: queries, keys: keys, values: values, into: output, logSumExp: logSumExp, weights: weights,
        scale: scale, mask: mask, causal: causal, window: window, keyPadding: keyPadding, options: options)
    return AttentionResult(output: output, logSumExp: logSumExp, weights: weights, plan: plan)
}

/// Computes `softmax(scale · Q Kᵀ + mask) · V` into caller-provided views.
///
/// - Parameters:
///   - output: `[B, Hq, Lq, Dv]`, any strides that address each element
///     once; it must not overlap an input.
///   - logSumExp: `[B, Hq, Lq]`, written when given.
///   - weights: `[B, Hq, Lq, Lk]`, written when given (materialized and
///     reference paths only).
/// - Returns: the plan that ran.
/// - Throws: `AttentionError` before any element is written.
@discardableResult
public func scaledDotProductAttention(
    queries: Tensor, keys: Tensor, values: Tensor,
    into output: Tensor, logSumExp: Tensor? = nil, weights: Tensor? = nil,
    scale: Float? = nil, mask: AttentionMask? = nil, causal: CausalAlignment? = nil,
    window: SlidingWindow? = nil, keyPadding: KeyPadding? = nil, options: ExecutionOptions = ExecutionOptions()
) throws -> AttentionPlan {
    let problem = try AttentionProblem(
        query: queries, key: keys, value: values, output: output, logSumExp: logSumExp, weights: weights,
        scale: scale, mask: mask, causal: causal, window: window, keyPadding: keyPadding)
    let plan = try AttentionPlan.make(for: problem, options: options)
    try run(problem, plan: plan)
    return plan
}

/// Returns the plan a call with these arguments would run, without running it.
///
/// - Parameter outputs: the extra outputs the call would request.
/// - Throws: `AttentionError` exactly when the call would throw.
public func planAttention(
    queries: Tensor, keys: Tensor, values: Tensor,
    scale: Float? = nil, mask: AttentionMask? = nil, causal: CausalAlignment? = nil,
    window: SlidingWindow? = nil, keyPadding: KeyPadding? = nil, returning outputs: AttentionOutputs = [],
    options: ExecutionOptions = ExecutionOptions()
) throws -> AttentionPlan {
    try validateShapesForAllocation(queries: queries, keys: keys, values: values)
    // Zero-stride placeholders carry the output shapes without allocating them.
    let placeholder = TensorStorage<Float>(repeating: 0, count: 1)
    func view(_ shape: [Int]) throws -> Tensor {
        try Tensor(storage: placeholder, shape: shape, strides: shape.map { _ in 0 })
    }
    let batch = queries.shape[0]
    let heads = queries.shape[1]
    let queryLength = queries.shape[2]
    let problem = try AttentionProblem(
        query: queries, key: keys, value: values,
        output: try view([batch, heads, queryLength, values.shape[3]]),
        logSumExp: outputs.contains(.logSumExp) ? try view([batch, heads, queryLength]) : nil,
        weights: outputs.contains(.weights) ? try view([batch, heads, queryLength, keys.shape[2]]) : nil,
        scale: scale, mask: mask, causal: causal, window: window, keyPadding: keyPadding,
        outputsArePlaceholders: true)
    return try AttentionPlan.make(for: problem, options: options)
}

/// Runs a validated problem on the path its plan names.
func run(_ problem: AttentionProblem, plan: AttentionPlan) throws {
    switch plan.path {
    case .reference:
        ReferenceKernel.run(problem, threadCount: plan.threadCount)
    case .materialized:
        try MaterializedKernel.run(problem, threadCount: plan.threadCount)
    case .tiled:
        try TiledKernel.run(problem, plan: plan)
    }
}

/// Checks the ranks that output allocation depends on.
func validateShapesForAllocation(queries: Tensor, keys: Tensor, values: Tensor) throws {
    for (name, tensor, legend) in [("query", queries, "[B, Hq, Lq, Dk]"), ("key", keys, "[B, Hkv, Lk, Dk]"), ("value", values, "[B, Hkv, Lk, Dv]")]
    where tensor.rank != 4 {
        throw AttentionError(
            .invalidShape, argument: name, expected: "rank 4 \(legend)",
            actual: "rank \(tensor.rank) \(describeShape(tensor.shape))",
            fix: "Add size-1 batch or head dimensions with unsqueezed(axis:)")
    }
}
