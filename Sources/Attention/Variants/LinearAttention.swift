// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   φ(Q) [R, Dk] per block of R query rows; φ(K) [n, Dk] for n real keys
//   state S = φ(K)ᵀ V [Dk, Dv]

import Foundation

/// Linear attention with the feature map `φ(x) = elu(x) + 1`, applied to each element:
///
///     out_i = φ(q_i)ᵀ (Σ_j φ(k_j) v_jᵀ) / (φ(q_i)ᵀ Σ_j φ(k_j))
///
/// The sums run over the real keys row `i` sees: all of them, or a causal
/// prefix. `φ` is positive, so every denominator over at least one key is
/// positive.
///
/// - Complexity: O(B·Hq·(Lq + Lk)·Dk·(Dv + R)) time for `R` query rows per
///   block (the `R` term is the causal in-block product); scratch per thread
///   O(Lk·Dk + Dk·Dv + R·(Dk + R)), plus O(Lk·(Dk + Dv)) when padded keys
///   sit between real ones.
enum LinearAttention {
    /// `φ(x) = elu(x) + 1`: `x + 1` for `x > 0`, `exp(x)` otherwise.
    struct EluFeatureMap: FeatureMap {
        let featureCount: Int

        func mapKeys(_ keys: MatrixOperand, into features: UnsafeMutablePointer<Float>) throws {
            Self.map(keys, into: features)
        }

        func mapQueries(_ queries: MatrixOperand, into features: UnsafeMutablePointer<Float>) throws {
            Self.map(queries, into: features)
        }

        static func map(_ input: MatrixOperand, into features: UnsafeMutablePointer<Float>) {
            for i in 0..<input.rows {
                let row = input.base + i * input.rowStride
                let destination = features + i * input.columns
                for j in 0..<input.columns {
                    let x = row[j * input.columnStride]
                    destination[j] = x > 0 ? x + 1 : expf(x)
                }
            }
        }
    }

    static func run(_ problem: AttentionProblem, settings: ApproximationSettings) throws {
        try FeatureMapAttention.run(
            problem, map: EluFeatureMap(featureCount: problem.keyDimension), settings: settings)
    }
}
