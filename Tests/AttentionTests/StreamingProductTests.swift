import CAttentionKernels
import Foundation
import Testing
@testable import Attention

/// The streaming products that replace sgemm in tiles of few query rows, on
/// their own against float64 sums and inside the tiled path against the
/// reference.
struct StreamingProductTests {
    static let bodies = Exponential.Body.allCases.filter { $0.rawValue <= Exponential.body.rawValue }
    /// Marks the gaps between rows, which the kernels must never write.
    static let sentinel: Float = -12345

    /// Runs one body of the score kernel on strided operands and returns the
    /// whole score buffer, gaps included.
    static func scores(
        body: Exponential.Body, query: [Float], queryStride: Int, keys: [Float], keyStride: Int,
        rows: Int, keyCount: Int, depth: Int, scoreStride: Int, alpha: Float
    ) -> [Float] {
        var scores = [Float](repeating: sentinel, count: rows * scoreStride)
        query.withUnsafeBufferPointer { q in
            keys.withUnsafeBufferPointer { k in
                scores.withUnsafeMutableBufferPointer { s in
                    attention_few_row_scores_using(
                        body.rawValue, q.baseAddress!, queryStride, k.baseAddress!, keyStride,
                        s.baseAddress!, scoreStride, rows, keyCount, depth, alpha)
                }
            }
        }
        return scores
    }

    /// Runs one body of the weighted-sum kernel and returns the output
    /// buffer, gaps included.
    static func weightedSum(
        body: Exponential.Body, weights: [Float], weightStride: Int, values: [Float], valueStride: Int,
        output: [Float], outputStride: Int, rows: Int, keyCount: Int, width: Int, beta: Float
    ) -> [Float] {
        var output = output
        weights.withUnsafeBufferPointer { w in
            values.withUnsafeBufferPointer { v in
                output.withUnsafeMutableBufferPointer { o in
                    attention_few_row_weighted_sum_using(
                        body.rawValue, w.baseAddress!, weightStride, v.baseAddress!, valueStride,
                        o.baseAddress!, outputStride, rows, keyCount, width, beta)
                }
            }
        }
        return output
    }

