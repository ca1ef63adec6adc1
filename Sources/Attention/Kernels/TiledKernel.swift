// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   per work item (batch, head, query block):
//     scores tile  [rowsInBlock, keysInBlock]
//     accumulator  [rowsInBlock, Dv]
//     runningMax, runningSum  [rowsInBlock]

import Foundation

/// The tiled path: each work item is one block of query rows of one
/// (batch, head); it streams over blocks of keys with an online softmax, so
/// memory is O(block size) instead of O(Lq · Lk).
enum TiledKernel {
    static let isAvailable = true

    /// The default query rows per tile.
    static let defaultQueryBlockSize = 256
    /// The default keys per tile.
    static let defaultKeyBlockSize = 256

    static func plan(for problem: AttentionProblem, options: ExecutionOptions, threadCount: Int, reason: String) throws -> AttentionPlan {
        let queryBlockSize = options.queryBlockSize ?? defaultQueryBlockSize
        let keyBlockSize = options.keyBlockSize ?? defaultKeyBlockSize
        let layout = ScratchLayout(problem: problem, queryBlockSize: queryBlockSize, keyBlockSize: keyBlockSize)
        let workers = Swift.max(1, Swift.min(threadCount, workItemCount(problem, queryBlockSize: queryBlockSize)))
        return AttentionPlan(
            path: .tiled, reason: reason, threadCount: threadCount,
            queryBlockSize: queryBlockSize, keyBlockSize: keyBlockSize,
            keySplitCount: 1, scratchBytes: layout.count * workers * MemoryLayout<Float>.stride)
    }

    static func workItemCount(_ problem: AttentionProblem, queryBlockSize: Int) -> Int {
        let blocks = (problem.queryLength + queryBlockSize - 1) / queryBlockSize
        return problem.batchSize * problem.queryHeads * blocks
    }

    /// Offsets of each worker's scratch arrays, in floats.
    struct ScratchLayout {
        let scores: Int
        let accumulator: Int
        let runningMax: Int
        let runningSum: Int
        let packedKeys: Int
        let count: Int

        init(problem: AttentionProblem, queryBlockSize: Int, keyBlockSize: Int) {
            let rows = Swift.min(queryBlockSize, Swift.max(problem.queryLength, 1))
            let keys = Swift.min(keyBlockSize, Swift.max(problem.keyLength, 1))
            scores = 0
            accumulator = scores + rows * keys
            runningMax = accumulator + rows * problem.valueDimension
            runningSum = runningMax + rows
            packedKeys = runningSum + rows
            let gather = problem.keySelections.contains { if case .gathered = $0 { true } else { false } }
            count = packedKeys + (gather ? keys * (problem.keyDimension + problem.valueDimension) : 0)
        }
    }

