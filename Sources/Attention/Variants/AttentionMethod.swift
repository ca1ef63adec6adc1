import Foundation
// Shape legend:
//   B    batch size
//   Hq   query heads;  Hkv key/value heads (Hq is a multiple of Hkv)
//   Lq   query length; Lk  key length; n the real (unpadded) keys of a batch item
//   Dk   query/key head size; Dv value head size

/// How attention is computed: exactly, or by an approximation whose cost
/// grows linearly with the sequence length.
///
/// Local attention is not a method of its own: it is exact attention with a
/// `SlidingWindow` mask, passed as `window:` with `.exact`.
public enum AttentionMethod: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `softmax(scale · Q Kᵀ + mask) · V`, on the path the plan chooses.
    case exact
    /// Linear attention with the feature map `φ(x) = elu(x) + 1`:
    /// `out_i = φ(q_i)ᵀ (Σ_j φ(k_j) v_jᵀ) / (φ(q_i)ᵀ Σ_j φ(k_j))`.
    /// It has no scale; `φ(q)·φ(k)` replaces `exp(scale · q·k)`.
    case linear
    /// Performer's FAVOR+: `features` positive orthogonal random features
    /// whose dot products estimate `exp(scale · q·k)`, drawn from a
    /// generator seeded with `seed`.
    case performer(features: Int, seed: UInt64)
    /// Nyström attention with `landmarks` segment-mean landmarks and the
    /// pseudo-inverse of the landmark kernel.
    case nystrom(landmarks: Int)

    public var description: String {
        switch self {
        case .exact: "exact"
        case .linear: "linear"
        case .performer(let features, let seed): "performer(features: \(features), seed: \(seed))"
        case .nystrom(let landmarks): "nystrom(landmarks: \(landmarks))"
        }
    }
}

/// Computes attention by `method`: exact attention, or an approximation
/// that runs in time linear in the sequence length.
///
/// This overload differs from the exact ones only by its `method`
/// argument, and `.exact` runs exactly what they run. The approximations
/// take the same views, causal masking where the method allows it, and key
/// padding (padded keys are left out of every sum); an option that does not
/// fit the method throws instead of being ignored.
///
/// | method      | causal | key padding | mask, window | scale        |
/// |-------------|--------|-------------|--------------|--------------|
/// | `.linear`   | yes    | yes         | no           | must be nil  |
/// | `.performer`| yes    | yes         | no           | at least 0   |
/// | `.nystrom`  | no     | yes         | no           | any          |
///
/// - Parameters:
///   - queries: `[B, Hq, Lq, Dk]`, any strides.
///   - keys: `[B, Hkv, Lk, Dk]`, any strides. Query head `h` reads key/value
///     head `h / (Hq / Hkv)`.
///   - values: `[B, Hkv, Lk, Dv]`, any strides.
///   - scale: multiplies `q·k`; `nil` means `1/sqrt(Dk)`.
///   - mask: exact attention only.
///   - causal: a causal mask with an explicit alignment; not with Nyström.
///   - window: exact attention only (see `SlidingWindow`).
///   - keyPadding: keys that are padding; they are never read.
///   - method: the way to compute attention.
///   - options: for `.exact`, the path, threads and block sizes. For the
///     approximations, `threadCount` sets the worker threads and
///     `queryBlockSize` the query rows processed at once (default 128);
///     `path` and `keyBlockSize` must be nil.
/// - Returns: `[B, Hq, Lq, Dv]`. A query row with no visible key is zero.
/// - Throws: `AttentionError` for invalid shapes or options, `.unsupported`
///   for an option the method cannot honour, `.invalidValue` for a feature
///   or landmark count out of range, and `.lapackFailure` when a LAPACK
///   factorization fails (NaN inputs make Nyström fail this way).
/// - Complexity: exact attention as in
///   `scaledDotProductAttention(queries:keys:values:scale:mask:causal:window:keyPadding:options:)`.
///   For `m` features or landmarks and `R` query rows per block:
///   linear O(B·Hq·(Lq + Lk)·Dk·(Dv + R)) time, Performer
///   O(B·Hq·(Lq + Lk)·m·(Dk + Dv + R)) plus an O(m·Dk²) QR, and Nyström
///   O(B·Hq·((Lq + Lk)·m·(Dk + Dv) + m³)). Scratch per thread is
///   O(Lk·(Dk + Dv) + R·R) for linear, O(Lk·m + R·(m + R)) for Performer and
///   O(m·(Lk + R + Dk + Dv)) for Nyström.
public func scaledDotProductAttention(
    queries: Tensor, keys: Tensor, values: Tensor,
    scale: Float? = nil, mask: AttentionMask? = nil, causal: CausalAlignment? = nil,
    window: SlidingWindow? = nil, keyPadding: KeyPadding? = nil, method: AttentionMethod,
    options: ExecutionOptions = ExecutionOptions()
) throws -> Tensor {
    if method == .exact {
        return try scaledDotProductAttention(
            queries: queries, keys: keys, values: values, scale: scale, mask: mask, causal: causal,
            window: window, keyPadding: keyPadding, options: options)
    }

    try validateShapesForAllocation(queries: queries, keys: keys, values: values)
    let output = try Tensor(shape: [queries.shape[0], queries.shape[1], queries.shape[2], values.shape[3]], repeating: 0)
    let problem = try AttentionProblem(
        query: queries, key: keys, value: values, output: output, logSumExp: nil, weights: nil,
        scale: scale, mask: mask, causal: causal, window: window, keyPadding: keyPadding)
    let settings = try ApproximationSettings(
        problem: problem, method: method, explicitScale: scale, mask: mask, window: window, options: options)
    if problem.output.isEmpty || problem.queryLength == 0 { return output }

    switch method {
    case .exact:
        preconditionFailure("exact attention returned above")
    case .linear:
        try LinearAttention.run(problem, settings: settings)
    case .performer(let features, let seed):
        try PerformerAttention.run(problem, features: features, seed: seed, settings: settings)
    case .nystrom(let landmarks):
        try NystromAttention.run(problem, landmarks: landmarks, settings: settings)
    }
    return output
}

