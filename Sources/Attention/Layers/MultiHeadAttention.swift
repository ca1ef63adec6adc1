// Shape legend:
//   B    batch size
//   Lq   query length; Lk key length
//   E    query input features (the hidden size); Ek, Ev key and value input
//        features (equal to E for self-attention)
//   H    query heads; Hkv key/value heads (H is a multiple of Hkv)
//   D    query/key head size; Dv value head size
//   Eo   output features (usually E)

/// The outputs of one `MultiHeadAttention` call.
///
/// Every tensor except `output` is a view of a buffer the layer computed
/// anyway, so returning them costs no copies.
public struct MultiHeadAttentionResult: Sendable {
    /// The block's result after the output projection, `[B, Lq, Eo]`.
    public let output: Tensor
    /// The heads merged before the output projection, `[B, Lq, H·Dv]`.
    public let context: Tensor
    /// The query projection split into heads, `[B, Lq, H, D]`.
    public let queries: Tensor
    /// The key projection split into heads, `[B, Lk, Hkv, D]`.
    public let keys: Tensor
    /// The value projection split into heads, `[B, Lk, Hkv, Dv]`.
    public let values: Tensor
    /// The attention probabilities `[B, H, Lq, Lk]`, when requested.
    public let weights: Tensor?
    /// The log-sum-exp of each query row's scores `[B, H, Lq]`, when requested.
    public let logSumExp: Tensor?
    /// The path and settings the attention step ran with.
    public let plan: AttentionPlan
}

/// Multi-head attention with query, key, value and output projections:
/// `output = concat_h(softmax(scale · Q_h K_hᵀ + mask) · V_h) · W_oᵀ + b_o`,
/// where `Q = x_q · W_qᵀ + b_q`, `K = x_k · W_kᵀ + b_k`, `V = x_v · W_vᵀ + b_v`.
///
/// Projections run as one `cblas_sgemm` each over the whole `[B·L, features]`
/// matrix. A projection's output `[B, L, H·D]` is viewed as `[B, L, H, D]`
/// (feature `f = h·D + d`) and permuted to `[B, H, L, D]` for attention, and
/// attention writes its `[B, H, Lq, Dv]` output through a permuted view of a
/// `[B, Lq, H, Dv]` buffer, so heads are split and merged without copies.
///
/// With fewer key/value heads than query heads (grouped-query attention), the
/// key and value projections produce `Hkv·D` and `Hkv·Dv` features and query
/// head `h` reads key/value head `h / (H / Hkv)`.
public struct MultiHeadAttention: Sendable {
    /// `[H·D, E]`.
    public let queryProjection: LinearProjection
    /// `[Hkv·D, Ek]`.
    public let keyProjection: LinearProjection
    /// `[Hkv·Dv, Ev]`.
    public let valueProjection: LinearProjection
    /// `[Eo, H·Dv]`.
    public let outputProjection: LinearProjection
    /// The number of query heads, H.
    public let headCount: Int
    /// The number of key/value heads, Hkv.
    public let keyValueHeadCount: Int
    /// The query/key head size, D.
    public let headSize: Int
    /// The value head size, Dv.
    public let valueHeadSize: Int
    /// Multiplies the scores before masking; `nil` means `1/sqrt(D)`.
    public let scale: Float?

