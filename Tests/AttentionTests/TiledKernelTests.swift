import Testing
@testable import Attention

/// Inputs, comparisons and mask builders shared by the tiled-path tests.
enum TiledTestSupport {
    /// Deterministic values in [-1, 1) from a linear congruential generator.
    static func values(count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    static func tensor(_ shape: [Int], seed: UInt64) throws -> Tensor {
        try Tensor(shape: shape, scalars: values(count: shape.reduce(1, *), seed: seed))
    }

    /// Returns a `[B, H, L, D]` view of a tensor stored as `[B, L, H, D]`, the
    /// layout of a model's projection output.
    static func interleavedTensor(_ shape: [Int], seed: UInt64) throws -> Tensor {
        let stored = [shape[0], shape[2], shape[1], shape[3]]
        return try tensor(stored, seed: seed).permuted([0, 2, 1, 3])
    }

    /// Returns the tolerance of a float32 attention row against the float64
    /// reference: a few rounding errors per term of the two reductions.
    static func tolerance(keyDimension: Int, keyLength: Int) -> Float {
        Float.ulpOfOne * Float(4 * (keyDimension + keyLength) + 16)
    }

    /// Returns the largest absolute difference, its flat index, and whether
    /// NaN positions agree.
    static func maximumDifference(_ actual: Tensor, _ expected: Tensor) -> (difference: Float, index: Int, nanMatches: Bool) {
        let a = actual.scalars
        let e = expected.scalars
        var worst: Float = 0
        var worstIndex = -1
        var nanMatches = true
        for index in a.indices {
            if a[index].isNaN || e[index].isNaN {
                if a[index].isNaN != e[index].isNaN { nanMatches = false }
                continue
            }
            if a[index] == e[index] { continue }
            let difference = abs(a[index] - e[index])
            if !(difference <= worst) {
                worst = difference
                worstIndex = index
            }
        }
        return (worst, worstIndex, nanMatches)
    }

    /// Checks `actual` against `expected` within `tolerance`, naming the
    /// worst element on failure.
    static func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ label: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.shape == expected.shape, "\(label): shape", sourceLocation: sourceLocation)
        let result = maximumDifference(actual, expected)
        #expect(result.nanMatches, "\(label): NaN positions differ", sourceLocation: sourceLocation)
        #expect(result.difference <= tolerance,
                "\(label): max difference \(result.difference) at flat index \(result.index), tolerance \(tolerance)",
                sourceLocation: sourceLocation)
    }

    /// Returns whether two tensors contain the same bits in every element.
    static func bitwiseEqual(_ first: Tensor, _ second: Tensor) -> Bool {
        first.shape == second.shape && first.scalars.map(\.bitPattern) == second.scalars.map(\.bitPattern)
    }
}

/// One masking setup of the tiled-versus-reference comparison.
enum MaskSetup: String, CaseIterable, CustomTestStringConvertible {
    case none, causalTopLeft, causalBottomRight, booleanBroadcast, additiveWithInfinity
    case paddingLengths, paddingMaskGathered, slidingWindow, everythingTogether

    var testDescription: String { rawValue }
}

/// A shape of the tiled-versus-reference comparison.
struct TiledShape: CustomTestStringConvertible, Sendable {
    let batch, queryHeads, keyValueHeads, queryLength, keyLength, keyDimension, valueDimension: Int
    let interleaved: Bool

    var testDescription: String {
        "[\(batch),\(queryHeads)/\(keyValueHeads),\(queryLength),\(keyLength),\(keyDimension)/\(valueDimension)]\(interleaved ? " BLHD" : "")"
    }
}

