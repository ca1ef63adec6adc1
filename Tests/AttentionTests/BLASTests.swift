import Testing
@testable import Attention

/// The sgemm wrapper against a naive float64 product for every layout that
/// strides can describe.
@Suite struct BLASTests {
    /// How a matrix view is laid out in its buffer.
    enum Layout: String, CaseIterable, CustomStringConvertible {
        case rowMajor, columnMajor, paddedRows, gapped, broadcastRows, reversed
        var description: String { rawValue }

        /// A `rows × columns` view whose element (i, j) is `value(i, j)`.
        func matrix(_ rows: Int, _ columns: Int, _ value: (Int, Int) -> Float) throws -> Tensor {
            switch self {
            case .rowMajor:
                return try Tensor(shape: [rows, columns], scalars: (0..<(rows * columns)).map { value($0 / columns, $0 % columns) })
            case .columnMajor:
                return try Tensor(shape: [columns, rows], scalars: (0..<(rows * columns)).map { value($0 % rows, $0 / rows) }).transposed(0, 1)
            case .paddedRows:
                let padded = try Tensor(shape: [rows, columns + 3], repeating: .nan)
                let view = try padded.sliced(axis: 1, range: 1..<(columns + 1))
                for i in 0..<rows { for j in 0..<columns { view[i, j] = value(i, j) } }
                return view
            case .gapped:
                let storage = TensorStorage<Float>(repeating: .nan, count: max(1, rows * columns * 6))
                let view = try Tensor(storage: storage, shape: [rows, columns], strides: [columns * 6, 2])
                for i in 0..<rows { for j in 0..<columns { view[i, j] = value(i, j) } }
                return view
            case .broadcastRows:
                // Every row repeats row 0, through stride 0.
                let row = try Tensor(shape: [1, columns], scalars: (0..<columns).map { value(0, $0) })
                return try row.broadcast(to: [rows, columns])
            case .reversed:
                let storage = TensorStorage<Float>(repeating: .nan, count: max(1, rows * columns))
                let view = try Tensor(storage: storage, shape: [rows, columns], strides: [-columns, -1], offset: max(0, rows * columns - 1))
                for i in 0..<rows { for j in 0..<columns { view[i, j] = value(i, j) } }
                return view
            }
        }
    }

    static let sizes: [(Int, Int, Int)] = [(1, 1, 1), (3, 5, 7), (17, 1, 9), (1, 13, 4), (8, 8, 0), (0, 4, 4), (33, 65, 31)]

    @Test("sgemm matches a naive product", arguments: Layout.allCases, Layout.allCases)
    func everyLayout(aLayout: Layout, bLayout: Layout) throws {
        for (m, k, n) in Self.sizes {
            let aValue: (Int, Int) -> Float = { i, j in Float((i * 7 + j * 3) % 11) - 5 }
            let bValue: (Int, Int) -> Float = { i, j in Float((i * 5 + j * 2) % 13) / 4 - 1.5 }
            let effectiveA: (Int, Int) -> Float = aLayout == .broadcastRows ? { _, j in aValue(0, j) } : aValue
            let effectiveB: (Int, Int) -> Float = bLayout == .broadcastRows ? { _, j in bValue(0, j) } : bValue
            let a = try aLayout.matrix(m, k, aValue)
            let b = try bLayout.matrix(k, n, bValue)
            for cLayout in [Layout.rowMajor, .columnMajor, .paddedRows, .gapped] {
                let c = try cLayout.matrix(m, n) { i, j in Float(i - j) }
                try BLAS.multiply(a, b, into: c, alpha: 2, beta: 0.5)
                var expected: [Float] = []
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k { sum += Double(effectiveA(i, p)) * Double(effectiveB(p, j)) }
                        expected.append(Float(2 * sum + 0.5 * Double(i - j)))
                    }
                }
                // Products of small integers and quarters are exact in float32.
                expectClose(c.scalars, expected, atol: 1e-4, rtol: 1e-6, "\(m)×\(k)×\(n) a \(aLayout) b \(bLayout) c \(cLayout)")
            }
        }
    }

    @Test("Dimensions beyond the BLAS limit are split")
    func splitting() throws {
        // A tiny limit forces the split of every dimension through the same
        // code path that 32-bit overflow takes.
        let (m, k, n) = (7, 9, 5)
        let a = try Layout.rowMajor.matrix(m, k) { i, j in Float(i + 2 * j) / 8 }
        let b = try Layout.columnMajor.matrix(k, n) { i, j in Float(3 * i - j) / 8 }
        let whole = try Tensor(shape: [m, n], repeating: 0)
        try BLAS.multiply(a, b, into: whole)
        for limit in [1, 2, 3, 4] {
            let split = try Tensor(shape: [m, n], repeating: 0)
            try BLAS.gemm(a.matrixOperand, b.matrixOperand, into: split.mutableMatrixOperand, maximumDimension: limit)
            expectClose(split.scalars, whole.scalars, atol: 1e-5, rtol: 1e-6, "limit \(limit)")
        }
    }

    @Test("Shapes are checked before BLAS runs")
    func shapeChecks() throws {
        let a = try Tensor(shape: [2, 3], repeating: 1)
        #expect(throws: AttentionError.self) { try BLAS.multiply(a, a, into: try Tensor(shape: [2, 3], repeating: 0)) }
        #expect(throws: AttentionError.self) { try BLAS.multiply(a, a.transposed(0, 1), into: try Tensor(shape: [3, 3], repeating: 0)) }
        #expect(throws: AttentionError.self) { try BLAS.multiply(try Tensor(shape: [6], repeating: 1), a, into: a) }
        let broadcastC = try Tensor(shape: [1, 2], repeating: 0).broadcast(to: [2, 2])
        let error = #expect(throws: AttentionError.self) { try BLAS.multiply(a, a.transposed(0, 1), into: broadcastC) }
        #expect(error?.argument == "c")
    }

    @Test("Thread count round-trips")
    func threadCount() {
        let original = BLAS.threadCount
        BLAS.threadCount = 1
        #expect(BLAS.threadCount == 1)
        BLAS.threadCount = original
        #expect(BLAS.threadCount == original)
        #expect(!BLAS.coreName.isEmpty)
    }
}