/// The checked execution settings of an approximate method.
struct ApproximationSettings {
    /// The default query rows processed at once: the causal prefix sums
    /// score a `[R, R]` block inside each block of rows, which costs about as
    /// much as the `[R, F]` feature products when `R` is near `F`.
    static let defaultRowBlockSize = 128

    let threadCount: Int
    let rowBlockSize: Int

    /// Checks that the method accepts the options of the call.
    init(
        problem: AttentionProblem, method: AttentionMethod, explicitScale: Float?,
        mask: AttentionMask?, window: SlidingWindow?, options: ExecutionOptions
    ) throws {
        let name = method.description
        if mask != nil {
            throw AttentionError(
                .unsupported, argument: "mask", expected: "no mask with \(name) attention", actual: "a mask",
                fix: "Use key padding for padded keys, or the exact method for an arbitrary mask")
        }
        if let window {
            throw AttentionError(
                .unsupported, argument: "window", expected: "no sliding window with \(name) attention",
                actual: "\(window)", fix: "Use the exact method for sliding-window attention")
        }
        if let path = options.path {
            throw AttentionError(
                .unsupported, argument: "options.path", expected: "nil with \(name) attention",
                actual: path.rawValue, fix: "Paths select exact kernels; leave options.path nil")
        }
        if let keyBlockSize = options.keyBlockSize {
            throw AttentionError(
                .unsupported, argument: "options.keyBlockSize", expected: "nil with \(name) attention",
                actual: "\(keyBlockSize)", fix: "Set options.queryBlockSize to change the block size")
        }
        if let rows = options.queryBlockSize, rows < 1 {
            throw AttentionError(
                .invalidValue, argument: "options.queryBlockSize", expected: "a block size of at least 1",
                actual: "\(rows)")
        }
        if problem.keyDimension == 0 {
            throw AttentionError(
                .unsupported, argument: "query", expected: "a head size Dk of at least 1 with \(name) attention",
                actual: "Dk = 0", fix: "Use the exact method, which returns the mean of the values")
        }

        switch method {
        case .exact:
            break
        case .linear:
            if let explicitScale {
                throw AttentionError(
                    .unsupported, argument: "scale", expected: "nil with linear attention",
                    actual: "\(explicitScale)", fix: "Linear attention has no scale; pass nil")
            }
        case .performer(let features, _):
            guard features >= 1 else {
                throw AttentionError(
                    .invalidValue, argument: "features", expected: "a feature count of at least 1",
                    actual: "\(features)")
            }
            // The random projection is [features, Dk] and the key features
            // [Lk, features]; both must fit in memory.
            let featureBytes = saturatingProduct(
                saturatingProduct(features, Swift.max(problem.keyLength, problem.keyDimension, 1)), MemoryLayout<Float>.stride)
            let memory = Int(clamping: ProcessInfo.processInfo.physicalMemory)
            guard featureBytes <= memory else {
                throw AttentionError(
                    .sizeLimitExceeded, argument: "features",
                    expected: "features whose maps fit in the physical memory (\(memory) bytes)",
                    actual: "\(features) features needing \(featureBytes == Int.max ? "more than Int.max" : String(featureBytes)) bytes",
                    fix: "Use fewer random features")
            }
            guard problem.scale >= 0 else {
                throw AttentionError(
                    .unsupported, argument: "scale", expected: "a scale of at least 0 with Performer attention",
                    actual: "\(problem.scale)",
                    fix: "Performer features scale inputs by sqrt(scale); fold a negative sign into the queries")
            }
        case .nystrom(let landmarks):
            if let causal = problem.causal {
                throw AttentionError(
                    .unsupported, argument: "causal", expected: "no causal mask with Nyström attention",
                    actual: causal.rawValue, fix: "Use linear or Performer attention for causal approximations")
            }
            guard landmarks >= 1 else {
                throw AttentionError(
                    .invalidValue, argument: "landmarks", expected: "a landmark count of at least 1",
                    actual: "\(landmarks)")
            }
            // Batch items without real keys return zeros and need no landmarks.
            let keyCounts = problem.keySelections.map(\.count).filter { $0 > 0 }
            if !problem.output.isEmpty, let fewestKeys = keyCounts.min() {
                let limit = Swift.min(problem.queryLength, fewestKeys)
                guard landmarks <= limit else {
                    throw AttentionError(
                        .invalidValue, argument: "landmarks",
                        expected: "at most \(limit), the query length Lq = \(problem.queryLength) or the fewest real keys of a batch item (\(fewestKeys)), whichever is smaller",
                        actual: "\(landmarks)", fix: "Use at most as many landmarks as tokens")
                }
            }
        }

        threadCount = try AttentionPlan.resolveThreadCount(options.threadCount)
        rowBlockSize = options.queryBlockSize ?? Self.defaultRowBlockSize
    }
}
