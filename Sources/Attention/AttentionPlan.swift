import Foundation

/// The path, block sizes and threads chosen for one attention call, with the
/// reason for the choice.
///
/// Every call reports its plan, and `planAttention` returns it without
/// running, so a caller can see which kernel ran. No path falls back to
/// another silently: a request that the chosen path cannot serve throws.
public struct AttentionPlan: Sendable, Equatable, CustomStringConvertible {
    /// The kernel that runs.
    public let path: AttentionPath
    /// Why the plan chose this path.
    public let reason: String
    /// The configured worker threads. A kernel starts at most one thread per
    /// work item, so a small problem may use fewer.
    public let threadCount: Int
    /// The configured query rows per tile (tiled path), or `Lq` otherwise.
    public let queryBlockSize: Int
    /// The configured keys per tile (tiled path), or `Lk` otherwise.
    public let keyBlockSize: Int
    /// The number of parts each (batch, head, query block) splits its keys
    /// into so that few query rows still use every thread; 1 means no split.
    public let keySplitCount: Int
    /// Tiles of the tiled path with at most this many query rows compute
    /// both products with streaming kernels instead of sgemm; 0 when every
    /// product runs on sgemm.
    public let streamingRowLimit: Int
    /// The scratch memory the kernel allocates beyond inputs and outputs.
    public let scratchBytes: Int
    /// The masks the call passes, in the order the description lists them.
    /// Key padding is listed only when it leaves out a key; the other masks
    /// are listed whenever they are passed, even when they hide nothing.
    public let masks: [Mask]

    /// One mask of a call, as the plan reports it.
    public enum Mask: Sendable, Equatable, CustomStringConvertible {
        /// The causal mask with its alignment.
        case causal(CausalAlignment)
        /// The sliding window, with sizes clamped to `Lq + Lk`.
        case window(SlidingWindow)
        /// Key padding that leaves out at least one key of some batch item.
        case keyPadding
        /// A boolean mask of the scores.
        case boolean
        /// An additive mask of the scores.
        case additive

        public var description: String {
            switch self {
            case .causal(let alignment): "causal (\(alignment.rawValue))"
            case .window(let window): "window (\(window.left) before, \(window.right) after)"
            case .keyPadding: "key padding"
            case .boolean: "boolean mask"
            case .additive: "additive mask"
            }
        }
    }

    public var description: String {
        var text = "\(path.rawValue) path, \(threadCount) thread\(threadCount == 1 ? "" : "s")"
        if path == .tiled {
            text += ", query blocks of \(queryBlockSize), key blocks of \(keyBlockSize)"
            if keySplitCount > 1 { text += ", keys split \(keySplitCount) ways" }
            if streamingRowLimit == 0 {
                text += ", sgemm products only"
            } else if queryBlockSize <= streamingRowLimit {
                text += ", streaming products (query blocks of at most \(streamingRowLimit) rows)"
            } else {
                text += ", sgemm products, streaming in tiles of at most \(streamingRowLimit) rows"
            }
        }
        if !masks.isEmpty {
            text += ", masks: " + masks.map(\.description).joined(separator: ", ")
        }
        text += ", scratch \(scratchBytes) bytes: \(reason)"
        return text
    }
}

extension AttentionPlan {
    /// Chooses the path for a validated problem.
    ///
    /// - Throws: `AttentionError` when the options ask for something the
    ///   chosen path cannot do, or when its scratch would exceed half of the
    ///   machine's physical memory.
    static func make(for problem: AttentionProblem, options: ExecutionOptions) throws -> AttentionPlan {
        let threadCount = try resolveThreadCount(options.threadCount)
        for (name, value) in [("queryBlockSize", options.queryBlockSize), ("keyBlockSize", options.keyBlockSize)] {
            if let value, value < 1 {
                throw AttentionError(.invalidValue, argument: name, expected: "a block size of at least 1", actual: "\(value)")
            }
        }
        let wantsWeights = problem.weights != nil

        let path: AttentionPath
        let reason: String
        switch options.path {
        case .some(let requested):
            path = requested
            reason = "requested by the caller"
        case nil where wantsWeights:
            path = .materialized
            reason = "the attention weights were requested, and only the materialized path stores them"
        case nil:
            path = TiledKernel.isAvailable ? .tiled : .materialized
            reason = TiledKernel.isAvailable
                ? "the weights were not requested, and the tiled path needs O(block) memory"
                : "the default fast path"
        }

        switch path {
        case .reference:
            return AttentionPlan(
                path: .reference, reason: reason, threadCount: threadCount,
                queryBlockSize: problem.queryLength, keyBlockSize: problem.keyLength,
                keySplitCount: 1, streamingRowLimit: 0, scratchBytes: 0, masks: problem.planMasks)
        case .materialized:
            let workers = Swift.max(1, Swift.min(threadCount, problem.batchSize * problem.queryHeads))
            let perWorker = saturatingProduct(MaterializedKernel.scratchCount(problem), workers * 4)
            let overflow = perWorker == Int.max
            let limit = scratchMemoryLimit
            guard !overflow, perWorker <= limit else {
                throw AttentionError(
                    .sizeLimitExceeded, argument: "options.path",
                    expected: "materialized scores that fit in half the physical memory (\(limit) bytes)",
                    actual: overflow ? "more than Int.max bytes" : "\(perWorker) bytes for Lq = \(problem.queryLength), Lk = \(problem.keyLength)",
                    fix: wantsWeights ? "Request the weights for fewer queries or keys at a time" : "Use the tiled path, which needs O(block) memory")
            }
            return AttentionPlan(
                path: .materialized, reason: reason, threadCount: threadCount,
                queryBlockSize: problem.queryLength, keyBlockSize: problem.keyLength,
                keySplitCount: 1, streamingRowLimit: 0, scratchBytes: perWorker, masks: problem.planMasks)
        case .tiled:
            guard !wantsWeights else {
                throw AttentionError(
                    .unsupported, argument: "weights",
                    expected: "no weights output on the tiled path", actual: "a request for the weights",
                    fix: "Use the materialized path to get the attention weights")
            }
            return try TiledKernel.plan(for: problem, options: options, threadCount: threadCount, reason: reason)
        }
    }

    static func resolveThreadCount(_ requested: Int?) throws -> Int {
        guard let requested else { return Swift.max(1, activeProcessorCount) }
        guard requested >= 1 else {
            throw AttentionError(.invalidValue, argument: "threadCount", expected: "at least 1, or nil for every processor", actual: "\(requested)")
        }
        return requested
    }
}

extension AttentionProblem {
    /// The masks this problem applies, as a plan reports them.
    var planMasks: [AttentionPlan.Mask] {
        var masks: [AttentionPlan.Mask] = []
        if let causal { masks.append(.causal(causal)) }
        if let window { masks.append(.window(window)) }
        if keySelections.contains(where: { $0.count < keyLength }) { masks.append(.keyPadding) }
        if booleanMask != nil { masks.append(.boolean) }
        if additiveMask != nil { masks.append(.additive) }
        return masks
    }
}
