import Testing
@testable import Attention

/// Sliding windows on every exact path against the reference run with the
/// equivalent explicit boolean mask.
@Suite struct SlidingWindowTests {
    static let windows: [SlidingWindow] = [
        SlidingWindow(left: 0, right: 0),
        SlidingWindow(left: 1, right: 1),
        SlidingWindow(left: 3, right: 0),
        SlidingWindow(left: 0, right: 2),
        SlidingWindow(left: 2, right: 5),
        SlidingWindow(left: 40, right: 40),
    ]

    static let configurations: [KernelConfiguration] = [.reference, .materialized, .tiled, .tiledSmallBlocks]

    /// `[B, Hq, Lq, Lk]` booleans: `true` where the bottom-right aligned
    /// window lets query `i` see key `j`, from the definition.
    static func windowMask(_ window: SlidingWindow, batch: Int, heads: Int, queryLength: Int, keyLength: Int) throws -> BoolTensor {
        var scalars: [Bool] = []
        for _ in 0..<(batch * heads) {
            for i in 0..<queryLength {
                for j in 0..<keyLength {
                    let offset = j - (keyLength - queryLength)
                    scalars.append(i - window.left <= offset && offset <= i + window.right)
                }
            }
        }
        return try BoolTensor(shape: [batch, heads, queryLength, keyLength], scalars: scalars)
    }