/// Runs one setup on the tiled path with the given blocks and threads, and on
/// the reference path unless `includeReference` is false (then the tiled
/// result is returned twice).
func runTiledAgainstReference(
    _ shape: TiledShape, _ setup: MaskSetup, queryBlockSize: Int?, keyBlockSize: Int?,
    threads: Int = 2, includeReference: Bool = true, seed: UInt64 = 1, sgemmOnly: Bool = false
) throws -> (tiled: AttentionResult, reference: AttentionResult) {
    let make = shape.interleaved ? TiledTestSupport.interleavedTensor : TiledTestSupport.tensor
    let q = try make([shape.batch, shape.queryHeads, shape.queryLength, shape.keyDimension], seed)
    let k = try make([shape.batch, shape.keyValueHeads, shape.keyLength, shape.keyDimension], seed + 1)
    let v = try make([shape.batch, shape.keyValueHeads, shape.keyLength, shape.valueDimension], seed + 2)

    var mask: AttentionMask?
    var causal: CausalAlignment?
    var padding: KeyPadding?
    var window: SlidingWindow?
    let lengths = (0..<shape.batch).map { b in Swift.max(0, shape.keyLength - 3 * b - 2) }
    func paddingMask() throws -> BoolTensor {
        // Every third key is padding, so the real keys are not a prefix.
        let flags = (0..<shape.batch * shape.keyLength).map { ($0 % shape.keyLength) % 3 != 1 }
        return try BoolTensor(shape: [shape.batch, shape.keyLength], scalars: flags)
    }
    func booleanMask() throws -> BoolTensor {
        // [1, Hq, Lq, Lk] broadcast over the batch; some rows fully hidden.
        let count = shape.queryHeads * shape.queryLength * shape.keyLength
        let flags = (0..<count).map { index -> Bool in
            let row = index / shape.keyLength
            return row % 5 != 3 && (index * 7 + row) % 4 != 0
        }
        return try BoolTensor(shape: [1, shape.queryHeads, shape.queryLength, shape.keyLength], scalars: flags)
    }
    switch setup {
    case .none:
        break
    case .causalTopLeft:
        causal = .topLeft
    case .causalBottomRight:
        causal = .bottomRight
    case .booleanBroadcast:
        mask = .boolean(try booleanMask())
    case .additiveWithInfinity:
        let count = shape.queryLength * shape.keyLength
        let terms = (0..<count).map { index -> Float in index % 6 == 2 ? -.infinity : Float(index % 5) * -0.75 }
        mask = .additive(try Tensor(shape: [shape.queryLength, shape.keyLength], scalars: terms))
    case .paddingLengths:
        padding = .lengths(lengths)
    case .paddingMaskGathered:
        padding = .mask(try paddingMask())
    case .slidingWindow:
        causal = .topLeft
        window = SlidingWindow(left: 4, right: 2)
        padding = .mask(try paddingMask())
    case .everythingTogether:
        causal = .bottomRight
        mask = .boolean(try booleanMask())
        padding = .mask(try paddingMask())
    }

    func run(_ options: ExecutionOptions) throws -> AttentionResult {
        try scaledDotProductAttention(
            queries: q, keys: k, values: v, mask: mask, causal: causal, window: window, keyPadding: padding,
            returning: .logSumExp, options: options)
    }
    let tiled = try run(ExecutionOptions(
        path: .tiled, threadCount: threads, queryBlockSize: queryBlockSize, keyBlockSize: keyBlockSize, sgemmOnly: sgemmOnly))
    let reference = includeReference ? try run(ExecutionOptions(path: .reference, threadCount: 1)) : tiled
    return (tiled, reference)
}

struct TiledKernelTests {
    static let shapes: [TiledShape] = [
        TiledShape(batch: 2, queryHeads: 2, keyValueHeads: 2, queryLength: 13, keyLength: 17, keyDimension: 8, valueDimension: 8, interleaved: false),
        TiledShape(batch: 2, queryHeads: 4, keyValueHeads: 2, queryLength: 9, keyLength: 23, keyDimension: 5, valueDimension: 3, interleaved: true),
        TiledShape(batch: 1, queryHeads: 3, keyValueHeads: 1, queryLength: 21, keyLength: 8, keyDimension: 16, valueDimension: 4, interleaved: false),
    ]

    static let blockSizes: [(Int, Int)] = [(1, 1), (3, 7), (7, 3), (4, 16), (5, 1), (64, 64)]

    @Test("tiled matches reference", arguments: MaskSetup.allCases, blockSizes)
    func matchesReference(setup: MaskSetup, blocks: (Int, Int)) throws {
        for shape in Self.shapes {
            let (tiled, reference) = try runTiledAgainstReference(shape, setup, queryBlockSize: blocks.0, keyBlockSize: blocks.1)
            #expect(tiled.plan.path == .tiled)
            // Blocks longer than their sequence are clamped to it.
            #expect(tiled.plan.queryBlockSize == min(blocks.0, shape.queryLength))
            #expect(tiled.plan.keyBlockSize == min(blocks.1, shape.keyLength))
            let tolerance = TiledTestSupport.tolerance(keyDimension: shape.keyDimension, keyLength: shape.keyLength)
            let label = "\(shape.testDescription) \(setup) blocks \(blocks)"
            TiledTestSupport.expectClose(tiled.output, reference.output, tolerance: tolerance, label)
            TiledTestSupport.expectClose(
                tiled.logSumExp!, reference.logSumExp!, tolerance: tolerance * 8, "\(label) log-sum-exp")
        }
    }

