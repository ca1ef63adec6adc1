import Testing
@testable import Attention

/// The LAPACKE wrappers: results checked by reconstruction, failures as
/// typed errors.
@Suite struct LAPACKTests {
    static func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(rows * columns)).map { _ in Float.random(in: -1...1, using: &generator) }
    }

    /// `x [m, k] · y [k, n]` in float64, rounded once.
    static func multiply(_ x: [Float], _ y: [Float], _ m: Int, _ k: Int, _ n: Int) -> [Float] {
        (0..<(m * n)).map { index in
            Float((0..<k).reduce(0.0) { $0 + Double(x[index / n * k + $1]) * Double(y[$1 * n + index % n]) })
        }
    }

    static func transpose(_ x: [Float], _ rows: Int, _ columns: Int) -> [Float] {
        (0..<(rows * columns)).map { index in x[(index % rows) * columns + index / rows] }
    }

    @Test("QR factors reconstruct the matrix", arguments: [(6, 6), (9, 4), (1, 1)])
    func qrReconstructs(rows: Int, columns: Int) throws {
        let a = Self.randomMatrix(rows, columns, seed: UInt64(rows * 10 + columns))
        var factored = a
        let reflectorScales = try LAPACK.qrFactorization(&factored, rows: rows, columns: columns)
        // R is the upper triangle that sgeqrf leaves, [columns, columns].
        let r = (0..<(columns * columns)).map { index in index / columns <= index % columns ? factored[index] : 0 }
        var q = factored
        try LAPACK.formQ(&q, rows: rows, columns: columns, reflectorScales: reflectorScales)
        let tolerance = 8 * Double(rows) * Double(Float.ulpOfOne)
        let identity = (0..<(columns * columns)).map { Float($0 / columns == $0 % columns ? 1 : 0) }
        expectClose(Self.multiply(Self.transpose(q, rows, columns), q, columns, rows, columns), identity, atol: tolerance, rtol: 0, "QᵀQ")
        expectClose(Self.multiply(q, r, rows, columns, columns), a, atol: tolerance * Double(columns), rtol: 0, "QR")
    }

    @Test("SVD factors reconstruct the matrix", arguments: [(5, 8), (8, 5), (4, 4)])
    func svdReconstructs(rows: Int, columns: Int) throws {
        let a = Self.randomMatrix(rows, columns, seed: UInt64(rows * 100 + columns))
        let (u, singularValues, vt) = try LAPACK.singularValueDecomposition(a, rows: rows, columns: columns)
        let k = min(rows, columns)
        #expect(singularValues.count == k)
        #expect(zip(singularValues, singularValues.dropFirst()).allSatisfy { $0 >= $1 }, "descending: \(singularValues)")
        #expect(singularValues.allSatisfy { $0 >= 0 })
        var scaledU = u
        for i in 0..<rows {
            for s in 0..<k { scaledU[i * k + s] *= singularValues[s] }
        }
        let tolerance = 8 * Double(max(rows, columns)) * Double(Float.ulpOfOne) * Double(singularValues[0])
        expectClose(Self.multiply(scaledU, vt, rows, k, columns), a, atol: tolerance, rtol: 0, "U Σ Vᵀ")
    }

    @Test("NaN input becomes a LAPACK failure")
    func nanInput() throws {
        var a = Self.randomMatrix(4, 4, seed: 1)
        a[5] = .nan
        let svdError = #expect(throws: AttentionError.self) {
            _ = try LAPACK.singularValueDecomposition(a, rows: 4, columns: 4)
        }
        #expect(svdError?.kind == .lapackFailure)
        #expect(svdError?.argument == "LAPACKE_sgesdd")
        #expect(svdError?.actual.hasPrefix("info = -5") == true, "\(String(describing: svdError))")

        var factored = a
        let qrError = #expect(throws: AttentionError.self) {
            _ = try LAPACK.qrFactorization(&factored, rows: 4, columns: 4)
        }
        #expect(qrError?.kind == .lapackFailure)
        #expect(qrError?.argument == "LAPACKE_sgeqrf")
    }

    @Test("Sizes beyond Int32 are rejected before the call")
    func sizeLimits() throws {
        let tooLarge = Int(Int32.max) + 1
        var empty: [Float] = []
        let qrError = #expect(throws: AttentionError.self) {
            _ = try LAPACK.qrFactorization(&empty, rows: tooLarge, columns: 1)
        }
        #expect(qrError?.kind == .sizeLimitExceeded)
        #expect(qrError?.argument == "LAPACKE_sgeqrf rows")
        let svdError = #expect(throws: AttentionError.self) {
            _ = try LAPACK.singularValueDecomposition([], rows: 1, columns: tooLarge)
        }
        #expect(svdError?.kind == .sizeLimitExceeded)
        #expect(svdError?.argument == "LAPACKE_sgesdd columns")
        let negative = #expect(throws: AttentionError.self) {
            try LAPACK.formQ(&empty, rows: -1, columns: 0, reflectorScales: [])
        }
        #expect(negative?.kind == .sizeLimitExceeded)
    }

    @Test("Q needs at least as many rows as columns")
    func wideQ() throws {
        var a = Self.randomMatrix(2, 3, seed: 4)
        let error = #expect(throws: AttentionError.self) {
            try LAPACK.formQ(&a, rows: 2, columns: 3, reflectorScales: [0, 0, 0])
        }
        #expect(error?.kind == .invalidShape)
        #expect(error?.argument == "LAPACKE_sorgqr")
    }
}
