// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   per work item (batch, head, query block, key part):
//     scores tile  [rowsInBlock, keysInBlock]
//     accumulator  [rowsInBlock, Dv]
//     runningMax, runningSum  [rowsInBlock]

import Foundation

/// The tiled path: each work item is one block of query rows of one
/// (batch, head) and one part of its keys. It streams over blocks of keys with
/// an online softmax, so memory is O(block size) instead of O(Lq · Lk).
enum TiledKernel {
    static let isAvailable = true

    /// - Throws: `AttentionError` when the scratch of the chosen blocks
    ///   would exceed half of the machine's physical memory.
    static func plan(for problem: AttentionProblem, options: ExecutionOptions, threadCount: Int, reason: String) throws -> AttentionPlan {
        let blocking = TiledBlocking(problem: problem, options: options)
        let workers = Swift.max(1, Swift.min(threadCount, blocking.workItemCount(problem)))
        // Requested blocks as long as the sequences, or stride-0 views with
        // huge head dimensions, can ask for more scratch than the machine
        // has, or more bytes than Int counts. The count saturates at Int.max
        // and is checked before anything is allocated.
        let floats = saturatingSum(
            saturatingProduct(ScratchLayout.saturatingCount(problem: problem, blocking: blocking), workers),
            PartialResults.floatCount(problem, blocking: blocking))
        let scratchBytes = saturatingProduct(floats, MemoryLayout<Float>.stride)
        let limit = scratchMemoryLimit
        guard scratchBytes < Int.max, scratchBytes <= limit else {
            let requested = options.queryBlockSize != nil || options.keyBlockSize != nil
            throw AttentionError(
                .sizeLimitExceeded, argument: requested ? "options.keyBlockSize" : "value",
                expected: "tiled scratch that fits in half the physical memory (\(limit) bytes)",
                actual: (scratchBytes == Int.max ? "more than Int.max bytes" : "\(scratchBytes) bytes")
                    + " for query blocks of \(blocking.queryBlockSize), key blocks of \(blocking.keyBlockSize),"
                    + " Dk = \(problem.keyDimension), Dv = \(problem.valueDimension) and \(workers) workers",
                fix: requested ? "Pass smaller options.queryBlockSize and options.keyBlockSize, or nil for the defaults" : "")
        }
        return AttentionPlan(
            path: .tiled, reason: reason, threadCount: threadCount,
            queryBlockSize: blocking.queryBlockSize, keyBlockSize: blocking.keyBlockSize,
            keySplitCount: blocking.keySplitCount,
            streamingRowLimit: options.sgemmOnly ? 0 : TileProducts.streamingRowLimit,
            scratchBytes: scratchBytes, masks: problem.planMasks)
    }

    /// Offsets of each worker's scratch arrays, in floats.
    struct ScratchLayout {
        let scores: Int
        let accumulator: Int
        let runningMax: Int
        let runningSum: Int
        let packedKeys: Int
        let count: Int

        init(problem: AttentionProblem, blocking: TiledBlocking) {
            let rows = Swift.min(blocking.queryBlockSize, Swift.max(problem.queryLength, 1))
            let keys = Swift.min(blocking.keyBlockSize, Swift.max(problem.keyLength, 1))
            scores = 0
            accumulator = scores + rows * keys
            runningMax = accumulator + rows * problem.valueDimension
            runningSum = runningMax + rows
            packedKeys = runningSum + rows
            let gather = Self.gathersKeys(problem)
            count = packedKeys + (gather ? keys * (problem.keyDimension + problem.valueDimension) : 0)
        }

        /// Returns `count` for the same problem and blocking, or `Int.max`
        /// when it does not fit `Int`.
        static func saturatingCount(problem: AttentionProblem, blocking: TiledBlocking) -> Int {
            let rows = Swift.min(blocking.queryBlockSize, Swift.max(problem.queryLength, 1))
            let keys = Swift.min(blocking.keyBlockSize, Swift.max(problem.keyLength, 1))
            let headWidth = saturatingSum(problem.keyDimension, problem.valueDimension)
            return [
                saturatingProduct(rows, keys),
                saturatingProduct(rows, problem.valueDimension),
                saturatingProduct(rows, 2),
                gathersKeys(problem) ? saturatingProduct(keys, headWidth) : 0,
            ].reduce(0, saturatingSum)
        }

        /// Returns whether any batch item gathers its keys into scratch.
        static func gathersKeys(_ problem: AttentionProblem) -> Bool {
            problem.keySelections.contains { if case .gathered = $0 { true } else { false } }
        }
    }

