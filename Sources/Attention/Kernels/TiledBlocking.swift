// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]

/// The tile sizes and key split of the tiled path.
///
/// Every field depends only on the shapes and the caller's options, never on
/// the thread count or the batch size. A query row therefore goes through the
/// same floating-point operations on 1 or N threads, alone or inside a batch.
struct TiledBlocking: Equatable {
    /// The configured query rows per work item. The score tile of this many
    /// rows times `keyBlockSize` floats (1 MiB at the defaults) is meant to
    /// stay in a core's L2 cache.
    let queryBlockSize: Int
    /// The configured keys per tile. Key and value tiles of this many rows
    /// are reused by every query row of the work item.
    let keyBlockSize: Int
    /// The parts each (batch, head, query block) splits its keys into; 1
    /// means no split. Parts run as separate work items and are merged by
    /// their log-sum-exp.
    let keySplitCount: Int

    /// Query rows per work item when the caller does not choose.
    /// NOTE: A single head of at most 512 rows is then one work item and runs
    /// on one core, whatever the thread count. A smaller block would use more
    /// cores but slow batched and single-thread calls (see BENCHMARKS.md).
    static let defaultQueryBlockSize = 512
    /// Keys per tile when the caller does not choose and `Dk + Dv <= 128`.
    static let defaultKeyBlockSize = 512
    /// Keys per tile when the caller does not choose and `Dk + Dv > 128`.
    static let defaultWideKeyBlockSize = 256

    /// Keys per chunk where a key block crosses the causal diagonal. Narrow
    /// chunks leave out most hidden scores; wider ones run sgemm faster.
    static let diagonalChunkSize = 64

    /// Queries at or below this length count as decoding: their few rows
    /// cannot keep the threads busy, so the keys are split instead.
    static let maximumSplitQueryLength = 16
    /// The minimum number of keys per split part.
    static let minimumKeysPerPart = 2048
    /// The maximum keys per tile when decoding, so that scratch stays at
    /// most a few MiB for any number of keys.
    static let maximumDecodeKeyBlockSize = 1 << 16
    /// The maximum number of parts the keys are split into, for one query
    /// row; `Lq` rows get at most `16 / Lq` parts.
    static let maximumKeySplitCount = 16

    init(queryBlockSize: Int, keyBlockSize: Int, keySplitCount: Int) {
        self.queryBlockSize = queryBlockSize
        self.keyBlockSize = keyBlockSize
        self.keySplitCount = keySplitCount
    }

    /// Chooses the blocking for a problem. Explicit options are used as
    /// given, except that a block longer than its sequence is clamped to it.
    init(problem: AttentionProblem, options: ExecutionOptions) {
        let queryLength = problem.queryLength
        let keyLength = problem.keyLength
        // A requested block larger than the sequence acts as the whole
        // sequence, so it is clamped; that keeps block arithmetic in range.
        let queryBlockSize = Swift.min(
            options.queryBlockSize ?? Self.defaultQueryBlockSize, Swift.max(1, queryLength))

        // Each part keeps a partial result of Lq rows, so the parts of one
        // (batch, head) hold at most 16 rows: partial results stay within 16
        // times the output.
        var keySplitCount = 1
        if queryLength >= 1, queryLength <= Self.maximumSplitQueryLength, keyLength >= 2 * Self.minimumKeysPerPart {
            keySplitCount = Swift.min(
                Self.maximumKeySplitCount / queryLength, keyLength / Self.minimumKeysPerPart)
            keySplitCount = Swift.max(1, keySplitCount)
        }

        let keyBlockSize: Int
        if let requested = options.keyBlockSize {
            keyBlockSize = Swift.min(requested, Swift.max(1, keyLength))
        } else if keySplitCount > 1 {
            // Decoding: a score tile of a few rows is small, so one tile per
            // part saves sgemm calls, up to a tile that keeps scratch small
            // for very long keys.
            keyBlockSize = Swift.min(ceilingDivision(keyLength, keySplitCount), Self.maximumDecodeKeyBlockSize)
        } else {
            let wide = problem.keyDimension + problem.valueDimension > 128
            keyBlockSize = Swift.max(1, Swift.min(wide ? Self.defaultWideKeyBlockSize : Self.defaultKeyBlockSize, keyLength))
        }
        self.init(queryBlockSize: queryBlockSize, keyBlockSize: keyBlockSize, keySplitCount: keySplitCount)
    }

    /// Returns the number of query blocks of one (batch, head).
    func queryBlockCount(_ problem: AttentionProblem) -> Int {
        ceilingDivision(problem.queryLength, queryBlockSize)
    }

    /// Returns the number of work items, one per (batch, query head, query
    /// block, key part).
    func workItemCount(_ problem: AttentionProblem) -> Int {
        problem.batchSize * problem.queryHeads * queryBlockCount(problem) * keySplitCount
    }

    /// Returns the selected keys of part `part` when a batch item has
    /// `selectedCount` keys that are not padding.
    func keyRange(part: Int, selectedCount: Int) -> Range<Int> {
        partBoundary(part, selectedCount: selectedCount)..<partBoundary(part + 1, selectedCount: selectedCount)
    }

    /// Returns `part · selectedCount / keySplitCount` rounded down. The
    /// product is split at `selectedCount / keySplitCount` so that it does
    /// not overflow for counts near `Int.max`.
    private func partBoundary(_ part: Int, selectedCount: Int) -> Int {
        let whole = selectedCount / keySplitCount
        let rest = selectedCount % keySplitCount
        return part * whole + part * rest / keySplitCount
    }
}
