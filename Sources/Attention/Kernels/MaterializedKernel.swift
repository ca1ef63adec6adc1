// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   per work item (batch, head): scores [Lq, n] with n the selected keys

import Foundation

/// The materialized BLAS path: for each (batch, head), all scores by one
/// sgemm, a row softmax in place, and the output by a second sgemm.
///
/// Scratch is `Lq · Lk` floats per worker thread, so this path suits short
/// and medium sequences and callers that want the attention weights. Under a
/// sliding window it scores blocks of query rows against only the keys their
/// window can reach, in O(L · window) time and memory.
enum MaterializedKernel {
    /// The query rows scored at once when a sliding window is present. Each
    /// block scores only the keys its window union can see, so the scratch
    /// holds `windowRowBlockSize · (windowRowBlockSize + left + right)`
    /// floats instead of `Lq · Lk`.
    static let windowRowBlockSize = 256

    /// Returns the query rows scored at once: all of them, or a block under a window.
    static func rowBlockSize(_ problem: AttentionProblem) -> Int {
        problem.window == nil ? problem.queryLength : Swift.min(problem.queryLength, windowRowBlockSize)
    }

    /// Returns the maximum number of keys one row block can see: all of them, or the
    /// width of the window union of a block.
    static func scoredKeyCount(_ problem: AttentionProblem) -> Int {
        guard let window = problem.window else { return problem.keyLength }
        let span = saturatingSum(saturatingSum(rowBlockSize(problem), window.left), window.right)
        return Swift.min(problem.keyLength, span)
    }

    /// Returns the scratch floats one worker needs, or `Int.max` when the count
    /// overflows; the plan rejects such a problem before it runs.
    static func scratchCount(_ problem: AttentionProblem) -> Int {
        let gather = problem.keySelections.contains { if case .gathered = $0 { true } else { false } }
        let packedKeys = gather
            ? saturatingProduct(problem.keyLength, saturatingSum(problem.keyDimension, problem.valueDimension)) : 0
        let rows = rowBlockSize(problem)
        return saturatingSum(saturatingSum(saturatingProduct(rows, scoredKeyCount(problem)), rows), packedKeys)
    }