    /// One work item's place in the problem. Within a (batch, head), items
    /// run from the last query block to the first. Under a causal mask the
    /// last blocks see the most keys, so the items left for the end, when
    /// some threads are already idle, are the short ones.
    struct WorkItem {
        let batch: Int
        let head: Int
        let queryBlock: Int
        let part: Int

        init(index: Int, problem: AttentionProblem, blocking: TiledBlocking) {
            var rest = index
            part = rest % blocking.keySplitCount
            rest /= blocking.keySplitCount
            let blocks = blocking.queryBlockCount(problem)
            queryBlock = blocks - 1 - rest % blocks
            rest /= blocks
            head = rest % problem.queryHeads
            batch = rest / problem.queryHeads
        }
    }

    /// The online-softmax state of one block of query rows: the unnormalized
    /// weighted sum of values and, per row, the running maximum and sum.
    struct SoftmaxState {
        let accumulator: UnsafeMutablePointer<Float>
        let runningMax: UnsafeMutablePointer<Float>
        let runningSum: UnsafeMutablePointer<Float>
    }

    static func run(_ problem: AttentionProblem, plan: AttentionPlan) throws {
        let blocking = TiledBlocking(
            queryBlockSize: plan.queryBlockSize, keyBlockSize: plan.keyBlockSize, keySplitCount: plan.keySplitCount)
        let items = blocking.workItemCount(problem)
        if items == 0 || problem.valueDimension == 0 && problem.logSumExp == nil { return }
        let layout = ScratchLayout(problem: problem, blocking: blocking)
        let workers = Swift.min(plan.threadCount, items)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, workers * layout.count))
        defer { scratch.deallocate() }
        let partials = blocking.keySplitCount > 1 ? PartialResults(problem, blocking: blocking) : nil
        defer { partials?.deallocate() }

        // 1. Every (batch, head, query block, key part) streams over its keys.
        try parallelForThrowing(count: items, threadCount: workers) { worker, index in
            let item = WorkItem(index: index, problem: problem, blocking: blocking)
            let firstRow = item.queryBlock * blocking.queryBlockSize
            let rowsInBlock = Swift.min(blocking.queryBlockSize, problem.queryLength - firstRow)
            let workerScratch = scratch + worker * layout.count
            let state = partials?.state(ofItem: index, rows: rowsInBlock) ?? SoftmaxState(
                accumulator: workerScratch + layout.accumulator,
                runningMax: workerScratch + layout.runningMax,
                runningSum: workerScratch + layout.runningSum)
            let selected = problem.keySelections[item.batch].count
            try streamKeys(
                problem, batch: item.batch, head: item.head, firstRow: firstRow, rowsInBlock: rowsInBlock,
                keys: blocking.keyRange(part: item.part, selectedCount: selected), keyBlockSize: blocking.keyBlockSize,
                state: state, scores: workerScratch + layout.scores, packedKeys: workerScratch + layout.packedKeys,
                streamingRowLimit: plan.streamingRowLimit)
            if partials == nil {
                writeOutput(problem, batch: item.batch, head: item.head, firstRow: firstRow, rowsInBlock: rowsInBlock, state: state)
            }
        }

        // 2. Split keys: merge the parts of each (batch, head, query block).
        if let partials {
            partials.merge(threadCount: workers)
        }
    }

    /// Streams the selected keys `keys` past one block of query rows and
    /// leaves the unnormalized result in `state`.
    ///
    /// When no key is visible to a row, its running maximum stays `-infinity`,
    /// its sum 0 and its accumulator row is not meaningful.
    static func streamKeys(
        _ problem: AttentionProblem, batch: Int, head: Int, firstRow: Int, rowsInBlock: Int,
        keys: Range<Int>, keyBlockSize: Int, state: SoftmaxState,
        scores: UnsafeMutablePointer<Float>, packedKeys: UnsafeMutablePointer<Float>, streamingRowLimit: Int
    ) throws {
        let dv = problem.valueDimension
        let selection = problem.keySelections[batch]
        let kvHead = problem.keyValueHead(forQueryHead: head)
        let accumulator = state.accumulator
        let runningMax = state.runningMax
        let runningSum = state.runningSum
        runningMax.update(repeating: -.infinity, count: rowsInBlock)
        runningSum.update(repeating: 0, count: rowsInBlock)

        let query = problem.query.pointer(batch, head)
        let queryMatrix = MatrixOperand(
            base: query.base + firstRow * query.rowStride, rows: rowsInBlock, columns: problem.keyDimension,
            rowStride: query.rowStride, columnStride: query.columnStride)
        let (keyMatrix, valueMatrix) = problem.keyValueMatrices(batch: batch, kvHead: kvHead)
        let accumulatorMatrix = MutableMatrixOperand(base: accumulator, rows: rowsInBlock, columns: dv, rowStride: dv, columnStride: 1)

        // Without element masks, a sliding window or gathered keys, the only
        // mask is causal, and it hides a suffix of each row. Then no masking
        // pass runs, and the scale goes to the score product or the softmax.
        var onlyCausal = !problem.hasElementMask && problem.window == nil
        if case .gathered = selection { onlyCausal = false }
        let scale = problem.scale
        // sgemm applies the scale as alpha only when 0 < |scale| <= 1, and
        // the softmax applies any other scale:
        // - OpenBLAS returns without multiplying when alpha is 0, so a NaN or
        //   an infinity in the inputs would not turn 0 · (q · k) into NaN.
        // - OpenBLAS splits a long head dimension into blocks and adds alpha
        //   times each block's partial sum, so a scale above 1 could overflow
        //   a partial sum whose full dot product stays finite.
        let scaleInProduct = onlyCausal && scale != 0 && abs(scale) <= 1
        let productScale: Float = scaleInProduct ? scale : 1
        let softmaxScale: Float = onlyCausal && !scaleInProduct ? scale : 1

        var accumulatorIsWritten = false

        /// Steps 1 to 4 for the query rows `rows` of the block and the
        /// `keyCount` selected keys from `tileFirstKey`, whose key and value
        /// rows are `keyTile` and `valueTile`.
        func update(rows: Range<Int>, tileFirstKey: Int, keyCount: Int, keyTile: MatrixOperand, valueTile: MatrixOperand) throws {
            let rowCount = rows.count
            let firstTileRow = rows.lowerBound
            if !accumulatorIsWritten && firstTileRow > 0 {
                // Rows above the tile keep their accumulator, so it must hold
                // zeros before the tile's rows are added.
                accumulator.update(repeating: 0, count: rowsInBlock * dv)
                accumulatorIsWritten = true
            }

            // 1. Scores of the tile by sgemm, or by the streaming kernel for a
            //    tile of few rows: productScale · (q · k).
            let scoreMatrix = MutableMatrixOperand(
                base: scores, rows: rowCount, columns: keyCount, rowStride: keyCount, columnStride: 1)
            try TileProducts.scores(
                query: queryMatrix.rows(firstTileRow, count: rowCount), keys: keyTile, into: scoreMatrix,
                alpha: productScale, streamingRowLimit: streamingRowLimit)

            // 2. Scale and masks. With element masks, hidden keys become
            //    -infinity here. With at most a causal mask, step 1 or step 3
            //    applies the scale, and step 3 hides the keys past the
            //    diagonal.
            if !onlyCausal {
                problem.scaleAndMask(
                    tile: scores, tileStride: keyCount, batch: batch, head: head,
                    firstRow: firstRow + firstTileRow, rowCount: rowCount,
                    selection: selection, firstKey: tileFirstKey, keyCount: keyCount)
            }

            // 3. Online softmax update, row by row. Invariant after the step:
            //    runningMax is the maximum visible score so far, runningSum is
            //    the sum of exp(score - runningMax) over visible keys so far,
            //    and the tile row contains exp(score - runningMax), exactly 0 at
            //    hidden keys, ready to be added to the rescaled accumulator.
            //    A NaN score makes its row's maximum NaN, which spreads to
            //    that row's output and no other.
            let causalRows = onlyCausal && problem.causal != nil
            let firstRowVisible = causalRows ? problem.causalLimit(forQuery: firstRow + firstTileRow) - tileFirstKey + 1 : keyCount
            Softmax.updateTile(
                scores, rows: rowCount, keys: keyCount,
                causalFirstRowVisibleCount: causalRows ? firstRowVisible : nil, scale: softmaxScale,
                state: SoftmaxState(
                    accumulator: accumulator + firstTileRow * dv, runningMax: runningMax + firstTileRow,
                    runningSum: runningSum + firstTileRow),
                valueDimension: dv, accumulatorIsWritten: accumulatorIsWritten)

            // 4. Weighted sum of the tile's values, added to the accumulator;
            //    the first tile overwrites it, which saves a zero fill. Values
            //    that are not finite reach only rows that give them weight.
            let target = accumulatorMatrix.rows(firstTileRow, count: rowCount)
            let beta: Float = accumulatorIsWritten ? 1 : 0
            try TileProducts.weightedSum(
                weights: scoreMatrix.readOnly, values: valueTile, into: target, beta: beta,
                streamingRowLimit: streamingRowLimit)
            accumulatorIsWritten = true
        }

        var firstKey = keys.lowerBound
        while firstKey < keys.upperBound {
            let configuredKeys = Swift.min(keyBlockSize, keys.upperBound - firstKey)
            // The causal mask and the sliding window hide keys outside this
            // range from every row of the block, so they are never computed.
            let visible = problem.visibleKeyRange(
                firstRow: firstRow, rowCount: rowsInBlock, selection: selection,
                firstKey: firstKey, keyCount: configuredKeys)
            if visible.isEmpty {
                // Keys past the last row's upper bound stay hidden in every
                // later block; a block before the window is only skipped.
                let lastRowUpper = problem.visiblePositions(forQuery: firstRow + rowsInBlock - 1).upper
                if selection.key(firstKey) > lastRowUpper { break }
                firstKey += configuredKeys
                continue
            }
            let tileStart = visible.lowerBound
            let keysInBlock = visible.count

            var keyTile: MatrixOperand
            var valueTile: MatrixOperand
            switch selection {
            case .prefix:
                keyTile = keyMatrix.rows(tileStart, count: keysInBlock)
                valueTile = valueMatrix.rows(tileStart, count: keysInBlock)
            case .gathered(let positions):
                (keyTile, valueTile) = problem.gatherKeyValues(
                    keyMatrix: keyMatrix, valueMatrix: valueMatrix,
                    positions: Array(positions[visible]), into: packedKeys)
            }

            // A block crosses the causal diagonal when its first row cannot
            // see its last key. Such a block runs in narrow key chunks, each
            // for only the rows that see at least one of the chunk's keys, so
            // little work goes into scores the mask hides.
            let firstRowLimit = problem.causalLimit(forQuery: firstRow)
            let crossesDiagonal = problem.causal != nil && selection.key(visible.upperBound - 1) > firstRowLimit
            let chunkSize = crossesDiagonal ? Swift.min(TiledBlocking.diagonalChunkSize, keysInBlock) : keysInBlock
            var chunkStart = 0
            while chunkStart < keysInBlock {
                let chunkKeys = Swift.min(chunkSize, keysInBlock - chunkStart)
                // The causal limit grows by one per row, so the first row that
                // sees key position p is p - firstRowLimit rows down.
                let firstVisibleRow = crossesDiagonal ? Swift.max(0, selection.key(tileStart + chunkStart) - firstRowLimit) : 0
                try update(
                    rows: firstVisibleRow..<rowsInBlock, tileFirstKey: tileStart + chunkStart, keyCount: chunkKeys,
                    keyTile: keyTile.rows(chunkStart, count: chunkKeys), valueTile: valueTile.rows(chunkStart, count: chunkKeys))
                chunkStart += chunkKeys
            }

            firstKey += configuredKeys
            if visible.upperBound < firstKey { break }
        }
        if !accumulatorIsWritten {
            accumulator.update(repeating: 0, count: rowsInBlock * dv)
        }
    }

    /// Normalizes a finished block into the output and writes its
    /// log-sum-exp. A row without a visible key is zero, with log-sum-exp
    /// -infinity.
    static func writeOutput(
        _ problem: AttentionProblem, batch: Int, head: Int, firstRow: Int, rowsInBlock: Int, state: SoftmaxState
    ) {
        let dv = problem.valueDimension
        let output = problem.output.pointer(batch, head)
        for r in 0..<rowsInBlock {
            let outputRow = output.base + (firstRow + r) * output.rowStride
            let sum = state.runningSum[r]
            let reciprocal: Float = sum == 0 ? 0 : 1 / sum
            let accumulatorRow = state.accumulator + r * dv
            if output.columnStride == 1 {
                for d in 0..<dv { outputRow[d] = sum == 0 ? 0 : accumulatorRow[d] * reciprocal }
            } else {
                for d in 0..<dv { outputRow[d * output.columnStride] = sum == 0 ? 0 : accumulatorRow[d] * reciprocal }
            }
            if let logSumExp = problem.logSumExp {
                logSumExp.storage.baseAddress[logSumExp.offset + batch * logSumExp.strides[0]
                    + head * logSumExp.strides[1] + (firstRow + r) * logSumExp.strides[2]] =
                    sum == 0 ? -.infinity : state.runningMax[r] + log(sum)
            }
        }
    }
}
