/// The weighted sum `P · V` for value tiles that may hold NaN or infinity.
///
/// sgemm computes `0 · NaN = NaN`, so a non-finite value behind a mask would
/// reach every row of the tile even though those rows give it weight 0. Rows
/// of `V` with a non-finite element are therefore left out of the sgemm and
/// added afterwards only to the output rows that give them a nonzero weight.
/// A key hidden from a query row thus never affects that row.
enum NonFiniteValues {
    /// The rows of `matrix` that contain NaN or an infinity.
    static func rows(of matrix: MatrixOperand) -> [Int] {
        var result: [Int] = []
        for row in 0..<matrix.rows {
            let base = matrix.base + row * matrix.rowStride
            // `x * 0` is 0 for finite x and NaN for NaN or infinity, so one
            // sum per row tells whether any element is not finite.
            var probe: Float = 0
            if matrix.columnStride == 1 {
                for column in 0..<matrix.columns { probe += base[column] * 0 }
            } else {
                for column in 0..<matrix.columns { probe += base[column * matrix.columnStride] * 0 }
            }
            if probe != 0 || probe.isNaN { result.append(row) }
        }
        return result
    }

    /// Computes `output = weights · values + beta · output` by sgemm, treating
    /// rows of `values` with non-finite elements as described above.
    ///
    /// - Parameters:
    ///   - weights: `[rows, n]` probabilities; hidden keys hold exact zeros.
    ///   - values: `[n, Dv]`.
    ///   - output: `[rows, Dv]`.
    static func weightedSum(
        weights: MatrixOperand, values: MatrixOperand, into output: MutableMatrixOperand, beta: Float
    ) throws {
        // A vectorized check sends the usual, finite tile straight to sgemm.
        if (values.columnStride == 1 || values.columns <= 1) && Exponential.allFinite(values) {
            try BLAS.gemm(weights, values, into: output, beta: beta)
            return
        }
        let badRows = rows(of: values)
        if badRows.isEmpty {
            try BLAS.gemm(weights, values, into: output, beta: beta)
            return
        }

        // Copy the values with the non-finite rows zeroed, run sgemm on the
        // copy, then add the non-finite rows where their weight is nonzero.
        let n = values.rows
        let dv = values.columns
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, n * dv))
        defer { scratch.deallocate() }
        let cleaned = MutableMatrixOperand(base: scratch, rows: n, columns: dv, rowStride: dv, columnStride: 1)
        BLAS.copy(values, into: cleaned)
        for row in badRows {
            (scratch + row * dv).update(repeating: 0, count: dv)
        }
        try BLAS.gemm(weights, cleaned.readOnly, into: output, beta: beta)

        for key in badRows {
            let valueRow = values.base + key * values.rowStride
            for row in 0..<weights.rows {
                let weight = weights.base[row * weights.rowStride + key * weights.columnStride]
                if weight == 0 { continue }
                let outputRow = output.base + row * output.rowStride
                for d in 0..<dv {
                    outputRow[d * output.columnStride] += weight * valueRow[d * values.columnStride]
                }
            }
        }
    }
}