    /// Creates a layer after checking that the projections agree with the
    /// head counts.
    ///
    /// - Parameters:
    ///   - query: `[H·D, E]` weight with an optional `[H·D]` bias.
    ///   - key: `[Hkv·D, Ek]` weight with an optional bias.
    ///   - value: `[Hkv·Dv, Ev]` weight with an optional bias.
    ///   - output: `[Eo, H·Dv]` weight with an optional bias.
    ///   - headCount: H, at least 1.
    ///   - keyValueHeadCount: Hkv, a divisor of H; `nil` means H.
    ///   - scale: multiplies the scores; `nil` means `1/sqrt(D)`.
    /// - Throws: `AttentionError` naming the projection whose shape disagrees
    ///   with the head counts, or the head count that is invalid.
    public init(
        query: LinearProjection, key: LinearProjection, value: LinearProjection, output: LinearProjection,
        headCount: Int, keyValueHeadCount: Int? = nil, scale: Float? = nil
    ) throws {
        let keyValueHeadCount = keyValueHeadCount ?? headCount
        guard headCount >= 1 else {
            throw AttentionError(.invalidValue, argument: "headCount", expected: "at least 1", actual: "\(headCount)")
        }
        guard keyValueHeadCount >= 1, headCount % keyValueHeadCount == 0 else {
            throw AttentionError(
                .invalidValue, argument: "keyValueHeadCount",
                expected: "a divisor of the \(headCount) query heads", actual: "\(keyValueHeadCount)")
        }
        guard query.outputSize % headCount == 0, query.outputSize > 0 else {
            throw AttentionError(
                .shapeMismatch, argument: "query weight",
                expected: "a positive multiple of \(headCount) heads in dimension 0 [H·D, E]",
                actual: describeShape(query.weight.shape),
                fix: "Check the head count against the checkpoint's configuration")
        }
        let headSize = query.outputSize / headCount
        guard key.outputSize == keyValueHeadCount * headSize else {
            throw AttentionError(
                .shapeMismatch, argument: "key weight",
                expected: "\(keyValueHeadCount * headSize) rows (\(keyValueHeadCount) key/value heads of size \(headSize))",
                actual: describeShape(key.weight.shape),
                fix: "Check the key/value head count")
        }
        guard value.outputSize % keyValueHeadCount == 0 else {
            throw AttentionError(
                .shapeMismatch, argument: "value weight",
                expected: "a multiple of \(keyValueHeadCount) key/value heads in dimension 0",
                actual: describeShape(value.weight.shape))
        }
        let valueHeadSize = value.outputSize / keyValueHeadCount
        guard output.inputSize == headCount * valueHeadSize else {
            throw AttentionError(
                .shapeMismatch, argument: "output weight",
                expected: "\(headCount * valueHeadSize) columns (\(headCount) heads of value size \(valueHeadSize))",
                actual: describeShape(output.weight.shape))
        }
        if let scale, !scale.isFinite {
            throw AttentionError(.invalidValue, argument: "scale", expected: "a finite value", actual: "\(scale)")
        }
        self.queryProjection = query
        self.keyProjection = key
        self.valueProjection = value
        self.outputProjection = output
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.headSize = headSize
        self.valueHeadSize = valueHeadSize
        self.scale = scale
    }

    /// The number of query input features, E.
    public var hiddenSize: Int { queryProjection.inputSize }

    /// Computes self-attention: `hiddenStates` is the query, key and value
    /// input.
    ///
    /// - Parameters:
    ///   - hiddenStates: `[B, L, E]`.
    ///   - mask, causal, keyPadding, outputs, options: as in
    ///     `callAsFunction(queries:keys:values:mask:causal:keyPadding:returning:options:)`.
    /// - Complexity: as the cross-attention form with `Lq = Lk = L`.
    public func callAsFunction(
        _ hiddenStates: Tensor, mask: AttentionMask? = nil, causal: CausalAlignment? = nil,
        keyPadding: KeyPadding? = nil, returning outputs: AttentionOutputs = [],
        options: ExecutionOptions = ExecutionOptions()
    ) throws -> MultiHeadAttentionResult {
        try callAsFunction(
            queries: hiddenStates, keys: hiddenStates, values: hiddenStates, mask: mask, causal: causal,
            keyPadding: keyPadding, returning: outputs, options: options)
    }

