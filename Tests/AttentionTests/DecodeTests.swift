import Testing
@testable import Attention

/// Few query rows against many keys: the tiled path splits the keys into
/// parts that run in parallel and merges them by log-sum-exp.
struct DecodeTests {
    /// Key lengths that split into 2 and 4 parts, one with a short remainder.
    static let keyLengths = [4096, 8192 + 37]

    @Test("split keys match reference", arguments: keyLengths, [MaskSetup.none, .causalBottomRight, .paddingLengths, .paddingMaskGathered, .additiveWithInfinity])
    func matchesReference(keyLength: Int, setup: MaskSetup) throws {
        let shape = TiledShape(
            batch: 2, queryHeads: 4, keyValueHeads: 2, queryLength: 3, keyLength: keyLength,
            keyDimension: 16, valueDimension: 8, interleaved: false)
        let (tiled, reference) = try runTiledAgainstReference(shape, setup, queryBlockSize: nil, keyBlockSize: nil)
        #expect(tiled.plan.keySplitCount == Swift.min(keyLength / TiledBlocking.minimumKeysPerPart, 16 / shape.queryLength))
        let tolerance = TiledTestSupport.tolerance(keyDimension: 16, keyLength: keyLength)
        TiledTestSupport.expectClose(tiled.output, reference.output, tolerance: tolerance, "\(setup)")
        TiledTestSupport.expectClose(tiled.logSumExp!, reference.logSumExp!, tolerance: tolerance * 8, "\(setup) log-sum-exp")
    }

    /// Explicit key blocks smaller than a part put several tiles in each part.
    @Test("split keys with small key blocks", arguments: [1, 100, 2047])
    func smallKeyBlocks(keyBlockSize: Int) throws {
        let shape = TiledShape(
            batch: 1, queryHeads: 2, keyValueHeads: 1, queryLength: 1, keyLength: 6000,
            keyDimension: 8, valueDimension: 8, interleaved: true)
        let (tiled, reference) = try runTiledAgainstReference(shape, .causalTopLeft, queryBlockSize: nil, keyBlockSize: keyBlockSize)
        #expect(tiled.plan.keyBlockSize == keyBlockSize)
        #expect(tiled.plan.keySplitCount == 2)
        TiledTestSupport.expectClose(
            tiled.output, reference.output, tolerance: TiledTestSupport.tolerance(keyDimension: 8, keyLength: 6000), "block \(keyBlockSize)")
    }

    /// With more than 16 parts' worth of 65536 keys, each part streams one
    /// full capped tile and one short one.
    @Test("capped decode tiles match reference", arguments: [MaskSetup.none, .causalBottomRight, .paddingMaskGathered])
    func cappedTiles(setup: MaskSetup) throws {
        let keyLength = 16 * TiledBlocking.maximumDecodeKeyBlockSize + 70_001
        let shape = TiledShape(
            batch: 1, queryHeads: 2, keyValueHeads: 1, queryLength: 1, keyLength: keyLength,
            keyDimension: 3, valueDimension: 2, interleaved: true)
        let (tiled, reference) = try runTiledAgainstReference(shape, setup, queryBlockSize: nil, keyBlockSize: nil)
        #expect(tiled.plan.keySplitCount == TiledBlocking.maximumKeySplitCount)
        #expect(tiled.plan.keyBlockSize == TiledBlocking.maximumDecodeKeyBlockSize)
        // The general bound grows with Lk to about 0.5 here, too loose to see
        // a missed tile, which moves the log-sum-exp by about 0.06. The
        // measured errors were 5e-9 (output) and 1e-6 (log-sum-exp, 1 ulp).
        let tolerance: Float = 1e-6
        TiledTestSupport.expectClose(tiled.output, reference.output, tolerance: tolerance, "\(setup)")
        TiledTestSupport.expectClose(tiled.logSumExp!, reference.logSumExp!, tolerance: tolerance * 8, "\(setup) log-sum-exp")
    }

    @Test("split keys invariant to threads")
    func threadInvariance() throws {
        let shape = TiledShape(
            batch: 1, queryHeads: 3, keyValueHeads: 3, queryLength: 2, keyLength: 9000,
            keyDimension: 16, valueDimension: 16, interleaved: false)
        var outputs: [Tensor] = []
        for threads in [1, 2, 3] {
            let (tiled, _) = try runTiledAgainstReference(
                shape, .paddingMaskGathered, queryBlockSize: nil, keyBlockSize: nil, threads: threads, includeReference: false)
            #expect(tiled.plan.keySplitCount == 4)
            outputs.append(tiled.output)
        }
        #expect(TiledTestSupport.bitwiseEqual(outputs[1], outputs[0]))
        #expect(TiledTestSupport.bitwiseEqual(outputs[2], outputs[0]))
    }

    /// Sixteen query rows would need 16 partial rows per part, so they run
    /// unsplit; eight rows split in two.
    @Test("split count shrinks with rows", arguments: [(1, 16), (8, 2), (16, 1)])
    func splitCountPerRows(rows: (Int, Int)) throws {
        let q = try TiledTestSupport.tensor([1, 1, rows.0, 8], seed: 5)
        let k = try TiledTestSupport.tensor([1, 1, 65536, 8], seed: 6)
        let plan = try planAttention(queries: q, keys: k, values: k)
        #expect(plan.keySplitCount == rows.1)
    }

    @Test("long queries do not split")
    func noSplitForLongQueries() throws {
        let q = try TiledTestSupport.tensor([1, 1, 64, 8], seed: 5)
        let k = try TiledTestSupport.tensor([1, 1, 8192, 8], seed: 6)
        let plan = try planAttention(queries: q, keys: k, values: k)
        #expect(plan.keySplitCount == 1)
    }
}
