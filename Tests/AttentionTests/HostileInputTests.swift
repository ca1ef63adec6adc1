import Foundation
import Testing
@testable import Attention

/// Inputs that once trapped or returned wrong results silently: huge scores,
/// outputs aliasing a mask, huge stride-0 shapes and extreme options.
@Suite struct HostileInputTests {
    @Test("Huge finite scores stay finite", arguments: [AttentionPath.reference, .materialized, .tiled], [Float(1e12), 1e20, 1e30])
    func hugeScores(path: AttentionPath, scale: Float) throws {
        let q = try Tensor(shape: [1, 1, 1, 1], scalars: [0.3])
        let k = try Tensor(shape: [1, 1, 2, 1], scalars: [0.7, 0.1])
        let v = try Tensor(shape: [1, 1, 2, 1], scalars: [1, 2])
        let result = try scaledDotProductAttention(
            queries: q, keys: k, values: v, scale: scale, returning: [.logSumExp], options: ExecutionOptions(path: path))
        #expect(result.output.scalars == [1], "scale \(scale) on \(path)")
        let expectedLogSumExp = Double(Float(0.3 * 0.7) * scale)
        #expect(abs(Double(result.logSumExp![0, 0, 0]) - expectedLogSumExp) <= 1e-6 * expectedLogSumExp)
    }

    /// A score of -inf from the data hides its key as an additive -inf mask
    /// would. Every path returns zeros for a row of such scores and keeps a
    /// hidden NaN value out of the other rows.
    @Test("Scores of -inf from data hide keys", arguments: KernelConfiguration.allCases)
    func negativeInfiniteScores(configuration: KernelConfiguration) throws {
        let q = try Tensor(shape: [1, 1, 2, 1], scalars: [1, 1])
        let k = try Tensor(shape: [1, 1, 2, 1], scalars: [-.infinity, 1])
        let v = try Tensor(shape: [1, 1, 2, 1], scalars: [.nan, 7])
        let result = try scaledDotProductAttention(
            queries: q, keys: k, values: v, scale: 1, causal: .topLeft, returning: [.logSumExp],
            options: configuration.options)
        // Row 0 may attend only to key 0, whose score is -inf, and row 1 also
        // to key 1.
        #expect(result.output[0, 0, 0, 0] == 0, "row 0 on \(configuration)")
        #expect(result.logSumExp![0, 0, 0] == -.infinity, "row 0 log-sum-exp on \(configuration)")
        #expect(result.output[0, 0, 1, 0] == 7, "row 1 on \(configuration)")
        #expect(result.logSumExp![0, 0, 1] == 1, "row 1 log-sum-exp on \(configuration)")
    }

    /// A value at a key whose weight underflows to exactly 0 adds nothing on
    /// the BLAS paths, even when it is infinite or NaN. On the tiled path the
    /// weight reaches 0 only when a later tile or key part raises the
    /// maximum by 200. The earlier sum is then scaled by exp(-200), which
    /// must clear it rather than turn inf · 0 into NaN. The float64
    /// reference keeps the weight at 1e-87 and returns inf or NaN instead.
    @Test("Values behind flushed weights add nothing", arguments: [
        FlushedWeightCase(queries: 1, keys: 2, options: ExecutionOptions(path: .materialized)),
        FlushedWeightCase(queries: 1, keys: 2, options: ExecutionOptions(path: .tiled)),
        FlushedWeightCase(queries: 1, keys: 2, options: ExecutionOptions(path: .tiled, queryBlockSize: 1, keyBlockSize: 1)),
        FlushedWeightCase(queries: 1, keys: 513, options: ExecutionOptions(path: .tiled)),
        FlushedWeightCase(queries: 9, keys: 513, options: ExecutionOptions(path: .tiled)),
        FlushedWeightCase(queries: 9, keys: 513, options: ExecutionOptions(path: .tiled, sgemmOnly: true)),
        FlushedWeightCase(queries: 1, keys: 4096, options: ExecutionOptions(path: .tiled)),
        FlushedWeightCase(queries: 1, keys: 4096, options: ExecutionOptions(path: .tiled, keyBlockSize: 100)),
    ], [Float.infinity, -.infinity, .nan])
    func valuesBehindFlushedWeights(testCase: FlushedWeightCase, special: Float) throws {
        let q = try Tensor(shape: [1, 1, testCase.queries, 1], repeating: 1)
        var keys = [Float](repeating: 0, count: testCase.keys)
        keys[testCase.keys - 1] = 200
        var values = [Float](repeating: 1, count: testCase.keys)
        values[0] = special
        let k = try Tensor(shape: [1, 1, testCase.keys, 1], scalars: keys)
        let v = try Tensor(shape: [1, 1, testCase.keys, 1], scalars: values)
        let result = try scaledDotProductAttention(
            queries: q, keys: k, values: v, scale: 1, returning: [.logSumExp], options: testCase.options)
        for row in 0..<testCase.queries {
            #expect(result.output[0, 0, row, 0] == 1, "row \(row), value \(special), \(testCase)")
            #expect(result.logSumExp![0, 0, row] == 200, "row \(row) log-sum-exp, value \(special), \(testCase)")
        }
    }