    /// Computes multi-head attention of `queries` over `keys` and `values`,
    /// which may be different sequences (cross-attention).
    ///
    /// - Parameters:
    ///   - queries: `[B, Lq, E]` input to the query projection.
    ///   - keys: `[B, Lk, Ek]` input to the key projection.
    ///   - values: `[B, Lk, Ev]` input to the value projection.
    ///   - mask: a boolean or additive mask broadcastable to `[B, H, Lq, Lk]`.
    ///   - causal: a causal mask with an explicit alignment.
    ///   - keyPadding: keys that are padding, for example `.mask` of `[B, Lk]`.
    ///   - outputs: `.weights` to return the probabilities `[B, H, Lq, Lk]`
    ///     (materialized or reference path only), `.logSumExp` for `[B, H, Lq]`.
    ///   - options: the attention path, threads and block sizes.
    /// - Returns: the output `[B, Lq, Eo]`, the merged context, the projected
    ///   heads and any requested extras.
    /// - Throws: `AttentionError` naming the input whose shape disagrees with
    ///   the layer, or any error of `scaledDotProductAttention`. Nothing is
    ///   returned partially.
    /// - Complexity: O(B·(Lq·E·H·D + Lk·(Ek + Ev)·Hkv·D + Lq·H·Dv·Eo)) for the
    ///   projections plus O(B·H·Lq·Lk·(D + Dv)) for attention. Memory is the
    ///   projections and context, O(B·(Lq + Lk)·H·max(D, Dv) + B·Lq·Eo), plus
    ///   the attention path's scratch and O(B·H·Lq·Lk) when weights are
    ///   returned.
    public func callAsFunction(
        queries: Tensor, keys: Tensor, values: Tensor,
        mask: AttentionMask? = nil, causal: CausalAlignment? = nil, keyPadding: KeyPadding? = nil,
        returning outputs: AttentionOutputs = [], options: ExecutionOptions = ExecutionOptions()
    ) throws -> MultiHeadAttentionResult {
        try validateInputs(queries: queries, keys: keys, values: values)
        let batch = queries.shape[0]
        let queryLength = queries.shape[1]
        let keyLength = keys.shape[1]

        // 1. Project by sgemm: [B, L, features] -> [B, L, heads·size].
        let projectedQueries = try queryProjection.apply(to: queries, name: "queries")
        let projectedKeys = try keyProjection.apply(to: keys, name: "keys")
        let projectedValues = try valueProjection.apply(to: values, name: "values")

        // 2. Split heads as views: [B, L, H·D] -> [B, L, H, D] -> [B, H, L, D].
        let queryHeads = try projectedQueries.contiguousView(as: [batch, queryLength, headCount, headSize])
        let keyHeads = try projectedKeys.contiguousView(as: [batch, keyLength, keyValueHeadCount, headSize])
        let valueHeads = try projectedValues.contiguousView(as: [batch, keyLength, keyValueHeadCount, valueHeadSize])

        // 3. Attention writes [B, H, Lq, Dv] through a permuted view of a
        //    [B, Lq, H, Dv] buffer, which is the merged context.
        let contextHeads = try Tensor(shape: [batch, queryLength, headCount, valueHeadSize], repeating: 0)
        let weights = outputs.contains(.weights)
            ? try Tensor(shape: [batch, headCount, queryLength, keyLength], repeating: 0) : nil
        let logSumExp = outputs.contains(.logSumExp)
            ? try Tensor(shape: [batch, headCount, queryLength], repeating: 0) : nil
        let plan = try scaledDotProductAttention(
            queries: try queryHeads.permuted([0, 2, 1, 3]),
            keys: try keyHeads.permuted([0, 2, 1, 3]),
            values: try valueHeads.permuted([0, 2, 1, 3]),
            into: try contextHeads.permuted([0, 2, 1, 3]), logSumExp: logSumExp, weights: weights,
            scale: scale, mask: mask, causal: causal, keyPadding: keyPadding, options: options)

        // 4. Merge heads as a view and apply the output projection.
        let context = try contextHeads.contiguousView(as: [batch, queryLength, headCount * valueHeadSize])
        let output = try outputProjection.apply(to: context, name: "context")
        return MultiHeadAttentionResult(
            output: output, context: context, queries: queryHeads, keys: keyHeads, values: valueHeads,
            weights: weights, logSumExp: logSumExp, plan: plan)
    }

    /// Checks ranks, feature sizes and batch sizes of the three inputs.
    private func validateInputs(queries: Tensor, keys: Tensor, values: Tensor) throws {
        let inputs = [
            ("queries", queries, queryProjection.inputSize, "[B, Lq, E]"),
            ("keys", keys, keyProjection.inputSize, "[B, Lk, Ek]"),
            ("values", values, valueProjection.inputSize, "[B, Lk, Ev]"),
        ]
        for (name, tensor, features, legend) in inputs {
            guard tensor.rank == 3 else {
                throw AttentionError(
                    .invalidShape, argument: name, expected: "rank 3 \(legend)",
                    actual: "rank \(tensor.rank) \(describeShape(tensor.shape))",
                    fix: "Add a batch dimension of size 1 with unsqueezed(axis: 0)")
            }
            guard tensor.shape[2] == features else {
                throw AttentionError(
                    .shapeMismatch, argument: name,
                    expected: "\(features) features in the last dimension, the projection's input size",
                    actual: describeShape(tensor.shape))
            }
        }
        guard keys.shape[0] == queries.shape[0], values.shape[0] == queries.shape[0] else {
            throw AttentionError(
                .shapeMismatch, argument: "keys",
                expected: "batch size \(queries.shape[0]) for queries, keys and values",
                actual: "queries \(describeShape(queries.shape)), keys \(describeShape(keys.shape)), values \(describeShape(values.shape))")
        }
        guard values.shape[1] == keys.shape[1] else {
            throw AttentionError(
                .shapeMismatch, argument: "values",
                expected: "\(keys.shape[1]) positions to match the keys", actual: describeShape(values.shape))
        }
    }
}