    /// Block sizes one below, at and above a length put the last tile at 1
    /// row or key, a full tile, and a single tile.
    @Test("tile edges", arguments: [15, 16, 17])
    func tileEdges(blockSize: Int) throws {
        let shape = TiledShape(batch: 1, queryHeads: 2, keyValueHeads: 2, queryLength: 16, keyLength: 16, keyDimension: 8, valueDimension: 8, interleaved: false)
        for setup in [MaskSetup.none, .causalTopLeft, .paddingMaskGathered] {
            let (tiled, reference) = try runTiledAgainstReference(shape, setup, queryBlockSize: blockSize, keyBlockSize: blockSize)
            TiledTestSupport.expectClose(
                tiled.output, reference.output, tolerance: TiledTestSupport.tolerance(keyDimension: 8, keyLength: 16),
                "\(setup) block \(blockSize)")
        }
    }

    @Test("default blocks at length 1100")
    func defaultBlocksLong() throws {
        let shape = TiledShape(batch: 1, queryHeads: 1, keyValueHeads: 1, queryLength: 1100, keyLength: 1100, keyDimension: 32, valueDimension: 32, interleaved: false)
        for setup in [MaskSetup.none, .causalTopLeft] {
            let (tiled, reference) = try runTiledAgainstReference(shape, setup, queryBlockSize: nil, keyBlockSize: nil)
            #expect(tiled.plan.queryBlockSize == TiledBlocking.defaultQueryBlockSize)
            #expect(tiled.plan.keyBlockSize == TiledBlocking.defaultKeyBlockSize)
            TiledTestSupport.expectClose(
                tiled.output, reference.output, tolerance: TiledTestSupport.tolerance(keyDimension: 32, keyLength: 1100),
                "\(setup)")
        }
    }

    /// Key blocks several diagonal chunks wide: a block that crosses the
    /// causal diagonal runs in chunks, each for only the rows that see one of
    /// its keys. A key seen twice or missed by any row would move its output
    /// far from the reference.
    @Test(
        "diagonal chunks match reference",
        arguments: [MaskSetup.causalTopLeft, .causalBottomRight, .slidingWindow, .everythingTogether],
        [(100, 300), (256, 256), (37, 200)])
    func diagonalChunks(setup: MaskSetup, blocks: (Int, Int)) throws {
        let shapes = [
            TiledShape(batch: 2, queryHeads: 2, keyValueHeads: 1, queryLength: 300, keyLength: 333, keyDimension: 8, valueDimension: 6, interleaved: true),
            TiledShape(batch: 1, queryHeads: 1, keyValueHeads: 1, queryLength: 333, keyLength: 300, keyDimension: 4, valueDimension: 4, interleaved: false),
        ]
        #expect(blocks.1 > 2 * TiledBlocking.diagonalChunkSize, "the key block spans several chunks")
        for shape in shapes {
            let (tiled, reference) = try runTiledAgainstReference(shape, setup, queryBlockSize: blocks.0, keyBlockSize: blocks.1)
            let tolerance = TiledTestSupport.tolerance(keyDimension: shape.keyDimension, keyLength: shape.keyLength)
            let label = "\(shape.testDescription) \(setup) blocks \(blocks)"
            TiledTestSupport.expectClose(tiled.output, reference.output, tolerance: tolerance, label)
            TiledTestSupport.expectClose(
                tiled.logSumExp!, reference.logSumExp!, tolerance: tolerance * 8, "\(label) log-sum-exp")
        }
    }

    @Test("tiled is the default path")
    func defaultPath() throws {
        let q = try TiledTestSupport.tensor([1, 2, 4, 8], seed: 3)
        let plan = try planAttention(queries: q, keys: q, values: q)
        #expect(plan.path == .tiled)
        let weightsPlan = try planAttention(queries: q, keys: q, values: q, returning: .weights)
        #expect(weightsPlan.path == .materialized)
    }

