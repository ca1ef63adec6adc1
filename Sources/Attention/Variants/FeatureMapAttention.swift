// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   per work item (batch, key/value head), with n real keys and F features:
//     keyFeatures    φ(K)   [n, F]
//     state          S      [F, Dv]   Σ_j φ(k_j) v_jᵀ over the keys summed so far
//     normalizer     z      [F]       Σ_j φ(k_j) over the same keys
//     queryFeatures  φ(Q)   [R, F]    one block of R query rows
//     blockScores    P      [R, R]    causal only: φ(Q_blk) φ(K_partial)ᵀ
//     denominators          [R]

/// A positive feature map `φ` whose dot products `φ(q)·φ(k)` stand in for
/// the softmax kernel `exp(scale · q·k)`.
protocol FeatureMap {
    /// The feature count `F`.
    var featureCount: Int { get }
    /// Writes `φ(k)` of each row of `keys` `[n, Dk]` into `features`
    /// `[n, F]`, packed row-major. Called once per (batch, key/value head)
    /// with every real key, so the map may use statistics of all keys.
    func mapKeys(_ keys: MatrixOperand, into features: UnsafeMutablePointer<Float>) throws
    /// Writes `φ(q)` of each row of `queries` `[r, Dk]` into `features`
    /// `[r, F]`, packed row-major. A per-row positive factor is allowed,
    /// because it cancels between the numerator and the denominator.
    func mapQueries(_ queries: MatrixOperand, into features: UnsafeMutablePointer<Float>) throws
}

/// Attention with a feature map, shared by linear and Performer attention:
/// `out_i = φ(q_i)ᵀ S / φ(q_i)ᵀ z` with `S = Σ φ(k_j) v_jᵀ` and
/// `z = Σ φ(k_j)` over the keys row `i` may see.
///
/// Without a causal mask every row sees all real keys, so `S` is one sgemm,
/// `φ(K)ᵀ V`. With one, row `i` sees the first `c_i` real keys, and `c_i`
/// grows with `i`. Rows are processed in blocks; before each block the
/// running `S` and `z` absorb the keys that every row of the block sees,
/// and the few keys that only some rows of the block see are scored
/// directly as a masked `[R, R]` product, both by sgemm. The work is
/// O((Lq + n)·F·(Dv + R)) and no `[Lq, n]` matrix exists.
enum FeatureMapAttention {
    /// Offsets of each worker's scratch arrays, in floats.
    struct ScratchLayout {
        let packedKeys: Int
        let keyFeatures: Int
        let state: Int
        let queryFeatures: Int
        let blockScores: Int
        let denominators: Int
        let count: Int

        init(problem: AttentionProblem, featureCount: Int, rowBlockSize: Int) {
            let rows = Swift.min(rowBlockSize, Swift.max(problem.queryLength, 1))
            let gather = problem.keySelections.contains { if case .gathered = $0 { true } else { false } }
            packedKeys = 0
            keyFeatures = packedKeys + (gather ? problem.keyLength * (problem.keyDimension + problem.valueDimension) : 0)
            state = keyFeatures + problem.keyLength * featureCount
            queryFeatures = state + featureCount * problem.valueDimension
            blockScores = queryFeatures + rows * featureCount
            denominators = blockScores + (problem.causal == nil ? 0 : rows * rows)
            count = denominators + rows
        }
    }

    /// The scratch bytes `run` allocates for `problem`.
    static func scratchBytes(_ problem: AttentionProblem, featureCount: Int, settings: ApproximationSettings) -> Int {
        let layout = ScratchLayout(problem: problem, featureCount: featureCount, rowBlockSize: settings.rowBlockSize)
        let workers = Swift.max(1, Swift.min(settings.threadCount, problem.batchSize * problem.keyValueHeads))
        return layout.count * workers * MemoryLayout<Float>.stride
    }

