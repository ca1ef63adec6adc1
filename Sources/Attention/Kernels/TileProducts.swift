// Shape legend, per tile of the tiled path:
//   query rows [rows, Dk], key rows [keys, Dk], value rows [keys, Dv]
//   scores and weights [rows, keys], accumulator [rows, Dv]

import CAttentionKernels
import Foundation

/// The two products of one tile step of the tiled path.
///
/// A tile with many query rows runs both products on sgemm. A tile with at
/// most `streamingRowLimit` rows, which is what decoding produces, runs them
/// on the streaming kernels of `CAttentionKernels` instead. OpenBLAS packs
/// every key and value row before multiplying, and with one query row that
/// copy costs more than the product. The streaming kernels read each key
/// and value row from memory once. The choice depends only on the number
/// of rows, never on strides or threads: operands whose rows are not
/// contiguous are copied into contiguous scratch first, so a strided view and
/// its contiguous copy give the same bits.
enum TileProducts {
    /// The maximum number of query rows of a tile on the streaming kernels.
    /// With more rows, each key row is used often enough that sgemm's
    /// packing pays for itself.
    static let streamingRowLimit = 8

    /// Keys per copied chunk when key or value rows are not contiguous.
    static let copiedKeysPerChunk = 256

    /// Computes the scores `scores = alpha · (query · keysᵀ)`.
    ///
    /// - Parameters:
    ///   - query: `[rows, Dk]`.
    ///   - keys: `[keys, Dk]`.
    ///   - scores: `[rows, keys]`, stored contiguously, not overlapping the
    ///     inputs.
    ///   - alpha: the factor of every score; the tiled path passes the
    ///     softmax scale where no element mask needs the unscaled scores.
    ///   - streamingRowLimit: the maximum number of rows for the streaming
    ///     kernel; 0 keeps every tile on sgemm.
    static func scores(
        query: MatrixOperand, keys: MatrixOperand, into scores: MutableMatrixOperand, alpha: Float,
        streamingRowLimit: Int
    ) throws {
        precondition(query.columns == keys.columns && scores.rows == query.rows && scores.columns == keys.rows)
        precondition(scores.columnStride == 1 && scores.rowStride == scores.columns, "score tiles are contiguous scratch")
        guard query.rows <= streamingRowLimit else {
            // With beta 0, OpenBLAS clears the tile in a pass of its own that
            // took about 6% of the tiled path at D = 64 on a Zen 3 machine.
            // Clearing it with memset and passing beta 1 gives the same bits
            // and made that path about 5% faster.
            memset(scores.base, 0, scores.rows * scores.columns * MemoryLayout<Float>.stride)
            try BLAS.gemm(query, keys.transposed, into: scores, alpha: alpha, beta: 1)
            return
        }
        let depth = query.columns
        withContiguousRows(query) { query in
            forEachChunk(of: keys) { first, chunk in
                attention_few_row_scores(
                    query.base, query.rowStride, chunk.base, chunk.rowStride, scores.base + first, scores.rowStride,
                    query.rows, chunk.rows, depth, alpha)
            }
        }
    }

    /// Computes `output = weights · values + beta · output`. A value row
    /// that contains NaN or an infinity reaches only the output rows that
    /// give it a nonzero weight, on either kernel.
    ///
    /// - Parameters:
    ///   - weights: `[rows, keys]` probabilities with contiguous rows; hidden
    ///     keys have exact zeros.
    ///   - values: `[keys, Dv]`.
    ///   - output: `[rows, Dv]` with contiguous rows, not overlapping the
    ///     inputs.
    ///   - beta: 0 or 1.
    ///   - streamingRowLimit: as for `scores`.
    static func weightedSum(
        weights: MatrixOperand, values: MatrixOperand, into output: MutableMatrixOperand, beta: Float,
        streamingRowLimit: Int
    ) throws {
        precondition(weights.columns == values.rows && output.rows == weights.rows && output.columns == values.columns)
        guard weights.rows <= streamingRowLimit else {
            try NonFiniteValues.weightedSum(weights: weights, values: values, into: output, beta: beta)
            return
        }
        precondition(weights.columnStride == 1 && output.columnStride == 1, "weight and accumulator tiles are contiguous scratch")
        // Chunks after the first add to what the earlier ones left; the sum
        // of each element still runs over the keys in increasing order.
        var chunkBeta = beta
        forEachChunk(of: values) { first, chunk in
            attention_few_row_weighted_sum(
                weights.base + first, weights.rowStride, chunk.base, chunk.rowStride, output.base, output.rowStride,
                weights.rows, chunk.rows, values.columns, chunkBeta)
            chunkBeta = 1
        }
    }

    /// Calls `body` with `matrix`, or with a contiguous copy when its rows
    /// are not contiguous.
    private static func withContiguousRows(_ matrix: MatrixOperand, _ body: (MatrixOperand) -> Void) {
        if matrix.columnStride == 1 || matrix.columns <= 1 {
            body(matrix)
            return
        }
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, matrix.rows * matrix.columns))
        defer { copy.deallocate() }
        let contiguous = MutableMatrixOperand(
            base: copy, rows: matrix.rows, columns: matrix.columns, rowStride: matrix.columns, columnStride: 1)
        BLAS.copy(matrix, into: contiguous)
        body(contiguous.readOnly)
    }

    /// Calls `body` with the first row index and the rows of `matrix`: all
    /// at once when its rows are contiguous, otherwise in contiguous copies
    /// of at most `copiedKeysPerChunk` rows, so the copy stays small.
    private static func forEachChunk(of matrix: MatrixOperand, _ body: (Int, MatrixOperand) -> Void) {
        // An empty matrix still makes one call, so that beta 0 clears the
        // output of a weighted sum over no keys.
        if matrix.columnStride == 1 || matrix.columns <= 1 || matrix.rows == 0 {
            body(0, matrix)
            return
        }
        let chunkRows = Swift.min(copiedKeysPerChunk, matrix.rows)
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, chunkRows * matrix.columns))
        defer { copy.deallocate() }
        var first = 0
        while first < matrix.rows {
            let rows = Swift.min(chunkRows, matrix.rows - first)
            let chunk = MutableMatrixOperand(base: copy, rows: rows, columns: matrix.columns, rowStride: matrix.columns, columnStride: 1)
            BLAS.copy(matrix.rows(first, count: rows), into: chunk)
            body(first, chunk.readOnly)
            first += rows
        }
    }
}