    @Test("scores match float64 dot products", arguments: bodies, [1, 2, 4, 8])
    func scoresMatchFloat64(body: Exponential.Body, rows: Int) {
        for depth in [1, 7, 16, 17, 64, 129] {
            for keyCount in [1, 5, 33] {
                let queryStride = depth + 3
                let keyStride = depth + 5
                let scoreStride = keyCount + 2
                let query = TiledTestSupport.values(count: rows * queryStride, seed: UInt64(depth))
                let keys = TiledTestSupport.values(count: keyCount * keyStride, seed: UInt64(depth + 100))
                let alpha: Float = 0.37
                let result = Self.scores(
                    body: body, query: query, queryStride: queryStride, keys: keys, keyStride: keyStride,
                    rows: rows, keyCount: keyCount, depth: depth, scoreStride: scoreStride, alpha: alpha)
                for i in 0..<rows {
                    for j in 0..<scoreStride {
                        let actual = result[i * scoreStride + j]
                        guard j < keyCount else {
                            #expect(actual == Self.sentinel, "gap written at row \(i), column \(j)")
                            continue
                        }
                        var exact = 0.0
                        var magnitude = 0.0
                        for d in 0..<depth {
                            let term = Double(query[i * queryStride + d]) * Double(keys[j * keyStride + d])
                            exact += term
                            magnitude += abs(term)
                        }
                        exact *= Double(alpha)
                        let bound = Double(depth + 2) * Double(Float.ulpOfOne) * magnitude * Double(alpha) + 1e-30
                        #expect(abs(Double(actual) - exact) <= bound,
                                "depth \(depth) keys \(keyCount) row \(i) key \(j): \(actual) against \(exact)")
                    }
                }
            }
        }
    }

    @Test("weighted sum matches float64 sums", arguments: bodies, [Float(0), 1])
    func weightedSumMatchesFloat64(body: Exponential.Body, beta: Float) {
        for width in [1, 15, 16, 17, 63, 64, 127, 128, 129, 200] {
            for (rows, keyCount) in [(1, 1), (1, 37), (3, 6), (4, 4), (8, 9)] {
                let weightStride = keyCount + 1
                let valueStride = width + 3
                let outputStride = width + 2
                // Every fifth weight is exactly 0; the rest are probabilities.
                let weights = TiledTestSupport.values(count: rows * weightStride, seed: UInt64(width)).enumerated().map {
                    $0.offset % 5 == 2 ? 0 : abs($0.element)
                }
                let values = TiledTestSupport.values(count: keyCount * valueStride, seed: UInt64(width + 7))
                var start = TiledTestSupport.values(count: rows * outputStride, seed: UInt64(width + 9))
                for i in 0..<rows {
                    for d in 0..<width where beta == 0 { start[i * outputStride + d] = .nan }
                    for d in width..<outputStride { start[i * outputStride + d] = Self.sentinel }
                }
                let result = Self.weightedSum(
                    body: body, weights: weights, weightStride: weightStride, values: values, valueStride: valueStride,
                    output: start, outputStride: outputStride, rows: rows, keyCount: keyCount, width: width, beta: beta)
                for i in 0..<rows {
                    for d in 0..<outputStride {
                        let actual = result[i * outputStride + d]
                        guard d < width else {
                            #expect(actual == Self.sentinel, "gap written at row \(i), column \(d)")
                            continue
                        }
                        var exact = beta == 0 ? 0 : Double(start[i * outputStride + d])
                        var magnitude = abs(exact)
                        for j in 0..<keyCount {
                            let term = Double(weights[i * weightStride + j]) * Double(values[j * valueStride + d])
                            exact += term
                            magnitude += abs(term)
                        }
                        let bound = Double(keyCount + 2) * Double(Float.ulpOfOne) * magnitude + 1e-30
                        #expect(abs(Double(actual) - exact) <= bound,
                                "width \(width) rows \(rows) keys \(keyCount) row \(i) column \(d): \(actual) against \(exact)")
                    }
                }
            }
        }
    }

    /// A value row holding NaN or an infinity reaches only the rows that give
    /// it weight, in every column block of the kernel.
    @Test("zero weights keep non-finite values out", arguments: bodies)
    func zeroWeightsKeepNonFiniteOut(body: Exponential.Body) {
        let width = 150
        let keyCount = 9
        var values = TiledTestSupport.values(count: keyCount * width, seed: 3)
        for d in 0..<width {
            values[2 * width + d] = d % 2 == 0 ? .nan : .infinity
            values[7 * width + d] = -.infinity
        }
        // Row 0 gives keys 2 and 7 weight 0; row 1 gives key 2 weight.
        var weights = [Float](repeating: 0.1, count: 2 * keyCount)
        weights[2] = 0
        weights[7] = 0
        weights[keyCount + 7] = 0
        let result = Self.weightedSum(
            body: body, weights: weights, weightStride: keyCount, values: values, valueStride: width,
            output: [Float](repeating: 0, count: 2 * width), outputStride: width, rows: 2, keyCount: keyCount,
            width: width, beta: 0)
        #expect(result[0..<width].allSatisfy { $0.isFinite })
        #expect(result[width..<2 * width].enumerated().allSatisfy { $0.offset % 2 == 0 ? $0.element.isNaN : $0.element == .infinity })
    }

    /// The AVX2 and AVX-512 bodies come from one source with the same
    /// operation order, so they must agree bit for bit. Only a CPU with
    /// AVX-512 can compare them.
    @Test("AVX2 and AVX-512 bodies agree bitwise", .enabled(if: Exponential.body == .avx512))
    func vectorBodiesAgree() {
        let depth = 77
        let keyCount = 40
        let query = TiledTestSupport.values(count: 3 * depth, seed: 11)
        let keys = TiledTestSupport.values(count: keyCount * depth, seed: 12)
        let scores = Exponential.Body.allCases.dropFirst().map {
            Self.scores(body: $0, query: query, queryStride: depth, keys: keys, keyStride: depth,
                        rows: 3, keyCount: keyCount, depth: depth, scoreStride: keyCount, alpha: 1)
        }
        #expect(scores[0].map(\.bitPattern) == scores[1].map(\.bitPattern))
        let sums = Exponential.Body.allCases.dropFirst().map {
            Self.weightedSum(body: $0, weights: scores[0].map(abs), weightStride: keyCount, values: keys, valueStride: depth,
                             output: [Float](repeating: 0, count: 3 * depth), outputStride: depth, rows: 3,
                             keyCount: keyCount, width: depth, beta: 0)
        }
        #expect(sums[0].map(\.bitPattern) == sums[1].map(\.bitPattern))
    }

    @Test("bandwidth sum adds every element", arguments: [0, 1, 63, 64, 65, 1000])
    func bandwidthSum(count: Int) {
        let values = (0..<count).map { Float($0 % 17) }
        let expected = values.reduce(0, +)
        let actual = values.withUnsafeBufferPointer { attention_sum($0.baseAddress ?? UnsafePointer(bitPattern: 64)!, count) }
        #expect(actual == expected)
    }
}