    static func run<Map: FeatureMap>(_ problem: AttentionProblem, map: Map, settings: ApproximationSettings) throws {
        let items = problem.batchSize * problem.keyValueHeads
        if items == 0 || problem.queryLength == 0 || problem.valueDimension == 0 { return }
        let layout = ScratchLayout(problem: problem, featureCount: map.featureCount, rowBlockSize: settings.rowBlockSize)
        let workers = Swift.min(settings.threadCount, items)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, workers * layout.count))
        defer { scratch.deallocate() }

        try parallelForThrowing(count: items, threadCount: workers) { worker, item in
            try runKeyValueHead(
                problem, map: map, batch: item / problem.keyValueHeads, kvHead: item % problem.keyValueHeads,
                rowBlockSize: settings.rowBlockSize, layout: layout, scratch: scratch + worker * layout.count)
        }
    }

    private static func runKeyValueHead<Map: FeatureMap>(
        _ problem: AttentionProblem, map: Map, batch: Int, kvHead: Int, rowBlockSize: Int,
        layout: ScratchLayout, scratch: UnsafeMutablePointer<Float>
    ) throws {
        let selection = problem.keySelections[batch]
        let n = selection.count
        let features = map.featureCount
        let dv = problem.valueDimension

        // 1. The real keys and values: a prefix in place, or a packed copy.
        var (keyMatrix, valueMatrix) = problem.keyValueMatrices(batch: batch, kvHead: kvHead)
        switch selection {
        case .prefix(let count):
            keyMatrix = keyMatrix.rows(0, count: count)
            valueMatrix = valueMatrix.rows(0, count: count)
        case .gathered(let positions):
            (keyMatrix, valueMatrix) = problem.gatherKeyValues(
                keyMatrix: keyMatrix, valueMatrix: valueMatrix, positions: positions, into: scratch + layout.packedKeys)
        }

        // 2. Key features φ(K) [n, F], shared by the query heads of the group.
        let keyFeatures = MutableMatrixOperand(
            base: scratch + layout.keyFeatures, rows: n, columns: features, rowStride: features, columnStride: 1)
        if n > 0 { try map.mapKeys(keyMatrix, into: keyFeatures.base) }
        let state = MutableMatrixOperand(
            base: scratch + layout.state, rows: features, columns: dv, rowStride: dv, columnStride: 1)

        // 3. Without a causal mask, S = φ(K)ᵀ V and z = Σ φ(k) once for all rows.
        var normalizer = [Double](repeating: 0, count: features)
        if problem.causal == nil {
            try BLAS.gemm(keyFeatures.readOnly.transposed, valueMatrix, into: state)
            addColumnSums(of: keyFeatures.readOnly, into: &normalizer)
        }

        for head in (kvHead * problem.groupSize)..<((kvHead + 1) * problem.groupSize) {
            if problem.causal != nil {
                state.base.update(repeating: 0, count: features * dv)
                for f in 0..<features { normalizer[f] = 0 }
            }
            var summedKeys = 0
            var firstRow = 0
            while firstRow < problem.queryLength {
                let rowCount = Swift.min(rowBlockSize, problem.queryLength - firstRow)
                try runRowBlock(
                    problem, map: map, batch: batch, head: head, firstRow: firstRow, rowCount: rowCount,
                    keyFeatures: keyFeatures.readOnly, valueMatrix: valueMatrix, state: state,
                    normalizer: &normalizer, summedKeys: &summedKeys, layout: layout, scratch: scratch)
                firstRow += rowCount
            }
        }
    }

    /// Computes output rows `firstRow..<firstRow+rowCount` of one query head.
    /// Under a causal mask, first adds the keys that every row of the block
    /// sees to `state` and `normalizer`, advancing `summedKeys`.
    private static func runRowBlock<Map: FeatureMap>(
        _ problem: AttentionProblem, map: Map, batch: Int, head: Int, firstRow: Int, rowCount: Int,
        keyFeatures: MatrixOperand, valueMatrix: MatrixOperand, state: MutableMatrixOperand,
        normalizer: inout [Double], summedKeys: inout Int, layout: ScratchLayout, scratch: UnsafeMutablePointer<Float>
    ) throws {
        let selection = problem.keySelections[batch]
        let features = map.featureCount
        let dv = problem.valueDimension
        let query = problem.query.pointer(batch, head)
        let output = problem.output.pointer(batch, head)
        let queryMatrix = MatrixOperand(
            base: query.base + firstRow * query.rowStride, rows: rowCount, columns: problem.keyDimension,
            rowStride: query.rowStride, columnStride: query.columnStride)
        let outputMatrix = MutableMatrixOperand(
            base: output.base + firstRow * output.rowStride, rows: rowCount, columns: dv,
            rowStride: output.rowStride, columnStride: output.columnStride)
        let denominators = scratch + layout.denominators

        // The number of real keys each row sees: all of them, or the causal
        // prefix, which grows with the row.
        func visibleKeyCount(_ row: Int) -> Int {
            problem.causal == nil ? selection.count
                : problem.visibleKeyRange(firstRow: row, rowCount: 1, selection: selection, firstKey: 0, keyCount: selection.count).upperBound
        }
        let sharedKeys = visibleKeyCount(firstRow)
        let lastKeys = visibleKeyCount(firstRow + rowCount - 1)

        // 1. Causal only: add the keys every row of the block sees to S and z.
        if problem.causal != nil, sharedKeys > summedKeys {
            let newKeys = keyFeatures.rows(summedKeys, count: sharedKeys - summedKeys)
            try BLAS.gemm(
                newKeys.transposed, valueMatrix.rows(summedKeys, count: sharedKeys - summedKeys), into: state, beta: 1)
            addColumnSums(of: newKeys, into: &normalizer)
            summedKeys = sharedKeys
        }

        // 2. Query features φ(Q_blk) [R, F].
        let queryFeatures = MutableMatrixOperand(
            base: scratch + layout.queryFeatures, rows: rowCount, columns: features, rowStride: features, columnStride: 1)
        try map.mapQueries(queryMatrix, into: queryFeatures.base)

        // 3. Numerators φ(q)ᵀ S by sgemm and denominators φ(q)ᵀ z.
        try BLAS.gemm(queryFeatures.readOnly, state.readOnly, into: outputMatrix)
        for r in 0..<rowCount {
            let row = queryFeatures.base + r * features
            var sum = 0.0
            for f in 0..<features { sum += Double(row[f]) * normalizer[f] }
            denominators[r] = Float(sum)
        }

        // 4. Causal only: keys summedKeys..<lastKeys are seen by some rows of
        //    the block. Score them as P = φ(Q_blk) φ(K_partial)ᵀ, zero the
        //    entries of keys a row may not see, and add P·V and P's row sums.
        let partialCount = lastKeys - sharedKeys
        if problem.causal != nil, partialCount > 0 {
            let partialFeatures = keyFeatures.rows(sharedKeys, count: partialCount)
            let blockScores = MutableMatrixOperand(
                base: scratch + layout.blockScores, rows: rowCount, columns: partialCount,
                rowStride: partialCount, columnStride: 1)
            try BLAS.gemm(queryFeatures.readOnly, partialFeatures.transposed, into: blockScores)
            for r in 0..<rowCount {
                let row = blockScores.base + r * partialCount
                let visible = Swift.max(0, visibleKeyCount(firstRow + r) - sharedKeys)
                for c in visible..<partialCount { row[c] = 0 }
                var sum = Double(denominators[r])
                for c in 0..<visible { sum += Double(row[c]) }
                denominators[r] = Float(sum)
            }
            try BLAS.gemm(
                blockScores.readOnly, valueMatrix.rows(sharedKeys, count: partialCount), into: outputMatrix, beta: 1)
        }

        // 5. Normalize. A row that sees no key is zero, as in exact attention.
        for r in 0..<rowCount {
            let outputRow = outputMatrix.base + r * output.rowStride
            let seesKeys = visibleKeyCount(firstRow + r) > 0
            let reciprocal = seesKeys ? 1 / denominators[r] : 0
            for d in 0..<dv {
                outputRow[d * output.columnStride] = seesKeys ? outputRow[d * output.columnStride] * reciprocal : 0
            }
        }
    }

    /// Adds the column sums of `matrix` to `sums`, in float64.
    private static func addColumnSums(of matrix: MatrixOperand, into sums: inout [Double]) {
        for i in 0..<matrix.rows {
            let row = matrix.base + i * matrix.rowStride
            for j in 0..<matrix.columns { sums[j] += Double(row[j * matrix.columnStride]) }
        }
    }
}
