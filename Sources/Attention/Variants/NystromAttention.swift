// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   per work item (batch, query head), with n real keys and m landmarks:
//     landmark queries Q̃ [m, Dk], landmark keys K̃ [m, Dk]
//     A = softmax(scale · Q̃ K̃ᵀ)   [m, m]
//     B = softmax(scale · Q̃ Kᵀ)    [m, n]
//     F = softmax(scale · Q K̃ᵀ)    [R, m] per block of R query rows
//     T = A⁺ · (B · V)             [m, Dv]

import Foundation

/// Nyström attention, as in the Nyströmformer: the softmax attention matrix is approximated through `m` landmarks as
///
///     softmax(scale · Q Kᵀ) · V  ≈  F · A⁺ · (B · V)
///
/// with the three small softmax kernels of the shape legend, each computed
/// by sgemm and a row softmax.
///
/// Landmarks are segment means. A sequence of `L` rows splits into `m`
/// consecutive segments, segment `s` covering rows
/// `⌊s·L/m⌋ ..< ⌊(s+1)·L/m⌋`, so when `m` does not divide `L` the segments
/// differ in length by at most one row and none is empty. Landmark queries
/// come from all `Lq` query rows, landmark keys from the real keys only.
///
/// `A⁺` is the Moore–Penrose pseudo-inverse from the singular value
/// decomposition of `A` (`LAPACKE_sgesdd`), dropping singular values below
/// `m · ε · σ_max` with `ε` the float32 machine epsilon (see
/// `pseudoInverse`). When `m` equals both `Lq` and the real key count, every
/// segment is one row, `F = A = B = P` (the exact attention matrix), and the
/// output is `P P⁺ P V = P V`: exact attention up to rounding.
///
/// - Complexity: O(B·Hq·((Lq + n)·m·(Dk + Dv) + m³)) time; scratch per
///   thread O(m·(n + R + Dk + Dv) + m²), plus O(Lk·(Dk + Dv)) when padded
///   keys sit between real ones.
enum NystromAttention {
    /// Offsets of each worker's scratch arrays, in floats.
    struct ScratchLayout {
        let packedKeys: Int
        let landmarkQueries: Int
        let landmarkKeys: Int
        let landmarkKernel: Int
        let keyKernel: Int
        let landmarkValues: Int
        let combinedValues: Int
        let queryKernel: Int
        let count: Int

        init(problem: AttentionProblem, landmarks m: Int, rowBlockSize: Int) {
            let rows = Swift.min(rowBlockSize, Swift.max(problem.queryLength, 1))
            let gather = problem.keySelections.contains { if case .gathered = $0 { true } else { false } }
            packedKeys = 0
            landmarkQueries = packedKeys + (gather ? problem.keyLength * (problem.keyDimension + problem.valueDimension) : 0)
            landmarkKeys = landmarkQueries + m * problem.keyDimension
            landmarkKernel = landmarkKeys + m * problem.keyDimension
            keyKernel = landmarkKernel + m * m
            landmarkValues = keyKernel + m * problem.keyLength
            combinedValues = landmarkValues + m * problem.valueDimension
            queryKernel = combinedValues + m * problem.valueDimension
            count = queryKernel + rows * m
        }
    }

    /// The scratch bytes `run` allocates, without the SVD's own workspace.
    static func scratchBytes(_ problem: AttentionProblem, landmarks: Int, settings: ApproximationSettings) -> Int {
        let layout = ScratchLayout(problem: problem, landmarks: landmarks, rowBlockSize: settings.rowBlockSize)
        let workers = Swift.max(1, Swift.min(settings.threadCount, problem.batchSize * problem.queryHeads))
        return layout.count * workers * MemoryLayout<Float>.stride
    }