/// The tiled path with tiles of few query rows, where the streaming products
/// run, against the reference and against the same path on sgemm only.
struct StreamingTiledTests {
    static let shapes: [TiledShape] = [
        TiledShape(batch: 2, queryHeads: 4, keyValueHeads: 2, queryLength: 1, keyLength: 300, keyDimension: 40, valueDimension: 24, interleaved: true),
        TiledShape(batch: 1, queryHeads: 2, keyValueHeads: 1, queryLength: 3, keyLength: 4500, keyDimension: 17, valueDimension: 130, interleaved: false),
        TiledShape(batch: 2, queryHeads: 2, keyValueHeads: 2, queryLength: 4, keyLength: 65, keyDimension: 64, valueDimension: 64, interleaved: true),
        TiledShape(batch: 1, queryHeads: 3, keyValueHeads: 3, queryLength: 8, keyLength: 50, keyDimension: 8, valueDimension: 8, interleaved: false),
        TiledShape(batch: 1, queryHeads: 2, keyValueHeads: 1, queryLength: 9, keyLength: 70, keyDimension: 8, valueDimension: 8, interleaved: true),
    ]

    @Test("few-row tiles match reference on both kernels", arguments: MaskSetup.allCases, [false, true])
    func matchesReference(setup: MaskSetup, sgemmOnly: Bool) throws {
        for shape in Self.shapes {
            let (tiled, reference) = try runTiledAgainstReference(
                shape, setup, queryBlockSize: nil, keyBlockSize: nil, sgemmOnly: sgemmOnly)
            #expect(tiled.plan.streamingRowLimit == (sgemmOnly ? 0 : TileProducts.streamingRowLimit))
            let tolerance = TiledTestSupport.tolerance(keyDimension: shape.keyDimension, keyLength: shape.keyLength)
            let label = "\(shape.testDescription) \(setup) sgemmOnly \(sgemmOnly)"
            TiledTestSupport.expectClose(tiled.output, reference.output, tolerance: tolerance, label)
            TiledTestSupport.expectClose(tiled.logSumExp!, reference.logSumExp!, tolerance: tolerance * 8, "\(label) log-sum-exp")
        }
    }

    /// Query blocks of 1 to 8 rows put every tile of a long query on the
    /// streaming kernels, including the causal diagonal.
    @Test("small query blocks stream every tile", arguments: [1, 2, 5, 8])
    func smallQueryBlocks(queryBlockSize: Int) throws {
        let shape = TiledShape(batch: 1, queryHeads: 2, keyValueHeads: 1, queryLength: 37, keyLength: 41, keyDimension: 12, valueDimension: 9, interleaved: true)
        for setup in [MaskSetup.causalBottomRight, .everythingTogether, .slidingWindow] {
            let (tiled, reference) = try runTiledAgainstReference(shape, setup, queryBlockSize: queryBlockSize, keyBlockSize: 8)
            TiledTestSupport.expectClose(
                tiled.output, reference.output, tolerance: TiledTestSupport.tolerance(keyDimension: 12, keyLength: 41),
                "\(setup) query block \(queryBlockSize)")
        }
    }

