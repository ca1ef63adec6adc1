// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   projection W [m, Dk], one row per random feature
//   φ(Q) [R, m] per block of R query rows; φ(K) [n, m] for n real keys

import Foundation

/// Performer's FAVOR+ attention: positive orthogonal random features with
///
///     φ(x) = exp(W x' − |x'|²/2) / sqrt(m),   x' = sqrt(scale) · x
///
/// so that `E[φ(q)·φ(k)] = exp(scale · q·k)`, and attention becomes linear
/// attention with this `φ` (see `FeatureMapAttention`).
///
/// The projection `W` is drawn once per call from `seed` and shared by every
/// head. Its rows come in blocks of `Dk`. Each block is the transposed
/// orthogonal factor of a `Dk × Dk` Gaussian matrix, computed by
/// `LAPACKE_sgeqrf` and `LAPACKE_sorgqr` with the signs fixed so that the
/// factor is uniformly distributed. So the rows of a block are orthogonal up
/// to rounding, and each points in a uniformly random direction. Each row is
/// then rescaled to the norm of an independent `Dk`-dimensional
/// Gaussian vector (chi-distributed with `Dk` degrees of freedom), so every
/// row has the length distribution of a Gaussian row. The last block keeps
/// its first `m mod Dk` rows.
///
/// - Note: The exponents are stabilized without changing the result:
///   query features subtract each row's maximum of `w·q'` and drop the
///   `−|q'|²/2` term, both factors of that row alone, which cancel between
///   the numerator and the denominator. Key features subtract the maximum
///   of `w·k' − |k'|²/2` over every key and feature of the head, one factor
///   shared by all keys, which cancels the same way. The largest query and
///   key feature is then exactly `1/sqrt(m)`, so nothing overflows. A
///   denominator can still underflow to 0 when queries and keys are far
///   apart at a large scale, and that row is then NaN.
/// - Complexity: O(B·Hq·(Lq + Lk)·m·(Dk + Dv + R)) time plus O(m·Dk²) for
///   the projection; scratch per thread O(Lk·m + m·Dv + R·(m + R)).
enum PerformerAttention {
    /// The random features of one call.
    struct PositiveRandomFeatures: FeatureMap {
        /// `W` `[m, Dk]`, row-major.
        let projection: [Float]
        let featureCount: Int
        let dimension: Int
        /// `sqrt(scale)`, applied to queries and keys before projecting.
        let inputScale: Float

        func mapKeys(_ keys: MatrixOperand, into features: UnsafeMutablePointer<Float>) throws {
            let output = try project(keys, into: features)

            // Exponent w·k' − |k'|²/2, then the maximum over the whole head.
            var maximum = -Float.infinity
            for i in 0..<keys.rows {
                let halfSquaredNorm = 0.5 * inputScale * inputScale * Self.squaredNorm(keys.rows(i, count: 1))
                let row = output.base + i * featureCount
                for f in 0..<featureCount {
                    row[f] -= halfSquaredNorm
                    if row[f] > maximum { maximum = row[f] }
                }
            }
            exponentiate(output, shift: { _ in maximum })
        }

        func mapQueries(_ queries: MatrixOperand, into features: UnsafeMutablePointer<Float>) throws {
            let output = try project(queries, into: features)
            exponentiate(output) { row in
                var maximum = -Float.infinity
                for f in 0..<featureCount where row[f] > maximum { maximum = row[f] }
                return maximum
            }
        }

        /// Writes `sqrt(scale) · X Wᵀ` `[r, m]` into `features` by sgemm.
        private func project(_ input: MatrixOperand, into features: UnsafeMutablePointer<Float>) throws -> MutableMatrixOperand {
            let output = MutableMatrixOperand(
                base: features, rows: input.rows, columns: featureCount, rowStride: featureCount, columnStride: 1)
            try projection.withUnsafeBufferPointer { buffer in
                let weights = MatrixOperand(
                    base: buffer.baseAddress!, rows: featureCount, columns: dimension, rowStride: dimension, columnStride: 1)
                try BLAS.gemm(input, weights.transposed, into: output, alpha: inputScale)
            }
            return output
        }

        /// Replaces each exponent `e` of a row with `exp(e − shift(row)) / sqrt(m)`.
        /// A row whose shift is not finite (NaN or infinite inputs) becomes NaN.
        private func exponentiate(_ matrix: MutableMatrixOperand, shift: (UnsafeMutablePointer<Float>) -> Float) {
            let normalization = 1 / Float(featureCount).squareRoot()
            for i in 0..<matrix.rows {
                let row = matrix.base + i * matrix.rowStride
                let rowShift = shift(row)
                for f in 0..<featureCount {
                    row[f] = rowShift.isFinite ? expf(row[f] - rowShift) * normalization : .nan
                }
            }
        }

        private static func squaredNorm(_ row: MatrixOperand) -> Float {
            var sum: Float = 0
            for d in 0..<row.columns {
                let x = row.base[d * row.columnStride]
                sum += x * x
            }
            return sum
        }
    }

    /// Draws the projection `W` `[features, dimension]` from `seed`, row-major.
    ///
    /// Blocks of `dimension` rows are orthogonal; see the type's summary for
    /// the construction. The same seed, feature count and dimension give the
    /// same matrix.
    ///
    /// - Throws: `.lapackFailure` if the QR factorization fails.
    static func orthogonalProjection(features: Int, dimension: Int, seed: UInt64) throws -> [Float] {
        precondition(features >= 1 && dimension >= 1, "orthogonalProjection needs positive sizes")
        var generator = SplitMix64(seed: seed)
        var projection = [Float](repeating: 0, count: features * dimension)
        var firstRow = 0
        while firstRow < features {
            let rowsInBlock = Swift.min(dimension, features - firstRow)

            // 1. A Gaussian dimension × dimension block and its orthogonal
            //    factor Q. Householder QR makes each diagonal entry of R the
            //    negated sign of a pivot, which confines Q's columns to
            //    half-spheres; flipping column j by the sign of R[j, j] makes
            //    G = Q·R with R's diagonal positive, whose Q is uniformly
            //    distributed over the orthogonal matrices (Haar).
            var block = (0..<(dimension * dimension)).map { _ in Float(generator.nextGaussian()) }
            let reflectorScales = try LAPACK.qrFactorization(&block, rows: dimension, columns: dimension)
            let diagonalSigns = (0..<dimension).map { block[$0 * dimension + $0] < 0 ? Float(-1) : 1 }
            try LAPACK.formQ(&block, rows: dimension, columns: dimension, reflectorScales: reflectorScales)

            // 2. Columns of Q, each a uniformly random direction, rescaled to
            //    chi-distributed norms.
            for r in 0..<rowsInBlock {
                var squaredNorm = 0.0
                for _ in 0..<dimension {
                    let sample = generator.nextGaussian()
                    squaredNorm += sample * sample
                }
                let norm = Float(squaredNorm.squareRoot()) * diagonalSigns[r]
                for d in 0..<dimension {
                    projection[(firstRow + r) * dimension + d] = block[d * dimension + r] * norm
                }
            }
            firstRow += rowsInBlock
        }
        return projection
    }

    static func run(_ problem: AttentionProblem, features: Int, seed: UInt64, settings: ApproximationSettings) throws {
        let dimension = problem.keyDimension
        let map = PositiveRandomFeatures(
            projection: try orthogonalProjection(features: features, dimension: dimension, seed: seed),
            featureCount: features, dimension: dimension, inputScale: problem.scale.squareRoot())
        try FeatureMapAttention.run(problem, map: map, settings: settings)
    }
}