    static func run(_ problem: AttentionProblem, threadCount: Int) throws {
        let items = problem.batchSize * problem.queryHeads
        // Dv = 0 still runs when the log-sum-exp or the weights are requested,
        // because they do not depend on it. Otherwise there is nothing to
        // write, however many rows there are.
        if items == 0 || problem.queryLength == 0 { return }
        if problem.valueDimension == 0 && problem.logSumExp == nil && problem.weights == nil { return }
        let workers = Swift.min(threadCount, items)
        let scratchPerWorker = scratchCount(problem)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, workers * scratchPerWorker))
        defer { scratch.deallocate() }

        try parallelForThrowing(count: items, threadCount: workers) { worker, item in
            try runHead(
                problem, batch: item / problem.queryHeads, head: item % problem.queryHeads,
                scratch: scratch + worker * scratchPerWorker)
        }
    }

    private static func runHead(_ problem: AttentionProblem, batch: Int, head: Int, scratch: UnsafeMutablePointer<Float>) throws {
        let selection = problem.keySelections[batch]
        let kvHead = problem.keyValueHead(forQueryHead: head)
        let rowBlockSize = rowBlockSize(problem)
        let scores = scratch
        let sums = scratch + rowBlockSize * scoredKeyCount(problem)

        // Only the selected keys are read: a prefix in place, or a gathered
        // copy when padding sits between real keys.
        var (keyMatrix, valueMatrix) = problem.keyValueMatrices(batch: batch, kvHead: kvHead)
        switch selection {
        case .prefix(let count):
            keyMatrix = keyMatrix.rows(0, count: count)
            valueMatrix = valueMatrix.rows(0, count: count)
        case .gathered(let positions):
            (keyMatrix, valueMatrix) = problem.gatherKeyValues(
                keyMatrix: keyMatrix, valueMatrix: valueMatrix, positions: positions, into: sums + rowBlockSize)
        }

        var firstRow = 0
        while firstRow < problem.queryLength {
            let rowCount = Swift.min(rowBlockSize, problem.queryLength - firstRow)
            // Keys outside this range are hidden from every row of the block
            // by the causal mask or the window.
            let keyRange = problem.visibleKeyRange(
                firstRow: firstRow, rowCount: rowCount, selection: selection, firstKey: 0, keyCount: selection.count)
            try runRowBlock(
                problem, batch: batch, head: head, firstRow: firstRow, rowCount: rowCount,
                selection: selection, keyRange: keyRange,
                keyMatrix: keyMatrix.rows(keyRange.lowerBound, count: keyRange.count),
                valueMatrix: valueMatrix.rows(keyRange.lowerBound, count: keyRange.count),
                scores: scores, sums: sums)
            firstRow += rowCount
        }
    }

    /// Computes the output rows `firstRow..<firstRow+rowCount` from the
    /// selected keys in `keyRange`, whose rows `keyMatrix` and `valueMatrix`
    /// hold.
    private static func runRowBlock(
        _ problem: AttentionProblem, batch: Int, head: Int, firstRow: Int, rowCount: Int,
        selection: KeySelection, keyRange: Range<Int>, keyMatrix: MatrixOperand, valueMatrix: MatrixOperand,
        scores: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
    ) throws {
        let n = keyRange.count
        let query = problem.query.pointer(batch, head)
        let output = problem.output.pointer(batch, head)
        let outputMatrix = MutableMatrixOperand(
            base: output.base + firstRow * output.rowStride, rows: rowCount, columns: problem.valueDimension,
            rowStride: output.rowStride, columnStride: output.columnStride)

        // 1. Raw scores q · k for every query of the block and key of the
        //    range, by sgemm.
        let scoreMatrix = MutableMatrixOperand(base: scores, rows: rowCount, columns: n, rowStride: n, columnStride: 1)
        let queryMatrix = MatrixOperand(
            base: query.base + firstRow * query.rowStride, rows: rowCount, columns: problem.keyDimension,
            rowStride: query.rowStride, columnStride: query.columnStride)
        try BLAS.gemm(queryMatrix, keyMatrix.transposed, into: scoreMatrix)

        // 2. Scale and masks: hidden keys become -infinity.
        problem.scaleAndMask(
            tile: scores, tileStride: n, batch: batch, head: head, firstRow: firstRow, rowCount: rowCount,
            selection: selection, firstKey: keyRange.lowerBound, keyCount: n)

        // 3. Softmax numerators exp(s - max) per row, and their sums. A row
        //    whose maximum is -infinity has no visible key: all zeros.
        var rowMaxima = [Float](repeating: -.infinity, count: rowCount)
        for row in 0..<rowCount {
            let rowScores = scores + row * n
            let maximum = Softmax.maximum(rowScores, count: n)
            rowMaxima[row] = maximum
            if maximum == -.infinity {
                rowScores.update(repeating: 0, count: n)
                sums[row] = 0
            } else {
                sums[row] = Softmax.exponentiate(rowScores, count: n, maximum: maximum)
            }
        }

        // 4. Weighted sum of the values by sgemm.
        try NonFiniteValues.weightedSum(weights: scoreMatrix.readOnly, values: valueMatrix, into: outputMatrix, beta: 0)

        // 5. Normalize each output row by its sum; rows without a visible key
        //    are exact zeros even if a value behind the mask is not finite.
        for row in 0..<rowCount {
            let outputRow = outputMatrix.base + row * output.rowStride
            let sum = sums[row]
            if sum == 0 {
                for d in 0..<problem.valueDimension { outputRow[d * output.columnStride] = 0 }
            } else {
                let reciprocal = 1 / sum
                for d in 0..<problem.valueDimension { outputRow[d * output.columnStride] *= reciprocal }
            }
        }

        // 6. Optional outputs: log-sum-exp and the normalized weights.
        if let logSumExp = problem.logSumExp {
            for row in 0..<rowCount {
                logSumExp.storage.baseAddress[logSumExp.offset + batch * logSumExp.strides[0]
                    + head * logSumExp.strides[1] + (firstRow + row) * logSumExp.strides[2]] =
                    sums[row] == 0 ? -.infinity : rowMaxima[row] + log(sums[row])
            }
        }
        if let weights = problem.weights {
            let weightMatrix = weights.pointer(batch, head)
            for row in 0..<rowCount {
                let weightRow = weightMatrix.base + (firstRow + row) * weightMatrix.rowStride
                let reciprocal = sums[row] == 0 ? 0 : 1 / sums[row]
                if n < problem.keyLength {
                    for position in 0..<problem.keyLength { weightRow[position * weightMatrix.columnStride] = 0 }
                }
                for c in 0..<n {
                    weightRow[selection.key(keyRange.lowerBound + c) * weightMatrix.columnStride] = scores[row * n + c] * reciprocal
                }
            }
        }
    }
}

extension AttentionProblem {
    /// Returns the key `[Lk, Dk]` and value `[Lk, Dv]` matrices of one batch item and
    /// key/value head.
    func keyValueMatrices(batch: Int, kvHead: Int) -> (key: MatrixOperand, value: MatrixOperand) {
        let key = self.key.pointer(batch, kvHead)
        let value = self.value.pointer(batch, kvHead)
        return (
            MatrixOperand(base: key.base, rows: keyLength, columns: keyDimension, rowStride: key.rowStride, columnStride: key.columnStride),
            MatrixOperand(base: value.base, rows: keyLength, columns: valueDimension, rowStride: value.rowStride, columnStride: value.columnStride)
        )
    }

    /// Copies the key and value rows at `positions` into `destination`,
    /// packed row-major; padded rows are never read.
    func gatherKeyValues(
        keyMatrix: MatrixOperand, valueMatrix: MatrixOperand, positions: [Int], into destination: UnsafeMutablePointer<Float>
    ) -> (key: MatrixOperand, value: MatrixOperand) {
        let n = positions.count
        let packedKey = MutableMatrixOperand(base: destination, rows: n, columns: keyDimension, rowStride: keyDimension, columnStride: 1)
        let packedValue = MutableMatrixOperand(
            base: destination + n * keyDimension, rows: n, columns: valueDimension, rowStride: valueDimension, columnStride: 1)
        for (row, position) in positions.enumerated() {
            BLAS.copy(keyMatrix.rows(position, count: 1), into: packedKey.rows(row, count: 1))
            BLAS.copy(valueMatrix.rows(position, count: 1), into: packedValue.rows(row, count: 1))
        }
        return (packedKey.readOnly, packedValue.readOnly)
    }
}