    static func randomTensor(_ shape: [Int], _ generator: inout SeededGenerator) throws -> Tensor {
        try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &generator) })
    }

    @Test("Window matches explicit mask", arguments: configurations, windows)
    func matchesExplicitMask(configuration: KernelConfiguration, window: SlidingWindow) throws {
        var generator = SeededGenerator(seed: UInt64(window.left * 100 + window.right))
        let lengths = [(9, 9), (7, 12), (12, 7), (1, 10)]
        let causalOptions: [CausalAlignment?] = [nil, .topLeft, .bottomRight]
        for (queryLength, keyLength) in lengths {
            let (batch, kvHeads, heads, dimension) = (2, 1, 2, 5)
            let query = try Self.randomTensor([batch, heads, queryLength, dimension], &generator)
            let key = try Self.randomTensor([batch, kvHeads, keyLength, dimension], &generator)
            let value = try Self.randomTensor([batch, kvHeads, keyLength, 3], &generator)
            let mask = try Self.windowMask(window, batch: batch, heads: heads, queryLength: queryLength, keyLength: keyLength)
            let paddings: [KeyPadding?] = [
                nil,
                .lengths([keyLength, keyLength / 2]),
                .mask(try BoolTensor(shape: [batch, keyLength], scalars: (0..<(batch * keyLength)).map { $0 % 3 != 1 })),
            ]
            for causal in causalOptions {
                for keyPadding in paddings {
                    let expected = try scaledDotProductAttention(
                        queries: query, keys: key, values: value, mask: .boolean(mask), causal: causal,
                        keyPadding: keyPadding, options: ExecutionOptions(path: .reference))
                    let actual = try scaledDotProductAttention(
                        queries: query, keys: key, values: value, causal: causal, window: window,
                        keyPadding: keyPadding, options: configuration.options)
                    let epsilon = Double(Float.ulpOfOne)
                    let tolerance = 16 * epsilon * Double(dimension + keyLength) + 1e-7
                    expectClose(
                        actual.scalars, expected.scalars, atol: tolerance, rtol: 0,
                        "\(configuration), \(window), Lq \(queryLength), Lk \(keyLength), causal \(causal?.rawValue ?? "none"), padding \(String(describing: keyPadding))")
                }
            }
        }
    }

    @Test("Window weights match explicit mask")
    func weightsMatch() throws {
        var generator = SeededGenerator(seed: 7)
        let query = try Self.randomTensor([1, 1, 300, 4], &generator)
        let key = try Self.randomTensor([1, 1, 310, 4], &generator)
        let value = try Self.randomTensor([1, 1, 310, 2], &generator)
        let window = SlidingWindow(left: 17, right: 3)
        let mask = try Self.windowMask(window, batch: 1, heads: 1, queryLength: 300, keyLength: 310)
        let expected = try scaledDotProductAttention(
            queries: query, keys: key, values: value, mask: .boolean(mask), returning: [.weights, .logSumExp],
            options: ExecutionOptions(path: .reference))
        // 300 rows span two row blocks of the materialized window path.
        let actual = try scaledDotProductAttention(
            queries: query, keys: key, values: value, window: window, returning: [.weights, .logSumExp],
            options: ExecutionOptions(path: .materialized))
        expectClose(actual.output.scalars, expected.output.scalars, atol: 1e-5, rtol: 0, "output")
        expectClose(actual.weights!.scalars, expected.weights!.scalars, atol: 1e-5, rtol: 0, "weights")
        expectClose(actual.logSumExp!.scalars, expected.logSumExp!.scalars, atol: 1e-5, rtol: 1e-6, "log-sum-exp")
    }

    @Test("Window shrinks materialized scratch")
    func scratchShrinks() throws {
        let query = try Tensor(shape: [1, 1, 4096, 8], repeating: 0)
        let key = try Tensor(shape: [1, 1, 4096, 8], repeating: 0)
        let full = try planAttention(queries: query, keys: key, values: key, options: ExecutionOptions(path: .materialized))
        let windowed = try planAttention(
            queries: query, keys: key, values: key, window: SlidingWindow(left: 32, right: 32),
            options: ExecutionOptions(path: .materialized))
        #expect(full.scratchBytes >= 4096 * 4096 * 4)
        #expect(windowed.scratchBytes <= 256 * (256 + 64) * 4 + 256 * 4)
    }

    @Test("Visible key range covers every visible key", arguments: [nil, CausalAlignment.topLeft, .bottomRight])
    func visibleKeyRange(causal: CausalAlignment?) throws {
        let windows: [SlidingWindow?] = [nil, SlidingWindow(left: 0, right: 0), SlidingWindow(left: 3, right: 1), SlidingWindow(left: 50, right: 50)]
        for window in windows {
            for (queryLength, keyLength) in [(20, 20), (8, 20), (20, 8)] {
                let query = try Tensor(shape: [1, 1, queryLength, 2], repeating: 0)
                let key = try Tensor(shape: [1, 1, keyLength, 2], repeating: 0)
                let selections: [KeySelection] = [.prefix(keyLength), .prefix(keyLength / 2), .gathered(Array(stride(from: 1, to: keyLength, by: 3)))]
                let problem = try AttentionProblem(
                    query: query, key: key, value: key, output: try Tensor(shape: [1, 1, queryLength, 2], repeating: 0),
                    logSumExp: nil, weights: nil, scale: nil, mask: nil, causal: causal, window: window, keyPadding: nil)
                for selection in selections {
                    for firstRow in stride(from: 0, to: queryLength, by: 3) {
                        for firstKey in stride(from: 0, to: selection.count, by: 4) {
                            let rowCount = min(3, queryLength - firstRow)
                            let keyCount = min(5, selection.count - firstKey)
                            let range = problem.visibleKeyRange(
                                firstRow: firstRow, rowCount: rowCount, selection: selection, firstKey: firstKey, keyCount: keyCount)
                            for index in firstKey..<(firstKey + keyCount) {
                                let position = selection.key(index)
                                let visible = (firstRow..<(firstRow + rowCount)).contains { row in
                                    let bounds = problem.visiblePositions(forQuery: row)
                                    return position >= bounds.lower && position <= bounds.upper
                                }
                                if visible {
                                    #expect(range.contains(index), "key \(index) visible but outside \(range): window \(String(describing: window)), rows \(firstRow)+\(rowCount)")
                                }
                            }
                            #expect(range.lowerBound >= firstKey)
                            #expect(range.upperBound <= firstKey + keyCount)
                        }
                    }
                }
            }
        }
    }

    @Test("Negative window sizes are rejected")
    func negativeSizes() throws {
        let tensor = try Tensor(shape: [1, 1, 4, 2], repeating: 1)
        for (window, argument) in [(SlidingWindow(left: -1, right: 0), "window.left"), (SlidingWindow(left: 2, right: -3), "window.right")] {
            let error = #expect(throws: AttentionError.self) {
                _ = try scaledDotProductAttention(queries: tensor, keys: tensor, values: tensor, window: window)
            }
            #expect(error?.kind == .invalidValue)
            #expect(error?.argument == argument)
            #expect(error?.description.contains("at least 0") == true)
        }
    }

    @Test("Huge window sizes see every key")
    func hugeSizes() throws {
        var generator = SeededGenerator(seed: 11)
        let query = try Self.randomTensor([1, 1, 6, 3], &generator)
        let key = try Self.randomTensor([1, 1, 6, 3], &generator)
        let unmasked = try scaledDotProductAttention(queries: query, keys: key, values: key, options: ExecutionOptions(path: .materialized))
        let windowed = try scaledDotProductAttention(
            queries: query, keys: key, values: key, window: SlidingWindow(left: .max, right: .max),
            options: ExecutionOptions(path: .materialized))
        expectBitwiseEqual(windowed.scalars, unmasked.scalars, "window of Int.max")
    }
}
