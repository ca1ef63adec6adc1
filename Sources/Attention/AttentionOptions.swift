/// A mask over the scores, broadcastable to `[B, Hq, Lq, Lk]`.
///
/// Broadcasting follows NumPy's rules: a mask may have fewer dimensions
/// (missing leading ones act as size 1), and a dimension of size 1 or stride
/// 0 is shared by every index of that dimension. The mask is read in place
/// through a broadcast view; it is never expanded to `[B, Hq, Lq, Lk]`.
public enum AttentionMask: Sendable {
    /// `true` means the query may attend the key; `false` blocks it.
    case boolean(BoolTensor)
    /// Added to the scaled scores before the softmax. `-infinity` blocks a
    /// key; a finite value, however negative, is an ordinary logit term.
    case additive(Tensor)
}

/// The corner a causal mask is aligned to when `Lq` and `Lk` differ.
///
/// Both alignments agree when `Lq == Lk`.
public enum CausalAlignment: String, Sendable, CaseIterable {
    /// Query `i` sees keys `j <= i`, as `is_causal=True` in PyTorch's
    /// `scaled_dot_product_attention` does for any `Lq` and `Lk`.
    case topLeft = "top-left"
    /// Query `i` sees keys `j <= i + Lk - Lq`, the KV-cache convention: the
    /// last query sees every key.
    case bottomRight = "bottom-right"
}

/// Keys that are padding, per batch item. Padded keys are never read, so
/// values behind them (including NaN) do not affect the output.
public enum KeyPadding: Sendable {
    /// Batch item `b` has `lengths[b]` real keys; keys at positions
    /// `lengths[b]..<Lk` are padding. `[B]`.
    case lengths([Int])
    /// `[B, Lk]`: `true` marks a real key, `false` a padded one.
    case mask(BoolTensor)
}

/// The kernel that computes attention.
public enum AttentionPath: String, Sendable, CaseIterable {
    /// Plain loops with float64 accumulation: the oracle, slow.
    case reference
    /// Scores `[Lq, Lk]` by sgemm, softmax in place, output by sgemm. The
    /// only fast path that can return the attention weights.
    case materialized
    /// Blocks of queries stream over blocks of keys with an online softmax,
    /// in O(block size) memory.
    case tiled
}

/// The execution settings of a call: the path, block sizes and threads. None of
/// these change the mathematical result, only its rounding and speed.
public struct ExecutionOptions: Sendable {
    /// The path to run, or `nil` to let the plan choose.
    public var path: AttentionPath?
    /// The number of worker threads, or `nil` for every active processor.
    public var threadCount: Int?
    /// The configured number of query rows per tile of the tiled path, or
    /// `nil` to let the plan choose. The last tile of a sequence may hold
    /// fewer rows.
    public var queryBlockSize: Int?
    /// The configured number of keys per tile of the tiled path, or `nil` to
    /// let the plan choose.
    public var keyBlockSize: Int?
    /// Whether the tiled path runs every product on sgemm. By default, tiles
    /// of at most eight query rows, as in decoding, use streaming kernels that
    /// read each key and value row once instead of packing it for sgemm. The
    /// reference path never uses sgemm, and the materialized path always
    /// does, so they ignore this setting.
    public var sgemmOnly: Bool

    public init(
        path: AttentionPath? = nil, threadCount: Int? = nil, queryBlockSize: Int? = nil, keyBlockSize: Int? = nil,
        sgemmOnly: Bool = false
    ) {
        self.path = path
        self.threadCount = threadCount
        self.queryBlockSize = queryBlockSize
        self.keyBlockSize = keyBlockSize
        self.sgemmOnly = sgemmOnly
    }
}