    @Test("Large random scores agree across paths")
    func largeRandomScores() throws {
        var generator = SplitMix64(seed: 3)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1e5...1e5, using: &generator) } }
        let q = try Tensor(shape: [1, 2, 40, 8], scalars: values(640))
        let k = try Tensor(shape: [1, 2, 50, 8], scalars: values(800))
        let v = try Tensor(shape: [1, 2, 50, 3], scalars: values(300).map { $0 / 1e5 })
        let reference = try scaledDotProductAttention(queries: q, keys: k, values: v, options: ExecutionOptions(path: .reference))
        for options in [ExecutionOptions(path: .tiled), ExecutionOptions(path: .tiled, queryBlockSize: 7, keyBlockSize: 9)] {
            let tiled = try scaledDotProductAttention(queries: q, keys: k, values: v, options: options)
            #expect(tiled.scalars.allSatisfy { $0.isFinite })
            // Scores near 1e10 pick one key per row, up to ties in float32.
            expectClose(tiled.scalars, reference.scalars, atol: 1e-5, rtol: 1e-5, "tiled with huge scores")
        }
    }

    /// With scale 0, every score is 0 · (q · k): 0 where q · k is finite, so
    /// the weights are uniform, and NaN where q · k is NaN or infinite.
    /// OpenBLAS skips the product when alpha is 0, so the tiled path must not
    /// pass a zero scale to sgemm. The 12 query rows run on sgemm in the
    /// default tiled blocks and on the streaming kernel in blocks of 3 rows.
    @Test("Zero scale keeps NaN and infinite inputs", arguments: [
        ExecutionOptions(path: .reference), ExecutionOptions(path: .materialized), ExecutionOptions(path: .tiled),
        ExecutionOptions(path: .tiled, sgemmOnly: true), ExecutionOptions(path: .tiled, queryBlockSize: 3, keyBlockSize: 2),
    ])
    func zeroScaleNonFiniteInputs(options: ExecutionOptions) throws {
        var queryScalars = (0..<48).map { Float($0 % 7) - 3 }
        queryScalars[3 * 4 + 1] = .nan
        queryScalars[7 * 4 + 2] = .infinity
        let q = try Tensor(shape: [1, 1, 12, 4], scalars: queryScalars)
        let k = try Tensor(shape: [1, 1, 5, 4], scalars: (0..<20).map { Float($0 % 5) - 2 })
        let v = try Tensor(shape: [1, 1, 5, 1], scalars: [1, 2, 3, 4, 5])
        let path = options.path.map { "\($0)" } ?? "auto"

        let full = try scaledDotProductAttention(queries: q, keys: k, values: v, scale: 0, options: options)
        #expect(full[0, 0, 3, 0].isNaN, "row with a NaN query, \(path)")
        #expect(full[0, 0, 7, 0].isNaN, "row with an infinite query, \(path)")
        // Uniform weights over values 1 to 5.
        #expect(abs(full[0, 0, 0, 0] - 3) <= 1e-6, "row 0, \(path)")
        #expect(abs(full[0, 0, 11, 0] - 3) <= 1e-6, "row 11, \(path)")

        // With bottom-right alignment, keys 0 to r - 7 are visible to row r.
        // Rows 0 to 6 have no visible key and give 0. Row 7 attends to key 0,
        // whose third component is 0, so infinity times 0 makes its score NaN.
        let causal = try scaledDotProductAttention(
            queries: q, keys: k, values: v, scale: 0, causal: .bottomRight, options: options)
        #expect(causal[0, 0, 3, 0] == 0, "causal row 3 has no visible key, \(path)")
        #expect(causal[0, 0, 7, 0].isNaN, "causal row 7, \(path)")
        #expect(abs(causal[0, 0, 9, 0] - 2) <= 1e-6, "causal row 9 attends to keys 0 to 2, \(path)")
        #expect(abs(causal[0, 0, 11, 0] - 3) <= 1e-6, "causal row 11, \(path)")
    }

    /// Every q · k below is (a)(a) + (-a)(a) = 0, so the weights are uniform,
    /// but scale · a² overflows float32. OpenBLAS splits a head dimension of
    /// 384 or 512 into blocks and adds alpha times each block's partial sum,
    /// so the tiled path must not pass such a scale to sgemm.
    @Test("Scales above 1 with cancelling partial sums", arguments: [(Float(1e30), Float(1e5)), (2, 1.5e19)], [64, 384, 512])
    func cancellingPartialSums(scaleAndEntry: (Float, Float), depth: Int) throws {
        let (scale, entry) = scaleAndEntry
        var queryScalars = [Float](repeating: 0, count: 16 * depth)
        var keyScalars = [Float](repeating: 0, count: 4 * depth)
        for row in 0..<16 {
            queryScalars[row * depth] = entry
            queryScalars[row * depth + depth - 1] = -entry
        }
        for key in 0..<4 {
            keyScalars[key * depth] = entry
            keyScalars[key * depth + depth - 1] = entry
        }
        let q = try Tensor(shape: [1, 1, 16, depth], scalars: queryScalars)
        let k = try Tensor(shape: [1, 1, 4, depth], scalars: keyScalars)
        let v = try Tensor(shape: [1, 1, 4, 1], scalars: [1, 2, 3, 4])
        let allOptions = [
            ExecutionOptions(path: .reference), ExecutionOptions(path: .materialized), ExecutionOptions(path: .tiled),
            ExecutionOptions(path: .tiled, sgemmOnly: true), ExecutionOptions(path: .tiled, queryBlockSize: 3, keyBlockSize: 2),
        ]
        for options in allOptions {
            let label = "scale \(scale), depth \(depth), \(options.path.map { "\($0)" } ?? "auto"), sgemm only \(options.sgemmOnly)"
            let full = try scaledDotProductAttention(queries: q, keys: k, values: v, scale: scale, options: options)
            #expect(full.scalars == [Float](repeating: 2.5, count: 16), "\(label)")
            let causal = try scaledDotProductAttention(
                queries: q, keys: k, values: v, scale: scale, causal: .bottomRight, options: options)
            #expect(causal[0, 0, 15, 0] == 2.5, "causal row 15, \(label)")
        }
    }

    @Test("Output overlapping an additive mask is rejected")
    func outputOverlapsMask() throws {
        let buffer = try Tensor(shape: [1, 2, 2, 2], repeating: 0)
        let mask = try buffer.selecting(axis: 0, index: 0).selecting(axis: 0, index: 0)
        let q = try Tensor(shape: [1, 2, 2, 2], repeating: 1)
        let error = #expect(throws: AttentionError.self) {
            try scaledDotProductAttention(queries: q, keys: q, values: q, into: buffer, mask: .additive(mask))
        }
        #expect(error?.kind == .overlappingOutput)
        #expect(error?.expected.contains("mask") == true)
    }

    @Test("Materialized path fills log-sum-exp and weights when Dv is 0")
    func emptyValueHead() throws {
        let q = try Tensor(shape: [1, 1, 2, 3], scalars: [0.1, 0.2, 0.3, -0.4, 0.5, 0.6])
        let k = try Tensor(shape: [1, 1, 4, 3], scalars: (0..<12).map { Float($0) / 10 })
        let v = try Tensor(shape: [1, 1, 4, 0], repeating: 0)
        let reference = try scaledDotProductAttention(queries: q, keys: k, values: v, returning: [.logSumExp, .weights], options: ExecutionOptions(path: .reference))
        let materialized = try scaledDotProductAttention(queries: q, keys: k, values: v, returning: [.logSumExp, .weights], options: ExecutionOptions(path: .materialized))
        expectClose(materialized.logSumExp!.scalars, reference.logSumExp!.scalars, atol: 1e-6, rtol: 1e-6, "log-sum-exp")
        expectClose(materialized.weights!.scalars, reference.weights!.scalars, atol: 1e-6, rtol: 1e-6, "weights")
    }

    @Test("Broadcast rejects invalid target shapes")
    func broadcastTargets() throws {
        let base = try Tensor(shape: [1, 1], repeating: 1)
        #expect(throws: AttentionError.self) { try base.broadcast(to: [1, -2]) }
        let overflow = #expect(throws: AttentionError.self) { try base.broadcast(to: [1 << 40, 1 << 40]) }
        #expect(overflow?.kind == .sizeLimitExceeded)
        let storage = TensorStorage<Float>(repeating: 0, count: 1)
        #expect(throws: AttentionError.self) { try Tensor(storage: storage, shape: [1 << 40, 1 << 40], strides: [0, 0]) }
    }

    @Test("Huge stride-0 shapes are rejected, not trapped")
    func hugeShapes() throws {
        let one = try Tensor(shape: [1, 1, 1, 1], repeating: 1)
        let long = try one.broadcast(to: [1, 1, 1 << 40, 1])
        let materialized = #expect(throws: AttentionError.self) {
            try planAttention(queries: long, keys: long, values: long, options: ExecutionOptions(path: .materialized))
        }
        #expect(materialized?.kind == .sizeLimitExceeded)
        let manyHeads = try one.broadcast(to: [1 << 20, 1 << 20, 1 << 20, 1])
        let scores = #expect(throws: AttentionError.self) {
            try planAttention(queries: manyHeads, keys: manyHeads, values: manyHeads, options: ExecutionOptions(path: .tiled))
        }
        #expect(scores?.kind == .sizeLimitExceeded)
        let windowed = try one.broadcast(to: [1, 1, 1 << 62, 1])
        #expect(throws: AttentionError.self) {
            try planAttention(queries: windowed, keys: windowed, values: windowed, window: SlidingWindow(left: 1, right: 1))
        }
        // The allocating overload checks the output size before allocating it.
        let allocation = #expect(throws: AttentionError.self) {
            _ = try scaledDotProductAttention(queries: windowed, keys: one, values: one)
        }
        #expect(allocation?.kind == .sizeLimitExceeded)
        #expect(throws: AttentionError.self) { try Tensor(shape: [1 << 62], repeating: 0) }
    }

    /// 2^40 query heads with Dv = 0 and no keys hold no data at all, so the
    /// output is empty. Every path returns at once. A path that visited each
    /// row would run for hours.
    @Test("Empty output returns at once")
    func emptyOutputManyRows() throws {
        let queries = try Tensor(shape: [1, 1 << 40, 1, 0], scalars: [])
        let keys = try Tensor(shape: [1, 1, 0, 0], scalars: [])
        for path in AttentionPath.allCases {
            let result = try scaledDotProductAttention(
                queries: queries, keys: keys, values: keys, returning: [], options: ExecutionOptions(path: path))
            #expect(result.output.shape == [1, 1 << 40, 1, 0], "\(path)")
            #expect(result.plan.path == path)
        }
    }

    /// Blocks as long as a sequence of 2^20 need 4 TiB of scratch, and at
    /// 2^31 rows the byte count overflows Int. Both are typed errors,
    /// raised before any allocation.
    @Test("Tiled scratch beyond memory is rejected")
    func tiledScratchLimit() throws {
        let row = try Tensor(shape: [1, 1, 1, 4], repeating: 0.5)
        for length in [1 << 20, 1 << 31] {
            let long = try row.broadcast(to: [1, 1, length, 4])
            let options = ExecutionOptions(path: .tiled, threadCount: 1, queryBlockSize: Int.max, keyBlockSize: Int.max)
            let error = #expect(throws: AttentionError.self, "length \(length)") {
                try planAttention(queries: long, keys: long, values: long, options: options)
            }
            #expect(error?.kind == .sizeLimitExceeded, "length \(length)")
            #expect(error?.argument == "options.keyBlockSize", "length \(length)")
        }
    }

    /// One query against 10^11 keys splits them 16 ways. Each part streams
    /// in tiles of at most `maximumDecodeKeyBlockSize` keys, so the scratch
    /// stays in MiB.
    @Test("Decode tiles stay small for huge key counts")
    func decodeTileLimit() throws {
        let query = try Tensor(shape: [1, 1, 1, 4], repeating: 0.5)
        let keys = try query.broadcast(to: [1, 1, 100_000_000_000, 4])
        let plan = try planAttention(queries: query, keys: keys, values: keys, options: ExecutionOptions(threadCount: 2))
        #expect(plan.path == .tiled)
        #expect(plan.keySplitCount == TiledBlocking.maximumKeySplitCount)
        #expect(plan.keyBlockSize == TiledBlocking.maximumDecodeKeyBlockSize)
        #expect(plan.scratchBytes < 4 << 20)
    }

    /// Block counts, decode tiles and key parts near `Int.max` are computed
    /// without overflow, and blocks that cannot fit raise a typed error.
    @Test("Lengths near Int.max plan without overflow")
    func lengthsNearIntMax() throws {
        let single = try Tensor(shape: [1, 1, 1, 1], repeating: 0.5)
        let long = try single.broadcast(to: [1, 1, Int.max - 2, 1])
        let decode = try planAttention(queries: single, keys: long, values: long)
        #expect(decode.keySplitCount == TiledBlocking.maximumKeySplitCount)
        #expect(decode.keyBlockSize == TiledBlocking.maximumDecodeKeyBlockSize)
        let manyQueries = try planAttention(queries: long, keys: single, values: single)
        #expect(manyQueries.queryBlockSize == TiledBlocking.defaultQueryBlockSize)
        let huge = try single.broadcast(to: [1, 1, (1 << 62) + 1, 1])
        let error = #expect(throws: AttentionError.self) {
            try planAttention(queries: huge, keys: single, values: single, options: ExecutionOptions(queryBlockSize: Int.max))
        }
        #expect(error?.kind == .sizeLimitExceeded)
    }

    /// The key parts of a split partition the selected keys exactly, for
    /// small counts and for counts near `Int.max`.
    @Test("Key parts cover every key once", arguments: [0, 1, 15, 16, 17, 1000, Int.max - 16, Int.max])
    func keyParts(count: Int) {
        let blocking = TiledBlocking(queryBlockSize: 1, keyBlockSize: 1, keySplitCount: 16)
        var next = 0
        for part in 0..<16 {
            let range = blocking.keyRange(part: part, selectedCount: count)
            #expect(range.lowerBound == next, "part \(part) of \(count)")
            #expect(range.count <= count / 16 + 1, "part \(part) of \(count)")
            next = range.upperBound
        }
        #expect(next == count)
    }

    /// A broadcast key-padding mask over 10^12 keys would need an index of
    /// 8 TB, so it is rejected before the index is built.
    @Test("Huge key-padding masks are rejected")
    func hugeKeyPadding() throws {
        let single = try Tensor(shape: [1, 1, 1, 1], repeating: 0.5)
        let keys = try single.broadcast(to: [1, 1, 1_000_000_000_000, 1])
        let padding = try BoolTensor(shape: [1, 1], repeating: true).broadcast(to: [1, 1_000_000_000_000])
        let error = #expect(throws: AttentionError.self) {
            try planAttention(queries: single, keys: keys, values: keys, keyPadding: .mask(padding))
        }
        #expect(error?.kind == .sizeLimitExceeded)
        #expect(error?.argument == "keyPadding")
    }

    @Test("Block sizes beyond the sequence are clamped")
    func hugeBlockSizes() throws {
        let q = try Tensor(shape: [1, 1, 3, 4], scalars: (0..<12).map { Float($0) / 7 })
        let expected = try scaledDotProductAttention(queries: q, keys: q, values: q, options: ExecutionOptions(path: .reference))
        let result = try scaledDotProductAttention(
            queries: q, keys: q, values: q, returning: [],
            options: ExecutionOptions(path: .tiled, queryBlockSize: Int.max, keyBlockSize: Int.max))
        expectClose(result.output.scalars, expected.scalars, atol: 1e-6, rtol: 1e-6, "Int.max blocks")
        #expect(result.plan.queryBlockSize == 3)
        #expect(result.plan.keyBlockSize == 3)
    }

    @Test("Broadcast operands are packed in pieces")
    func packedPieces() throws {
        // K = 2^25 inner elements through stride 0: the product is packed in
        // pieces of BLAS.packedElementLimit. A float32 sum of 2^25 terms
        // carries about sqrt(2^25)·ε relative error.
        let inner = 1 << 25
        let a = try Tensor(shape: [1, 1], repeating: 0.5).broadcast(to: [2, inner])
        let b = try Tensor(shape: [1, 1], repeating: 0.25).broadcast(to: [inner, 3])
        let c = try Tensor(shape: [2, 3], repeating: .nan)
        try BLAS.multiply(a, b, into: c)
        expectClose(c.scalars, [Float](repeating: Float(inner) / 8, count: 6), atol: 0, rtol: 1e-4, "2^25-term sums")
    }

    @Test("sgemm output may not overlap itself or an input")
    func multiplyOverlap() throws {
        let a = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let storage = TensorStorage<Float>(repeating: 0, count: 4)
        let selfOverlapping = try Tensor(storage: storage, shape: [2, 2], strides: [1, 1])
        #expect(throws: AttentionError.self) { try BLAS.multiply(a, a, into: selfOverlapping) }
        let aliased = #expect(throws: AttentionError.self) { try BLAS.multiply(a, try Tensor(shape: [2, 2], repeating: 1), into: a) }
        #expect(aliased?.kind == .overlappingOutput)
    }

    @Test("Huge Performer feature counts are rejected")
    func performerFeatures() throws {
        let q = try Tensor(shape: [1, 1, 4, 2], repeating: 0.1)
        for features in [Int.max, 1 << 40] {
            let error = #expect(throws: AttentionError.self) {
                _ = try scaledDotProductAttention(queries: q, keys: q, values: q, method: .performer(features: features, seed: 1))
            }
            #expect(error?.argument == "features")
        }
    }

    @Test("Nyström returns zeros for a batch item without keys")
    func nystromEmptyItem() throws {
        var generator = SplitMix64(seed: 9)
        let q = try Tensor(shape: [2, 1, 4, 2], scalars: (0..<16).map { _ in Float.random(in: -1...1, using: &generator) })
        let output = try scaledDotProductAttention(
            queries: q, keys: q, values: q, keyPadding: .lengths([0, 4]), method: .nystrom(landmarks: 2))
        #expect(Array(output.scalars[0..<8]) == [Float](repeating: 0, count: 8))
        #expect(output.scalars[8...].allSatisfy { $0.isFinite })
    }
}

/// One setup of the flushed-weight test: Lq, Lk and the options.
struct FlushedWeightCase: CustomStringConvertible, Sendable {
    let queries: Int
    let keys: Int
    let options: ExecutionOptions

    var description: String {
        "Lq \(queries), Lk \(keys), \(options.path.map { "\($0)" } ?? "default") path, "
            + "blocks \(options.queryBlockSize.map(String.init) ?? "default") x \(options.keyBlockSize.map(String.init) ?? "default")"
            + (options.sgemmOnly ? ", sgemm only" : "")
    }
}