    /// Keys stored as [B, H, D, L] and queries read through swapped axes
    /// have no contiguous rows. The streaming kernels run on copies of them
    /// in chunks of 256 keys and give the bits of contiguous inputs. Key
    /// lengths around 256 put the last chunk at 255, 256 and 1 keys.
    @Test("operands without contiguous rows are copied", arguments: [1, 3], [255, 256, 257, 700])
    func stridedOperands(queryLength: Int, keyLength: Int) throws {
        let q = try TiledTestSupport.tensor([1, 2, 32, queryLength], seed: 1).permuted([0, 1, 3, 2])
        let k = try TiledTestSupport.tensor([1, 2, 32, keyLength], seed: 2).permuted([0, 1, 3, 2])
        let v = try TiledTestSupport.tensor([1, 2, 16, keyLength], seed: 3).permuted([0, 1, 3, 2])
        let options = ExecutionOptions(path: .tiled, keyBlockSize: 600)
        let strided = try scaledDotProductAttention(queries: q, keys: k, values: v, options: options)
        let contiguous = try scaledDotProductAttention(
            queries: q.contiguous(), keys: k.contiguous(), values: v.contiguous(), options: options)
        #expect(TiledTestSupport.bitwiseEqual(strided, contiguous))
        let reference = try scaledDotProductAttention(queries: q, keys: k, values: v, options: ExecutionOptions(path: .reference))
        TiledTestSupport.expectClose(
            strided, reference, tolerance: TiledTestSupport.tolerance(keyDimension: 32, keyLength: keyLength), "strided operands")
    }

    @Test("plan reports the product kernels")
    func planDescription() throws {
        let q = try TiledTestSupport.tensor([1, 1, 1, 8], seed: 1)
        let k = try TiledTestSupport.tensor([1, 1, 5000, 8], seed: 2)
        let streaming = try planAttention(queries: q, keys: k, values: k)
        #expect(streaming.streamingRowLimit == 8)
        #expect(streaming.description.contains("streaming products (query blocks of at most 8 rows)"))
        let long = try TiledTestSupport.tensor([1, 1, 600, 8], seed: 3)
        let prefill = try planAttention(queries: long, keys: long, values: long)
        #expect(prefill.description.contains("sgemm products, streaming in tiles of at most 8 rows"))
        let sgemm = try planAttention(queries: q, keys: k, values: k, options: ExecutionOptions(sgemmOnly: true))
        #expect(sgemm.streamingRowLimit == 0)
        #expect(sgemm.description.contains("sgemm products only"))
        let materialized = try planAttention(queries: q, keys: k, values: k, options: ExecutionOptions(path: .materialized))
        #expect(materialized.streamingRowLimit == 0)
    }

    /// One query row on the streaming kernels gives the same bits on 1, 2
    /// and 3 threads, and alone or inside a batch.
    @Test("streaming decode is invariant to threads and batch")
    func invariance() throws {
        let q = try TiledTestSupport.tensor([3, 2, 1, 64], seed: 1)
        let k = try TiledTestSupport.tensor([3, 2, 6000, 64], seed: 2)
        let v = try TiledTestSupport.tensor([3, 2, 6000, 48], seed: 3)
        let outputs = try [1, 2, 3].map {
            try scaledDotProductAttention(queries: q, keys: k, values: v, options: ExecutionOptions(threadCount: $0))
        }
        #expect(TiledTestSupport.bitwiseEqual(outputs[1], outputs[0]))
        #expect(TiledTestSupport.bitwiseEqual(outputs[2], outputs[0]))
        let item = 1..<2
        let alone = try scaledDotProductAttention(
            queries: q.sliced(axis: 0, range: item), keys: k.sliced(axis: 0, range: item),
            values: v.sliced(axis: 0, range: item), options: ExecutionOptions(threadCount: 2))
        #expect(TiledTestSupport.bitwiseEqual(alone, try outputs[0].sliced(axis: 0, range: item)))
    }
}