    static func run(_ problem: AttentionProblem, plan: AttentionPlan) throws {
        let queryBlockSize = plan.queryBlockSize
        let keyBlockSize = plan.keyBlockSize
        let items = workItemCount(problem, queryBlockSize: queryBlockSize)
        if items == 0 { return }
        let layout = ScratchLayout(problem: problem, queryBlockSize: queryBlockSize, keyBlockSize: keyBlockSize)
        let workers = Swift.min(plan.threadCount, items)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, workers * layout.count))
        defer { scratch.deallocate() }
        let blocksPerHead = (problem.queryLength + queryBlockSize - 1) / queryBlockSize

        try parallelForThrowing(count: items, threadCount: workers) { worker, item in
            let block = item % blocksPerHead
            let head = (item / blocksPerHead) % problem.queryHeads
            let batch = item / (blocksPerHead * problem.queryHeads)
            let firstRow = block * queryBlockSize
            try runBlock(
                problem, batch: batch, head: head, firstRow: firstRow,
                rowsInBlock: Swift.min(queryBlockSize, problem.queryLength - firstRow),
                keyBlockSize: keyBlockSize, layout: layout, scratch: scratch + worker * layout.count)
        }
    }

    private static func runBlock(
        _ problem: AttentionProblem, batch: Int, head: Int, firstRow: Int, rowsInBlock: Int,
        keyBlockSize: Int, layout: ScratchLayout, scratch: UnsafeMutablePointer<Float>
    ) throws {
        let dv = problem.valueDimension
        let selection = problem.keySelections[batch]
        let kvHead = problem.keyValueHead(forQueryHead: head)
        let scores = scratch + layout.scores
        let accumulator = scratch + layout.accumulator
        let runningMax = scratch + layout.runningMax
        let runningSum = scratch + layout.runningSum
        accumulator.update(repeating: 0, count: rowsInBlock * dv)
        runningMax.update(repeating: -.infinity, count: rowsInBlock)
        runningSum.update(repeating: 0, count: rowsInBlock)

        let query = problem.query.pointer(batch, head)
        let queryMatrix = MatrixOperand(
            base: query.base + firstRow * query.rowStride, rows: rowsInBlock, columns: problem.keyDimension,
            rowStride: query.rowStride, columnStride: query.columnStride)
        let (keyMatrix, valueMatrix) = problem.keyValueMatrices(batch: batch, kvHead: kvHead)
        let accumulatorMatrix = MutableMatrixOperand(base: accumulator, rows: rowsInBlock, columns: dv, rowStride: dv, columnStride: 1)

        var firstKey = 0
        while firstKey < selection.count {
            // Keys past the causal limit of the block's last row are hidden
            // from every row, here and in all later key blocks.
            let keysInBlock = problem.causallyVisibleKeyCount(
                firstRow: firstRow, rowCount: rowsInBlock, selection: selection,
                firstKey: firstKey, keyCount: Swift.min(keyBlockSize, selection.count - firstKey))
            if keysInBlock == 0 { break }

            var keyTile: MatrixOperand
            var valueTile: MatrixOperand
            switch selection {
            case .prefix:
                keyTile = keyMatrix.rows(firstKey, count: keysInBlock)
                valueTile = valueMatrix.rows(firstKey, count: keysInBlock)
            case .gathered(let positions):
                (keyTile, valueTile) = problem.gatherKeyValues(
                    keyMatrix: keyMatrix, valueMatrix: valueMatrix,
                    positions: Array(positions[firstKey..<(firstKey + keysInBlock)]), into: scratch + layout.packedKeys)
            }

            // 1. Raw scores of the tile by sgemm.
            let scoreMatrix = MutableMatrixOperand(
                base: scores, rows: rowsInBlock, columns: keysInBlock, rowStride: keysInBlock, columnStride: 1)
            try BLAS.gemm(queryMatrix, keyTile.transposed, into: scoreMatrix)

            // 2. Scale and masks: hidden keys become -infinity.
            problem.scaleAndMask(
                tile: scores, tileStride: keysInBlock, batch: batch, head: head,
                firstRow: firstRow, rowCount: rowsInBlock,
                selection: selection, firstKey: firstKey, keyCount: keysInBlock)

            // 3. Online softmax update, row by row. Invariant after the step:
            //    runningMax is the maximum visible score so far, runningSum is
            //    the sum of exp(score - runningMax) over visible keys so far,
            //    and the accumulator holds the matching weighted sum of values.
            for r in 0..<rowsInBlock {
                let rowScores = scores + r * keysInBlock
                let tileMax = Softmax.maximum(rowScores, count: keysInBlock)
                let newMax = tileMax.isNaN || runningMax[r].isNaN ? Float.nan : Swift.max(runningMax[r], tileMax)
                if newMax == -.infinity {
                    // Nothing visible yet: the probabilities are exact zeros.
                    rowScores.update(repeating: 0, count: keysInBlock)
                    continue
                }
                let correction = runningMax[r] == -.infinity ? 0 : expf(runningMax[r] - newMax)
                let tileSum = Softmax.exponentiate(rowScores, count: keysInBlock, maximum: newMax)
                runningSum[r] = runningSum[r] * correction + tileSum
                if correction != 1 {
                    let accumulatorRow = accumulator + r * dv
                    for d in 0..<dv { accumulatorRow[d] *= correction }
                }
                runningMax[r] = newMax
            }

            // 4. Weighted sum of the tile's values, added to the accumulator.
            try NonFiniteValues.weightedSum(weights: scoreMatrix.readOnly, values: valueTile, into: accumulatorMatrix, beta: 1)

            firstKey += keysInBlock
            if keysInBlock < Swift.min(keyBlockSize, selection.count - (firstKey - keysInBlock)) { break }
        }

        // 5. Normalize. A row without a visible key is zero, with log-sum-exp
        //    -infinity.
        let output = problem.output.pointer(batch, head)
        for r in 0..<rowsInBlock {
            let outputRow = output.base + (firstRow + r) * output.rowStride
            let sum = runningSum[r]
            let reciprocal: Float = sum == 0 ? 0 : 1 / sum
            let accumulatorRow = accumulator + r * dv
            for d in 0..<dv {
                outputRow[d * output.columnStride] = sum == 0 ? 0 : accumulatorRow[d] * reciprocal
            }
            if let logSumExp = problem.logSumExp {
                logSumExp.storage.baseAddress[logSumExp.offset + batch * logSumExp.strides[0]
                    + head * logSumExp.strides[1] + (firstRow + r) * logSumExp.strides[2]] =
                    sum == 0 ? -.infinity : runningMax[r] + log(sum)
            }
        }
    }
}