    /// The plan lists every mask of the call, on each path, so that two calls
    /// that differ only in their masks print different plans.
    @Test("plan lists the masks")
    func planListsMasks() throws {
        let q = try TiledTestSupport.tensor([2, 1, 6, 8], seed: 4)
        let unmasked = try planAttention(queries: q, keys: q, values: q)
        #expect(unmasked.masks.isEmpty)
        #expect(!unmasked.description.contains("masks:"))

        let keep = try BoolTensor(shape: [6, 6], scalars: (0..<36).map { $0 % 5 != 0 })
        let bias = try Tensor(shape: [6, 6], scalars: (0..<36).map { Float($0 % 3) })
        for path in AttentionPath.allCases {
            let plan = try planAttention(
                queries: q, keys: q, values: q, causal: .bottomRight, window: SlidingWindow(left: 2, right: 0),
                keyPadding: .lengths([6, 4]), options: ExecutionOptions(path: path))
            #expect(plan.masks == [.causal(.bottomRight), .window(SlidingWindow(left: 2, right: 0)), .keyPadding])
            #expect(plan.description.contains(
                "masks: causal (bottom-right), window (2 before, 0 after), key padding"), "\(path)")

            let elementMasks = try planAttention(
                queries: q, keys: q, values: q, mask: .boolean(keep), causal: .topLeft,
                options: ExecutionOptions(path: path))
            #expect(elementMasks.masks == [.causal(.topLeft), .boolean], "\(path)")
            let additive = try planAttention(
                queries: q, keys: q, values: q, mask: .additive(bias), options: ExecutionOptions(path: path))
            #expect(additive.description.contains("masks: additive mask"), "\(path)")
        }

        // Padding that leaves every key in place hides nothing.
        let fullLengths = try planAttention(queries: q, keys: q, values: q, keyPadding: .lengths([6, 6]))
        #expect(fullLengths.masks.isEmpty)
        // A window wider than both sequences is reported clamped.
        let wide = try planAttention(queries: q, keys: q, values: q, window: SlidingWindow(left: 1_000, right: 1_000))
        #expect(wide.masks == [.window(SlidingWindow(left: 12, right: 12))])
    }

    /// Masked keys get probabilities of exactly 0. The one visible key has
    /// probability exactly 1 and value 1; hidden keys score higher and hold
    /// the largest float, so any leak changes the output.
    @Test("masked probabilities exactly zero")
    func maskedProbabilitiesZero() throws {
        let keyLength = 40
        let q = try Tensor(shape: [1, 1, 1, 1], scalars: [1])
        let k = try Tensor(shape: [1, 1, keyLength, 1], scalars: (0..<keyLength).map { $0 == 17 ? 0 : 5 })
        let v = try Tensor(shape: [1, 1, keyLength, 1], scalars: (0..<keyLength).map { $0 == 17 ? 1 : .greatestFiniteMagnitude })
        let keep = try BoolTensor(shape: [1, keyLength], scalars: (0..<keyLength).map { $0 == 17 })
        for keyBlock in [1, 3, 8, 40] {
            let out = try scaledDotProductAttention(
                queries: q, keys: k, values: v, scale: 1, mask: .boolean(keep),
                options: ExecutionOptions(path: .tiled, threadCount: 1, queryBlockSize: 1, keyBlockSize: keyBlock))
            #expect(out.scalars == [1], "key block \(keyBlock)")
        }
    }

    /// Scores 100 below the row maximum give exp(-100) = 3.7e-44, a
    /// subnormal float; flushed to exact zeros, the hidden largest-float
    /// values add nothing, while an unflushed weight would add about 1e-5.
    @Test("underflowed probabilities exactly zero")
    func underflowZero() throws {
        let q = try Tensor(shape: [1, 1, 1, 1], scalars: [1])
        let k = try Tensor(shape: [1, 1, 4, 1], scalars: [-100, 0, -100, -100])
        let v = try Tensor(shape: [1, 1, 4, 1], scalars: [.greatestFiniteMagnitude, 2, .greatestFiniteMagnitude, .greatestFiniteMagnitude])
        for keyBlock in [1, 2, 4] {
            let out = try scaledDotProductAttention(
                queries: q, keys: k, values: v, scale: 1,
                options: ExecutionOptions(path: .tiled, threadCount: 1, keyBlockSize: keyBlock))
            #expect(out.scalars == [2], "key block \(keyBlock)")
        }
    }
}