    static func run(_ problem: AttentionProblem, landmarks: Int, settings: ApproximationSettings) throws {
        let items = problem.batchSize * problem.queryHeads
        if items == 0 || problem.queryLength == 0 || problem.valueDimension == 0 { return }
        let layout = ScratchLayout(problem: problem, landmarks: landmarks, rowBlockSize: settings.rowBlockSize)
        let workers = Swift.min(settings.threadCount, items)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, workers * layout.count))
        defer { scratch.deallocate() }

        try parallelForThrowing(count: items, threadCount: workers) { worker, item in
            try runHead(
                problem, landmarks: landmarks, batch: item / problem.queryHeads, head: item % problem.queryHeads,
                rowBlockSize: settings.rowBlockSize, layout: layout, scratch: scratch + worker * layout.count)
        }
    }

    private static func runHead(
        _ problem: AttentionProblem, landmarks m: Int, batch: Int, head: Int, rowBlockSize: Int,
        layout: ScratchLayout, scratch: UnsafeMutablePointer<Float>
    ) throws {
        let selection = problem.keySelections[batch]
        let n = selection.count
        let dk = problem.keyDimension
        let dv = problem.valueDimension
        let scale = problem.scale
        let query = problem.query.pointer(batch, head)
        let output = problem.output.pointer(batch, head)

        // A batch item without real keys has no visible key in any row, so
        // its output is zero, as on the exact paths.
        if n == 0 {
            for row in 0..<problem.queryLength {
                for d in 0..<dv { output.base[row * output.rowStride + d * output.columnStride] = 0 }
            }
            return
        }
        let queryMatrix = MatrixOperand(
            base: query.base, rows: problem.queryLength, columns: dk,
            rowStride: query.rowStride, columnStride: query.columnStride)
        func packed(_ offset: Int, rows: Int, columns: Int) -> MutableMatrixOperand {
            MutableMatrixOperand(base: scratch + offset, rows: rows, columns: columns, rowStride: columns, columnStride: 1)
        }

        // 1. The real keys and values: a prefix in place, or a packed copy.
        var (keyMatrix, valueMatrix) = problem.keyValueMatrices(batch: batch, kvHead: problem.keyValueHead(forQueryHead: head))
        switch selection {
        case .prefix(let count):
            keyMatrix = keyMatrix.rows(0, count: count)
            valueMatrix = valueMatrix.rows(0, count: count)
        case .gathered(let positions):
            (keyMatrix, valueMatrix) = problem.gatherKeyValues(
                keyMatrix: keyMatrix, valueMatrix: valueMatrix, positions: positions, into: scratch + layout.packedKeys)
        }

        // 2. Landmarks Q̃ and K̃ [m, Dk] by segment means.
        let landmarkQueries = packed(layout.landmarkQueries, rows: m, columns: dk)
        let landmarkKeys = packed(layout.landmarkKeys, rows: m, columns: dk)
        segmentMeans(of: queryMatrix, into: landmarkQueries)
        segmentMeans(of: keyMatrix, into: landmarkKeys)

        // 3. A = softmax(scale · Q̃ K̃ᵀ) [m, m] and B = softmax(scale · Q̃ Kᵀ) [m, n].
        let landmarkKernel = packed(layout.landmarkKernel, rows: m, columns: m)
        try BLAS.gemm(landmarkQueries.readOnly, landmarkKeys.readOnly.transposed, into: landmarkKernel)
        softmaxRows(landmarkKernel, scale: scale)
        let keyKernel = packed(layout.keyKernel, rows: m, columns: n)
        try BLAS.gemm(landmarkQueries.readOnly, keyMatrix.transposed, into: keyKernel)
        softmaxRows(keyKernel, scale: scale)

        // 4. B · V [m, Dv], then T = A⁺ · (B · V) [m, Dv].
        let landmarkValues = packed(layout.landmarkValues, rows: m, columns: dv)
        try BLAS.gemm(keyKernel.readOnly, valueMatrix, into: landmarkValues)
        let inverse = try pseudoInverse(
            Array(UnsafeBufferPointer(start: landmarkKernel.base, count: m * m)), rows: m, columns: m)
        let combinedValues = packed(layout.combinedValues, rows: m, columns: dv)
        try inverse.withUnsafeBufferPointer { buffer in
            let inverseMatrix = MatrixOperand(base: buffer.baseAddress!, rows: m, columns: m, rowStride: m, columnStride: 1)
            try BLAS.gemm(inverseMatrix, landmarkValues.readOnly, into: combinedValues)
        }

        // 5. Per block of query rows: F = softmax(scale · Q_blk K̃ᵀ) [R, m] and
        //    the output F · T by sgemm.
        var firstRow = 0
        while firstRow < problem.queryLength {
            let rowCount = Swift.min(rowBlockSize, problem.queryLength - firstRow)
            let queryKernel = packed(layout.queryKernel, rows: rowCount, columns: m)
            try BLAS.gemm(queryMatrix.rows(firstRow, count: rowCount), landmarkKeys.readOnly.transposed, into: queryKernel)
            softmaxRows(queryKernel, scale: scale)
            let outputMatrix = MutableMatrixOperand(
                base: output.base + firstRow * output.rowStride, rows: rowCount, columns: dv,
                rowStride: output.rowStride, columnStride: output.columnStride)
            try BLAS.gemm(queryKernel.readOnly, combinedValues.readOnly, into: outputMatrix)
            firstRow += rowCount
        }
    }

    /// Writes the mean of each of the `destination.rows` segments of
    /// `source`'s rows; segment `s` covers rows `⌊s·L/m⌋ ..< ⌊(s+1)·L/m⌋`.
    ///
    /// - Precondition: `1 <= m <= L`, so no segment is empty.
    static func segmentMeans(of source: MatrixOperand, into destination: MutableMatrixOperand) {
        let length = source.rows
        let m = destination.rows
        precondition(m >= 1 && m <= length, "segmentMeans needs 1...L segments")
        var sums = [Double](repeating: 0, count: source.columns)
        for segment in 0..<m {
            let start = segment * length / m
            let end = (segment + 1) * length / m
            for d in 0..<source.columns { sums[d] = 0 }
            for row in start..<end {
                let sourceRow = source.base + row * source.rowStride
                for d in 0..<source.columns { sums[d] += Double(sourceRow[d * source.columnStride]) }
            }
            let destinationRow = destination.base + segment * destination.rowStride
            for d in 0..<source.columns {
                destinationRow[d * destination.columnStride] = Float(sums[d] / Double(end - start))
            }
        }
    }

    /// Replaces each row `s` of `matrix` with `softmax(scale · s)`, subtracting
    /// the row's maximum before `exp`. A row with a NaN entry becomes NaN.
    static func softmaxRows(_ matrix: MutableMatrixOperand, scale: Float) {
        for i in 0..<matrix.rows {
            let row = matrix.base + i * matrix.rowStride
            var maximum = -Float.infinity
            var sawNaN = false
            for j in 0..<matrix.columns {
                let score = row[j * matrix.columnStride] * scale
                row[j * matrix.columnStride] = score
                if score.isNaN { sawNaN = true } else if score > maximum { maximum = score }
            }
            if sawNaN { maximum = .nan }
            var sum: Float = 0
            for j in 0..<matrix.columns {
                let weight = expf(row[j * matrix.columnStride] - maximum)
                row[j * matrix.columnStride] = weight
                sum += weight
            }
            let reciprocal = 1 / sum
            for j in 0..<matrix.columns { row[j * matrix.columnStride] *= reciprocal }
        }
    }

    /// The Moore–Penrose pseudo-inverse `A⁺` `[columns, rows]` of `a`
    /// `[rows, columns]`, row-major, through the singular value decomposition
    /// `A = U Σ Vᵀ` by `LAPACKE_sgesdd`: `A⁺ = V Σ⁺ Uᵀ`.
    ///
    /// Singular values at or below `max(rows, columns) · ε · σ_max`, with `ε`
    /// the float32 machine epsilon, are treated as zero. The computed
    /// singular values carry errors of order `ε · σ_max`, so smaller ones are
    /// indistinguishable from zero, and inverting them would amplify noise.
    ///
    /// - Throws: `.lapackFailure` when the decomposition fails, which
    ///   includes NaN entries in `a`.
    static func pseudoInverse(_ a: [Float], rows: Int, columns: Int) throws -> [Float] {
        let (u, singularValues, vt) = try LAPACK.singularValueDecomposition(a, rows: rows, columns: columns)
        let k = singularValues.count
        var inverse = [Float](repeating: 0, count: columns * rows)
        guard let largest = singularValues.first, largest > 0 else { return inverse }
        let cutoff = Float(Swift.max(rows, columns)) * Float.ulpOfOne * largest
        // A⁺[i, j] = Σ_s vt[s, i] · u[j, s] / σ_s over the kept values s.
        for s in 0..<k where singularValues[s] > cutoff {
            let reciprocal = 1 / singularValues[s]
            for i in 0..<columns {
                let factor = vt[s * columns + i] * reciprocal
                for j in 0..<rows {
                    inverse[i * rows + j] += factor * u[j * k + s]
                }
            }
        }
        return inverse
    }
}
